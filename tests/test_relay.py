"""The contact relay: once a member took a wish, they and the resident write to each other
through the bot with names only, never numbers, until the wish ends.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.wish_closing import cancel_wish, confirm_wish
from models.wish_taking import report_done
from models.wishes import WishStatus
from tests.chat import World
from tests.snapshot import STORE, snapshot
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
PHONE = "13600002222"


async def test_helper_and_resident_write_to_each_other_until_the_wish_closes(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await s.execute(update(Person).where(Person.id == town.fixer.id).values(phone=PHONE))
    world = World(sessions)
    alice = await world.as_person(town.alice)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    head = await world.as_person(town.head_n1)
    wish = await wish_in(sessions, town, S.OPEN)

    # Before anyone took it there is nobody to write to.
    await alice.deliver(button=f"a:relay:{wish.id}")
    assert "messages about it through the bot have ended" in alice.last.text

    await fixer.deliver(button=f"a:accept:{wish.id}")
    assert "Fixer will help" in alice.last.text
    await fixer.press("Message the resident")
    assert "for Alice" in fixer.last.text
    await fixer.send("I can come at 6pm, is that fine?")
    assert "Passed on to Alice" in fixer.last.text
    assert "Fixer writes about wish" in alice.last.text
    assert "I can come at 6pm" in alice.last.text
    assert all(PHONE not in text for text in alice.texts())

    await alice.press("Message the helper")
    await alice.send("Yes, ring twice")
    assert "Alice writes about wish" in fixer.last.text and "ring twice" in fixer.last.text
    # Nobody else hears it; a stranger pressing the button is refused.
    assert not any("ring twice" in text for text in walker.texts() + head.texts())
    told = len(fixer.received)
    await walker.deliver(button=f"a:relay:{wish.id}")
    assert "Only the person who asked" in walker.last.text
    assert len(fixer.received) == told

    # The wish closes: the relay ends, and an old button answers with the wish's state.
    await alice.press("Message the helper")
    async with sessions.begin() as s:
        await report_done(s, town.fixer, wish.id)
        await confirm_wish(s, town.alice, wish.id, 5, None)
    before = await snapshot(sessions, STORE)
    await alice.send("Thanks again!")
    assert "is closed: messages about it through the bot have ended" in alice.last.text
    assert len(fixer.received) == told  # nothing passed on after the wish closed
    await fixer.press("Message the resident")
    assert "is closed" in fixer.last.text
    await alice.send("hello?")
    assert "didn't understand" in alice.last.text  # the conversation ended
    assert await snapshot(sessions, STORE) == before


async def test_a_cancelled_wish_ends_the_relay(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    wish = await wish_in(sessions, town, S.OPEN, required_count=2)
    fixer = await world.as_person(town.fixer)
    await fixer.deliver(button=f"a:accept:{wish.id}")
    await alice.send("/my")
    await alice.press("Message the helper")
    async with sessions.begin() as s:
        await cancel_wish(s, town.alice, wish.id)
    await fixer.deliver(button=f"a:relay:{wish.id}")
    assert "is cancelled: messages about it" in fixer.last.text


async def test_the_relay_on_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3701")
        await link_identity(s, town.fixer, "telegram", "3702")
    wish = await wish_in(sessions, town, S.ACCEPTED)
    url = app.settings.database_url.render_as_string(hide_password=False)
    async with telegram_bot(url, clock) as bot:
        alice = bot.user(3701, "Alice")
        fixer = bot.user(3702, "Fixer")
        await alice.send("/my")
        await alice.press("Message the helper")
        await alice.send("The key is under the mat")
        assert "Passed on to Fixer" in alice.text()
        assert "Alice writes about wish" in fixer.text()
        assert "The key is under the mat" in fixer.text()
        await fixer.press("Message the resident")
        await fixer.send("Got it, thanks")
        assert "Fixer writes about wish" in alice.text() and "Got it" in alice.text()
        async with sessions.begin() as s:
            await report_done(s, town.fixer, wish.id)
            await confirm_wish(s, town.alice, wish.id, 4, None)
        await alice.press("Message the helper")
        assert "is closed: messages about it through the bot have ended" in alice.text()

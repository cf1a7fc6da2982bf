"""A resident's conversations through the neutral message type: register, wish, follow, confirm.

Wrong input at any step gets a short answer and the conversation stays where it was.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.points_ledger import balance
from models.wishes import Wish, WishStatus
from tests.chat import World
from tests.town import Town


async def test_a_resident_registers_and_asks_for_help(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    erin = world.chat("Erin", language=None)
    head = await world.as_person(town.head_n1)

    await erin.send("/start")
    assert "Which language" in erin.last.text or "语言" in erin.last.text
    await erin.press("English")
    await erin.press("I live here")
    await erin.press("Sunflower")
    await erin.press("N1")
    await erin.send("5-502")
    await erin.press("No, thanks")
    assert "registered in N1, unit 5-502" in erin.last.text

    await erin.send("/wish")
    await erin.press("Repairs")
    await erin.send("The <b>stairwell</b> light is out *again*")
    await erin.press("Skip")
    await erin.press("Within a day")
    assert "&lt;b&gt;stairwell&lt;/b&gt;" in erin.last.text
    await erin.press("Send")
    assert "was sent" in erin.last.text

    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
    assert wish is not None and wish.status == WishStatus.SUBMITTED
    assert wish.description == "The <b>stairwell</b> light is out *again*"
    assert "New wish" in head.last.text and wish.code in head.last.text

    fixer = await world.as_person(town.fixer)
    await head.press("Verify")
    assert "open for helpers" in head.last.text
    assert "checked" in erin.last.text
    assert "Can you help" in fixer.last.text
    # Members take it (tasks flow); the rest of the life is the store's, tested elsewhere.
    async with sessions() as s:
        assert (await s.get(Wish, wish.id)).status == WishStatus.OPEN  # type: ignore[union-attr]
        assert await balance(s, town.fixer.id) == 0


async def test_wrong_input_keeps_the_conversation_where_it_was(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    await alice.send("/wish")
    question = alice.last.text
    for unexpected in ("hello", "x" * 10_000):
        await alice.send(unexpected)
        assert alice.last.text != question
    await alice.deliver(unsupported="sticker")
    await alice.send("/nosuchcommand")
    assert "/help" in alice.last.text
    await alice.press("Repairs")
    assert "Describe" in alice.last.text
    await alice.send("y" * 1001)
    assert "too long" in alice.last.text
    await alice.press("Back")
    assert "What kind of help" in alice.last.text


async def test_a_stale_button_is_caught(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    await alice.send("/wish")
    old = alice.button("Repairs")
    await alice.press("Errands")
    await alice.deliver(button=old.data)
    assert "earlier question" in alice.received[-2].text
    assert "Describe" in alice.last.text


async def test_a_resident_cannot_use_admin_commands_or_forged_buttons(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    bob = await world.as_person(town.bob)
    alice = await world.as_person(town.alice)
    await alice.send("/wish")
    await alice.press("Repairs")
    await alice.send("Door handle broke")
    await alice.press("Skip")
    await alice.press("Any time")
    await alice.press("Send")
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
    assert wish is not None
    await bob.deliver(button=f"a:verify:{wish.id}")
    assert "Only the head" in bob.last.text
    await bob.deliver(button=f"a:cancel:{wish.id}")
    assert "Only the person who asked" in bob.last.text
    await bob.send("/help")
    assert "/wish" in bob.last.text and "/assign" not in bob.last.text
    async with sessions() as s:
        assert (await s.get(Wish, wish.id)).status == WishStatus.SUBMITTED  # type: ignore[union-attr]


async def test_a_building_link_brings_a_new_resident_straight_in(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    head = await world.as_person(town.head_n1)
    await head.send("/invite")
    assert "N1" in head.last.text
    code = head.last.text.split("/start ")[1].split(")")[0].split()[0]
    gina = world.chat("Gina", language="en")
    await gina.send(f"/start {code}")
    await gina.press("English")
    assert "unit" in gina.last.text  # no community or building to choose
    await gina.send("7-701")
    await gina.press("No, thanks")
    assert "registered in N1, unit 7-701" in gina.last.text
    bob = await world.as_person(town.bob)
    await bob.send("/invite")
    assert "not for you" in bob.last.text

"""Old buttons on Telegram: a stale one is answered at once, a refusal ends its conversation,
an acted-on card is edited, and the skill picker redraws its keyboard in place.

Through the real PTB against the fake Bot API; each test fails without the protection.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from handlers.messages import Button, Outgoing, Reply
from models.clock import ManualClock
from models.directory import grant_role, link_identity
from models.people import Person, Role
from models.wish_closing import auto_confirm
from models.wishes import Wish, WishStatus
from tests.snapshot import STORE, snapshot
from tests.telegram_bot import Person as OnTelegram
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town

pytestmark = pytest.mark.usefixtures("town")


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _on_telegram(
    sessions: async_sessionmaker[AsyncSession], person: Person, user_id: int
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, person, "telegram", str(user_id))


async def _a_wish(bot: TelegramBot, alice: OnTelegram) -> None:
    await alice.send("/wish")
    await alice.press("Repairs")
    await alice.send("The door of the bike shed is stuck")
    await alice.press("Skip")
    await alice.press("Any time")
    await alice.press("Send")


async def _latest_wish(sessions: async_sessionmaker[AsyncSession]) -> Wish:
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
    assert wish is not None
    return wish


def _card(person: OnTelegram, code: str) -> int:
    """The message id of the first message the person got naming the wish."""
    for message in person.inbox():
        if code in (message.text or ""):
            return message.message_id
    raise AssertionError(f"{person.user.first_name} got nothing about {code}")


async def test_a_verified_wish_card_loses_its_buttons_and_a_stale_reject_asks_nothing(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.alice, 4101)
    await _on_telegram(sessions, town.head_n1, 4102)
    await _on_telegram(sessions, town.head_n2, 4103)
    async with sessions.begin() as s:  # a second head of N1
        second = await s.get(Person, town.head_n2.id)
        assert second is not None and town.alice.building_id is not None
        await grant_role(s, None, second, Role.BUILDING_HEAD, town.alice.building_id)
    async with telegram_bot(_url(app), clock) as bot:
        alice, head, other = bot.user(4101, "Alice"), bot.user(4102, "Head"), bot.user(4103, "Hu")
        await _a_wish(bot, alice)
        wish = await _latest_wish(sessions)
        assert wish.code is not None
        cards = [(p, _card(p, wish.code)) for p in (head, other)]
        other_card = cards[1][1]
        stale_reject = other.button("Reject")
        stale_verify = other.button("Verify")

        await head.press("Verify")

        # Both heads' cards now say what happened, with no Verify or Reject left on them.
        for person, message_id in cards:
            card = next(m for m in person.inbox() if m.message_id == message_id)
            assert card.edited and card.buttons == [], card
            assert "verified by" in (card.text or "")
        assert bot.server.calls_of("editMessageText")
        before = await snapshot(sessions, STORE)
        asked = len(other.inbox())

        # The old Reject (pressed on a client that had not refreshed) asks no reason: the
        # answer names the wish's state at once, and nothing changes.
        other.user.press_forged(stale_reject, message_id=other_card)
        await bot.step()
        answer = other.inbox()[asked:]
        assert len(answer) == 1
        assert "looking for a helper" in (answer[0].text or "")
        assert "Why is wish" not in (answer[0].text or "")
        other.user.press_forged(stale_verify, message_id=other_card)
        await bot.step()
        assert "looking for a helper" in other.text()
        assert await snapshot(sessions, STORE) == before
        # No conversation was started: a typed text is a fresh message, not a reason.
        await other.send("Asked twice")
        assert "didn't understand" in other.text()
        assert await snapshot(sessions, STORE) == before
        assert bot.server.violations == []


async def _done_wish(
    bot: TelegramBot, sessions: async_sessionmaker[AsyncSession], town: Town
) -> tuple[OnTelegram, Wish]:
    await _on_telegram(sessions, town.alice, 4201)
    await _on_telegram(sessions, town.head_n1, 4202)
    await _on_telegram(sessions, town.fixer, 4203)
    alice, head, fixer = bot.user(4201, "Alice"), bot.user(4202, "Head"), bot.user(4203, "Fixer")
    await _a_wish(bot, alice)
    await head.press("Verify")
    await fixer.press("I'll do it")
    await fixer.press("Report done")
    await fixer.press("Skip")
    await fixer.press("Skip")
    wish = await _latest_wish(sessions)
    assert wish.status == WishStatus.DONE
    return alice, wish


async def test_stale_confirm_and_dispute_are_answered_at_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        alice, _wish = await _done_wish(bot, sessions, town)
        card = alice.last
        stale_confirm, stale_dispute = alice.button("It's done"), alice.button("Not done yet")
        await alice.press("It's done")
        await alice.press("⭐⭐⭐⭐")
        await alice.press("Skip")
        assert "is closed" in alice.text()
        # The card she pressed is edited: it says so and offers nothing any more.
        edited = next(m for m in alice.inbox() if m.message_id == card.message_id)
        assert edited.edited and edited.buttons == []
        assert "confirmed" in (edited.text or "")
        before = await snapshot(sessions, STORE)

        for stale in (stale_confirm, stale_dispute):
            asked = len(alice.inbox())
            alice.user.press_forged(stale, message_id=card.message_id)
            await bot.step()
            answer = alice.inbox()[asked:]
            assert len(answer) == 1, [m.text for m in answer]
            text = answer[0].text or ""
            assert "closed" in text and "stars" not in text and "missing" not in text, text
            assert answer[0].buttons == []
        assert await snapshot(sessions, STORE) == before
        await alice.send("thank you all")
        assert "didn't understand" in alice.text()
        assert await snapshot(sessions, STORE) == before
        assert bot.server.violations == []


async def test_a_refusal_at_the_last_step_ends_the_conversation(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        alice, wish = await _done_wish(bot, sessions, town)
        await alice.press("It's done")
        await alice.press("⭐⭐⭐⭐⭐")
        # While she types her thanks, the wish closes on its own.
        async with sessions.begin() as s:
            await auto_confirm(s, wish.id)
        await alice.send("Thank you so much")
        assert "closed" in alice.text() and "cannot be done now" in alice.text()
        # The next text is a fresh message, not the same refusal again.
        await alice.send("Thank you so much")
        assert "cannot be done now" not in alice.text()
        assert "didn't understand" in alice.text()
        await alice.send("/my")
        assert wish.code is not None and wish.code in " ".join(m.text or "" for m in alice.inbox())


async def test_the_skill_picker_redraws_its_keyboard_in_place(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        vera = bot.user(4301, "Vera")
        await vera.send("/start")
        await vera.press("English")
        await vera.press("volunteer")
        await vera.press("Sunflower")
        picker = vera.last
        assert "What can you help with" in (picker.text or "")
        count = len(vera.inbox())

        await vera.press("Repairs")
        await vera.press("Errands")
        await vera.press("Repairs")

        # No new copies: the one picker message shows the choices as they stand.
        assert len(vera.inbox()) == count
        now = vera.last
        assert now.message_id == picker.message_id and now.edited
        labels = [label for row in now.buttons for label, _ in row]
        assert any(label.startswith("✅") and "Errands" in label for label in labels), labels
        assert not any(label.startswith("✅") and "Repairs" in label for label in labels), labels
        assert len(bot.server.calls_of("sendMessage")) == count  # the questions before it only
        await vera.press("Done")
        assert "organisation" in vera.text()
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []


async def test_a_picker_that_cannot_be_edited_comes_anew_and_a_card_edit_is_dropped(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.alice, 4401)
    await _on_telegram(sessions, town.head_n1, 4402)
    async with telegram_bot(_url(app), clock) as bot:
        vera = bot.user(4403, "Vera")
        await vera.send("/start")
        await vera.press("English")
        await vera.press("volunteer")
        await vera.press("Sunflower")
        count = len(vera.inbox())
        # Telegram will not edit it (too old, say): the redrawn picker is sent as a new message.
        bot.server.fail_next("editMessageText", kind=400)
        await vera.press("Repairs")
        assert len(vera.inbox()) == count + 1
        labels = [label for row in vera.last.buttons for label, _ in row]
        assert any(label.startswith("✅") and "Repairs" in label for label in labels), labels

        # A card edit Telegram refuses sends nothing: the old card stays, nobody is bothered.
        alice, head = bot.user(4401, "Alice"), bot.user(4402, "Head")
        await _a_wish(bot, alice)
        shown = len(head.inbox())
        bot.server.fail_next("editMessageText", kind=400)
        await head.press("Verify")
        assert len(head.inbox()) == shown + 1  # the thanks, and no copy of the card
        assert "open for helpers" in head.text()
        assert bot.server.violations == []


async def test_a_card_held_for_the_morning_is_edited_after_it_goes(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.alice, 4501)
    await _on_telegram(sessions, town.head_n1, 4502)
    await _on_telegram(sessions, town.head_n2, 4503)
    async with sessions.begin() as s:  # a second head of N1
        second = await s.get(Person, town.head_n2.id)
        assert second is not None and town.alice.building_id is not None
        await grant_role(s, None, second, Role.BUILDING_HEAD, town.alice.building_id)
    clock.set(dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC))  # 23:00 in Shanghai
    async with telegram_bot(_url(app), clock) as bot:
        alice, head, other = bot.user(4501, "Alice"), bot.user(4502, "Head"), bot.user(4503, "Hu")
        await _a_wish(bot, alice)
        wish = await _latest_wish(sessions)
        assert other.inbox() == []  # the card waits for the morning
        # The first head verifies it at once (from a list, say).
        await head.send("/help")
        head.user.press_forged(f"a:verify:{wish.id}")
        await bot.step()
        assert "open for helpers" in head.text()
        assert other.inbox() == []  # nothing wakes the other head: the edit waits behind the card

        clock.set(dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC))  # 08:30
        await bot.step()
        assert wish.code is not None
        card = next(m for m in other.inbox() if wish.code in (m.text or ""))
        assert card.buttons == [] and "verified by" in (card.text or ""), card
        assert bot.server.violations == []


async def test_a_photo_card_loses_its_buttons_when_edited(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """A card sent as a photo has a caption, not a text: the edit takes its buttons away."""
    await _on_telegram(sessions, town.head_n1, 4601)
    async with telegram_bot(_url(app), clock) as bot:
        head = bot.user(4601, "Head")
        await head.send("/help")
        chat = str(head.chat_id)
        card = Reply(
            "A new wish, with its photo",
            ((Button("✅ Verify", "a:verify:1"),),),
            photo="https://example.com/tap.jpg",
            card="wish:1:verify",
        )
        async with sessions.begin() as s:
            await bot.runtime.queue(s, [Outgoing(card, platform="telegram", chat_id=chat)])
        await bot.runtime.send_outbox()
        sent = head.last
        assert sent.photo is not None and sent.buttons
        async with sessions.begin() as s:
            await bot.runtime.queue(
                s,
                [Outgoing(Reply("Verified", edit_card="wish:1:verify"), person_id=town.head_n1.id)],
            )
        await bot.runtime.send_outbox()
        now = head.last
        assert now.message_id == sent.message_id and now.buttons == [] and now.edited
        assert now.caption == "A new wish, with its photo"
        assert bot.server.violations == []

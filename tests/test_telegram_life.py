"""The whole life of a wish over Telegram, in Chinese and in English, through the real PTB.

A resident registers and asks with a photo, the head verifies, a member takes and finishes
it, the resident confirms with five stars, and the member's points grow; all are told.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.photos import stored_photo
from models.wishes import Wish, WishStatus
from tests.snapshot import STORE, snapshot
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town

LABELS = {
    "en": {
        "language": "English",
        "resident": "I live here",
        "no_phone": "No, thanks",
        "repair": "Repairs",
        "skip": "Skip",
        "day": "Within a day",
        "send": "Send",
        "verify": "Verify",
        "take": "I'll do it",
        "done": "Report done",
        "its_done": "It's done",
        "five": "⭐⭐⭐⭐⭐",
    },
    "zh": {
        "language": "中文",
        "resident": "我住在这里",
        "no_phone": "不用了",
        "repair": "维修",
        "skip": "跳过",
        "day": "一天内",
        "send": "发送",
        "verify": "审核通过",
        "take": "我来认领",
        "done": "报告完成",
        "its_done": "已经办好了",
        "five": "⭐⭐⭐⭐⭐",
    },
}


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _on_telegram(
    sessions: async_sessionmaker[AsyncSession], person: Person, user_id: int, locale: str
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, person, "telegram", str(user_id))
        found = await s.get(Person, person.id)
        assert found is not None
        found.locale = locale


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_life_of_a_wish_on_telegram(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    language: str,
) -> None:
    locale = "zh_Hans" if language == "zh" else "en"
    label = LABELS[language]
    await _on_telegram(sessions, town.head_n1, 3101, locale)
    await _on_telegram(sessions, town.fixer, 3102, locale)
    async with telegram_bot(_url(app), clock, locale=locale) as bot:
        erin = bot.user(3100, "Erin", "zh-hans" if language == "zh" else "en")
        head = bot.user(3101, "Head")
        fixer = bot.user(3102, "Fixer")

        await erin.send("/start")
        await erin.press(label["language"])
        await erin.press(label["resident"])
        await erin.press("Sunflower")
        await erin.press("N1")
        await erin.send("5-502")
        await erin.press(label["no_phone"])
        await erin.send("/wish")
        await erin.press(label["repair"])
        await erin.send(
            "水龙头漏水 <b>请帮忙</b>" if language == "zh" else "The tap leaks <b>help</b>"
        )
        await erin.send_photo("photo-tap")
        await erin.press(label["day"])
        await erin.press(label["send"])

        # The head hears of it, in their language, and verifies it.
        assert head.inbox(), "the head was not told"
        await head.press(label["verify"])
        # The fitting member is offered it, and also finds it in /tasks.
        offered = len(fixer.inbox())
        assert offered >= 1
        await fixer.send("/tasks")
        await fixer.press(label["take"])
        await fixer.press(label["done"])
        await fixer.send("换了新垫圈" if language == "zh" else "New washer fitted")
        await fixer.press(label["skip"])

        before_confirm = len(erin.inbox())
        await erin.press(label["its_done"])
        await erin.press(label["five"])
        await erin.press(label["skip"])
        assert len(erin.inbox()) > before_confirm

        await fixer.send("/points")
        assert "15" in fixer.text()
        if language == "zh":
            # Everyone was spoken to in Chinese.
            for person in (erin, head, fixer):
                assert any("\u4e00" <= ch <= "\u9fff" for ch in person.text()), person.text()
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []

    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None
        assert (wish.status, wish.rating, len(wish.photos)) == (WishStatus.CLOSED, 5, 1)
        kept = await stored_photo(s, wish.photos[0])
        assert kept is not None and kept.telegram_file_id == "photo-tap"
        fixer_now = await s.get(Person, town.fixer.id)
        assert fixer_now is not None and fixer_now.points_balance == 15


async def _wish_of_alice(bot: TelegramBot, alice_id: int) -> None:
    alice = bot.user(alice_id, "Alice")
    await alice.send("/wish")
    await alice.press("Repairs")
    await alice.send("The door of the bike shed is stuck")
    await alice.press("Skip")
    await alice.press("Any time")
    await alice.press("Send")


async def test_refusals_and_the_unexpected_on_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.alice, 3201, "en")
    await _on_telegram(sessions, town.bob, 3202, "en")
    async with telegram_bot(_url(app), clock) as bot:
        await _wish_of_alice(bot, 3201)
        async with sessions() as s:
            wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None
        bob = bot.user(3202, "Bob")
        alice = bot.user(3201, "Alice")
        before = await snapshot(sessions, STORE)

        # A resident tries an admin command, and forges the head's and the requester's buttons.
        await bob.send("/assign " + (wish.code or ""))
        assert "not for you" in bob.text()
        for forged in (
            f"a:verify:{wish.id}",
            f"a:cancel:{wish.id}",
            f"a:accept:{wish.id}",
            "a:verify:x",
        ):
            bob.user.press_forged(forged)
            await bot.step()
            assert bob.text(), forged
        assert await snapshot(sessions, STORE) == before

        # Anything unexpected mid-conversation: a short answer, and the step stays.
        await alice.send("/wish")
        await alice.press("Errands")
        question = alice.text()
        alice.user.send_sticker()
        await bot.step()
        assert "/help" in alice.text() or "type" in alice.text().lower()
        await alice.send("x" * 10_000)
        assert "too long" in alice.text()
        await alice.send("/frobnicate")
        assert "/help" in alice.text()
        # A button from yesterday's question.
        stale = alice.button("Back")
        await alice.send("/wish")
        clock.advance(dt.timedelta(days=1))
        alice.user.press_forged(stale)
        await bot.step()
        assert "earlier question" in alice.inbox()[-2].text  # type: ignore[operator]
        assert question  # the conversation goes on from where it is
        await alice.press("Repairs")
        assert "Describe" in alice.text()
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []


async def test_reject_cancel_release_dispute_escalate_resolve_and_admin_commands(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    people = {
        "alice": (town.alice, 3301),
        "head": (town.head_n1, 3302),
        "fixer": (town.fixer, 3303),
        "walker": (town.walker, 3304),
        "admin": (town.admin, 3305),
        "street": (town.street_admin, 3306),
        "newbie": (town.newbie, 3307),
    }
    for person, user_id in people.values():
        await _on_telegram(sessions, person, user_id, "en")
    async with telegram_bot(_url(app), clock) as bot:
        alice, head, fixer, walker, admin, street, newbie = (
            bot.user(user_id, name.title()) for name, (_, user_id) in people.items()
        )

        # Rejected, with a reason the resident sees.
        await _wish_of_alice(bot, 3301)
        await head.press("Reject")
        await head.press("Asked twice")
        assert "Asked twice" in alice.text()

        # Cancelled by the resident.
        await _wish_of_alice(bot, 3301)
        await alice.send("/my")
        await alice.press("Cancel this wish")
        await alice.press("Yes, cancel it")
        assert "cancelled" in alice.text()

        # Taken, given back, taken by another, disputed, finished.
        await _wish_of_alice(bot, 3301)
        await head.press("Verify")
        await fixer.press("I'll do it")
        await fixer.press("Give it back")
        await fixer.press("Yes, give it back")
        assert "another helper" in alice.text()
        await walker.send("/tasks")
        await walker.press("I'll do it")
        await walker.press("Report done")
        await walker.press("Skip")
        await walker.press("Skip")
        await alice.press("Not done yet")
        await alice.send("The door still sticks")
        assert "The door still sticks" in walker.text()

        # Escalated by the admin to the street, answered there, the answer back to the resident.
        await _wish_of_alice(bot, 3301)
        async with sessions() as s:
            wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None and wish.code is not None
        await admin.send("/pending")
        assert wish.code in " ".join(m.text or "" for m in admin.inbox())
        await admin.send(f"/escalate {wish.code} The roof is the district's")
        assert street.inbox(), "the street admin was not told"
        await street.send(f"/resolve {wish.code} The district repairs it on Friday")
        assert "Friday" in alice.text()

        # Approving a volunteer, statistics, an export.
        await admin.send("/approve")
        await admin.press("Approve")
        assert "/tasks" in newbie.text()
        await admin.send("/stats")
        assert admin.text()
        await admin.send("/export")
        await admin.press("Demand")
        assert bot.server.calls_of("sendDocument"), "no spreadsheet was sent"
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []

    async with sessions() as s:
        statuses = sorted(w.status.value for w in (await s.scalars(select(Wish))).all())
    assert statuses == ["accepted", "cancelled", "closed", "rejected"]

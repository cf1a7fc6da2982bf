"""The scheduler's rules on a controlled clock: each fires at its time, not before, once.

Quiet hours hold news until morning (urgent wishes excepted); moving or cancelling a wish
cancels what it no longer needs. Messages are counted at the fake Bot API server.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.community import Community
from models.directory import link_identity
from models.people import Person
from models.reminders import Reminder, ReminderStatus
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import cancel_wish
from models.wish_taking import accept_wish
from models.wishes import Urgency, Wish, WishEvent, WishStatus
from tests.telegram_bot import Person as TelegramPerson
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town, clinic_with_walker
from tests.wishes import wish_in

S = WishStatus
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
IDS = {
    "alice": 3501,
    "head_n1": 3502,
    "gw_north": 3503,
    "fixer": 3504,
    "admin": 3505,
    "street_admin": 3506,
}


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _everyone_on_telegram(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    async with sessions.begin() as s:
        for name, user_id in IDS.items():
            await link_identity(s, getattr(town, name), "telegram", str(user_id))


def _people(bot: TelegramBot) -> dict[str, TelegramPerson]:
    return {name: bot.user(user_id, name) for name, user_id in IDS.items()}


async def _at(
    bot: TelegramBot, clock: ManualClock, start: dt.datetime, delta: dt.timedelta
) -> None:
    clock.set(start + delta)
    await bot.step()


async def _status(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> WishStatus:
    return (await _wish(sessions, wish_id)).status


async def _wish(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> Wish:
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None
        return wish


async def test_an_unverified_wish_reminds_the_head_then_the_grid_worker(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.SUBMITTED)
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 12 * HOUR - dt.timedelta(minutes=1))
        assert p["head_n1"].inbox() == []
        await _at(bot, clock, start, 12 * HOUR)
        assert len(p["head_n1"].inbox()) == 1
        assert "still waiting for your check" in p["head_n1"].text()
        assert p["head_n1"].button("Escalate") == f"a:escalate:{wish.id}"
        assert p["gw_north"].inbox() == []
        await _at(bot, clock, start, 24 * HOUR)
        assert "waited a long time" in p["gw_north"].text()
        await _at(bot, clock, start, 48 * HOUR)
        assert len(p["head_n1"].inbox()) == 1 and len(p["gw_north"].inbox()) == 1
        # The head verifies from the reminder's own button.
        await p["head_n1"].press("Verify")
    assert await _status(sessions, wish.id) == S.OPEN


async def test_quiet_hours_hold_news_until_morning_but_not_urgent_ones(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    async with sessions.begin() as s:
        community = await s.get(Community, town.sunflower.id)
        assert community is not None
        community.rules = {"verify_hours": 14}  # due 23:00 local: quiet
    start = clock.now()  # 09:00 in Shanghai
    await wish_in(sessions, town, S.SUBMITTED)
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        urgent = await submit_wish(
            s,
            alice,
            building_id=town.n1.id,
            category="repair",
            description="Water everywhere",
            urgency=Urgency.URGENT,
        )
    async with telegram_bot(_url(app), clock) as bot:
        head = _people(bot)["head_n1"]
        await _at(bot, clock, start, 14 * HOUR)  # 23:00
        assert len(head.inbox()) == 1 and urgent.code in head.text()  # only the urgent one
        await _at(bot, clock, start, 22 * HOUR + dt.timedelta(minutes=59))  # 07:59
        assert len(head.inbox()) == 1
        await _at(bot, clock, start, 23 * HOUR)  # 08:00: the morning
        assert len(head.inbox()) == 2


async def test_an_open_wish_nobody_takes_goes_to_the_grid_worker_then_the_admin(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    async with sessions.begin() as s:
        # A clinic offers repairs door to door; Walker is on its staff.
        await clinic_with_walker(s, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.OPEN)
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 24 * HOUR - dt.timedelta(minutes=1))
        assert p["gw_north"].inbox() == []
        await _at(bot, clock, start, 24 * HOUR)
        assert "Nobody has taken" in p["gw_north"].text() and "Fixer" in p["gw_north"].text()
        # The top five, each with its reasons: Fixer is the one whose skills fit.
        assert "1. Fixer — score" in p["gw_north"].text()
        assert "skills: 🔧 Repairs (+40)" in p["gw_north"].text()
        # Walker's clinic offers repairs (a reason of Walker's), and the clinic's resource is
        # listed after the members, with its reasons.
        said = p["gw_north"].text()
        walker = next(line for line in said.splitlines() if ". Walker — score" in line)
        assert "Riverside Clinic offers: Home repairs (+25)" in walker
        resources = said.split("Resources that cover it:")[1]
        assert "• Riverside Clinic — score 50:" in resources
        assert "Riverside Clinic offers: Home repairs (+40), door to door (+10)" in resources
        assert "available Tue–Thu (+0)" in resources
        await _at(bot, clock, start, 3 * DAY - dt.timedelta(minutes=1))
        assert await _status(sessions, wish.id) == S.OPEN
        await _at(bot, clock, start, 3 * DAY)
        assert await _status(sessions, wish.id) == S.ESCALATED
        assert "community admin" in p["admin"].text()
        assert "passed on" in p["alice"].text()


async def test_a_taken_wish_never_hangs(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    async with sessions.begin() as s:
        wish = await submit_wish(
            s,
            town.alice,
            building_id=town.n1.id,
            category="repair",
            description="Fix the gate",
            preferred_time=start + DAY,
        )
        await verify_wish(s, town.head_n1, wish.id)
        await accept_wish(s, town.fixer, wish.id)
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 22 * HOUR - dt.timedelta(minutes=1))
        assert p["fixer"].inbox() == []
        await _at(bot, clock, start, 22 * HOUR)  # two hours before: 07:00... quiet, held
        await _at(bot, clock, start, 23 * HOUR)  # 08:00
        assert "is due at" in p["fixer"].text()
        await _at(bot, clock, start, DAY)
        assert "has passed" in p["fixer"].text()
        await _at(bot, clock, start, 3 * DAY)
        assert "still on" in p["fixer"].text()
        await p["fixer"].press("Still on it")
        await _at(bot, clock, start, 4 * DAY + HOUR)
        assert await _status(sessions, wish.id) == S.ACCEPTED  # the answer kept it
        # Asked again three days after the answer; this time no answer comes.
        await _at(bot, clock, start, 6 * DAY + HOUR)
        assert "still on" in p["fixer"].text()
        await _at(bot, clock, start, 7 * DAY + HOUR)
        assert await _status(sessions, wish.id) == S.OPEN
        assert "went back" in p["fixer"].text()
        assert "new helper" in p["alice"].text()
        assert bot.server.violations == []


async def test_a_done_wish_is_confirmed_for_the_requester_in_the_end(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.DONE)
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 24 * HOUR - dt.timedelta(minutes=1))
        assert p["alice"].inbox() == []
        await _at(bot, clock, start, 24 * HOUR)
        assert "Please confirm" in p["alice"].text()
        await _at(bot, clock, start, 72 * HOUR)
        assert await _status(sessions, wish.id) == S.CLOSED
        assert "closed it" in p["alice"].text()
    async with sessions() as s:
        fixer = await s.get(Person, town.fixer.id)
        assert fixer is not None and fixer.points_balance == 10  # repair, no rating


async def test_cancelling_a_wish_cancels_its_reminders(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.SUBMITTED)
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        await cancel_wish(s, alice, wish.id)
        pending = (
            await s.scalars(
                select(Reminder).where(
                    Reminder.wish_id == wish.id, Reminder.status == ReminderStatus.PENDING
                )
            )
        ).all()
    assert pending == []
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 10 * DAY)
        assert p["head_n1"].inbox() == [] and p["gw_north"].inbox() == []


async def test_the_daily_digest_goes_to_each_admin_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    await wish_in(sessions, town, S.OPEN)
    await wish_in(sessions, town, S.CLOSED)
    async with telegram_bot(_url(app), clock) as bot:
        admin = _people(bot)["admin"]
        # Two processes' schedulers both fire at 08:30; the digest goes out once.
        await bot.runtime.plan_daily()
        await bot.runtime.plan_daily()
        await bot.step()
        assert len(admin.inbox()) == 1
        assert "Good morning" in admin.text() and "1 closed" in admin.text()


async def test_an_escalated_wish_nobody_answers_climbs_to_the_admin_then_the_street(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.ESCALATED)  # the head passed it to the grid worker
    assert wish.escalation_level == 2
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 24 * HOUR - dt.timedelta(minutes=1))
        assert (await _wish(sessions, wish.id)).escalation_level == 2
        assert p["admin"].inbox() == []
        await _at(bot, clock, start, 24 * HOUR)
        assert (await _wish(sessions, wish.id)).escalation_level == 3
        assert "Nobody below answered" in p["admin"].text() and wish.code in p["admin"].text()
        assert p["street_admin"].inbox() == []
        await _at(bot, clock, start, 48 * HOUR)
        climbed = await _wish(sessions, wish.id)
        assert climbed.escalation_level == 4 and climbed.status == S.ESCALATED
        assert "Nobody below answered" in p["street_admin"].text()
        assert len(p["admin"].inbox()) == 1
        # At the top, the street admin is reminded daily, seven times, then left in peace.
        for day in range(3, 16):
            await _at(bot, clock, start, day * DAY)
        street = p["street_admin"].inbox()
        assert len(street) == 1 + 7
        assert all("still waits for your answer" in (m.text or "") for m in street[1:])
    async with sessions() as s:
        actions = (
            await s.scalars(
                select(WishEvent.action).where(WishEvent.wish_id == wish.id).order_by(WishEvent.id)
            )
        ).all()
    assert actions[-2:] == ["climb", "climb"]


async def test_an_answer_stops_the_climb(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()
    wish = await wish_in(sessions, town, S.ESCALATED)
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        await _at(bot, clock, start, 24 * HOUR)
        admin = p["admin"]
        assert "Nobody below answered" in admin.text()
        await admin.press("Answer")
        await admin.send("The property company comes on Friday")
        assert "answered and closed" in admin.text()
        for day in range(2, 6):
            await _at(bot, clock, start, day * DAY)
        assert p["street_admin"].inbox() == []
        assert await _status(sessions, wish.id) == S.CLOSED


async def test_urgent_news_goes_at_once_at_night_and_the_rest_waits_for_morning(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _everyone_on_telegram(sessions, town)
    start = clock.now()  # 09:00 in Shanghai
    async with telegram_bot(_url(app), clock) as bot:
        p = _people(bot)
        alice, head = p["alice"], p["head_n1"]
        clock.set(start + 14 * HOUR)  # 23:00: quiet hours
        await alice.send("/wish")
        await alice.press("Repairs")
        await alice.send("The corridor light on floor 3 is out")
        await alice.press("Skip")
        await alice.press("Any time")
        await alice.press("Send")
        assert "was sent" in alice.text()
        assert head.inbox() == []  # not urgent: the head hears of it in the morning
        await alice.send("/my")
        await alice.press("It's urgent")
        await alice.send("Water is coming through the ceiling")
        assert "marked urgent" in alice.text()
        assert len(head.inbox()) == 1  # at once, at 23:00
        assert "is urgent: Water is coming through the ceiling" in head.text()
        await _at(bot, clock, start, 22 * HOUR + dt.timedelta(minutes=59))  # 07:59
        assert not any("New wish" in (m.text or "") for m in head.inbox())
        await _at(bot, clock, start, 23 * HOUR)  # 08:00: the morning
        assert any("New wish" in (m.text or "") for m in head.inbox())

"""Building heads' other work: notices and who read them, small disputes, key people to visit.

Read counts stay right however often and from however many devices a resident presses;
visit reminders fire when due (not before) and "Visited" plans the next one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import add_person, grant_role, link_identity
from models.disputes import escalate_dispute, log_dispute, settle_dispute
from models.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed
from models.monthly_report import monthly_report
from models.neighbourhood import Dispute, DisputeStatus, Visit, VisitPlan
from models.notice_reads import mark_read, read_counts, send_notice, unread_people
from models.notices import NoticeRead
from models.people import Person, Role
from models.reminders import Reminder, ReminderStatus
from models.visits import flag_visits, record_visit
from models.wishes import WishStatus
from tests.chat import CONFIG, World
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.wishes import wish_in

DAY = dt.timedelta(days=1)


async def _neighbour(
    sessions: async_sessionmaker[AsyncSession], town: Town, name: str, *platforms: str
) -> Person:
    """Another resident of N1, with a chat identity on each platform given."""
    async with sessions.begin() as s:
        person = await add_person(s, name, building=town.n1, unit="102")
        await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
        for i, platform in enumerate(platforms):
            await link_identity(s, person, platform, f"{name}-{i}")
        return person


async def _chats(sessions: async_sessionmaker[AsyncSession], *people: Person) -> None:
    async with sessions.begin() as s:
        for person in people:
            await link_identity(s, person, "test", f"chat-{person.id}")


async def _press(
    sessions: async_sessionmaker[AsyncSession], person: Person, notice_id: int
) -> bool:
    async with sessions.begin() as s:
        return await mark_read(s, person, notice_id)


async def _reads(sessions: async_sessionmaker[AsyncSession], notice_id: int) -> int:
    async with sessions() as s:
        found = await s.scalar(
            select(func.count()).select_from(NoticeRead).where(NoticeRead.notice_id == notice_id)
        )
        return int(found or 0)


# --- notices -------------------------------------------------------------------------------


async def test_who_may_send_a_notice(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions() as s:
        with pytest.raises(NotAllowed):
            await send_notice(s, town.head_n1, [town.n2.id], "Water off tomorrow")
        with pytest.raises(NotAllowed):
            await send_notice(s, town.head_n1, [town.n1.id, town.n2.id], "Water off tomorrow")
        with pytest.raises(NotAllowed):
            await send_notice(s, town.alice, [town.n1.id], "Water off tomorrow")
        with pytest.raises(NotAllowed):
            await send_notice(s, town.maple_admin, [town.n1.id], "Water off tomorrow")
        with pytest.raises(InvalidInput):
            await send_notice(s, town.head_n1, [town.n1.id], "   ")
        with pytest.raises(InvalidInput):
            await send_notice(s, town.head_n1, [town.n1.id], "x" * 2001)
        with pytest.raises(InvalidInput):
            await send_notice(s, town.head_n1, [], "Water off tomorrow")
        mine = await send_notice(s, town.head_n1, [town.n1.id], "x" * 2000)
        assert mine.community_id == town.sunflower.id
        office = await send_notice(s, town.admin, [town.n1.id, town.s1.id], "Vaccinations Monday")
        assert office.id != mine.id


async def test_reads_count_once_however_often_a_resident_presses(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _chats(sessions, town.alice)
    erin = await _neighbour(sessions, town, "Erin", "test")
    await _neighbour(sessions, town, "Fay")  # no chat: not counted, cannot be told
    async with sessions.begin() as s:
        notice = await send_notice(s, town.head_n1, [town.n1.id], "Lift service on Friday")
    async with sessions() as s:
        assert await read_counts(s, town.head_n1, notice.id) == (0, 2)

    for _ in range(2):  # pressed twice
        async with sessions.begin() as s:
            await mark_read(s, town.alice, notice.id)
    async with sessions() as s:
        assert await read_counts(s, town.head_n1, notice.id) == (1, 2)
        assert await read_counts(s, town.admin, notice.id) == (1, 2)
        assert await unread_people(s, town.head_n1, notice.id) == [erin.id]
        with pytest.raises(NotAllowed):
            await read_counts(s, town.head_n2, notice.id)
        with pytest.raises(NotAllowed):
            await mark_read(s, town.bob, notice.id)  # not his building
    assert await _reads(sessions, notice.id) == 1


async def test_two_devices_pressing_at_once_count_once(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _chats(sessions, town.alice)
    async with sessions.begin() as s:
        notice = await send_notice(s, town.head_n1, [town.n1.id], "Lift service on Friday")
    pressed = asyncio.Event()

    async def phone() -> bool:
        async with sessions.begin() as s:
            first = await mark_read(s, town.alice, notice.id)
            pressed.set()
            await asyncio.sleep(0.3)  # not committed yet while the tablet looks and inserts
            return first

    async def tablet() -> bool:
        await pressed.wait()
        async with sessions.begin() as s:
            # On PostgreSQL it sees no row yet, inserts, waits for the phone's commit and hits
            # the primary key; on SQLite its transaction waits for the phone's to finish.
            return await mark_read(s, town.alice, notice.id)

    assert await asyncio.gather(phone(), tablet()) == [True, False]
    # And both at the very same moment, a few times over.
    for _ in range(3):
        results = await asyncio.gather(*(_press(sessions, town.alice, notice.id) for _ in range(2)))
        assert results == [False, False]
    assert await _reads(sessions, notice.id) == 1
    async with sessions() as s:
        assert await read_counts(s, town.head_n1, notice.id) == (1, 1)


async def test_a_resident_on_two_platforms_counts_once_through_the_chat(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    head = world.chat("Head")
    phone = world.chat("Alice's phone")
    tablet = world.chat("Alice's tablet")
    other = world.chat("Erin")
    erin = await _neighbour(sessions, town, "Erin")
    async with sessions.begin() as s:
        await link_identity(s, town.head_n1, "test", head.user_id)
        await link_identity(s, town.alice, "test", phone.user_id)
        await link_identity(s, town.alice, "test", tablet.user_id)
        await link_identity(s, erin, "test", other.user_id)

    await head.send("/notice")  # one building: straight to the text
    await head.send("Water is off on Friday 9-12.")
    await head.press("Send")
    assert "Sent to 2 residents" in head.last.text
    assert "Water is off" in phone.last.text and "Water is off" in tablet.last.text
    assert "Water is off" in other.last.text

    assert "Thank you" in (await phone.press("I've read it"))[-1].text
    assert "Thank you" in (await phone.press("I've read it"))[-1].text
    assert "Thank you" in (await tablet.press("I've read it"))[-1].text

    replies = await head.send("/notices")
    assert "Read: 1 / 2" in replies[0].text
    before = (len(phone.received), len(other.received))
    replies = await head.press("Remind the others")
    assert "Reminded 1 resident" in replies[-1].text
    assert len(phone.received) == before[0]
    assert len(other.received) == before[1] + 1 and "reminder" in other.last.text
    await other.press("I've read it")
    replies = await head.send("/notices")
    assert "Read: 2 / 2" in replies[0].text
    assert not replies[0].buttons  # nobody left to remind


async def test_an_admin_chooses_buildings_and_a_resident_cannot_send(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = world.chat("Admin")
    alice = world.chat("Alice")
    bob = world.chat("Bob")
    carol = world.chat("Carol")
    async with sessions.begin() as s:
        await link_identity(s, town.admin, "test", admin.user_id)
        await link_identity(s, town.alice, "test", alice.user_id)
        await link_identity(s, town.bob, "test", bob.user_id)
        await link_identity(s, town.carol, "test", carol.user_id)
    assert "not for you" in (await alice.send("/notice"))[-1].text

    await admin.send("/notice")
    await admin.press("N1")
    await admin.press("N2")
    await admin.press("☑ N1")  # changed her mind
    await admin.press("Next")
    await admin.send("Bins are collected on Tuesday now.")
    await admin.press("Send")
    assert "Sent to 1 resident" in admin.last.text
    assert "Bins" in bob.last.text
    assert not alice.received[1:] and not carol.received


# --- disputes ------------------------------------------------------------------------------


async def test_disputes_are_logged_settled_escalated_and_reported(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        loud = await log_dispute(s, town.head_n1, town.n1.id, "101 and 201", "Music at night")
        done = await log_dispute(
            s, town.head_n1, town.n1.id, "102, 103", "Bikes in the hall", "Moved to the shed"
        )
        water = await log_dispute(s, town.head_n1, town.n1.id, "301 and 401", "A leak")
        assert (loud.status, done.status) == (DisputeStatus.OPEN, DisputeStatus.SETTLED)
        with pytest.raises(NotAllowed):
            await log_dispute(s, town.head_n2, town.n1.id, "101", "Noise")
        with pytest.raises(NotAllowed):
            await log_dispute(s, town.alice, town.n1.id, "101", "Noise")
        with pytest.raises(InvalidInput):
            await log_dispute(s, town.head_n1, town.n1.id, " ", "Noise")

    async with sessions.begin() as s:
        await settle_dispute(s, town.head_n1, loud.id, "They agreed on 22:00")
        with pytest.raises(IllegalTransition):
            await escalate_dispute(s, town.head_n1, loud.id)
    async with sessions.begin() as s:
        with pytest.raises(NotAllowed):
            await escalate_dispute(s, town.head_n2, water.id)
        up = await escalate_dispute(s, town.head_n1, water.id)
        assert up.status == DisputeStatus.ESCALATED
    async with sessions() as s:
        with pytest.raises(NotAllowed):  # now the grid worker's to settle
            await settle_dispute(s, town.head_n1, water.id, "Plumber came")

    await wish_in(sessions, town, WishStatus.CLOSED)
    async with sessions.begin() as s:
        await send_notice(s, town.head_n1, [town.n1.id], "Meeting")
        report = await monthly_report(s, town.admin, town.sunflower.id, 2026, 11, CONFIG.timezone)
        assert report["disputes"] == {"open": 0, "settled": 2, "escalated": 1}
        assert report["disputes_logged"] == 3
        assert report["wishes_closed"] == 1
        assert report["notices"] == 1
        grid = await monthly_report(s, town.gw_north, town.sunflower.id, 2026, 11)
        assert grid["disputes_logged"] == 3
        south = await monthly_report(s, town.gw_south, town.sunflower.id, 2026, 11)
        assert south["disputes_logged"] == 0 and south["wishes_closed"] == 0
        december = await monthly_report(s, town.admin, town.sunflower.id, 2026, 12)
        assert december["disputes_logged"] == 0
        with pytest.raises(NotAllowed):
            await monthly_report(s, town.head_n1, town.sunflower.id, 2026, 11)
        with pytest.raises(NotAllowed):
            await monthly_report(s, town.maple_admin, town.sunflower.id, 2026, 11)
        settled = await settle_dispute(s, town.gw_north, water.id, "Plumber came")
        assert settled.outcome == "Plumber came"


async def test_a_head_logs_a_dispute_in_chat_and_the_grid_worker_gets_it(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    head = world.chat("Head")
    grid = world.chat("Grid")
    async with sessions.begin() as s:
        await link_identity(s, town.head_n1, "test", head.user_id)
        await link_identity(s, town.gw_north, "test", grid.user_id)
    await head.send("/dispute")
    await head.send("3-201 and 3-301")
    await head.send("Water dripping from the balcony")
    replies = await head.press("Not settled yet")
    assert "is logged" in replies[-1].text
    replies = await head.send("/disputes")
    assert "3-201 and 3-301" in replies[0].text
    await head.press("To the grid worker")
    assert "passed dispute" in grid.last.text
    await grid.press("Settle")
    await grid.send("The balcony drain was cleared.")
    assert "is settled" in grid.last.text
    assert "No open disputes" in (await head.send("/disputes"))[-1].text

    await grid.send("/monthly")
    assert "Disputes logged: 1 (0 open, 1 settled, 0 with the grid worker)" in grid.last.text


# --- visits --------------------------------------------------------------------------------


async def _pending_visit_reminders(sessions: async_sessionmaker[AsyncSession]) -> list[Reminder]:
    async with sessions() as s:
        return list(
            (
                await s.scalars(
                    select(Reminder).where(
                        Reminder.kind == "visit.due", Reminder.status == ReminderStatus.PENDING
                    )
                )
            ).all()
        )


async def test_flagging_and_recording_visits_plans_the_next(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    start = clock.now()
    async with sessions.begin() as s:
        with pytest.raises(NotAllowed):
            await flag_visits(s, town.head_n2, town.n1.id, "501", "Lives alone", 7)
        with pytest.raises(InvalidInput):
            await flag_visits(s, town.head_n1, town.n1.id, "501", "Lives alone", 0)
        plan = await flag_visits(s, town.head_n1, town.n1.id, "501", "Lives alone, 86", 7)
    assert plan.next_due_at == start + 7 * DAY
    [reminder] = await _pending_visit_reminders(sessions)
    assert reminder.due_at == start + 7 * DAY and reminder.target_person_id == town.head_n1.id

    clock.set(start + 6 * DAY)
    async with sessions.begin() as s:
        first_due = plan.next_due_at
        visit = await record_visit(s, town.head_n1, plan.id, "All well", due=first_due)
        assert visit.note == "All well"
        with pytest.raises(Conflict):  # the same button pressed again
            await record_visit(s, town.head_n1, plan.id, due=first_due)
    async with sessions() as s:
        again = await s.get(VisitPlan, plan.id)
        assert again is not None and again.next_due_at == start + 14 * DAY
    [reminder] = await _pending_visit_reminders(sessions)
    assert reminder.due_at == start + 14 * DAY  # the old one is cancelled

    clock.set(start + 40 * DAY)  # very late: the next is a week from now, not in the past
    async with sessions.begin() as s:
        await record_visit(s, town.head_n1, plan.id)
        again = await s.get(VisitPlan, plan.id, populate_existing=True)
        assert again is not None and again.next_due_at == start + 47 * DAY
        assert await s.scalar(select(func.count()).select_from(Visit)) == 2
        report = await monthly_report(s, town.admin, town.sunflower.id, 2027, 1, CONFIG.timezone)
        assert report["visits"] == 1


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def test_the_visit_reminder_fires_when_due_and_visited_plans_the_next(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    start = clock.now()
    async with sessions.begin() as s:
        await link_identity(s, town.head_n1, "telegram", "3601")
    async with telegram_bot(_url(app), clock) as bot:
        head = bot.user(3601, "Head")
        await head.send("/visits")
        await head.press("Flag a unit")
        await head.send("5-501")
        await head.send("Lives alone, 86")
        await head.press("Every 7 days")
        assert "5-501 is flagged" in head.text()

        clock.set(start + 7 * DAY - dt.timedelta(minutes=1))
        before = len(head.inbox())
        await bot.step()
        assert len(head.inbox()) == before
        clock.set(start + 7 * DAY)
        await bot.step()
        assert len(head.inbox()) == before + 1
        assert "Time to visit 5-501" in head.text()
        clock.set(start + 7 * DAY + dt.timedelta(hours=2))
        await head.press("Visited")
        assert "the next is due" in head.text()
        await head.press("Visited")  # the same reminder's button again: nothing more
        assert "recorded already" in head.text()

        clock.set(start + 14 * DAY)
        await bot.step()
        assert "Time to visit 5-501" in head.text()
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []
    async with sessions() as s:
        plan = await s.scalar(select(VisitPlan))
        assert plan is not None and plan.next_due_at == start + 14 * DAY
        assert await s.scalar(select(func.count()).select_from(Visit)) == 1


# --- end to end over Telegram --------------------------------------------------------------


async def test_a_notice_over_telegram_counts_each_reader_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    erin = await _neighbour(sessions, town, "Erin")
    ids = {town.head_n1.id: 3701, town.alice.id: 3702, erin.id: 3703}
    async with sessions.begin() as s:
        for person in (town.head_n1, town.alice, erin):
            await link_identity(s, person, "telegram", str(ids[person.id]))
    async with telegram_bot(_url(app), clock) as bot:
        head = bot.user(3701, "Head")
        alice = bot.user(3702, "Alice")
        other = bot.user(3703, "Erin")
        await head.send("/notice")
        await head.send("Water is off on Friday, 9:00-12:00.")
        await head.press("Send")
        assert "Sent to 2 residents" in head.text()
        assert "Water is off" in alice.text() and "Water is off" in other.text()

        await alice.press("I've read it")
        await alice.press("I've read it")
        await head.send("/notices")
        assert "Read: 1 / 2" in head.text()
        alice_before, other_before = len(alice.inbox()), len(other.inbox())
        await head.press("Remind the others")
        assert "Reminded 1 resident" in head.text()
        assert len(alice.inbox()) == alice_before
        assert len(other.inbox()) == other_before + 1
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []
    assert await _reads_of(sessions, town.alice) == 1


async def _reads_of(sessions: async_sessionmaker[AsyncSession], person: Person) -> int:
    async with sessions() as s:
        found: Any = await s.scalar(
            select(func.count()).select_from(NoticeRead).where(NoticeRead.person_id == person.id)
        )
        return int(found or 0)


async def test_disputes_table_is_untouched_by_refusals(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = world.chat("Alice")
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "test", alice.user_id)
    assert "not for you" in (await alice.send("/dispute"))[-1].text
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Dispute)) == 0

"""Broadcasts through the outbox against the fake Bot API server and its flood limits.

2,000 residents at 30 messages a second on the manual clock; blocked people; scope and refusals.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.broadcasts import broadcast_progress, start_broadcast
from models.clock import ManualClock
from models.directory import add_person, grant_role, link_identity
from models.errors import InvalidInput, NotAllowed
from models.people import Person, Role
from models.reminders import Broadcast, Reminder
from tests.fake_bot_api import Limits
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town

RESIDENTS = 2000
FIRST_ID = 100_000
# PTB's own limiter sleeps in real time: let the fake server's 429s (on our clock) do the pacing.
FAST = {"WISHBOT_TELEGRAM_RATE": "100000"}
REPORT = re.compile(
    r"Broadcast done: ([\d,]+) delivered, ([\d,]+) blocked the bot, ([\d,]+) failed, "
    r"([\d.,]+) messages per second\."
)


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _limited(bot: TelegramBot, clock: ManualClock) -> None:
    bot.server.clock = lambda: clock.now().timestamp()
    bot.server.limits = Limits(per_chat_per_second=1, global_per_second=30)


async def _until_reported(bot: TelegramBot, clock: ManualClock, chat_id: int) -> re.Match[str]:
    """Step a second at a time until the sender has the report (bounded)."""
    for _ in range(400):
        for message in bot.server.sent_to(chat_id):
            found = REPORT.search(message.text or "")
            if found:
                return found
        clock.advance(dt.timedelta(seconds=1))
        await bot.step()
    raise AssertionError("no broadcast report within 400 seconds")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


async def test_two_thousand_residents_each_get_it_once_at_telegrams_pace(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    started = time.perf_counter()
    async with sessions.begin() as s:
        for i in range(RESIDENTS):
            person = await add_person(s, f"Resident {i}", building=town.n1, unit=f"{i}")
            await link_identity(s, person, "telegram", str(FIRST_ID + i))
            await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
        await link_identity(s, town.admin, "telegram", "9000")
        await link_identity(s, town.dora, "telegram", "9001")  # Maple's: never reached
    async with telegram_bot(_url(app), clock, extra=FAST) as bot:
        _limited(bot, clock)
        for i in range(RESIDENTS):
            bot.server.user(FIRST_ID + i, f"Resident {i}")
        admin = bot.user(9000, "Admin")
        dora = bot.user(9001, "Dora")
        second = dt.timedelta(seconds=1)  # one message a second in the admin's chat
        await admin.send("/broadcast Water is off tomorrow from 9 to 12.")
        clock.advance(second)
        await admin.press("whole community")
        assert f"This goes to {RESIDENTS} people" in admin.text()
        clock.advance(second)
        await admin.press("Send")
        # The admin's answer is not queued behind the 2,000.
        assert f"Sending to {RESIDENTS} people" in admin.text()
        report = await _until_reported(bot, clock, admin.chat_id)
        elapsed = time.perf_counter() - started

        delivered, blocked, failed = (_number(report.group(n)) for n in (1, 2, 3))
        rate = float(report.group(4).replace(",", ""))
        assert (delivered, blocked, failed) == (RESIDENTS, 0, 0)
        assert 25 <= rate <= 31, rate  # the fake server's 30 a second, on the manual clock
        assert any("half way" in (m.text or "") for m in admin.inbox())
        expected = "📢 Sunflower\nWater is off tomorrow from 9 to 12."
        ok = Counter(
            int(c.params["chat_id"])
            for c in bot.server.calls
            if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) >= FIRST_ID
        )
        assert len(ok) == RESIDENTS and set(ok.values()) == {1}  # everyone, nobody twice
        for i in (0, RESIDENTS // 2, RESIDENTS - 1):
            assert [m.text for m in bot.server.sent_to(FIRST_ID + i)] == [expected]
        assert sum(c.status == 429 for c in bot.server.calls) > 10
        assert dora.inbox() == []
        assert bot.server.violations == []
    async with sessions() as s:
        broadcast = await s.scalar(select(Broadcast))
        assert broadcast is not None and broadcast.reported_at is not None
        progress = await broadcast_progress(s, broadcast.id)
    assert progress["sent"] == RESIDENTS and progress["pending"] == 0
    print(f"\n2,000 residents: {rate} messages/s on the clock, {elapsed:.1f} s real time")
    assert elapsed < 120


async def test_who_blocked_the_bot_is_counted_and_skipped_next_time(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        for person, chat in ((town.admin, "9000"), (town.alice, "9101"), (town.bob, "9102")):
            await link_identity(s, person, "telegram", chat)
    async with telegram_bot(_url(app), clock, extra=FAST) as bot:
        _limited(bot, clock)
        bot.user(9000, "Admin")
        alice, bob = bot.user(9101, "Alice"), bot.user(9102, "Bob")
        bot.server.blocked.add(alice.chat_id)

        async with sessions.begin() as s:
            admin = await s.get(Person, town.admin.id)
            assert admin is not None
            first = await start_broadcast(s, admin, "community", None, "Lift <b>fixed</b>")
            assert first.total == 2
        report = await _until_reported(bot, clock, 9000)
        assert tuple(_number(report.group(n)) for n in (1, 2, 3)) == (1, 1, 0)
        assert [m.text for m in bob.inbox()] == ["📢 Sunflower\nLift <b>fixed</b>"]
        async with sessions() as s:
            blocked = await s.get(Person, town.alice.id)
            assert blocked is not None and blocked.unreachable

        async with sessions.begin() as s:
            admin = await s.get(Person, town.admin.id)
            assert admin is not None
            second = await start_broadcast(s, admin, "community", None, "Second notice")
            assert second.total == 1  # Alice is skipped
        clock.advance(dt.timedelta(seconds=5))
        await bot.step()
        assert bob.last.text == "📢 Sunflower\nSecond notice"
        assert alice.inbox() == []
        reports = [m.text for m in bot.server.sent_to(9000) if "Broadcast done" in (m.text or "")]
        assert len(reports) == 2 and "1 delivered, 0 blocked" in (reports[1] or "")

        # She writes again: reachable again.
        bot.server.blocked.discard(alice.chat_id)
        await alice.send("/help")
        async with sessions() as s:
            back = await s.get(Person, town.alice.id)
            assert back is not None and not back.unreachable


async def test_a_broadcast_stays_in_its_scope_and_only_an_admin_starts_one(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        for n, person in enumerate(town.everyone()):
            await link_identity(s, person, "telegram", str(9000 + n))

    async def start(sender: Person, audience: str, scope_id: int | None, text: str = "Hi") -> int:
        async with sessions.begin() as s:
            who = await s.get(Person, sender.id)
            assert who is not None
            broadcast = await start_broadcast(s, who, audience, scope_id, text)
            return broadcast.id

    async def reached(broadcast_id: int) -> set[int]:
        async with sessions() as s:
            found = await s.scalars(
                select(Reminder.target_person_id).where(Reminder.broadcast_id == broadcast_id)
            )
            return {p for p in found.all() if p is not None}

    maple = {town.dora.id, town.maple_admin.id, town.maple_member.id}
    everyone = await reached(await start(town.admin, "community", town.sunflower.id))
    assert not everyone & maple and town.street_admin.id not in everyone
    assert town.admin.id not in everyone  # not the sender
    assert {town.alice.id, town.carol.id, town.head_s1.id, town.gw_south.id} <= everyone
    north = await reached(await start(town.admin, "grid", town.north.id))
    assert north == {
        town.alice.id,
        town.bob.id,
        town.head_n1.id,
        town.head_n2.id,
        town.gw_north.id,
    }
    assert await reached(await start(town.admin, "building", town.n2.id)) == {
        town.bob.id,
        town.head_n2.id,
    }
    assert await reached(await start(town.admin, "building_head", None)) == {
        town.head_n1.id,
        town.head_n2.id,
        town.head_s1.id,
    }
    members = await reached(await start(town.admin, "member", None))
    assert members == {town.fixer.id, town.walker.id, town.runner.id, town.newbie.id}
    assert await reached(await start(town.maple_admin, "community", None)) == {
        town.dora.id,
        town.maple_member.id,
    }

    async with sessions() as s:
        before = await s.scalar(select(func.count()).select_from(Reminder))
    refusals: list[tuple[Person, str, int | None, str, type[Exception]]] = [
        (town.gw_north, "grid", town.north.id, "Hi", NotAllowed),
        (town.head_n1, "building", town.n1.id, "Hi", NotAllowed),
        (town.alice, "community", town.sunflower.id, "Hi", NotAllowed),
        (town.maple_admin, "building", town.n1.id, "Hi", NotAllowed),
        (town.maple_admin, "community", town.sunflower.id, "Hi", NotAllowed),
        (town.admin, "street_admin", None, "Hi", InvalidInput),
        (town.admin, "everyone", None, "Hi", InvalidInput),
        (town.admin, "community", None, "   ", InvalidInput),
        (town.admin, "community", None, "x" * 3001, InvalidInput),
    ]
    for sender, audience, scope_id, text, error in refusals:
        with pytest.raises(error):
            await start(sender, audience, scope_id, text)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Reminder)) == before
        assert await s.scalar(select(func.count()).select_from(Broadcast)) == 6

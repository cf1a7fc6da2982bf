"""The seven measurements, each against a fresh fake server and a fresh migrated database.

Every run checks what a user would notice (a lost or doubled reply, a wrong count) and raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select, text, update

from bench import seed
from bench.harness import Broken, Process, Replies, database, duplicates, echo, fake, normal, ours
from bench.harness import url_of as url
from bench.people import Person, know, person
from bot.app import App
from models.dispatch_members import rank_members
from models.people import Person as Someone
from models.reminders import Reminder, ReminderStatus
from models.wishes import Wish, WishStatus
from tests.fake_bot_api import FakeBotApi, Limits

TELEGRAM = Limits(per_chat_per_second=1, global_per_second=30)
BROADCAST_TEXT = "Water is off tomorrow from 9 to 12."
REPORT = re.compile(r"Broadcast done: ([\d,]+) delivered")


@dataclass
class Run:
    """One run of one bot: its numbers by name."""

    numbers: dict[str, float] = field(default_factory=dict)
    # What broke (a lost or doubled reply, a count that is off): measured, then reported.
    broken: list[str] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timing(values: list[float], prefix: str = "") -> dict[str, float]:
    return {
        prefix + "p50_ms": 1000 * percentile(values, 0.5),
        prefix + "p99_ms": 1000 * percentile(values, 0.99),
    }


def cpu_ms(process: Process, before: float, updates: int) -> float:
    return 1000 * (process.cpu_seconds() - before) / max(updates, 1)


# --- (1) first contacts -------------------------------------------------------------------


async def first_contacts(kind: str, users: int, postgres: str | None) -> Run:
    """``users`` newcomers each send /start at once; each must get exactly the lone user's answer."""
    async with database(postgres) as app, fake() as (server, replies):
        await seed.community(app)
        first = seed.NEWCOMER_CHATS
        bot = ours(server, url(app)) if kind == "ours" else echo(server)
        async with bot as process:
            lone = person(server, replies, first - 1, "Lone")
            await lone.send_then("/start", None)
            await replies.quiet(1.0, 20)
            expected = [normal(r.text) for r in replies.delivered(lone.chat_id)]
            cpu = process.cpu_seconds()
            people = [person(server, replies, first + n, f"New {n}") for n in range(users)]
            began = time.monotonic()
            sent = [p.send("/start") for p in people]
            await asyncio.gather(
                *(p.wait_any(s, t) for p, (s, t) in zip(people, sent, strict=True))
            )
            ended = max(
                replies.first_after(p.chat_id, t) or 0
                for p, (_, t) in zip(people, sent, strict=True)
            )
            numbers = {
                "updates_per_s": users / (ended - began),
                "cpu_ms_per_update": cpu_ms(process, cpu, users),
            }
            await replies.quiet(1.0, 30)
        latencies = [x for p in people for x in p.latencies]
        for p in people:
            got = [normal(r.text) for r in replies.delivered(p.chat_id)]
            if got != expected:
                raise Broken(
                    f"first contact {p.chat_id}: got {got!r}, a lone user got {expected!r}"
                )
        check_clean(server, replies)
        return Run({**numbers, **timing(latencies)})


def check_clean(server: FakeBotApi, replies: Replies, duplicates_allowed: bool = False) -> None:
    """No Bot API rule broken, every update fetched, and (unless allowed) no reply twice."""
    if server.violations:
        raise Broken(f"Bot API rules broken: {server.violations[:3]}")
    if server.pending_updates():
        raise Broken(f"{len(server.pending_updates())} updates were never fetched")
    doubled = duplicates(replies)
    if doubled and not duplicates_allowed:
        raise Broken(f"{doubled} replies were delivered twice")


# --- (1) full conversations ---------------------------------------------------------------

CONVERSATION_STEPS = 21


async def _conversation(
    n: int,
    resident: Person,
    head: Person,
    head_lock: asyncio.Lock,
    member: Person,
    member_lock: asyncio.Lock,
    building: str,
) -> None:
    marker = f"Bench tap {n} leaks"
    r = resident
    data = await r.send_then("/start", "English")
    data = await r.press_then(data or "", "I live here")
    data = await r.press_then(data or "", "Sunflower")
    data = await r.press_then(data or "", building)
    data = await r.press_then(data or "", None)
    since, moment = r.send(f"5-{n:03d}")
    # The phone question's choices sit on Telegram's share-phone keyboard: they send their label.
    await r.wait_text("phone number", since, moment)
    await r.send_then("No, thanks", None)
    data = await r.send_then("/wish", "Repairs")
    await r.press_then(data or "", None)
    since, moment = r.send(marker)
    data = await r.wait_button("Skip", since, moment)
    data = await r.press_then(data, "Any time")
    data = await r.press_then(data or "", "Send")
    await r.press_then(data or "", None)
    waiting_resident = r.seen()
    async with head_lock:
        verify = await head.wait_button("Verify", 0, None, marker)
        await head.press_then(verify, None)
    async with member_lock:
        take = await member.wait_button("I'll do it", 0, None, marker)
        data = await member.press_then(take, "Report done")
        # Its own question, not just any message: news of another wish (a verified one's
        # offer) may come first, and a note sent before the question would meet its Skip.
        since, moment = member.press(data or "")
        await member.wait_text("short note", since, moment)
        since, moment = member.send(f"Fixed {n}")
        data = await member.wait_button("Skip", since, moment)
        await member.press_then(data, None)
    # The resident's own "Send" answer and the news that it was done both count as replies.
    data = await r.wait_button("It's done", waiting_resident, None)
    data = await r.press_then(data, "⭐⭐⭐⭐⭐")
    data = await r.press_then(data or "", "Skip")
    await r.press_then(data or "", None)


async def conversations(kind: str, count: int, postgres: str | None) -> Run:
    """``count`` residents at once: register, wish, verified, taken, done, confirmed (21 updates)."""
    async with database(postgres) as app, fake() as (server, replies):
        members = min(count, 20)
        buildings = max(1, min(count // 4, 9))
        await seed.community(app, buildings=buildings, members=members)
        know(server, [seed.ADMIN_CHAT])
        heads = [
            person(server, replies, seed.HEAD_CHATS + b, f"Head {b}") for b in range(buildings)
        ]
        crew = [
            person(server, replies, seed.MEMBER_CHATS + m, f"Member {m}") for m in range(members)
        ]
        residents = [
            person(server, replies, seed.NEWCOMER_CHATS + n, f"Resident {n}") for n in range(count)
        ]
        bot = ours(server, url(app)) if kind == "ours" else echo(server)
        async with bot as process:
            cpu = process.cpu_seconds()
            began = time.monotonic()
            if kind == "ours":
                head_locks = [asyncio.Lock() for _ in heads]
                member_locks = [asyncio.Lock() for _ in crew]
                await asyncio.gather(
                    *(
                        _conversation(
                            n,
                            residents[n],
                            heads[n % buildings],
                            head_locks[n % buildings],
                            crew[n % members],
                            member_locks[n % members],
                            f"B{n % buildings + 1}",
                        )
                        for n in range(count)
                    )
                )
            else:
                await asyncio.gather(*(_echoes(r, CONVERSATION_STEPS) for r in residents))
            ended = time.monotonic()
            everyone = residents + heads + crew
            updates = sum(p.updates for p in everyone)
            numbers = {
                "updates_per_s": updates / (ended - began),
                "cpu_ms_per_update": cpu_ms(process, cpu, updates),
            }
            await replies.quiet(1.0, 30)
        if kind == "ours":
            await _check_conversations(app, count)
        elif any(len(replies.delivered(r.chat_id)) != CONVERSATION_STEPS for r in residents):
            raise Broken("the echo bot lost or doubled a reply")
        # Heads and members hear of every wish (alike, apart from the code); a resident's own
        # conversation has no two equal messages.
        check_clean(server, replies, duplicates_allowed=True)
        doubled = duplicates(replies, {r.chat_id for r in residents})
        if doubled:
            raise Broken(f"conversations: {doubled} replies to residents delivered twice")
        latencies = [x for p in everyone for x in p.latencies]
        return Run({**numbers, **timing(latencies)})


async def _echoes(p: Person, steps: int) -> None:
    for n in range(steps):
        await p.send_then(f"step {n}", None)


async def _check_conversations(app: App, count: int) -> None:
    """Every wish closed, and the members' points a whole multiple of the wishes."""
    async with app.sessions() as s:
        closed = await s.scalar(
            select(func.count()).select_from(Wish).where(Wish.status == WishStatus.CLOSED)
        )
        total = await s.scalar(select(func.count()).select_from(Wish))
        points = await s.scalar(
            select(func.sum(Someone.points_balance)).where(Someone.name.like("Member %"))
        )
    if (closed, total) != (count, count):
        raise Broken(f"{closed} of {total} wishes closed; expected {count} of {count}")
    if not points or points % count:
        raise Broken(f"members hold {points} points for {count} five-star wishes")


# --- (2) and (3) a broadcast at Telegram's limits, with people writing meanwhile ------------


async def broadcast(size: int, writers: int, postgres: str | None) -> Run:
    """An admin broadcasts to ``size`` residents; ``writers`` of them send /help each second."""
    async with database(postgres) as app, fake(TELEGRAM) as (server, replies):
        place = await seed.community(app)
        await seed.residents(app, place, size)
        recipients = range(seed.RESIDENT_CHATS, seed.RESIDENT_CHATS + size)
        know(server, recipients)
        know(server, range(seed.HEAD_CHATS, seed.HEAD_CHATS + len(place.buildings)))
        async with ours(server, url(app), rate=None) as _:
            admin = person(server, replies, seed.ADMIN_CHAT, "Admin")
            data = await admin.send_then(f"/broadcast {BROADCAST_TEXT}", "whole community")
            data = await admin.press_then(data or "", "Send")
            await admin.press_then(data or "", None)
            done = asyncio.Event()
            helpers = [
                person(
                    server, replies, seed.RESIDENT_CHATS + n * max(1, size // max(writers, 1)), "W"
                )
                for n in range(writers)
            ]
            writing = [asyncio.create_task(_keep_asking(h, done)) for h in helpers]

            def reported() -> bool:
                return any(REPORT.search(r.text) for r in replies.delivered(admin.chat_id))

            # Generous: a slow drain is a timing (printed), a report that never comes is broken.
            deadline = size / 30 * 2 + 120
            report = await replies.until(reported, deadline)
            done.set()
            await asyncio.gather(*writing)
            await replies.quiet(1.0, 30)
        received: Counter[int] = Counter()
        times: list[float] = []
        for chat in recipients:
            for r in replies.delivered(chat):
                if BROADCAST_TEXT in r.text:
                    received[chat] += 1
                    times.append(r.time)
        lost = sum(1 for chat in recipients if received[chat] == 0)
        doubled = sum(n - 1 for n in received.values() if n > 1)
        spread = max(times) - min(times) if times else 0.0
        numbers = {
            "delivered": float(len(times)),
            "rate_per_s": (len(times) - 1) / spread if spread > 0 else float("nan"),
            "seconds": spread,
            "status_429": float(replies.statuses.get(429, 0)),
            "duplicates": float(doubled),
        }
        latencies = [x for h in helpers for x in h.latencies]
        if writers:
            numbers.update(timing(latencies, "help_"))
            numbers["help_asked"] = float(len(latencies))
        problems = []
        if not report:
            async with app.sessions() as session:
                stuck = (
                    await session.execute(
                        select(Reminder.chat_id, Reminder.status, Reminder.due_at)
                        .where(Reminder.status != ReminderStatus.SENT)
                        .limit(3)
                    )
                ).all()
            problems.append(
                f"no final report to the sender within {deadline:.0f} s; {len(times)} of "
                f"{size} residents had it by then; waiting rows, e.g. "
                f"{[tuple(map(str, row)) for row in stuck]}"
            )
        elif lost or doubled:
            problems.append(f"broadcast: {lost} lost, {doubled} delivered twice")
        if any(not h.latencies for h in helpers):
            problems.append("a person writing during the broadcast got no answer")
        try:
            check_clean(server, replies, duplicates_allowed=True)
        except Broken as broken:
            problems.append(str(broken))
        return Run(numbers, problems)


async def _keep_asking(p: Person, done: asyncio.Event) -> None:
    for _ in range(10_000):
        if done.is_set():
            return
        since, moment = p.send("/help")
        # The answer lists /help itself; the broadcast arriving meanwhile is not the answer.
        await p.wait_text("/help", since, moment)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 1.0)


# --- (4) reminders ------------------------------------------------------------------------


async def reminder_sweep(pending: int, due: int, postgres: str | None) -> Run:
    """``due`` head reminders fall due while ``pending`` others wait: how soon are they out?"""
    async with database(postgres) as app, fake() as (server, replies):
        buildings = 50
        place = await seed.community(app, buildings=buildings)
        wishes = await seed.waiting_wishes(app, place, due)
        far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        ids = await seed.reminders(app, wishes, far, pending, far)
        heads = range(seed.HEAD_CHATS, seed.HEAD_CHATS + buildings)
        know(server, heads)
        async with ours(server, url(app)) as _:
            await replies.quiet(1.0, 20)
            lead = 1.0
            at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead)
            due_mono = time.monotonic() + lead
            async with app.sessions.begin() as s:
                await s.execute(update(Reminder).where(Reminder.id.in_(ids)).values(due_at=at))

            def count() -> int:
                return sum(
                    1
                    for chat in heads
                    for r in replies.delivered(chat)
                    if "still waiting for your check" in r.text
                )

            await replies.until(lambda: count() >= due, lead + 120)
            await replies.quiet(1.0, 30)
        times = sorted(
            r.time - due_mono
            for chat in heads
            for r in replies.delivered(chat)
            if "still waiting for your check" in r.text
        )
        if len(times) != due:
            raise Broken(f"reminders: {len(times)} messages for {due} due reminders")
        async with app.sessions() as s:
            left = await s.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.id.in_(ids), Reminder.status != ReminderStatus.SENT)
            )
        if left:
            raise Broken(f"reminders: {left} due ones not marked sent")
        check_clean(server, replies)
        return Run(
            {
                "first_s": times[0],
                "p99_s": percentile(times, 0.99),
                "last_s": times[-1],
                "within_1s_share": sum(t <= 1 for t in times) / len(times),
                "sweep_s": percentile(times, 0.99) - times[0],
            }
        )


# --- (5) dispatch -------------------------------------------------------------------------


async def dispatch(members: int, asks: int, postgres: str | None) -> Run:
    """An admin asks /assign for one wish among ``members`` members, ``asks`` times in a row."""
    async with database(postgres) as app, fake() as (server, replies):
        place = await seed.community(app)
        await seed.members(app, place, members)
        code = await seed.open_wish(app, place)
        async with ours(server, url(app)) as _:
            admin = person(server, replies, seed.ADMIN_CHAT, "Admin")
            for _ in range(asks):
                await admin.send_then(f"/assign {code}", None)
                await replies.quiet(0.05, 5)
            await replies.quiet(1.0, 20)
        texts = [r.text for r in replies.delivered(admin.chat_id)]
        if len(texts) != asks or not all("best fits come first" in t for t in texts):
            raise Broken(f"/assign: {len(texts)} answers for {asks} asks")
        check_clean(server, replies, duplicates_allowed=True)
        return Run(timing(admin.latencies))


async def dispatch_ranking(members: int, asks: int, postgres: str | None) -> Run:
    """The store's dispatch alone (models/dispatch_members.py): the top five with reasons for one
    open wish among ``members`` members with homes, stated hours and a history, ``asks``
    times in a row after one warm-up; each time is the ranking call itself."""
    async with database(postgres) as app:
        place = await seed.community(app, buildings=20)
        await seed.dispatch_crowd(app, place, members)
        code = await seed.open_wish(app, place)
        async with app.sessions.begin() as s:
            await s.execute(
                update(Wish)
                .where(Wish.code == code)
                .values(preferred_time=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
            )
        if postgres:
            # What autovacuum does minutes after a bulk load; without statistics the planner
            # takes 10,000 fresh rows for one and joins the places by nested loop (seconds).
            async with app.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
        latencies: list[float] = []
        # The CPU time per call too (ours: both threads, SQLite runs in aiosqlite's; and the
        # PostgreSQL backend's, from /proc, as a mean): what a call costs, whatever else the
        # shared machine is doing meanwhile.
        cpu: list[float] = []
        async with app.sessions() as s:
            backend = await s.scalar(text("SELECT pg_backend_pid()")) if postgres else None
            server_before = _backend_cpu(backend)
            for n in range(asks + 1):
                wish = await s.scalar(
                    select(Wish).where(Wish.code == code).execution_options(populate_existing=True)
                )
                assert wish is not None
                started, used = time.perf_counter(), time.process_time()
                ranked = await rank_members(s, wish, 5, timezone=app.settings.timezone)
                if n:
                    latencies.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - used)
                else:
                    server_before = _backend_cpu(backend)
                if len(ranked) != 5 or any(
                    sum(r.points for r in c.reasons) != c.score for c in ranked
                ):
                    raise Broken(f"dispatch: {len(ranked)} candidates, or reasons off their score")
            server = (_backend_cpu(backend) - server_before) / asks
        numbers = {**timing(latencies), **timing(cpu, "cpu_")}
        if backend is not None:
            numbers["server_cpu_mean_ms"] = 1000 * server
        return Run(numbers)


def _backend_cpu(pid: int | None) -> float:
    """A local PostgreSQL backend's CPU seconds so far (0 when there is none to read)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- (6) memory ---------------------------------------------------------------------------


async def memory(kind: str, residents: int, writers: int, postgres: str | None) -> Run:
    """RSS with ``residents`` registered: idle after start, and after ``writers`` ask /help."""
    async with database(postgres) as app, fake() as (server, replies):
        place = await seed.community(app)
        if kind == "ours":
            await seed.residents(app, place, residents)
        bot = ours(server, url(app)) if kind == "ours" else echo(server)
        async with bot as process:
            await replies.quiet(2.0, 10)
            idle = process.rss_mib()
            people = [
                person(server, replies, seed.RESIDENT_CHATS + n * (residents // writers), "R")
                for n in range(writers)
            ]
            sent = [p.send("/help") for p in people]
            await asyncio.gather(
                *(p.wait_any(s, t) for p, (s, t) in zip(people, sent, strict=True))
            )
            await replies.quiet(1.0, 20)
            loaded = process.rss_mib()
        check_clean(server, replies)
        return Run({"idle_mib": idle, "loaded_mib": loaded})


# --- steady load ---------------------------------------------------------------------------


async def steady(kind: str, users: int, per_second: float, postgres: str | None) -> Run:
    """``users`` registered residents each ask /help once, ``per_second`` of them a second."""
    async with database(postgres) as app, fake() as (server, replies):
        place = await seed.community(app)
        await seed.residents(app, place, users)
        bot = ours(server, url(app)) if kind == "ours" else echo(server)
        async with bot as _:
            await replies.quiet(1.0, 10)
            people = [person(server, replies, seed.RESIDENT_CHATS + n, "R") for n in range(users)]
            waits = []
            began = time.monotonic()
            for n, p in enumerate(people):
                delay = began + n / per_second - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                since, moment = p.send("/help")
                waits.append(asyncio.create_task(p.wait_any(since, moment)))
            await asyncio.gather(*waits)
            await replies.quiet(1.0, 20)
        if any(len(replies.delivered(p.chat_id)) != 1 for p in people):
            raise Broken("steady load: someone got no answer, or two")
        check_clean(server, replies)
        return Run(timing([x for p in people for x in p.latencies]))


# --- (7) start-up -------------------------------------------------------------------------


async def start_up(kind: str, postgres: str | None) -> Run:
    """A /start waits in Telegram; the bot is started: how long until the answer?"""
    async with database(postgres) as app, fake() as (server, replies):
        await seed.community(app)
        newcomer = person(server, replies, seed.NEWCOMER_CHATS, "Early")
        newcomer.send("/start")
        started = time.monotonic()
        bot = ours(server, url(app)) if kind == "ours" else echo(server)
        async with bot as process:
            answered = await replies.wait_chat(
                newcomer.chat_id, lambda: replies.first_after(newcomer.chat_id, started), 60
            )
            numbers = {
                "first_reply_s": answered - process.started,
                "polling_s": process.polling - process.started,
            }
            await replies.quiet(1.0, 10)
        check_clean(server, replies)
        return Run(numbers)


def median(runs: list[Run], name: str) -> float:
    values = [r.numbers[name] for r in runs if name in r.numbers]
    return statistics.median(values) if values else float("nan")

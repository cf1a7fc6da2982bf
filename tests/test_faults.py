"""Faults from outside: the database away while updates arrive, Telegram down for minutes or a
day, a part of a reply failing, a send held in flight. Nothing is lost, nothing goes twice.

The real bot (PTB over HTTP) against the fake Bot API server and its injected faults; time is
the test's clock, and the waits between tries are the runtime's injectable pause.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.database import create_engine
from bot.settings import load_settings
from models.clock import ManualClock
from models.inbox import InboxUpdate
from models.outbox import queue_message
from models.reminders import Reminder, ReminderStatus
from tests.databases import server_url
from tests.fake_bot_api import Fault, parse_html
from tests.telegram_bot import Person, TelegramBot, telegram_bot

SENDING = ["sendMessage", "sendPhoto", "sendDocument"]


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


@asynccontextmanager
async def database_away(
    app: App, table: str = "inbox"
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """The database away for real until ``back()`` is awaited. On PostgreSQL it refuses new
    connections and its open ones are cut (as a restart does); on SQLite, which has no server,
    ``table`` is renamed away by another connection (every statement on it fails)."""
    server = server_url()
    if server is not None:
        admin = create_engine(load_settings({"WISHBOT_DATABASE_URL": server}).database_url)
        admin = admin.execution_options(isolation_level="AUTOCOMMIT")
        name = app.settings.database_url.database

        async def change(allowed: bool) -> None:
            async with admin.connect() as conn:
                await conn.execute(
                    text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
                )
                if not allowed:
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    )

    else:
        admin = create_engine(app.settings.database_url)

        async def change(allowed: bool) -> None:
            old, new = (f"{table}_away", table) if allowed else (table, f"{table}_away")
            async with admin.begin() as conn:
                await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    away = True

    async def back() -> None:
        nonlocal away
        if away:
            await change(True)
            away = False

    await change(False)
    try:
        yield back
    finally:
        await back()
        await admin.dispose()


def clock_pause(clock: ManualClock, pauses: list[float]) -> Callable[[float], Awaitable[None]]:
    """A pause that moves the test's clock instead of sleeping, and remembers each wait."""

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock.advance(dt.timedelta(seconds=seconds))
        await asyncio.sleep(0)

    return pause


async def outbox_rows(sessions: async_sessionmaker[AsyncSession], chat: int) -> list[Reminder]:
    async with sessions() as s:
        return list(
            (
                await s.scalars(
                    select(Reminder).where(Reminder.chat_id == str(chat)).order_by(Reminder.id)
                )
            ).all()
        )


async def assert_each_reply_once_in_order(
    bot: TelegramBot, sessions: async_sessionmaker[AsyncSession], person: Person
) -> None:
    """What the person saw is exactly their outbox rows' texts, in the rows' order, each once."""
    rows = await outbox_rows(sessions, person.chat_id)
    assert rows and all(r.status == ReminderStatus.SENT for r in rows), [
        (r.status, r.last_error) for r in rows
    ]
    expected = [parse_html(r.payload["text"])[0] for r in rows]
    assert [m.text for m in person.inbox()] == expected


# -- the database away ---------------------------------------------------------------------------


async def test_database_away_for_twenty_seconds_while_updates_arrive_then_each_answered_once(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        people = [bot.user(5001 + n, f"Neighbour {n}") for n in range(3)]
        pauses: list[float] = []
        bot.telegram.pause = bot.runtime.pause = clock_pause(clock, pauses)
        stopping = asyncio.Event()
        with caplog.at_level(logging.WARNING, logger="wishbot"):
            async with database_away(app) as back:
                started = clock.now()
                for person in people:
                    person.user.send("/start")
                ids = [u["update_id"] for u in bot.server.pending_updates()]
                # The inbox sweep meets the outage too: it goes on, logging once.
                for _ in range(3):
                    await bot.runtime.sweep_once(bot.runtime.handle_inbox)
                polling = asyncio.create_task(bot.telegram.poll(stopping))
                # Polling fails to store, waits (on our clock), fetches the same updates again.
                await bot.server.wait_until(
                    lambda: clock.now() - started >= dt.timedelta(seconds=20) or None
                )
                assert not polling.done()
                await back()
            during = bot.server.calls_of("getUpdates")
            assert len(during) >= 4
            assert all(c.params.get("offset") is None for c in during)  # nothing confirmed
            await bot.server.wait_for(
                lambda c: c.method == "getUpdates" and c.params.get("offset") == max(ids) + 1,
                answered=False,
            )
            stopping.set()
            await polling
            await bot.runtime.sweep_once(bot.runtime.handle_inbox)
            await bot.runtime.send_outbox()
    for person in people:
        assert [m.text[:10] for m in person.inbox() if m.text] == ["Welcome to"]
    async with sessions() as s:
        kept = (await s.scalars(select(InboxUpdate))).all()
    assert len(kept) == 3 and all(u.handled_at and u.error is None for u in kept)
    # Waits grew and stayed bounded; the outage was told once per loop, and its end once.
    assert pauses[:7] == [1, 2, 4, 1, 2, 4, 8] and max(pauses) <= 60
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("wishbot")]
    for what in ("Storing Telegram updates", "handle_inbox sweep"):
        assert sum(what in line and "trying again" in line for line in lines) == 1
        assert sum(what in line and "works again" in line for line in lines) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_answers_not_200_while_the_database_is_away_so_telegram_delivers_again(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    extra = {"WISHBOT_PUBLIC_URL": f"http://127.0.0.1:{port}", "WISHBOT_WEBHOOK_SECRET": "s3cret"}
    async with telegram_bot(_url(app), clock, extra=extra) as bot:
        site = web.Application()
        site.add_routes(bot.telegram.webhook_routes())
        runner = web.AppRunner(site, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            ann = bot.user(5101, "Ann")
            with caplog.at_level(logging.WARNING):
                async with database_away(app) as back:
                    ann.user.send("/start")
                    assert await bot.server.deliver_webhook(attempts=3) == 0
                    await back()
                assert await bot.server.deliver_webhook(attempts=3) == 1
            await bot.runtime.handle_inbox()
            await bot.runtime.send_outbox()
        finally:
            await runner.cleanup()
        assert [status for _, status in bot.server.webhook_attempts] == [503, 503, 503, 200]
        assert [(m.text or "")[:10] for m in ann.inbox()] == ["Welcome to"]
    # Told once, as one line: no traceback (its SQL could carry what a person typed).
    lines = [r for r in caplog.records if "Storing Telegram updates" in r.getMessage()]
    assert len(lines) == 2 and all(r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.name.startswith("aiohttp")]


# -- Telegram away -------------------------------------------------------------------------------


async def test_telegram_unreachable_for_fifteen_minutes_then_every_reply_once_in_order(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        people = [bot.user(5201 + n, f"Neighbour {n}") for n in range(3)]
        for person in people:
            await person.send("/start")
        # Cut connections first, then Bad Gateway: no reply can get through for 15 minutes.
        dropped = bot.server.fail_next("sendMessage", times=2, kind=Fault.DROP)
        outage = bot.server.outage(502, methods=SENDING)
        started = clock.now()
        said = ["/help", "hello", "/my", "/help"]
        step = 0
        while clock.now() - started < dt.timedelta(minutes=15):
            person = people[step % 3]
            if step < 12:
                person.user.send(said[step // 3])
            await bot.step()
            clock.advance(dt.timedelta(seconds=30))
            step += 1
        assert [m.text[:10] for m in people[0].inbox() if m.text] == ["Welcome to"]
        assert dropped.played == 2 and outage.played > 10
        outage.end()
        for _ in range(3):
            clock.advance(dt.timedelta(minutes=1))
            await bot.step()
        for person in people:
            assert len(person.inbox()) == 5
            await assert_each_reply_once_in_order(bot, sessions, person)
        assert bot.server.violations == []


async def test_a_reply_that_waited_a_day_for_telegram_is_dropped_with_a_record(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        ann = bot.user(5301, "Ann")
        outage = bot.server.outage(503, methods=SENDING)
        await ann.send("/start")
        for _ in range(24):
            clock.advance(dt.timedelta(hours=1))
            await bot.step()
        await ann.send("/help")  # written an hour before the end: still worth sending
        clock.advance(dt.timedelta(hours=1, seconds=1))
        outage.end()
        with caplog.at_level(logging.WARNING, logger="wishbot"):
            await bot.step()
        assert [m.text[:10] for m in ann.inbox() if m.text] == ["Here is wh"]
    old, new = await outbox_rows(sessions, ann.chat_id)
    assert old.status == ReminderStatus.FAILED and new.status == ReminderStatus.SENT
    assert old.last_error is not None and old.last_error.startswith("expired")
    assert "NetworkError" in old.last_error
    assert any(f"outbox row {old.id} (reply) dropped" in r.getMessage() for r in caplog.records)


async def test_permanent_refusals_end_at_once_with_a_clear_record(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        gone = bot.user(5401, "Gone")
        bot.server.blocked.add(gone.chat_id)
        async with sessions.begin() as s:
            for chat in (str(gone.chat_id), "999999"):  # blocked; a chat Telegram never saw
                await queue_message(
                    s, platform="telegram", chat_id=chat, payload={"text": "hi", "buttons": []}
                )
        await bot.step()
        clock.advance(dt.timedelta(hours=1))
        await bot.step()
        assert len(bot.server.calls_of("sendMessage")) == 2  # one try each, none again
    blocked = await outbox_rows(sessions, gone.chat_id)
    unknown = await outbox_rows(sessions, 999999)
    assert [(r.status, r.attempts) for r in blocked + unknown] == [
        (ReminderStatus.FAILED, 1),
        (ReminderStatus.FAILED, 1),
    ]
    assert blocked[0].last_error is not None and unknown[0].last_error is not None
    assert blocked[0].last_error.startswith("blocked: Forbidden")
    assert unknown[0].last_error.startswith("BadRequest") and "not found" in unknown[0].last_error


# -- multi-part replies --------------------------------------------------------------------------


async def test_the_second_part_of_a_reply_failing_twice_sends_each_part_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: object, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        erin = bot.user(5501, "Erin")
        # A reply longer than one Telegram message goes as two; the second fails twice.
        text = "first part " * 400 + "\n" + "second part " * 100
        async with sessions.begin() as s:
            await queue_message(
                s,
                platform="telegram",
                chat_id=str(erin.chat_id),
                payload={"text": text, "buttons": [[["OK", "ok"]]]},
            )
        failing = bot.server.fail_nth("sendMessage", 2)
        again = bot.server.fail_nth("sendMessage", 3)
        await bot.step()
        for _ in range(3):
            clock.advance(dt.timedelta(seconds=5))
            await bot.step()
        assert failing.played == 1 and again.played == 1
        got = erin.inbox()
        assert len(got) == 2, [m.text for m in got]
        assert (got[0].text or "").startswith("first part") and not got[0].buttons
        assert "second part" in (got[1].text or "") and got[1].buttons
        rows = await outbox_rows(sessions, erin.chat_id)
        assert (rows[-1].status, rows[-1].parts_sent, rows[-1].attempts) == (
            ReminderStatus.SENT,
            1,
            3,
        )


async def test_a_long_text_cut_by_a_failure_goes_on_from_the_chunk_that_failed(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        ann = bot.user(5601, "Ann")
        text = "\n".join(f"<b>line {n}</b> &amp; more" for n in range(1200))
        async with sessions.begin() as s:
            await queue_message(
                s,
                platform="telegram",
                chat_id=str(ann.chat_id),
                payload={"text": text, "buttons": [[["OK", "ok"]]]},
            )
        bot.server.fail_nth("sendMessage", 2, kind=Fault.DROP)
        bot.server.fail_nth("sendMessage", 3, kind=503)
        for _ in range(4):
            await bot.step()
            clock.advance(dt.timedelta(seconds=5))
        got = [m.text or "" for m in ann.inbox()]
        assert "\n".join(got) == parse_html(text)[0]
        assert ann.inbox()[-1].buttons and not any(m.buttons for m in ann.inbox()[:-1])
        assert bot.server.violations == []


# -- long text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "&amp;" * 5000,  # each one character to Telegram, five to us
        "&lt;b&gt;" * 1500,
        "<b>" + "x" * 5000 + "</b> and after",  # a tag open across the cut
        "😀" * 2100 + "\n" + "é" * 10,  # two UTF-16 units each
        "<i>" + "a & b " * 800 + "</i>\n" + "<code>" + "y" * 4000 + "</code>",
    ],
)
async def test_long_text_is_cut_where_telegram_counts_never_inside_an_entity_or_tag(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock, text: str
) -> None:
    text = text.replace(" & ", " &amp; ")
    async with telegram_bot(_url(app), clock) as bot:
        ann = bot.user(5701, "Ann")
        async with sessions.begin() as s:
            await queue_message(
                s,
                platform="telegram",
                chat_id=str(ann.chat_id),
                payload={"text": text, "buttons": []},
            )
        await bot.step()
        assert bot.server.violations == []
        shown = "".join(m.text or "" for m in ann.inbox())
        assert shown.replace("\n", "") == parse_html(text)[0].replace("\n", "")
        assert len(ann.inbox()) >= 2


# -- no transaction waits on the network ----------------------------------------------------------


async def test_while_a_send_is_in_flight_another_chat_is_stored_handled_and_answered(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        ann, bob = bot.user(5801, "Ann"), bot.user(5802, "Bob")
        ann.user.send("/start")
        await bot.telegram.poll_once(timeout=0)
        await bot.runtime.handle_inbox()
        hold = bot.server.hold_next("sendMessage")
        sending = asyncio.create_task(bot.runtime.send_outbox())
        await asyncio.wait_for(hold.arrived.wait(), timeout=10)
        bob.user.send("/help")
        # Held in flight: on SQLite a transaction open across it would hold the write lock.
        async with asyncio.timeout(3):
            assert await bot.telegram.poll_once(timeout=0) == 1
            assert await bot.runtime.handle_inbox() == 1
        waiting = await outbox_rows(sessions, bob.chat_id)
        assert [r.status for r in waiting] == [ReminderStatus.PENDING]
        hold.release()
        await sending
        await bot.runtime.send_outbox()
        assert [(m.text or "")[:10] for m in ann.inbox()] == ["Welcome to"]
        assert [(m.text or "")[:10] for m in bob.inbox()] == ["Here is wh"]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).where(Reminder.claimed_until.is_not(None))) == 0


async def test_a_send_that_went_while_the_database_blinked_is_recorded_and_never_sent_again(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock, extra={"WISHBOT_SEND_LEASE_SECONDS": "60"}) as bot:
        ann = bot.user(5901, "Ann")
        async with sessions.begin() as s:
            await queue_message(
                s,
                platform="telegram",
                chat_id=str(ann.chat_id),
                payload={"text": "hi", "buttons": []},
            )
        pauses: list[float] = []
        moving = clock_pause(clock, pauses)
        hold = bot.server.hold_next("sendMessage")
        sending = asyncio.create_task(bot.runtime.send_outbox())
        await asyncio.wait_for(hold.arrived.wait(), timeout=10)
        # Telegram carries it out while the outbox table is away: "sent" cannot be written.
        async with database_away(app, "reminders") as back:

            async def pause(seconds: float) -> None:
                await moving(seconds)
                if len(pauses) == 3:
                    await back()

            bot.runtime.pause = pause
            hold.release()
            await sending
        assert pauses == [1, 2, 4]
        # Long past the claim's lease: a lost "sent" would have it sent a second time now.
        clock.advance(dt.timedelta(minutes=5))
        await bot.step()
        assert [m.text for m in ann.inbox()] == ["hi"]
    [row] = await outbox_rows(sessions, ann.chat_id)
    assert row.status == ReminderStatus.SENT and row.claimed_until is None


async def test_a_chats_next_message_waits_while_one_before_it_is_being_sent(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Two senders (two processes) never send one chat's messages side by side, out of order."""
    from models.outbox import claim_messages

    lease = dt.timedelta(seconds=60)
    async with sessions.begin() as s:
        for chat, text_ in (("1", "x1"), ("1", "x2"), ("2", "y1")):
            await queue_message(
                s, platform="telegram", chat_id=chat, payload={"text": text_, "buttons": []}
            )
    async with sessions.begin() as s:
        (first,), _ = await claim_messages(s, "telegram", lease)
    async with sessions.begin() as s:
        (second,), _ = await claim_messages(s, "telegram", lease)
    async with sessions.begin() as s:
        third, _ = await claim_messages(s, "telegram", lease)
    assert (first.payload["text"], second.payload["text"], third) == ("x1", "y1", [])
    # A crashed sender's claims lapse: the rows are taken over, still before x2; a batch
    # holds one row per chat, the head of its line.
    clock.advance(lease)
    async with sessions.begin() as s:
        again, _ = await claim_messages(s, "telegram", lease, limit=10)
    assert [(r.id, r.attempts) for r in again] == [(first.id, 2), (second.id, 2)]


async def test_a_batch_of_updates_is_stored_in_one_transaction(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    from sqlalchemy import event

    async with telegram_bot(_url(app), clock) as bot:
        for n in range(20):
            bot.user(6001 + n, f"Neighbour {n}").user.send("/start")
        begun: list[object] = []

        def count(connection: object) -> None:
            begun.append(connection)

        engine = bot.app.engine.sync_engine
        event.listen(engine, "begin", count)
        try:
            assert await bot.telegram.poll_once(timeout=0) == 20
        finally:
            event.remove(engine, "begin", count)
        assert len(begun) == 1
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 20

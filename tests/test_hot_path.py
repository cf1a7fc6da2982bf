"""What an update costs the database on the hot path, through the real runtime: the number of SQL
statements and transactions for newcomers' /start and for registered residents' /help.

Counted, never timed: each statement is a round trip through the driver (and SQLAlchemy's
work around it), so the count is what the throughput follows, on any machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import add_person, grant_role, link_identity
from models.inbox import InboxUpdate
from models.people import Role
from tests.databases import on_postgres
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town

CROWD = 8  # people writing at once: one batch of the inbox (INBOX_BATCH)
FAST = {"WISHBOT_TELEGRAM_RATE": "100000"}


@dataclass
class Count:
    statements: int = 0
    transactions: int = 0


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Count]:
    """Every statement sent to the database (BEGIN, SAVEPOINT and COMMIT's kin included where
    the driver sends them as statements) and every transaction begun, while inside."""
    count = Count()

    def statement(*_: Any) -> None:
        count.statements += 1

    def began(_: Any) -> None:
        count.transactions += 1

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "begin", began)
    try:
        yield count
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "begin", began)


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _one_round(bot: TelegramBot) -> Count:
    """Fetch what waits, handle it, send the answers (the reminder sweep has nothing due)."""
    with counting(bot.app.engine) as count:
        await bot.step()
    return count


async def test_newcomers_start_costs_few_statements(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock, town: Town
) -> None:
    async with telegram_bot(_url(app), clock, extra=FAST) as bot:
        lone = bot.user(6999, "Lone")
        await lone.send("/start")  # the first of the process (its one-time work) is not counted
        expected = [m.text for m in lone.inbox()]
        people = [bot.user(7000 + n, f"Newcomer {n}") for n in range(CROWD)]
        for p in people:
            p.user.send("/start")
        count = await _one_round(bot)
        for p in people:
            assert [m.text for m in p.inbox()] == expected
        # Per newcomer: their conversation looked up, created and moved to the first step,
        # the person looked up, the turn's savepoint and its release, the answer queued; the
        # answer claimed, then marked sent. Per round: the poll's batch kept (one look, one
        # insert in a savepoint), one claim and one mark for the whole crowd (SQLite), the
        # outbox's claims and empty probes, the reminder sweep's look, the broadcast
        # report's. Measured: SQLite 100 (149 before the inbox kept and handled batches),
        # PostgreSQL 114 (141 before), where each update keeps its own transaction (a batch
        # there would make a slow chat hold up the others in it: tests/test_inbox_crew.py).
        limit = 15 if on_postgres() else 13
        assert count.statements <= limit * CROWD, count.statements
        # SQLite: keep, handle the batch, look for more, fire reminders, claim and record the
        # sends, the broadcast report: 7 (14 before: one per update). PostgreSQL: one per
        # update and the same few (17 before and now).
        assert count.transactions <= (CROWD + 9 if on_postgres() else 7), count.transactions


async def test_residents_help_costs_few_statements(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock, town: Town
) -> None:
    async with sessions.begin() as s:
        for n in range(CROWD + 1):
            person = await add_person(s, f"Resident {n}", building=town.n1, unit=f"{n + 1}")
            await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
            await link_identity(s, person, "telegram", str(8000 + n))
    async with telegram_bot(_url(app), clock, extra=FAST) as bot:
        first = bot.user(8000 + CROWD, "Resident")
        await first.send("/help")
        expected = [m.text for m in first.inbox()]
        assert expected and "/wish" in (expected[0] or "")
        people = [bot.user(8000 + n, f"Resident {n}") for n in range(CROWD)]
        for p in people:
            p.user.send("/help")
        count = await _one_round(bot)
        for p in people:
            assert [m.text for m in p.inbox()] == expected
        # As a newcomer's, but the person and their grants come in one statement, and no
        # conversation step is written. Measured: SQLite 76 (133 before), PostgreSQL 89 (125
        # before; 84 and 97 while the grants were a statement of their own).
        limit = 12 if on_postgres() else 10
        assert count.statements <= limit * CROWD, count.statements
        assert count.transactions <= (CROWD + 9 if on_postgres() else 7), count.transactions


async def _refuse_chat(app: App, chat: str, on: bool) -> None:
    """A database that refuses to start a conversation with one chat (a bug's stand-in)."""
    postgres = app.engine.dialect.name == "postgresql"
    async with app.engine.begin() as connection:
        if on and postgres:
            await connection.execute(
                text(
                    "ALTER TABLE conversations ADD CONSTRAINT refuse_one_chat "
                    f"CHECK (chat_id <> '{chat}') NOT VALID"
                )
            )
        elif on:
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse_one_chat BEFORE INSERT ON conversations "
                    f"WHEN NEW.chat_id = '{chat}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                )
            )
        elif postgres:
            await connection.execute(
                text("ALTER TABLE conversations DROP CONSTRAINT refuse_one_chat")
            )
        else:
            await connection.execute(text("DROP TRIGGER refuse_one_chat"))


async def test_one_failing_update_in_a_batch_holds_up_nobody_else(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock, extra=FAST) as bot:
        people = [bot.user(7100 + n, f"Newcomer {n}") for n in range(CROWD + 4)]
        unlucky = people[2]
        await _refuse_chat(app, str(unlucky.chat_id), on=True)
        try:
            for p in people:
                p.user.send("/start")
            count = await _one_round(bot)
        finally:
            await _refuse_chat(app, str(unlucky.chat_id), on=False)
        # The others were answered, each once; the failure is recorded with its update alone.
        for p in people:
            if p is not unlucky:
                assert [m.text for m in p.inbox()] == [people[0].inbox()[0].text]
        assert unlucky.inbox() == []
        async with sessions() as s:
            failed = await s.scalars(select(InboxUpdate).where(InboxUpdate.error.is_not(None)))
            assert [u.chat_key for u in failed.all()] == [f"telegram:{unlucky.chat_id}"]
            waiting = await s.scalar(select(InboxUpdate.id).where(InboxUpdate.handled_at.is_(None)))
            assert waiting is None
        if not on_postgres():
            # The failed batch, its 8 updates alone and the bad one's record, then the last 4
            # in one batch again, and the round's keep, empty claim, reminders and sends: 18
            # (21 if, after a failure, the round went on one update at a time).
            assert count.transactions <= 18, count.transactions
        # Their chat goes on.
        assert len(await unlucky.send("/start")) == 1

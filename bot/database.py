"""Engine set-up: the one place that knows SQLite from PostgreSQL.

SQLite serialises writers with BEGIN IMMEDIATE, so a read-then-write never deadlocks.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from models.clock import Clock
from models.schedule import ReminderRules

READ_ONLY = "wishbot_read_only"
# Set on a SQLite connection while its transaction holds the process's writing turn.
HOLDS_TURN = "wishbot_holds_turn"
# As long as SQLite's own busy timeout: past it, a writer goes to SQLite's lock as before.
TURN_SECONDS = 30.0


def create_engine(url: URL) -> AsyncEngine:
    # hide_parameters: an error names the statement, never what a person typed into it.
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def one_writer(engine: AsyncEngine) -> bool:
    """SQLite: each write transaction begins only when the one before it ended (BEGIN
    IMMEDIATE), so nothing another writer does can slip in between what it reads and what it
    writes. PostgreSQL: writers run side by side and see only each other's commits."""
    return engine.url.get_backend_name() == "sqlite"


def _sqlite_engine(url: URL) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None hands transaction control to us (the pysqlite recipe in
    # SQLAlchemy's docs); timeout lets a second writer wait for the first.
    engine = create_async_engine(
        url, connect_args={"timeout": 30, "isolation_level": None}, hide_parameters=True
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    turns = _Turns()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Pages that only read (many browsers polling the chat) must not queue for the lock.
        read_only = conn.get_execution_options().get(READ_ONLY)
        if not read_only:
            turns.take(conn.info)
        try:
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
        except BaseException:
            turns.give_back(conn.info)
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        turns.give_back(conn.info)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        turns.give_back(record.info)  # whatever ended the transaction, the turn is passed on

    return engine


class _Turns:
    """The process's SQLite writers take turns, first come first served, for the one write
    lock, instead of each polling SQLite's busy handler: a loop that commits and begins again
    at once (the outbox, the reminder sweep) would win every such race, and an answer could
    wait seconds behind a sweep. One queue per event loop (tests run several)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def take(self, info: dict[Any, Any]) -> None:
        if not in_greenlet() or info.get(HOLDS_TURN):
            return  # a plain synchronous connection (scripts): SQLite's lock alone
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            await_only(asyncio.wait_for(lock.acquire(), TURN_SECONDS))
        except TimeoutError:
            return  # a writer that never ends its turn: SQLite's own lock and timeout decide
        info[HOLDS_TURN] = lock

    def give_back(self, info: dict[Any, Any]) -> None:
        lock = info.pop(HOLDS_TURN, None)
        if lock is not None:
            lock.release()


def create_sessionmaker(
    engine: AsyncEngine, clock: Clock, rules: ReminderRules | None = None
) -> async_sessionmaker[AsyncSession]:
    # The store reads its clock and the default reminder rules from the session's info.
    return async_sessionmaker(
        engine, expire_on_commit=False, info={"clock": clock, "rules": rules or ReminderRules()}
    )


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for reading only: on SQLite it takes no write lock, so readers never wait
    behind the bot's writes (WAL lets them read the last commit)."""
    async with sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        yield session

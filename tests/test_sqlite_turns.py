"""SQLite: the process's writers take turns for the one write lock, first come, first served.

A loop that commits and begins again at once (the outbox draining a broadcast, a reminder
sweep firing a thousand) must not win every race against another writer (an answer).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.database import one_writer

ROUNDS = 300


async def test_a_writer_waits_for_the_transaction_under_way_not_for_a_busy_loop(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if not one_writer(app.engine):
        pytest.skip("PostgreSQL has many writers: nobody queues for one lock")
    order: list[str] = []
    going = asyncio.Event()

    async def write(what: str) -> None:
        async with sessions.begin() as session:
            await session.execute(text("SELECT 1"))
            order.append(what)

    async def busy() -> None:
        for n in range(ROUNDS):
            await write("loop")
            if n == 5:
                going.set()

    # Two connections in the pool first, so the answer's turn is asked for at once.
    await asyncio.gather(write("warm"), write("warm"))
    order.clear()
    looping = asyncio.create_task(busy())
    await going.wait()
    asked = len(order)
    await write("answer")
    await looping
    # The answer waits for the loop's transaction under way, if any. Before, its BEGIN
    # IMMEDIATE waited in SQLite's busy handler (sleeping 1, 2, 5, 10 ms...) while the loop
    # took the lock again at once: 2 to 40 of the loop's transactions went first.
    assert order.index("answer") - asked <= 1, order.index("answer") - asked

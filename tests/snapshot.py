"""Every row of every table, to prove that a refused action changed nothing.

Compared before and after; any difference fails the test with the table's name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.schema import Base

# What a person's action can change in the store (not the chat's own bookkeeping:
# conversation, inbox and outbox rows).
STORE = ("wishes", "wish_events", "wish_assignments", "points_ledger", "people", "role_grants")


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], only: tuple[str, ...] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            if only is not None and table.name not in only:
                continue
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables

"""The inbox: every update from a platform, stored before the platform is told it arrived.

A unique update id makes redelivery harmless; handling claims updates in order per chat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base
from models.clock import now

WAITING = text("handled_at IS NULL")


class InboxUpdate(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "update_id"),
        # Only waiting updates are in these two: small whatever the history, so the claim's
        # plan cannot drift with the table's size or its statistics.
        Index("ix_inbox_waiting", "id", sqlite_where=WAITING, postgresql_where=WAITING),
        Index(
            "ix_inbox_waiting_chat",
            "chat_key",
            "id",
            sqlite_where=WAITING,
            postgresql_where=WAITING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    update_id: Mapped[int] = mapped_column(BigInteger)
    # platform:chat, so one chat's updates are handled one at a time, in order.
    chat_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime]
    handled_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


async def store_update(
    session: AsyncSession, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
) -> bool:
    """Keep an update; False when it was already kept (a redelivery)."""
    exists = await session.scalar(
        select(InboxUpdate.id).where(
            InboxUpdate.platform == platform, InboxUpdate.update_id == update_id
        )
    )
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                InboxUpdate(
                    platform=platform,
                    update_id=update_id,
                    chat_key=chat_key,
                    payload=payload,
                    received_at=now(session),
                )
            )
    except IntegrityError:
        # Another process stored the same delivery a moment ago.
        return False
    return True


async def store_updates(
    session: AsyncSession, platform: str, updates: Sequence[tuple[int, str, dict[str, Any]]]
) -> int:
    """Keep a batch of updates (a poll's); how many were new. One look for the ones already
    kept and one insert for the rest, instead of four statements each; if another process
    stored some of them meanwhile, each is kept on its own as store_update does."""
    if not updates:
        return 0
    ids = [update_id for update_id, _, _ in updates]
    kept = set(
        await session.scalars(
            select(InboxUpdate.update_id).where(
                InboxUpdate.platform == platform, InboxUpdate.update_id.in_(ids)
            )
        )
    )
    moment = now(session)
    rows: dict[int, dict[str, Any]] = {}
    for update_id, chat_key, payload in updates:
        if update_id not in kept and update_id not in rows:
            rows[update_id] = {
                "platform": platform,
                "update_id": update_id,
                "chat_key": chat_key,
                "payload": payload,
                "received_at": moment,
            }
    if not rows:
        return 0
    try:
        async with session.begin_nested():
            await session.execute(insert(InboxUpdate), list(rows.values()))
    except IntegrityError:  # another process kept some of them a moment ago
        new = 0
        for update_id, chat_key, payload in updates:
            new += await store_update(session, platform, update_id, chat_key, payload)
        return new
    return len(rows)


@cache
def claim_query() -> Select[InboxUpdate]:
    """The oldest unhandled update whose chat has nothing older waiting, locked, skipping what
    another process holds. Both the scan and the "older waiting" probe read only the waiting
    rows' partial indexes: the plan is the same with a thousand handled rows or a million."""
    earlier = aliased(InboxUpdate)
    older_waiting = (
        select(earlier.id)
        .where(
            earlier.chat_key == InboxUpdate.chat_key,
            earlier.handled_at.is_(None),
            earlier.id < InboxUpdate.id,
        )
        .exists()
    )
    return (
        select(InboxUpdate)
        .where(InboxUpdate.handled_at.is_(None), ~older_waiting)
        .order_by(InboxUpdate.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


async def claim_next(session: AsyncSession) -> InboxUpdate | None:
    """Lock the oldest unhandled update whose chat has nothing older waiting.

    Another process holding an older update of the same chat makes this one wait its turn.
    """
    return await session.scalar(claim_query())


async def claim_batch(session: AsyncSession, size: int) -> list[InboxUpdate]:
    """Up to ``size`` updates, each the oldest waiting of its chat (so of different chats),
    oldest first: handled in this order, each chat's stay in order."""
    return list(await session.scalars(_batch_query(size)))


@cache
def _batch_query(size: int) -> Select[InboxUpdate]:
    """Built once per size: a statement built anew costs more than running it."""
    return claim_query().limit(size)


async def claim_update(session: AsyncSession, platform: str, update_id: int) -> InboxUpdate | None:
    """Lock this update if it is next in its chat (nothing older of the chat waits), else None."""
    query = claim_query().where(
        InboxUpdate.platform == platform, InboxUpdate.update_id == update_id
    )
    return await session.scalar(query)


async def waiting_besides(session: AsyncSession, update_id: int, up_to: int) -> int:
    """How many other updates wait (counted up to ``up_to``, no further): whether another
    worker would find one. Reads only the waiting rows' partial index."""
    others = (
        select(InboxUpdate.id)
        .where(InboxUpdate.handled_at.is_(None), InboxUpdate.id != update_id)
        .limit(up_to)
        .subquery()
    )
    return await session.scalar(select(func.count()).select_from(others)) or 0


async def mark_all_handled(session: AsyncSession, updates: Sequence[InboxUpdate]) -> None:
    """A batch handled without error: one statement for all."""
    moment = now(session)
    for update in updates:
        update.handled_at = moment
        update.error = None
    await session.flush()


async def mark_handled(
    session: AsyncSession, update: InboxUpdate, error: str | None = None
) -> None:
    update.handled_at = now(session)
    update.error = error
    await session.flush()

"""What the store says about the bot's health: the outbox's due backlog, the inbox's waiting
updates and the wishes by status, for /readyz and /metrics (plain counts, nobody's data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.inbox import InboxUpdate
from models.outbox import MESSAGE
from models.reminders import Reminder, ReminderStatus
from models.wishes import Wish


@dataclass(frozen=True)
class Backlog:
    """Rows waiting now, and how long the oldest of them has waited (0 when none)."""

    depth: int
    oldest_seconds: float


async def outbox_backlog(session: AsyncSession) -> Backlog:
    """Messages due and not yet sent (news held for the morning is not due)."""
    moment = now(session)
    depth, oldest = (
        await session.execute(
            select(func.count(), func.min(Reminder.due_at)).where(
                Reminder.status == ReminderStatus.PENDING,
                Reminder.kind == MESSAGE,
                Reminder.due_at <= moment,
            )
        )
    ).one()
    return Backlog(depth, _age(moment, oldest))


async def inbox_backlog(session: AsyncSession) -> Backlog:
    """Updates kept and not yet handled."""
    moment = now(session)
    depth, oldest = (
        await session.execute(
            select(func.count(), func.min(InboxUpdate.received_at)).where(
                InboxUpdate.handled_at.is_(None)
            )
        )
    ).one()
    return Backlog(depth, _age(moment, oldest))


async def wishes_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Wish.status, func.count()).group_by(Wish.status))
    return {str(status): count for status, count in rows.all()}


def _age(moment: dt.datetime, oldest: dt.datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite gives naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - oldest).total_seconds())

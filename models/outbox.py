"""Messages waiting to go out: written in the same transaction as the change they report.

Each row names its platform and chat; a sender claims due rows so each goes out once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.people import Identity, Person
from models.reminders import Reminder, ReminderStatus

MESSAGE = "message"
# last_error of a row the person refused by blocking the bot (counted apart in reports).
BLOCKED = "blocked"


async def queue_message(
    session: AsyncSession,
    *,
    platform: str,
    chat_id: str,
    payload: dict[str, Any],
    person_id: int | None = None,
    due_at: dt.datetime | None = None,
    kind: str = MESSAGE,
) -> Reminder:
    row = Reminder(
        due_at=due_at or now(session),
        target_person_id=person_id,
        kind=kind,
        platform=platform,
        chat_id=chat_id,
        payload=payload,
        status=ReminderStatus.PENDING,
        attempts=0,
        created_at=now(session),
    )
    session.add(row)
    await session.flush()
    return row


async def chats_of(session: AsyncSession, person_id: int) -> Sequence[tuple[str, str]]:
    """Every (platform, chat) where the person can be reached."""
    rows = await session.execute(
        select(Identity.platform, Identity.external_id).where(Identity.person_id == person_id)
    )
    return [(platform, chat) for platform, chat in rows.all()]


async def claim_due(session: AsyncSession, platform: str, limit: int = 50) -> Sequence[Reminder]:
    """Lock due messages for one platform; other processes skip what this one holds.

    Broadcast rows come last: an answer in a conversation never waits behind 2,000 of them.
    """
    return (
        await session.scalars(
            select(Reminder)
            .where(
                Reminder.status == ReminderStatus.PENDING,
                Reminder.due_at <= now(session),
                Reminder.kind == MESSAGE,
                Reminder.platform == platform,
            )
            .order_by(Reminder.broadcast_id.is_not(None), Reminder.due_at, Reminder.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def postpone_chat(
    session: AsyncSession, platform: str, chat_id: str, until: dt.datetime
) -> None:
    """Telegram said "slow down" for this chat: hold all its waiting messages, keeping their order."""
    rows = (
        await session.scalars(
            select(Reminder).where(
                Reminder.status == ReminderStatus.PENDING,
                Reminder.platform == platform,
                Reminder.chat_id == chat_id,
                Reminder.due_at < until,
            )
        )
    ).all()
    for row in rows:
        row.due_at = until
    await session.flush()


async def mark_unreachable(session: AsyncSession, person_id: int) -> None:
    """The person blocked the bot: broadcasts and reminders skip them until they write again."""
    person = await session.get(Person, person_id)
    if person is not None:
        person.unreachable = True

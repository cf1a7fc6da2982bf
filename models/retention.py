"""How long the personal details of a finished wish are kept: a rule per community
(`keep_closed_days`, 180 by default), applied once a day by the scheduler.

Closed, rejected and cancelled wishes older than that lose their text, photos, comment and
notes (models/erasure.py blank_wish); category, status, dates, rating and points stay. Chat
messages older than the default rule lose their text too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Text, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Community, Grid
from models.erasure import blank_wish
from models.inbox import InboxUpdate
from models.reminders import Reminder, ReminderStatus
from models.schedule import add_reminder, default_rules
from models.wishes import FINAL_STATUSES, Wish

RETENTION = "retention"
BATCH = 200
EMPTY = "{}"


async def forget_old_wishes(session: AsyncSession, moment: dt.datetime) -> int:
    """Blank every finished wish kept longer than its community's rule; how many were blanked."""
    defaults = default_rules(session)
    blanked = 0
    communities = (await session.execute(select(Community.id, Community.rules))).all()
    for community_id, overrides in communities:
        rules = defaults.merged(overrides or {})
        cutoff = moment - dt.timedelta(days=rules.keep_closed_days)
        finished = func.coalesce(Wish.closed_at, Wish.updated_at)
        while True:
            wishes = (
                await session.scalars(
                    select(Wish)
                    .join(Building, Wish.building_id == Building.id)
                    .join(Grid, Building.grid_id == Grid.id)
                    .where(
                        Grid.community_id == community_id,
                        Wish.status.in_(FINAL_STATUSES),
                        finished < cutoff,
                        or_(
                            Wish.description != "",
                            Wish.rating_comment.is_not(None),
                            Wish.resolution.is_not(None),
                        ),
                    )
                    .order_by(Wish.id)
                    .limit(BATCH)
                )
            ).all()
            if not wishes:
                break
            for wish in wishes:
                await blank_wish(session, wish)
            blanked += len(wishes)
    return blanked


async def forget_old_messages(session: AsyncSession, moment: dt.datetime) -> int:
    """Messages sent (outbox) and received (inbox) longer ago than the default rule lose their
    text; the rows stay, so delivery counts and the inbox's "seen this update" still hold."""
    cutoff = moment - dt.timedelta(days=default_rules(session).keep_closed_days)
    sent = await session.execute(
        update(Reminder)
        .where(
            Reminder.platform.is_not(None),
            Reminder.status != ReminderStatus.PENDING,
            Reminder.created_at < cutoff,
            cast(Reminder.payload, Text) != EMPTY,
        )
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    received = await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.handled_at.is_not(None),
            InboxUpdate.received_at < cutoff,
            cast(InboxUpdate.payload, Text) != EMPTY,
        )
        .values(payload={}, error=None)
        .execution_options(synchronize_session=False)
    )
    return int(sent.rowcount or 0) + int(received.rowcount or 0)  # type: ignore[attr-defined]


async def plan_retention(session: AsyncSession, day: dt.date) -> None:
    """Today's run of the retention rule, once whatever the processes."""
    await add_reminder(session, RETENTION, now(session), key=f"{RETENTION}:{day.isoformat()}")

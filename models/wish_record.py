"""What the record says about a wish: its events, who holds it now, who passed it up and why;
and a person's latest wishes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.co_requesters import joined_by
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent


async def events_of(session: AsyncSession, wish_id: int) -> Sequence[WishEvent]:
    return (
        await session.scalars(
            select(WishEvent).where(WishEvent.wish_id == wish_id).order_by(WishEvent.id)
        )
    ).all()


async def latest_wishes_of(session: AsyncSession, person_id: int, limit: int) -> Sequence[Wish]:
    """The person's latest wishes, their own, sent for someone else, or joined through a
    merge (models/co_requesters.py), newest first."""
    return (
        await session.scalars(
            select(Wish)
            .where(
                or_(
                    Wish.requester_id == person_id,
                    Wish.submitted_by_id == person_id,
                    Wish.id.in_(joined_by(person_id)),
                )
            )
            .order_by(Wish.id.desc())
            .limit(limit)
        )
    ).all()


async def active_helpers(session: AsyncSession, wish_id: int) -> list[int]:
    """The members who hold a place on the wish now."""
    found = await session.scalars(
        select(WishAssignment.member_id).where(
            WishAssignment.wish_id == wish_id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
    )
    return list(found.all())


async def last_escalation_note(session: AsyncSession, wish_id: int) -> str | None:
    """Why the wish was passed up, the last time it was."""
    return await session.scalar(
        select(WishEvent.note)
        .where(WishEvent.wish_id == wish_id, WishEvent.action == "escalate")
        .order_by(WishEvent.id.desc())
        .limit(1)
    )


async def escalated_by(session: AsyncSession, wish_id: int) -> list[int]:
    """Everyone who passed the wish up (once per escalation)."""
    found = await session.scalars(
        select(WishEvent.actor_id).where(
            WishEvent.wish_id == wish_id,
            WishEvent.action == "escalate",
            WishEvent.actor_id.is_not(None),
        )
    )
    return [p for p in found.all() if p is not None]

"""What must hold in any store, whatever happened: for restoring a backup and copying a database.

Each wish's status matches its last event, its places its assignments, one close event per
closed wish, one award per wish and person, and every balance the sum of its ledger (never below 0).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import Person
from models.points import PointsEntry
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus

S = WishStatus


async def broken_invariants(session: AsyncSession) -> list[str]:
    """What does not hold, one line each naming the wish code or person id (empty: all hold)."""
    wishes = (
        await session.execute(
            select(Wish.id, Wish.code, Wish.status, Wish.taken_count, Wish.required_count)
        )
    ).all()
    last: dict[int, WishStatus] = {}
    closes: Counter[int] = Counter()
    for wish_id, to_status in (
        await session.execute(select(WishEvent.wish_id, WishEvent.to_status).order_by(WishEvent.id))
    ).all():
        last[wish_id] = to_status
        if to_status == S.CLOSED:
            closes[wish_id] += 1
    active = Counter(
        (
            await session.scalars(
                select(WishAssignment.wish_id).where(
                    WishAssignment.status == AssignmentStatus.ACTIVE
                )
            )
        ).all()
    )
    problems: list[str] = []
    status_of: dict[int, WishStatus] = {}
    for wish_id, code, status, taken, required in wishes:
        status_of[wish_id] = status
        if last.get(wish_id) != status:
            problems.append(f"wish {code}: status {status} is not its last event's")
        if closes[wish_id] != (1 if status == S.CLOSED else 0):
            problems.append(f"wish {code}: {closes[wish_id]} close events")
        if active[wish_id] != taken or not 0 <= taken <= required:
            problems.append(f"wish {code}: {taken} places taken, {active[wish_id]} assignments")
        if status == S.ACCEPTED and taken != required:
            problems.append(f"wish {code}: accepted with places left")
        if status in (S.SUBMITTED, S.REJECTED, S.CANCELLED, S.ESCALATED) and taken:
            problems.append(f"wish {code}: {status} with places taken")
    ledger = dict(
        (
            await session.execute(
                select(PointsEntry.person_id, func.sum(PointsEntry.amount)).group_by(
                    PointsEntry.person_id
                )
            )
        ).all()
    )
    for person_id, cached in (
        await session.execute(select(Person.id, Person.points_balance))
    ).all():
        if cached < 0 or cached != ledger.get(person_id, 0):
            problems.append(
                f"person {person_id}: balance {cached}, ledger {ledger.get(person_id, 0)}"
            )
    awards = Counter(
        (
            await session.execute(
                select(PointsEntry.wish_id, PointsEntry.person_id).where(
                    PointsEntry.wish_id.is_not(None)
                )
            )
        ).all()
    )
    for (awarded, person_id), count in awards.items():
        if count != 1 or awarded is None or status_of.get(awarded) != S.CLOSED:
            problems.append(f"wish id {awarded}: {count} awards to person {person_id}")
    return problems

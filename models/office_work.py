"""What the office's chat commands read: the wishes waiting (/pending, /escalated), the counts
(/stats), the communities to export and the residents looked after, each within a reach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Community
from models.people import Person, RoleGrant
from models.permissions import TOP_LEVEL, ladder_level, place_of_building
from models.points import PointsEntry, PointsKind
from models.reach import Reach
from models.wishes import Wish, WishStatus

S = WishStatus


async def level_over_wish(session: AsyncSession, grants: Sequence[RoleGrant], wish: Wish) -> int:
    """The highest rung these grants hold over the wish's building (0: none)."""
    return ladder_level(grants, await place_of_building(session, wish.building_id))


async def waiting_for_office(
    session: AsyncSession, reach: Reach, grants: Sequence[RoleGrant]
) -> list[Wish]:
    """What /pending lists: wishes in the reach to verify, without a helper yet, or escalated
    to the caller's own rung (those on other rungs wait for /escalated), oldest first."""
    found = await session.scalars(
        select(Wish)
        .where(
            reach.wishes(),
            or_(
                Wish.status == S.SUBMITTED,
                and_(Wish.status == S.OPEN, Wish.taken_count == 0),
                Wish.status == S.ESCALATED,
            ),
        )
        .order_by(Wish.created_at, Wish.id)
    )
    waiting = []
    for wish in found.all():
        if wish.status == S.ESCALATED and wish.escalation_level != await level_over_wish(
            session, grants, wish
        ):
            continue
        waiting.append(wish)
    return waiting


async def escalated_to(
    session: AsyncSession, reach: Reach, grants: Sequence[RoleGrant]
) -> list[tuple[Wish, int]]:
    """What /escalated lists: escalated wishes in the reach that the caller's rung may answer,
    each with the rung the caller holds over it."""
    found = await session.scalars(
        select(Wish)
        .where(reach.wishes(), Wish.status == S.ESCALATED)
        .order_by(Wish.updated_at, Wish.id)
    )
    mine = []
    for wish in found.all():
        held = await level_over_wish(session, grants, wish)
        if (wish.escalation_level or TOP_LEVEL) <= held:
            mine.append((wish, held))
    return mine


@dataclass(frozen=True)
class OfficeCounts:
    by_status: dict[WishStatus, int]
    closed_since: int
    points_awarded: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def office_counts(session: AsyncSession, reach: Reach, since: dt.datetime) -> OfficeCounts:
    """What /stats shows: the reach's wishes by status, those closed since the moment, and
    the points awarded for them."""
    in_reach = reach.wishes()
    by_status = {
        S(status): int(count)
        for status, count in (
            await session.execute(
                select(Wish.status, func.count()).where(in_reach).group_by(Wish.status)
            )
        ).all()
    }
    closed = await session.scalar(
        select(func.count()).where(in_reach, Wish.status == S.CLOSED, Wish.closed_at >= since)
    )
    awarded = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0))
        .join(Wish, PointsEntry.wish_id == Wish.id)
        .where(in_reach, PointsEntry.kind == PointsKind.AWARD)
    )
    return OfficeCounts(by_status, int(closed or 0), int(awarded or 0))


async def communities_reached(session: AsyncSession, reach: Reach) -> list[Community]:
    """The communities with a building in the reach, in id order (one export each)."""
    ids = await reach.community_ids(session)
    if not ids:
        return []
    found = await session.scalars(select(Community).where(Community.id.in_(ids)))
    return sorted(found.all(), key=lambda c: c.id)


async def residents_reached(session: AsyncSession, reach: Reach) -> list[Person]:
    """The people living in the reach's buildings, by building, unit and name."""
    found = await session.scalars(
        select(Person)
        .where(Person.building_id.in_(reach.buildings()))
        .order_by(Person.building_id, Person.unit, Person.name, Person.id)
    )
    return list(found.all())

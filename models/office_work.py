"""What the office's chat commands read, each within a reach (models/reach.py): the wishes
waiting (/pending, /escalated), the counts (/stats, the digest), exports, people and places."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.dispatch_members import rank_members
from models.people import MemberProfile, Person, Role, RoleGrant
from models.permissions import TOP_LEVEL, ladder_level
from models.points import PointsEntry, PointsKind
from models.reach import Reach, community_buildings, place_of_building
from models.wishes import Wish, WishStatus

S = WishStatus
# A member holding a place on a wish in these states is busy with it.
BUSY = (S.OPEN, S.ACCEPTED, S.DONE)


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


async def waiting_for_head(session: AsyncSession, reach: Reach) -> tuple[list[Wish], list[Wish]]:
    """What a building head's /pending lists, oldest first: the wishes in the reach waiting for
    their check, and the ones still under way (looking for a helper, taken, done, passed up)."""
    found = await session.scalars(
        select(Wish)
        .where(
            reach.wishes(),
            Wish.status.in_((S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.ESCALATED)),
        )
        .order_by(Wish.created_at, Wish.id)
    )
    wishes = list(found.all())
    return (
        [w for w in wishes if w.status == S.SUBMITTED],
        [w for w in wishes if w.status != S.SUBMITTED],
    )


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


async def residents_reached(
    session: AsyncSession, reach: Reach, limit: int | None = None
) -> list[Person]:
    """The people living in the reach's buildings, by building, unit and name."""
    found = await session.scalars(
        select(Person)
        .where(Person.building_id.in_(reach.buildings()), Person.erased_at.is_(None))
        .order_by(Person.building_id, Person.unit, Person.name, Person.id)
        .limit(limit)
    )
    return list(found.all())


@dataclass(frozen=True)
class Digest:
    new: int
    open: int
    overdue: int
    closed: int


async def digest_counts(session: AsyncSession, reach: Reach, moment: dt.datetime) -> Digest:
    """The admin's morning numbers over the reach: new and closed in the last day, waiting
    now, and overdue."""
    day = dt.timedelta(days=1)

    async def count(*conditions: ColumnElement[bool]) -> int:
        found = await session.scalar(select(func.count()).where(reach.wishes(), *conditions))
        return int(found or 0)

    return Digest(
        new=await count(Wish.created_at >= moment - day),
        open=await count(Wish.status.in_([S.SUBMITTED, S.OPEN, S.ESCALATED])),
        overdue=await count(
            Wish.status.in_([S.OPEN, S.ACCEPTED]),
            Wish.due_at.is_not(None),
            Wish.due_at < moment,
        ),
        closed=await count(Wish.status == S.CLOSED, Wish.closed_at >= moment - day),
    )


def people_of(community_ids: Sequence[int]) -> Select[int]:
    """Residents of the communities' buildings and their members."""
    buildings = community_buildings(community_ids)
    return select(Person.id).where(
        or_(
            Person.building_id.in_(buildings),
            Person.id.in_(
                select(RoleGrant.person_id).where(
                    or_(
                        and_(RoleGrant.role == Role.RESIDENT, RoleGrant.scope_id.in_(buildings)),
                        and_(RoleGrant.role == Role.MEMBER, RoleGrant.scope_id.in_(community_ids)),
                    )
                )
            ),
        )
    )


async def grantable_people(session: AsyncSession, community_ids: Sequence[int]) -> list[Person]:
    """Whom an admin may give a role: the people of the communities they run, by name."""
    found = await session.scalars(
        select(Person)
        .where(Person.id.in_(people_of(community_ids)), Person.erased_at.is_(None))
        .order_by(Person.name, Person.id)
    )
    return list(found.all())


async def grant_places(
    session: AsyncSession, community_ids: Sequence[int], role: Role
) -> list[tuple[int, str]]:
    """Where the role may be given in these communities: themselves, their grids or their
    buildings, by name."""
    if role == Role.ADMIN:
        communities = await session.scalars(
            select(Community).where(Community.id.in_(community_ids)).order_by(Community.name)
        )
        return [(c.id, c.name) for c in communities.all()]
    if role == Role.GRID_WORKER:
        grids = await session.scalars(
            select(Grid).where(Grid.community_id.in_(community_ids)).order_by(Grid.name, Grid.id)
        )
        return [(g.id, g.name) for g in grids.all()]
    buildings = await session.scalars(
        select(Building)
        .where(Building.id.in_(community_buildings(community_ids)))
        .order_by(Building.name, Building.id)
    )
    return [(b.id, b.name) for b in buildings.all()]


async def suggestions(
    session: AsyncSession, wish: Wish, limit: int
) -> list[tuple[Person, MemberProfile, int]]:
    """Approved members of the wish's community who could take it, best first, with how many
    tasks each has now: the ranking of models/dispatch_members.py (which also gives the reasons)."""
    ranked = await rank_members(session, wish, limit)
    if not ranked:
        return []
    loaded = {
        person.id: (person, profile)
        for person, profile in (
            await session.execute(
                select(Person, MemberProfile)
                .join(MemberProfile, MemberProfile.person_id == Person.id)
                .where(Person.id.in_([c.id for c in ranked]))
            )
        ).all()
    }
    return [(*loaded[c.id], c.facts.open_tasks) for c in ranked]


async def volunteers_waiting(
    session: AsyncSession, community_ids: Sequence[int]
) -> list[tuple[Person, MemberProfile]]:
    """Volunteers of these communities who registered and wait for an admin's approval,
    by name (each once, even when they registered with two of the communities)."""
    found = await session.execute(
        select(Person, MemberProfile)
        .join(MemberProfile, MemberProfile.person_id == Person.id)
        .join(
            RoleGrant,
            and_(
                RoleGrant.person_id == Person.id,
                RoleGrant.role == Role.MEMBER,
                RoleGrant.scope_id.in_(community_ids),
            ),
        )
        .where(MemberProfile.approved.is_(False))
        .order_by(Person.name, Person.id)
    )
    return list({person.id: (person, profile) for person, profile in found.all()}.values())


async def revocable_grants(
    session: AsyncSession, community_ids: Sequence[int]
) -> list[tuple[RoleGrant, Person, str]]:
    """The roles an admin of these communities may take back, with whom and where, by name."""
    buildings = community_buildings(community_ids)
    grids = select(Grid.id).where(Grid.community_id.in_(community_ids))
    found = await session.execute(
        select(RoleGrant, Person)
        .join(Person, Person.id == RoleGrant.person_id)
        .where(
            Person.erased_at.is_(None),
            or_(
                and_(RoleGrant.role == Role.ADMIN, RoleGrant.scope_id.in_(community_ids)),
                and_(RoleGrant.role == Role.GRID_WORKER, RoleGrant.scope_id.in_(grids)),
                and_(RoleGrant.role == Role.BUILDING_HEAD, RoleGrant.scope_id.in_(buildings)),
            ),
        )
        .order_by(Person.name, Person.id, RoleGrant.id)
    )
    names: dict[Role, dict[int, str]] = {}
    result: list[tuple[RoleGrant, Person, str]] = []
    for grant, person in found.all():
        if grant.role not in names:
            names[grant.role] = dict(await grant_places(session, community_ids, grant.role))
        result.append((grant, person, names[grant.role].get(grant.scope_id, "?")))
    return result

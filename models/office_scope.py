"""What the office dashboard may show a person: the communities, grids and buildings their
grants cover (an admin: the community; a grid worker: the grid; a street admin: the street)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.people import MemberProfile, Person, Role, RoleGrant
from models.permissions import grants_of
from models.wishes import Wish, WishAssignment, WishEvent

OFFICE_ROLES = (Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)


def buildings_under(
    grids: Sequence[int], communities: Sequence[int], streets: Sequence[int]
) -> Select[int]:
    """The buildings of these grids, communities and streets: the office's reach."""
    return (
        select(Building.id)
        .join(Grid, Building.grid_id == Grid.id)
        .join(Community, Grid.community_id == Community.id)
        .where(
            or_(
                Grid.id.in_(grids),
                Grid.community_id.in_(communities),
                Community.street_id.in_(streets),
            )
        )
    )


@dataclass(frozen=True)
class Place:
    id: int
    name: str


@dataclass(frozen=True)
class BuildingPlace:
    id: int
    name: str
    grid_id: int
    community_id: int


@dataclass(frozen=True)
class OfficeScope:
    communities: tuple[Place, ...]
    grids: tuple[Place, ...]
    buildings: tuple[BuildingPlace, ...]

    @property
    def empty(self) -> bool:
        return not self.communities

    def community(self, community_id: int | None) -> Place | None:
        return next((c for c in self.communities if c.id == community_id), None)

    def buildings_of(self, community_id: int) -> list[BuildingPlace]:
        return [b for b in self.buildings if b.community_id == community_id]

    def grids_of(self, community_id: int) -> list[Place]:
        grid_ids = {b.grid_id for b in self.buildings_of(community_id)}
        return [g for g in self.grids if g.id in grid_ids]


async def office_scope(session: AsyncSession, person: Person) -> OfficeScope:
    """Everything the person's office grants cover; empty for residents, heads and members."""
    grants = await grants_of(session, person)
    by_role: dict[Role, list[int]] = {role: [] for role in OFFICE_ROLES}
    for grant in grants:
        if grant.role in by_role:
            by_role[grant.role].append(grant.scope_id)
    if not any(by_role.values()):
        return OfficeScope((), (), ())
    rows = (
        await session.execute(
            select(Building.id, Building.name, Grid.id, Grid.name, Community.id, Community.name)
            .join(Grid, Building.grid_id == Grid.id)
            .join(Community, Grid.community_id == Community.id)
            .where(
                or_(
                    Grid.id.in_(by_role[Role.GRID_WORKER]),
                    Community.id.in_(by_role[Role.ADMIN]),
                    Community.street_id.in_(by_role[Role.STREET_ADMIN]),
                )
            )
            .order_by(Community.name, Grid.name, Building.name, Building.id)
        )
    ).all()
    communities: dict[int, Place] = {}
    grids: dict[int, Place] = {}
    buildings: list[BuildingPlace] = []
    for building_id, building, grid_id, grid, community_id, community in rows:
        communities.setdefault(community_id, Place(community_id, community))
        grids.setdefault(grid_id, Place(grid_id, grid))
        buildings.append(BuildingPlace(building_id, building, grid_id, community_id))
    return OfficeScope(tuple(communities.values()), tuple(grids.values()), tuple(buildings))


@dataclass(frozen=True)
class EventLine:
    at: dt.datetime
    actor: str | None
    action: str
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True)
class WishPage:
    wish: Wish
    building: str
    requester: Person
    helpers: tuple[str, ...]
    events: tuple[EventLine, ...]


async def wish_for_office(session: AsyncSession, scope: OfficeScope, code: str) -> WishPage | None:
    """A wish with its history, when it is in a building of the scope; None otherwise (the
    page then says 'no such wish', so nobody learns what lies outside their scope)."""
    wish = await session.scalar(select(Wish).where(Wish.code == code.strip().upper()))
    allowed = {b.id: b.name for b in scope.buildings}
    if wish is None or wish.building_id not in allowed:
        return None
    requester = await session.get(Person, wish.requester_id)
    assert requester is not None
    helpers = (
        await session.scalars(
            select(Person.name)
            .join(WishAssignment, WishAssignment.member_id == Person.id)
            .where(WishAssignment.wish_id == wish.id)
            .order_by(WishAssignment.id)
        )
    ).all()
    rows = (
        await session.execute(
            select(WishEvent, Person.name)
            .outerjoin(Person, WishEvent.actor_id == Person.id)
            .where(WishEvent.wish_id == wish.id)
            .order_by(WishEvent.at, WishEvent.id)
        )
    ).all()
    events = tuple(
        EventLine(
            e.at,
            name,
            e.action,
            e.from_status.value if e.from_status else None,
            e.to_status.value,
            e.note,
        )
        for e, name in rows
    )
    return WishPage(wish, allowed[wish.building_id], requester, tuple(helpers), events)


@dataclass(frozen=True)
class WaitingMember:
    person_id: int
    name: str
    organisation: str
    skills: tuple[str, ...]


async def members_waiting(session: AsyncSession, community_id: int) -> list[WaitingMember]:
    """Volunteers of the community who registered and wait for an admin's approval."""
    rows = (
        await session.execute(
            select(Person.id, Person.name, MemberProfile.organisation, MemberProfile.skills)
            .join(MemberProfile, MemberProfile.person_id == Person.id)
            .join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(
                RoleGrant.role == Role.MEMBER,
                RoleGrant.scope_id == community_id,
                MemberProfile.approved.is_(False),
            )
            .order_by(Person.id)
        )
    ).all()
    return [WaitingMember(i, n, o or "", tuple(s or ())) for i, n, o, s in rows]

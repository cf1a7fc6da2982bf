"""What the office dashboard may show a person: the communities, grids and buildings their
office reaches (models/reach.py decides which), with their names, and a wish's page."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.office_work import volunteers_waiting
from models.organisations import organisation_names
from models.people import Person
from models.reach import OFFICE_ROLES, Reach, reach
from models.wishes import Wish, WishAssignment, WishEvent


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
    # The building's name, with its grid's when another building of the community shares it.
    label: str


@dataclass(frozen=True)
class OfficeScope:
    """The office's reach (models/reach.py) with the names of the places in it."""

    reach: Reach
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

    def building_ids(
        self, community_id: int, grid_id: int | None = None, building_id: int | None = None
    ) -> set[int]:
        """The ids reached in the community, narrowed to a grid or a building when given:
        the same buildings as reach.buildings(...) with the same narrowing."""
        return {
            b.id
            for b in self.buildings_of(community_id)
            if (grid_id is None or b.grid_id == grid_id)
            and (building_id is None or b.id == building_id)
        }


async def office_scope(session: AsyncSession, person: Person) -> OfficeScope:
    """Everything the person's office grants cover; empty for residents, heads and members."""
    office = await reach(session, person, *OFFICE_ROLES)
    if office.empty:
        return OfficeScope(office, (), (), ())
    rows = (
        await session.execute(
            select(Building.id, Building.name, Grid.id, Grid.name, Community.id, Community.name)
            .join(Grid, Building.grid_id == Grid.id)
            .join(Community, Grid.community_id == Community.id)
            .where(Building.id.in_(office.buildings()))
            .order_by(Community.name, Grid.name, Building.name, Building.id)
        )
    ).all()
    communities: dict[int, Place] = {}
    grids: dict[int, Place] = {}
    for _, _, grid_id, grid, community_id, community in rows:
        communities.setdefault(community_id, Place(community_id, community))
        grids.setdefault(grid_id, Place(grid_id, grid))
    shared = Counter((community_id, building) for _, building, _, _, community_id, _ in rows)
    buildings = tuple(
        BuildingPlace(
            building_id,
            building,
            grid_id,
            community_id,
            f"{building} · {grid}" if shared[community_id, building] > 1 else building,
        )
        for building_id, building, grid_id, grid, community_id, _ in rows
    )
    return OfficeScope(office, tuple(communities.values()), tuple(grids.values()), buildings)


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
    """Volunteers of the community who registered and wait for an admin's approval (the same
    list as /approve in the chat)."""
    waiting = await volunteers_waiting(session, [community_id])
    names = await organisation_names(
        session, {p.organisation_id for _, p in waiting if p.organisation_id is not None}
    )
    return [
        WaitingMember(
            person.id,
            person.name,
            names.get(profile.organisation_id or 0, ""),
            tuple(profile.skills or ()),
        )
        for person, profile in waiting
    ]

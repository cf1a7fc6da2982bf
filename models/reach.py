"""Which buildings a person reaches in a role, by id: the one place that decides scope.

Lists, exports, charts, the dashboard, the chat's office commands, Open311 and the
permission checks (models/permissions.py) all ask here; holders() answers the other way round.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.errors import N_, NotFound
from models.people import SCOPE_OF_ROLE, Person, Role, RoleGrant, ScopeKind
from models.wishes import Wish, WishStatus

# The roles of the office: what the dashboard, /pending, /stats and /export answer to.
OFFICE_ROLES = (Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)


@dataclass(frozen=True)
class Place:
    """A building and everything above it."""

    building_id: int
    grid_id: int
    community_id: int
    street_id: int

    def scope_id(self, kind: ScopeKind) -> int:
        return {
            ScopeKind.BUILDING: self.building_id,
            ScopeKind.GRID: self.grid_id,
            ScopeKind.COMMUNITY: self.community_id,
            ScopeKind.STREET: self.street_id,
        }[kind]


async def place_of_building(session: AsyncSession, building_id: int) -> Place:
    row = (
        await session.execute(
            select(Building.id, Grid.id, Community.id, Community.street_id)
            .join(Grid, Building.grid_id == Grid.id)
            .join(Community, Grid.community_id == Community.id)
            .where(Building.id == building_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(N_("There is no such building."))
    return Place(*row)


async def grants_of(session: AsyncSession, person: Person | int) -> Sequence[RoleGrant]:
    person_id = person if isinstance(person, int) else person.id
    return (await session.scalars(_grants(), {"person_id": person_id})).all()


@cache
def _grants() -> Select[RoleGrant]:
    """Built once per process (every update runs it): building costs more than running."""
    return select(RoleGrant).where(RoleGrant.person_id == bindparam("person_id"))


@dataclass(frozen=True)
class Reach:
    """The places a person's grants (of some roles) cover, as granted. The buildings under
    them are worked out in SQL, so a street of thousands of buildings stays one subquery."""

    buildings_granted: frozenset[int] = frozenset()
    grids: frozenset[int] = frozenset()
    communities: frozenset[int] = frozenset()
    streets: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.buildings_granted or self.grids or self.communities or self.streets)

    def covers(self, place: Place) -> bool:
        """Whether this one building is reached: the same rule as buildings(), in Python."""
        return (
            place.building_id in self.buildings_granted
            or place.grid_id in self.grids
            or place.community_id in self.communities
            or place.street_id in self.streets
        )

    def buildings(
        self,
        *,
        community_id: int | None = None,
        grid_id: int | None = None,
        building_id: int | None = None,
    ) -> Select[int]:
        """The ids of the buildings reached; narrowed to one community, grid or building when
        given. A place outside the reach narrows to nothing, never to another grid's rows."""
        if self.empty:
            return select(Building.id).where(false())
        query = (
            select(Building.id)
            .join(Grid, Building.grid_id == Grid.id)
            .join(Community, Grid.community_id == Community.id)
            .where(
                or_(
                    Building.id.in_(sorted(self.buildings_granted)),
                    Grid.id.in_(sorted(self.grids)),
                    Grid.community_id.in_(sorted(self.communities)),
                    Community.street_id.in_(sorted(self.streets)),
                )
            )
        )
        if community_id is not None:
            query = query.where(Grid.community_id == community_id)
        if grid_id is not None:
            query = query.where(Grid.id == grid_id)
        if building_id is not None:
            query = query.where(Building.id == building_id)
        return query

    def wishes(
        self,
        *,
        community_id: int | None = None,
        grid_id: int | None = None,
        building_id: int | None = None,
    ) -> ColumnElement[bool]:
        """A WHERE clause: the wish is in a building reached (narrowed as in buildings())."""
        return Wish.building_id.in_(
            self.buildings(community_id=community_id, grid_id=grid_id, building_id=building_id)
        )

    async def building_ids(self, session: AsyncSession) -> list[int]:
        """The buildings reached, in id order."""
        return list((await session.scalars(self.buildings().order_by(Building.id))).all())

    async def building_list(self, session: AsyncSession) -> list[Building]:
        """The buildings reached, by name."""
        found = await session.scalars(
            select(Building)
            .where(Building.id.in_(self.buildings()))
            .order_by(Building.name, Building.id)
        )
        return list(found.all())

    async def community_ids(self, session: AsyncSession) -> list[int]:
        """The communities the reach touches (granted, or holding a grid or building granted,
        or on a street granted), in id order; a grid without buildings still counts."""
        if self.empty:
            return []
        found = await session.scalars(
            select(Community.id)
            .where(
                or_(
                    Community.id.in_(sorted(self.communities)),
                    Community.id.in_(
                        select(Grid.community_id).where(Grid.id.in_(sorted(self.grids)))
                    ),
                    Community.id.in_(
                        select(Grid.community_id)
                        .join(Building, Building.grid_id == Grid.id)
                        .where(Building.id.in_(sorted(self.buildings_granted)))
                    ),
                    Community.street_id.in_(sorted(self.streets)),
                )
            )
            .order_by(Community.id)
        )
        return list(found.all())


def reach_of(grants: Iterable[RoleGrant], *roles: Role) -> Reach:
    """What these grants of the roles cover (the office's roles when none are named)."""
    wanted = roles or OFFICE_ROLES
    by_kind: dict[ScopeKind, set[int]] = {kind: set() for kind in ScopeKind}
    for grant in grants:
        if grant.role in wanted:
            by_kind[grant.scope_kind].add(grant.scope_id)
    return Reach(
        buildings_granted=frozenset(by_kind[ScopeKind.BUILDING]),
        grids=frozenset(by_kind[ScopeKind.GRID]),
        communities=frozenset(by_kind[ScopeKind.COMMUNITY]),
        streets=frozenset(by_kind[ScopeKind.STREET]),
    )


async def reach(session: AsyncSession, person: Person | int, *roles: Role) -> Reach:
    """Which buildings the person reaches in these roles (the office's roles when none)."""
    return reach_of(await grants_of(session, person), *roles)


def community_reach(community_ids: Collection[int] | int) -> Reach:
    """The whole of these communities, whoever asks (a list or a choice of the community)."""
    ids = [community_ids] if isinstance(community_ids, int) else community_ids
    return Reach(communities=frozenset(ids))


def community_buildings(community_ids: Collection[int] | int) -> Select[int]:
    """The ids of the buildings of these communities, whoever asks."""
    return community_reach(community_ids).buildings()


async def holders(session: AsyncSession, place: Place, role: Role) -> list[int]:
    """Who reaches this building in the role (the other way round): their person ids."""
    return await holders_at(session, role, place.scope_id(SCOPE_OF_ROLE[role]))


async def holders_at(session: AsyncSession, role: Role, scope_id: int) -> list[int]:
    """Who holds the role over this place itself (a building for heads and residents, a
    community for admins and members...), in the order they were given it."""
    found = await session.scalars(
        select(RoleGrant.person_id)
        .where(RoleGrant.role == role, RoleGrant.scope_id == scope_id)
        .order_by(RoleGrant.id)
    )
    return list(dict.fromkeys(found.all()))


async def communities_run(session: AsyncSession, grants: Iterable[RoleGrant]) -> list[int]:
    """The communities these grants let someone run (their roster, places and roles): an
    admin's communities and every community of a street admin's streets, by id."""
    kept = list(grants)
    ids = {g.scope_id for g in kept if g.role == Role.ADMIN}
    streets = [g.scope_id for g in kept if g.role == Role.STREET_ADMIN]
    if streets:
        ids.update(
            (
                await session.scalars(select(Community.id).where(Community.street_id.in_(streets)))
            ).all()
        )
    return sorted(ids)


async def communities_run_by_name(
    session: AsyncSession, grants: Iterable[RoleGrant]
) -> list[Community]:
    """The communities these grants let someone run, by name (for a picker)."""
    found = await session.scalars(
        select(Community)
        .where(Community.id.in_(await communities_run(session, grants)))
        .order_by(Community.name, Community.id)
    )
    return list(found.all())


def public_wishes() -> ColumnElement[bool]:
    """What anyone may see of a wish (the noticeboard's and Open311's public view): the
    wishes the community took on, once a head checked them; never who asked or where they
    live, which the callers leave out. Unchecked, rejected and withdrawn wishes stay hidden."""
    return Wish.status.not_in((WishStatus.SUBMITTED, WishStatus.REJECTED, WishStatus.CANCELLED))

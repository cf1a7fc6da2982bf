"""Who may act where: role grants matched against the place a wish belongs to.

The escalation ladder (head, grid worker, community admin, street admin) is a level here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.errors import N_, NotFound
from models.people import Person, Role, RoleGrant, ScopeKind

# Rungs of the escalation ladder, lowest first; index + 1 is the level.
LADDER = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)
TOP_LEVEL = len(LADDER)


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
    return (await session.scalars(select(RoleGrant).where(RoleGrant.person_id == person_id))).all()


def covers(grant: RoleGrant, place: Place) -> bool:
    return grant.scope_id == place.scope_id(grant.scope_kind)


def has_role(grants: Sequence[RoleGrant], role: Role, place: Place) -> bool:
    return any(g.role == role and covers(g, place) for g in grants)


def ladder_level(grants: Sequence[RoleGrant], place: Place) -> int:
    """The highest rung the person holds over this place; 0 when none."""
    return max(
        (LADDER.index(g.role) + 1 for g in grants if g.role in LADDER and covers(g, place)),
        default=0,
    )

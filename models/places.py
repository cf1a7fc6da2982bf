"""An admin adds and renames the grids and buildings of the communities they run.

Names stay unique within a community (a resident picks a building by its name); every change
is checked against who runs the community (models/reach.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.directory import _name, add_building, add_grid
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import Person
from models.reach import communities_run, grants_of

MAX_NEW = 200  # buildings added in one go


async def _run(session: AsyncSession, actor: Person, community_id: int) -> Community:
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound(N_("There is no such place."))
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of that community can change its places."))
    return community


async def _grid(session: AsyncSession, actor: Person, grid_id: int) -> Grid:
    grid = await session.get(Grid, grid_id)
    if grid is None:
        raise NotFound(N_("There is no such place."))
    await _run(session, actor, grid.community_id)
    return grid


async def _grid_taken(session: AsyncSession, community_id: int, name: str) -> None:
    found = await session.scalar(
        select(Grid.id).where(
            Grid.community_id == community_id, func.lower(Grid.name) == name.lower()
        )
    )
    if found is not None:
        raise InvalidInput(N_("There is a grid named {name} already."), name=name)


async def _building_taken(session: AsyncSession, community_id: int, name: str) -> None:
    found = await session.scalar(
        select(Building.id)
        .join(Grid, Building.grid_id == Grid.id)
        .where(Grid.community_id == community_id, func.lower(Building.name) == name.lower())
    )
    if found is not None:
        raise InvalidInput(N_("There is a building named {name} already."), name=name)


async def add_grid_to(session: AsyncSession, actor: Person, community_id: int, name: str) -> Grid:
    community = await _run(session, actor, community_id)
    cleaned = _name(name, "grid")
    await _grid_taken(session, community_id, cleaned)
    return await add_grid(session, community, cleaned)


async def add_buildings_to(
    session: AsyncSession, actor: Person, grid_id: int, names: Sequence[str]
) -> list[Building]:
    """All the buildings or none: one name taken refuses the lot."""
    grid = await _grid(session, actor, grid_id)
    cleaned = list(dict.fromkeys(_name(n, "building") for n in names))
    if not cleaned or len(cleaned) > MAX_NEW:
        raise InvalidInput(
            N_("Please give from 1 to {limit} names, separated by commas."), limit=MAX_NEW
        )
    for name in cleaned:
        await _building_taken(session, grid.community_id, name)
    return [await add_building(session, grid, name) for name in cleaned]


async def rename_grid(session: AsyncSession, actor: Person, grid_id: int, name: str) -> Grid:
    grid = await _grid(session, actor, grid_id)
    cleaned = _name(name, "grid")
    if cleaned.lower() != grid.name.lower():
        await _grid_taken(session, grid.community_id, cleaned)
    grid.name = cleaned
    await session.flush()
    return grid


async def rename_building(
    session: AsyncSession, actor: Person, building_id: int, name: str
) -> Building:
    building = await session.get(Building, building_id)
    if building is None:
        raise NotFound(N_("There is no such building."))
    grid = await _grid(session, actor, building.grid_id)
    cleaned = _name(name, "building")
    if cleaned.lower() != building.name.lower():
        await _building_taken(session, grid.community_id, cleaned)
    building.name = cleaned
    await session.flush()
    return building


async def places_of(session: AsyncSession, community_id: int) -> list[tuple[Grid, list[Building]]]:
    """The community's grids, each with its buildings, by name."""
    grids = (
        await session.scalars(
            select(Grid).where(Grid.community_id == community_id).order_by(Grid.name, Grid.id)
        )
    ).all()
    buildings = (
        await session.scalars(
            select(Building)
            .where(Building.grid_id.in_([g.id for g in grids]))
            .order_by(Building.name, Building.id)
        )
    ).all()
    return [(g, [b for b in buildings if b.grid_id == g.id]) for g in grids]


async def check_runs_building(session: AsyncSession, actor: Person, building: Building) -> None:
    """Refused unless the actor runs the building's community (models/reach.py decides)."""
    await _grid(session, actor, building.grid_id)

"""A small town for tests: two communities on one street, with someone in every role.

Built through the store's own directory operations, as an office would set it up.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid, Street
from models.directory import (
    add_building,
    add_community,
    add_grid,
    add_person,
    add_street,
    approve_member,
    grant_role,
    register_member,
)
from models.people import Person, Role


@dataclass
class Town:
    street: Street
    sunflower: Community
    maple: Community
    north: Grid
    south: Grid
    n1: Building
    n2: Building
    s1: Building
    m1: Building
    alice: Person  # resident of N1
    bob: Person  # resident of N2
    carol: Person  # resident of S1
    dora: Person  # resident of Maple's M1
    head_n1: Person
    head_n2: Person
    head_s1: Person
    gw_north: Person
    gw_south: Person
    admin: Person  # Sunflower
    maple_admin: Person
    street_admin: Person
    fixer: Person  # member: repair, errand
    walker: Person  # member: companionship, errand
    runner: Person  # member: errand
    newbie: Person  # member, not approved
    maple_member: Person

    @property
    def members(self) -> list[Person]:
        return [self.fixer, self.walker, self.runner]

    def everyone(self) -> list[Person]:
        return [v for v in vars(self).values() if isinstance(v, Person)]


async def build_town(session: AsyncSession) -> Town:
    street = await add_street(session, "Riverside Street")
    sunflower = await add_community(session, street, "Sunflower")
    maple = await add_community(session, street, "Maple")
    north = await add_grid(session, sunflower, "North")
    south = await add_grid(session, sunflower, "South")
    maple_grid = await add_grid(session, maple, "Maple grid")
    n1 = await add_building(session, north, "N1")
    n2 = await add_building(session, north, "N2")
    s1 = await add_building(session, south, "S1")
    m1 = await add_building(session, maple_grid, "M1")

    async def person(
        name: str, building: Building | None = None, unit: str | None = None
    ) -> Person:
        return await add_person(session, name, building=building, unit=unit)

    async def resident(name: str, building: Building, unit: str) -> Person:
        p = await person(name, building, unit)
        await grant_role(session, None, p, Role.RESIDENT, building.id)
        return p

    async def role(name: str, r: Role, scope_id: int) -> Person:
        p = await person(name)
        await grant_role(session, None, p, r, scope_id)
        return p

    async def member(name: str, community: Community, skills: list[str], approved: bool) -> Person:
        p = await person(name)
        await register_member(session, p, community, skills=skills)
        if approved:
            await approve_member(session, None, p)
        return p

    return Town(
        street=street,
        sunflower=sunflower,
        maple=maple,
        north=north,
        south=south,
        n1=n1,
        n2=n2,
        s1=s1,
        m1=m1,
        alice=await resident("Alice", n1, "101"),
        bob=await resident("Bob", n2, "202"),
        carol=await resident("Carol", s1, "303"),
        dora=await resident("Dora", m1, "404"),
        head_n1=await role("Head N1", Role.BUILDING_HEAD, n1.id),
        head_n2=await role("Head N2", Role.BUILDING_HEAD, n2.id),
        head_s1=await role("Head S1", Role.BUILDING_HEAD, s1.id),
        gw_north=await role("Grid North", Role.GRID_WORKER, north.id),
        gw_south=await role("Grid South", Role.GRID_WORKER, south.id),
        admin=await role("Admin", Role.ADMIN, sunflower.id),
        maple_admin=await role("Maple Admin", Role.ADMIN, maple.id),
        street_admin=await role("Street Admin", Role.STREET_ADMIN, street.id),
        fixer=await member("Fixer", sunflower, ["repair", "errand"], True),
        walker=await member("Walker", sunflower, ["companionship", "errand"], True),
        runner=await member("Runner", sunflower, ["errand"], True),
        newbie=await member("Newbie", sunflower, ["errand"], False),
        maple_member=await member("Maple Member", maple, ["repair"], True),
    )


async def clinic_with_walker(session: AsyncSession, town: Town) -> int:
    """Riverside Clinic, which offers home repairs door to door Tuesday to Thursday, with
    Walker on its staff: what dispatch ranks (members of an organisation, and resources).
    The clinic's id."""
    from models.organisations import OrganisationKind, register_organisation
    from models.people import MemberProfile
    from models.resources import ResourceWhere, add_resource

    clinic = await register_organisation(
        session,
        town.admin,
        town.sunflower.id,
        name="Riverside Clinic",
        kind=OrganisationKind.HOSPITAL,
    )
    await add_resource(
        session,
        town.admin,
        community_id=town.sunflower.id,
        organisation_id=clinic.id,
        service="Home repairs",
        categories=["repair"],
        capacity_per_month=8,
        where=ResourceWhere.DOOR,
        weekdays=[1, 2, 3],
    )
    walker = await session.get(MemberProfile, town.walker.id)
    assert walker is not None
    walker.organisation_id = clinic.id
    return clinic.id

"""The community directory: streets, communities, grids, buildings, people and their roles.

Setting up places and granting roles; who may grant what is checked here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Community, Grid, Street
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import SCOPE_OF_ROLE, Identity, MemberProfile, Person, Role, RoleGrant, ScopeKind
from models.reach import grants_of, reach_of

MAX_NAME = 200


def _name(value: str, what: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(N_("The {what} needs a name."), what=what)
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(N_("That name is too long (at most 200 characters)."))
    return cleaned


async def add_street(session: AsyncSession, name: str) -> Street:
    street = Street(name=_name(name, "street"))
    session.add(street)
    await session.flush()
    return street


async def add_community(session: AsyncSession, street: Street, name: str) -> Community:
    community = Community(street_id=street.id, name=_name(name, "community"))
    session.add(community)
    await session.flush()
    return community


async def add_grid(session: AsyncSession, community: Community, name: str) -> Grid:
    grid = Grid(community_id=community.id, name=_name(name, "grid"))
    session.add(grid)
    await session.flush()
    return grid


async def add_building(session: AsyncSession, grid: Grid, name: str) -> Building:
    building = Building(grid_id=grid.id, name=_name(name, "building"))
    session.add(building)
    await session.flush()
    return building


async def add_person(
    session: AsyncSession,
    name: str,
    *,
    building: Building | None = None,
    unit: str | None = None,
    phone: str | None = None,
    phone_consent: bool = False,
    office_roster: bool = False,
    locale: str | None = None,
) -> Person:
    """A new person. A phone is kept with their consent (given in chat), or, from the office's
    own roster, for the office only: a roster is never consent (see models/privacy.py)."""
    if phone and not phone_consent and not office_roster:
        raise InvalidInput(N_("A phone number is kept only with the person's consent."))
    if office_roster and phone_consent:
        raise InvalidInput(N_("A phone number is kept only with the person's consent."))
    person = Person(
        name=_name(name, "person"),
        building_id=building.id if building else None,
        unit=unit.strip() if unit else None,
        phone=phone,
        phone_consent=phone_consent,
        locale=locale,
        created_at=now(session),
    )
    session.add(person)
    await session.flush()
    return person


async def link_identity(
    session: AsyncSession, person: Person, platform: str, external_id: str
) -> Identity:
    identity = Identity(person_id=person.id, platform=platform, external_id=external_id)
    session.add(identity)
    await session.flush()
    return identity


async def person_by_identity(
    session: AsyncSession, platform: str, external_id: str
) -> Person | None:
    return await session.scalar(_by_identity(), {"platform": platform, "external_id": external_id})


async def person_and_grants(
    session: AsyncSession, platform: str, external_id: str
) -> tuple[Person | None, list[RoleGrant]]:
    """The person behind a platform identity and their role grants, in one statement: every
    update needs both (person_by_identity, then grants_of, was two)."""
    found = await session.execute(
        _with_grants(), {"platform": platform, "external_id": external_id}
    )
    rows = found.all()
    if not rows:
        return None, []
    return rows[0][0], [grant for _, grant in rows if grant is not None]


@cache
def _with_grants() -> Select[Person, RoleGrant]:
    """Built once per process (every update runs it)."""
    return (
        select(Person, RoleGrant)
        .join(Identity, Identity.person_id == Person.id)
        .outerjoin(RoleGrant, RoleGrant.person_id == Person.id)
        .where(
            Identity.platform == bindparam("platform"),
            Identity.external_id == bindparam("external_id"),
        )
    )


@cache
def _by_identity() -> Select[Person]:
    """Built once per process (every update runs it): building costs more than running."""
    return (
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(
            Identity.platform == bindparam("platform"),
            Identity.external_id == bindparam("external_id"),
        )
    )


async def _scope_community_and_street(
    session: AsyncSession, kind: ScopeKind, scope_id: int
) -> tuple[int | None, int]:
    """The community (None for a street) and street a scope lies in."""
    if kind is ScopeKind.STREET:
        if await session.get(Street, scope_id) is None:
            raise NotFound(N_("There is no such street."))
        return None, scope_id
    if kind is ScopeKind.COMMUNITY:
        community = await session.get(Community, scope_id)
    elif kind is ScopeKind.GRID:
        grid = await session.get(Grid, scope_id)
        community = grid.community if grid else None
    else:
        building = await session.get(Building, scope_id)
        community = building.grid.community if building else None
    if community is None:
        raise NotFound(N_("There is no such place."))
    return community.id, community.street_id


async def grant_role(
    session: AsyncSession, actor: Person | None, person: Person, role: Role, scope_id: int
) -> RoleGrant:
    """Give a role over a scope. actor None is the system (set-up, import, seed)."""
    community_id, street_id = await _scope_community_and_street(
        session, SCOPE_OF_ROLE[role], scope_id
    )
    if actor is not None:
        if person.erased_at is not None:
            raise NotFound(N_("There is no such person, or they were erased already."))
        grants = await grants_of(session, actor)
        street_admin = street_id in reach_of(grants, Role.STREET_ADMIN).streets
        community_admin = community_id in reach_of(grants, Role.ADMIN).communities
        if not (street_admin or (community_admin and role != Role.STREET_ADMIN)):
            raise NotAllowed(N_("Only an admin of that community can grant this role."))
    existing = await session.scalar(
        select(RoleGrant).where(
            RoleGrant.person_id == person.id, RoleGrant.role == role, RoleGrant.scope_id == scope_id
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(
        person_id=person.id,
        role=role,
        scope_id=scope_id,
        granted_by_id=actor.id if actor else None,
        granted_at=now(session),
    )
    session.add(grant)
    await session.flush()
    return grant


async def register_member(
    session: AsyncSession,
    person: Person,
    community: Community,
    *,
    skills: Iterable[str],
    availability: str = "",
    organisation: str = "",
) -> MemberProfile:
    """A person offers to help; they can take wishes once an admin approves them."""
    profile = await session.get(MemberProfile, person.id)
    if profile is None:
        profile = MemberProfile(person_id=person.id)
        session.add(profile)
    profile.skills = sorted({s.strip() for s in skills if s.strip()})
    profile.availability = availability
    await grant_role(session, None, person, Role.MEMBER, community.id)
    if organisation.strip():
        # The same text in a community is the same organisation (models/organisations.py).
        from models.organisations import organisation_for_text

        found = await organisation_for_text(session, community.id, organisation)
        if profile.organisation_id is None and found is not None:
            profile.organisation_id = found.id
    await session.flush()
    return profile


async def admin_of_member(session: AsyncSession, actor: Person, person: Person) -> bool:
    """Whether the actor is an admin of a community the person volunteers for."""
    theirs = reach_of(await grants_of(session, person), Role.MEMBER).communities
    return bool(theirs & reach_of(await grants_of(session, actor), Role.ADMIN).communities)


async def approve_member(
    session: AsyncSession, actor: Person | None, person: Person
) -> MemberProfile:
    profile = await session.get(MemberProfile, person.id)
    if profile is None:
        raise NotFound(N_("{name} has not registered as a member."), name=person.name)
    if actor is not None and not await admin_of_member(session, actor, person):
        raise NotAllowed(N_("Only an admin of the member's community can approve them."))
    profile.approved = True
    profile.approved_by_id = actor.id if actor else None
    profile.approved_at = now(session)
    await session.flush()
    return profile


# The roles an admin gives with /grant and may take back with /revoke.
REVOCABLE = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN)


async def revoke_role(session: AsyncSession, actor: Person, grant_id: int) -> RoleGrant:
    """Take a role back: only an admin over its place may (the rule of grant_role); nobody
    takes away their own admin role, so a community always keeps the admin who acts."""
    grant = await session.get(RoleGrant, grant_id)
    if grant is None or grant.role not in REVOCABLE:
        raise NotFound(N_("That role was taken back already."))
    community_id, street_id = await _scope_community_and_street(
        session, SCOPE_OF_ROLE[grant.role], grant.scope_id
    )
    grants = await grants_of(session, actor)
    street_admin = any(g.role == Role.STREET_ADMIN and g.scope_id == street_id for g in grants)
    community_admin = any(g.role == Role.ADMIN and g.scope_id == community_id for g in grants)
    if not (street_admin or community_admin):
        raise NotAllowed(N_("Only an admin of that community can take this role back."))
    if grant.person_id == actor.id and grant.role == Role.ADMIN:
        raise NotAllowed(N_("You cannot take away your own admin role; ask another admin."))
    await session.delete(grant)
    await session.flush()
    return grant


async def has_chat(session: AsyncSession, person_id: int) -> bool:
    """Whether the person uses any platform (one a building head speaks for uses none)."""
    found = await session.scalar(
        select(Identity.id).where(Identity.person_id == person_id).limit(1)
    )
    return found is not None


async def any_community(session: AsyncSession) -> bool:
    """Whether any community is set up at all."""
    return await session.scalar(select(Community.id).limit(1)) is not None


async def communities_by_name(session: AsyncSession) -> list[Community]:
    """Every community, by name."""
    return list((await session.scalars(select(Community).order_by(Community.name))).all())


async def building_names(session: AsyncSession, building_ids: Iterable[int]) -> dict[int, str]:
    """The names of these buildings, by id (those that exist)."""
    found = await session.scalars(select(Building).where(Building.id.in_(set(building_ids))))
    return {b.id: b.name for b in found.all()}


async def names_of(session: AsyncSession, person_ids: Iterable[int]) -> list[str]:
    """The names of these people."""
    found = await session.scalars(select(Person.name).where(Person.id.in_(list(person_ids))))
    return list(found.all())


async def holds_grant(session: AsyncSession, person_id: int, role: Role, scope_id: int) -> bool:
    """Whether the person holds the role over that place already."""
    found = await session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.scope_id == scope_id
        )
    )
    return found is not None

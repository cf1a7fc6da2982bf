"""Organisations paired with a community (a school, a company, a hospital...): their contact,
their invite links, who belongs to them, and the numbers /org shows.

The contact's phone is for the office only; whether someone sees it is decided here by
models/reach.py (the office's reach over the organisation's community).
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum
from models.clock import now
from models.community import Community
from models.errors import N_, InvalidInput, NotAllowed, NotFound, checked_text
from models.people import MemberProfile, Person, Role
from models.reach import communities_run, grants_of, reach_of

MAX_NAME = 100
MAX_PHONE = 40


class OrganisationKind(enum.StrEnum):
    SCHOOL = "school"
    COMPANY = "company"
    HOSPITAL = "hospital"
    GOVERNMENT = "government"
    OTHER = "other"


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        str_enum(OrganisationKind), default=OrganisationKind.OTHER
    )
    contact_name: Mapped[str | None] = mapped_column(String(200))
    # Shown to the office only (office_may_see_phone).
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The contact's one-use link, and the staff's link (many uses).
    contact_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    invite_code: Mapped[str] = mapped_column(String(40), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]


def _code(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(8)}"


async def _admin_of(session: AsyncSession, actor: Person, community_id: int) -> None:
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of the community can register its organisations."))


async def register_organisation(
    session: AsyncSession,
    actor: Person,
    community_id: int,
    *,
    name: str,
    kind: OrganisationKind,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    """An admin pairs an organisation with the community; its contact gets a one-use link."""
    await _admin_of(session, actor, community_id)
    text = checked_text(name, required=True, what=N_("a name"), limit=MAX_NAME)
    assert text is not None
    if await organisation_named(session, community_id, text) is not None:
        raise InvalidInput(N_("{name} is already registered here."), name=text)
    organisation = Organisation(
        community_id=community_id,
        name=text,
        kind=OrganisationKind(kind),
        contact_name=checked_text(contact_name, required=False, what=N_("a name"), limit=MAX_NAME),
        contact_phone=checked_text(
            contact_phone, required=False, what=N_("a phone number"), limit=MAX_PHONE
        ),
        contact_code=_code("oc"),
        invite_code=_code("o"),
        created_by_id=actor.id,
        created_at=now(session),
    )
    session.add(organisation)
    await session.flush()
    return organisation


async def organisation_named(
    session: AsyncSession, community_id: int, name: str
) -> Organisation | None:
    return await session.scalar(
        select(Organisation).where(
            Organisation.community_id == community_id, Organisation.name == name.strip()
        )
    )


async def organisation_for_text(
    session: AsyncSession, community_id: int, name: str
) -> Organisation | None:
    """The organisation a member typed (registration's free answer): the same text is the same
    organisation in a community, made when new (as the migration from free text did)."""
    text = " ".join(name.split())
    if not text:
        return None
    found = await organisation_named(session, community_id, text[:MAX_NAME])
    if found is not None:
        return found
    found = Organisation(
        community_id=community_id,
        name=text[:MAX_NAME],
        kind=OrganisationKind.OTHER,
        invite_code=_code("o"),
        created_at=now(session),
    )
    session.add(found)
    await session.flush()
    return found


async def get_organisation(session: AsyncSession, organisation_id: int) -> Organisation:
    found = await session.get(Organisation, organisation_id, populate_existing=True)
    if found is None:
        raise NotFound(N_("There is no such organisation."))
    return found


async def organisation_by_code(
    session: AsyncSession, code: str
) -> tuple[Organisation, bool] | None:
    """The organisation a link belongs to, and whether it is the contact's link."""
    code = code.strip()
    found = await session.scalar(
        select(Organisation).where(Organisation.contact_code == code).with_for_update()
    )
    if found is not None:
        return found, True
    found = await session.scalar(select(Organisation).where(Organisation.invite_code == code))
    return (found, False) if found is not None else None


async def organisations_of_communities(
    session: AsyncSession, community_ids: list[int]
) -> list[Organisation]:
    found = await session.scalars(
        select(Organisation)
        .where(Organisation.community_id.in_(community_ids))
        .order_by(Organisation.name, Organisation.id)
    )
    return list(found.all())


async def organisations_seen_by(session: AsyncSession, actor: Person) -> list[Organisation]:
    """The office sees its communities' organisations; a contact sees their own."""
    grants = await grants_of(session, actor)
    ids = await reach_of(grants).community_ids(session)
    seen = {o.id: o for o in await organisations_of_communities(session, ids)}
    for own in await session.scalars(
        select(Organisation).where(Organisation.contact_id == actor.id)
    ):
        seen[own.id] = own
    return sorted(seen.values(), key=lambda o: (o.name, o.id))


async def contact_of(session: AsyncSession, person_id: int) -> list[Organisation]:
    """The organisations this person is the contact of."""
    found = await session.scalars(
        select(Organisation).where(Organisation.contact_id == person_id).order_by(Organisation.id)
    )
    return list(found.all())


async def office_may_see_phone(
    session: AsyncSession, actor: Person, organisation: Organisation
) -> bool:
    """The contact's phone is shown to the office of the organisation's community only."""
    grants = await grants_of(session, actor)
    return organisation.community_id in await reach_of(grants).community_ids(session)


async def join_organisation(
    session: AsyncSession, person: Person, organisation: Organisation, *, as_contact: bool
) -> MemberProfile:
    """The person (a registered member of the community) belongs to the organisation from now
    on; at most one: someone of another organisation is refused. The contact's link makes the
    contact (approved at once: the admin named them); staff wait for the contact or an admin."""
    from models.directory import register_member

    profile = await session.get(MemberProfile, person.id)
    if (
        profile is not None
        and profile.organisation_id is not None
        and profile.organisation_id != organisation.id
    ):
        other = await session.get(Organisation, profile.organisation_id)
        raise NotAllowed(
            N_("You already belong to {name}; a member belongs to one organisation."),
            name=other.name if other else "?",
        )
    community = await session.get(Community, organisation.community_id)
    assert community is not None
    if profile is None:
        profile = await register_member(session, person, community, skills=())
    else:
        from models.directory import grant_role

        await grant_role(session, None, person, Role.MEMBER, community.id)
    profile.organisation_id = organisation.id
    if as_contact:
        if organisation.contact_code is None:
            raise NotFound(N_("That code is not valid, or it was already used."))
        organisation.contact_id = person.id
        organisation.contact_code = None
        profile.approved = True
        profile.approved_at = now(session)
    await session.flush()
    return profile


async def may_approve_staff(session: AsyncSession, actor: Person, person: Person) -> bool:
    """The contact of the person's organisation may approve them (an admin always may)."""
    profile = await session.get(MemberProfile, person.id)
    if profile is None or profile.organisation_id is None:
        return False
    organisation = await session.get(Organisation, profile.organisation_id)
    return organisation is not None and organisation.contact_id == actor.id


async def approve_staff(session: AsyncSession, actor: Person, person: Person) -> MemberProfile:
    """The contact of the person's organisation approves them; anyone else needs to be an admin
    of the member's community (models/directory.py's rule)."""
    from models.directory import approve_member

    if await may_approve_staff(session, actor, person):
        return await approve_member(session, None, person)
    return await approve_member(session, actor, person)


async def staff_of(
    session: AsyncSession, organisation_id: int, *, approved: bool | None = None
) -> list[Person]:
    query = (
        select(Person)
        .join(MemberProfile, MemberProfile.person_id == Person.id)
        .where(MemberProfile.organisation_id == organisation_id, Person.erased_at.is_(None))
        .order_by(Person.name, Person.id)
    )
    if approved is not None:
        query = query.where(MemberProfile.approved.is_(approved))
    return list((await session.scalars(query)).all())


async def organisation_of_member(session: AsyncSession, person_id: int) -> Organisation | None:
    profile = await session.get(MemberProfile, person_id)
    if profile is None or profile.organisation_id is None:
        return None
    return await session.get(Organisation, profile.organisation_id)


async def organisation_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(ids)))
    )
    return {int(i): str(n) for i, n in rows.all()}


async def member_count(session: AsyncSession, organisation_id: int) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(MemberProfile)
        .where(MemberProfile.organisation_id == organisation_id, MemberProfile.approved.is_(True))
    )
    return int(found or 0)


async def organisation_name(session: AsyncSession, profile: MemberProfile | None) -> str:
    """The name of the organisation a member belongs to, or nothing."""
    if profile is None or profile.organisation_id is None:
        return ""
    found = await session.get(Organisation, profile.organisation_id)
    return found.name if found else ""

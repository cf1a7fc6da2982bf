"""Yearly commitments (a member or an organisation: N services or hours a year), their
progress counted from the wishes closed, and who is behind in the last quarter.

A service is a place held on a wish closed that year; an hour is counted per place until
helpers report their own time (HOURS_PER_PLACE).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum
from models.clock import now
from models.errors import N_, InvalidInput, NotAllowed
from models.organisations import Organisation, get_organisation
from models.people import Person, Role
from models.reach import grants_of
from models.schedule import add_reminder
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

MAX_TARGET = 10_000
HOURS_PER_PLACE = 1
LAST_QUARTER = 10  # October
BEHIND_KIND = "commitment.behind"


class CommitmentUnit(enum.StrEnum):
    SERVICES = "services"
    HOURS = "hours"


class Commitment(Base):
    __tablename__ = "commitments"
    __table_args__ = (
        UniqueConstraint("person_id", "year"),
        UniqueConstraint("organisation_id", "year"),
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint(
            "(organisation_id IS NULL AND person_id IS NOT NULL) OR "
            "(organisation_id IS NOT NULL AND person_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int]
    unit: Mapped[CommitmentUnit] = mapped_column(str_enum(CommitmentUnit))
    target: Mapped[int]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


def local_year(moment: dt.datetime, timezone: ZoneInfo) -> int:
    return moment.astimezone(timezone).year


def year_bounds(year: int, timezone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, 1, 1, tzinfo=timezone).astimezone(dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=timezone).astimezone(dt.UTC)
    return start, end


async def commit(
    session: AsyncSession,
    actor: Person,
    *,
    target: int,
    unit: CommitmentUnit,
    year: int,
    organisation_id: int | None = None,
) -> Commitment:
    """A member commits for themselves, a contact for their organisation; a second commitment
    in the same year replaces the first."""
    if not 1 <= target <= MAX_TARGET:
        raise InvalidInput(N_("A commitment is a number from 1 to 10000."))
    if organisation_id is not None:
        organisation = await get_organisation(session, organisation_id)
        if organisation.contact_id != actor.id:
            raise NotAllowed(
                N_("Only the contact of {name} can do this for it."), name=organisation.name
            )
        owner = Commitment.organisation_id == organisation_id
    else:
        if not any(g.role == Role.MEMBER for g in await grants_of(session, actor)):
            raise NotAllowed(N_("Only members can commit to helping."))
        owner = Commitment.person_id == actor.id
    moment = now(session)
    found = await session.scalar(select(Commitment).where(owner, Commitment.year == year))
    if found is None:
        found = Commitment(
            person_id=None if organisation_id is not None else actor.id,
            organisation_id=organisation_id,
            year=year,
            created_at=moment,
            unit=CommitmentUnit(unit),
            target=target,
            updated_at=moment,
        )
        session.add(found)
    found.unit = CommitmentUnit(unit)
    found.target = target
    found.updated_at = moment
    await session.flush()
    return found


async def services_done(
    session: AsyncSession,
    year: int,
    timezone: ZoneInfo,
    *,
    person_id: int | None = None,
    organisation_id: int | None = None,
) -> tuple[int, int]:
    """(services, hours) in the year: wishes closed with a place held by the person, or held
    for the organisation (a wish counts once as a service, each place as hours)."""
    start, end = year_bounds(year, timezone)
    query = (
        select(func.count(func.distinct(Wish.id)), func.count(WishAssignment.id))
        .select_from(WishAssignment)
        .join(Wish, Wish.id == WishAssignment.wish_id)
        .where(
            WishAssignment.status == AssignmentStatus.ACTIVE,
            Wish.status == WishStatus.CLOSED,
            Wish.closed_at >= start,
            Wish.closed_at < end,
        )
    )
    if person_id is not None:
        query = query.where(WishAssignment.member_id == person_id)
    if organisation_id is not None:
        query = query.where(WishAssignment.organisation_id == organisation_id)
    services, places = (await session.execute(query)).one()
    return int(services or 0), int(places or 0) * HOURS_PER_PLACE


@dataclass(frozen=True)
class Progress:
    commitment: Commitment
    done: int
    expected: int  # by today, at an even pace through the year

    @property
    def behind(self) -> bool:
        return self.done < self.expected


async def progress_of(
    session: AsyncSession, commitment: Commitment, timezone: ZoneInfo
) -> Progress:
    services, hours = await services_done(
        session,
        commitment.year,
        timezone,
        person_id=commitment.person_id,
        organisation_id=commitment.organisation_id,
    )
    done = services if commitment.unit == CommitmentUnit.SERVICES else hours
    start, end = year_bounds(commitment.year, timezone)
    moment = min(max(now(session), start), end)
    share = (moment - start) / (end - start)
    return Progress(commitment, done, int(commitment.target * share))


async def commitment_of(
    session: AsyncSession,
    year: int,
    *,
    person_id: int | None = None,
    organisation_id: int | None = None,
) -> Commitment | None:
    owner = (
        Commitment.person_id == person_id
        if person_id is not None
        else Commitment.organisation_id == organisation_id
    )
    return await session.scalar(select(Commitment).where(owner, Commitment.year == year))


async def commitments_in(
    session: AsyncSession, community_ids: list[int], year: int
) -> list[tuple[Commitment, str, str]]:
    """The year's commitments of these communities' organisations and members: (commitment,
    who, organisation name)."""
    from models.people import MemberProfile, RoleGrant

    orgs = await session.execute(
        select(Commitment, Organisation.name)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(Organisation.community_id.in_(community_ids), Commitment.year == year)
        .order_by(Organisation.name)
    )
    found: list[tuple[Commitment, str, str]] = [(c, n, n) for c, n in orgs.all()]
    members = await session.execute(
        select(Commitment, Person.name, func.coalesce(Organisation.name, ""))
        .join(Person, Person.id == Commitment.person_id)
        .outerjoin(MemberProfile, MemberProfile.person_id == Person.id)
        .outerjoin(Organisation, Organisation.id == MemberProfile.organisation_id)
        .where(
            Commitment.year == year,
            Person.id.in_(
                select(RoleGrant.person_id).where(
                    RoleGrant.role == Role.MEMBER, RoleGrant.scope_id.in_(community_ids)
                )
            ),
        )
        .order_by(Person.name)
    )
    found += [(c, n, o) for c, n, o in members.all()]
    return found


async def who_is_told(session: AsyncSession, commitment: Commitment) -> int | None:
    """The member, or the organisation's contact."""
    if commitment.person_id is not None:
        return commitment.person_id
    organisation = await session.get(Organisation, commitment.organisation_id)
    return organisation.contact_id if organisation else None


async def plan_behind_reminders(session: AsyncSession, timezone: ZoneInfo) -> int:
    """In the last quarter, one gentle reminder a year for each commitment behind its pace
    (planned daily; the key keeps it to one)."""
    moment = now(session)
    local = moment.astimezone(timezone)
    if local.month < LAST_QUARTER:
        return 0
    made = 0
    commitments = await session.scalars(select(Commitment).where(Commitment.year == local.year))
    for commitment in commitments.all():
        if not (await progress_of(session, commitment, timezone)).behind:
            continue
        person_id = await who_is_told(session, commitment)
        if person_id is None:
            continue
        added = await add_reminder(
            session,
            BEHIND_KIND,
            moment,
            person_id=person_id,
            key=f"{BEHIND_KIND}:{commitment.id}:{commitment.year}",
            payload={"commitment_id": commitment.id},
        )
        made += added is not None
    return made

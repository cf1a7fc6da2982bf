"""Several hands: an organisation's contact takes every free place of a wish for the team,
then names who goes; each named person holds a place (and earns its points) as if they took it.

The organisation's points are a query over the places held for it, never a copy.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.clock import now
from models.errors import N_, Conflict, IllegalTransition, InvalidInput, NotAllowed, NotFound
from models.organisations import Organisation, get_organisation
from models.people import MemberProfile, Person
from models.points import PointsEntry, PointsKind
from models.reach import place_of_building
from models.wish_asking import MAX_REQUIRED
from models.wish_moves import _assignment_of, _record, _require_level, get_wish
from models.wish_taking import _approved_member
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus


class TeamClaim(Base):
    """The places an organisation took on a wish; `unnamed` of them wait for a name."""

    __tablename__ = "team_claims"
    __table_args__ = (
        UniqueConstraint("wish_id", "organisation_id"),
        CheckConstraint("unnamed >= 0 AND unnamed <= places", name="unnamed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    places: Mapped[int]
    unnamed: Mapped[int]
    claimed_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    claimed_at: Mapped[dt.datetime]


async def _contact_of(session: AsyncSession, actor: Person, organisation_id: int) -> Organisation:
    organisation = await get_organisation(session, organisation_id)
    if organisation.contact_id != actor.id:
        raise NotAllowed(
            N_("Only the contact of {name} can do this for it."), name=organisation.name
        )
    return organisation


async def check_team_may_claim(
    session: AsyncSession, actor: Person, wish: Wish, organisation_id: int
) -> Organisation:
    """Refused unless the actor is the organisation's contact, the wish is in its community,
    still open, and has a free place (asked when the button is pressed, and by the claim)."""
    organisation = await _contact_of(session, actor, organisation_id)
    place = await place_of_building(session, wish.building_id)
    if place.community_id != organisation.community_id:
        raise NotAllowed(
            N_("Wish {code} is not in the community of {name}."),
            code=wish.code,
            name=organisation.name,
        )
    if wish.status != S.OPEN:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )
    if wish.requester_id == actor.id:
        raise NotAllowed(N_("You cannot take your own wish."))
    return organisation


async def claim_for_team(
    session: AsyncSession, actor: Person, wish_id: int, organisation_id: int
) -> TeamClaim:
    """The contact takes all the wish's free places for the organisation, in one conditional
    UPDATE (two takers at once: one wins)."""
    wish = await get_wish(session, wish_id)
    organisation = await check_team_may_claim(session, actor, wish, organisation_id)
    free = wish.required_count - wish.taken_count
    taken = await session.execute(
        update(Wish)
        .where(
            Wish.id == wish.id,
            Wish.version == wish.version,
            Wish.status == S.OPEN,
            Wish.taken_count == wish.taken_count,
        )
        .values(
            taken_count=Wish.required_count,
            status=S.ACCEPTED.value,
            version=Wish.version + 1,
            updated_at=now(session),
        )
        .execution_options(synchronize_session=False)
    )
    if free <= 0 or taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Somebody else took wish {code} first."), code=wish.code)
    await session.refresh(wish)
    claim = await session.scalar(
        select(TeamClaim).where(
            TeamClaim.wish_id == wish.id, TeamClaim.organisation_id == organisation.id
        )
    )
    if claim is None:
        claim = TeamClaim(
            wish_id=wish.id,
            organisation_id=organisation.id,
            places=free,
            unnamed=free,
            claimed_by_id=actor.id,
            claimed_at=now(session),
        )
        session.add(claim)
    else:
        claim.places += free
        claim.unnamed += free
    await session.flush()
    await _record(session, wish, actor, "team_claim", S.OPEN, organisation.name)
    return claim


async def get_claim(session: AsyncSession, claim_id: int) -> TeamClaim:
    claim = await session.get(TeamClaim, claim_id, populate_existing=True)
    if claim is None:
        raise NotFound(N_("There is no such team claim."))
    return claim


async def name_for_team(
    session: AsyncSession, actor: Person, claim_id: int, member: Person
) -> Wish:
    """The contact names one of the organisation's approved members for a place held."""
    claim = await get_claim(session, claim_id)
    organisation = await _contact_of(session, actor, claim.organisation_id)
    wish = await get_wish(session, claim.wish_id)
    if wish.status != S.ACCEPTED:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )
    if claim.unnamed <= 0:
        raise InvalidInput(N_("Every place of wish {code} has a name already."), code=wish.code)
    profile = await session.get(MemberProfile, member.id)
    if profile is None or profile.organisation_id != organisation.id:
        raise NotAllowed(
            N_("{name} is not a member of {organisation}."),
            name=member.name,
            organisation=organisation.name,
        )
    place = await place_of_building(session, wish.building_id)
    await _approved_member(session, member, place)
    if member.id == wish.requester_id:
        raise NotAllowed(N_("{name} asked for this wish and cannot take it."), name=member.name)
    holding = await session.scalar(
        select(func.count())
        .select_from(WishAssignment)
        .where(WishAssignment.wish_id == wish.id, WishAssignment.status == AssignmentStatus.ACTIVE)
    )
    earlier = await _assignment_of(session, wish, member.id)
    if earlier is not None and earlier.status == AssignmentStatus.ACTIVE:
        raise IllegalTransition(
            N_("{name} has already taken wish {code}."), name=member.name, code=wish.code
        )
    if int(holding or 0) >= wish.required_count:
        raise Conflict(N_("Wish {code} changed just now; please look again."), code=wish.code)
    spent = await session.execute(
        update(TeamClaim)
        .where(TeamClaim.id == claim.id, TeamClaim.unnamed > 0)
        .values(unnamed=TeamClaim.unnamed - 1)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Wish {code} changed just now; please look again."), code=wish.code)
    moment = now(session)
    if earlier is not None:
        earlier.status = AssignmentStatus.ACTIVE
        earlier.accepted_at = moment
        earlier.released_at = None
        earlier.assigned_by_id = actor.id
        earlier.organisation_id = organisation.id
    else:
        session.add(
            WishAssignment(
                wish_id=wish.id,
                member_id=member.id,
                status=AssignmentStatus.ACTIVE,
                assigned_by_id=actor.id,
                accepted_at=moment,
                organisation_id=organisation.id,
            )
        )
    await session.flush()
    await session.refresh(claim)
    await _record(session, wish, actor, "name_helper", wish.status, member.name)
    return wish


async def open_claims(session: AsyncSession, actor: Person) -> list[tuple[TeamClaim, Wish]]:
    """The contact's claims that still wait for names, on wishes under way."""
    rows = await session.execute(
        select(TeamClaim, Wish)
        .join(Wish, Wish.id == TeamClaim.wish_id)
        .join(Organisation, Organisation.id == TeamClaim.organisation_id)
        .where(
            Organisation.contact_id == actor.id,
            TeamClaim.unnamed > 0,
            Wish.status == S.ACCEPTED,
        )
        .order_by(TeamClaim.id)
    )
    return [(c, w) for c, w in rows.all()]


async def organisation_points(session: AsyncSession, organisation_id: int) -> int:
    """The points its people earned on places held for the organisation (a sum, not a copy)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0))
        .select_from(PointsEntry)
        .join(
            WishAssignment,
            (WishAssignment.wish_id == PointsEntry.wish_id)
            & (WishAssignment.member_id == PointsEntry.person_id),
        )
        .where(
            PointsEntry.kind == PointsKind.AWARD,
            WishAssignment.organisation_id == organisation_id,
        )
    )
    return int(total or 0)


async def wishes_for_team(
    session: AsyncSession, organisation: Organisation, limit: int = 10
) -> list[Wish]:
    """Open wishes of the organisation's community with a free place: those needing most
    hands first (a team's work), then the oldest."""
    from models.reach import community_buildings

    found = await session.scalars(
        select(Wish)
        .where(
            Wish.status == S.OPEN,
            Wish.taken_count < Wish.required_count,
            Wish.building_id.in_(community_buildings(organisation.community_id)),
        )
        .order_by(Wish.required_count.desc(), Wish.id)
        .limit(limit)
    )
    return list(found.all())


async def named_for_claim(session: AsyncSession, claim: TeamClaim) -> list[int]:
    """Who holds a place on the claim's wish for its organisation now."""
    found = await session.scalars(
        select(WishAssignment.member_id).where(
            WishAssignment.wish_id == claim.wish_id,
            WishAssignment.organisation_id == claim.organisation_id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
    )
    return list(found.all())


async def drop_unnamed(session: AsyncSession, wish_id: int) -> int:
    """The wish lets everyone go (cancelled, escalated, given back): the places its teams took
    and never named go with them. How many there were."""
    claims = (
        await session.scalars(
            select(TeamClaim).where(TeamClaim.wish_id == wish_id, TeamClaim.unnamed > 0)
        )
    ).all()
    dropped = sum(c.unnamed for c in claims)
    for claim in claims:
        claim.unnamed = 0
    await session.flush()
    return dropped


async def unnamed_places(session: AsyncSession) -> dict[int, int]:
    """Places held by teams and not named yet, by wish (every place is an assignment or one
    of these: the store's invariant)."""
    rows = await session.execute(
        select(TeamClaim.wish_id, func.sum(TeamClaim.unnamed)).group_by(TeamClaim.wish_id)
    )
    return {int(w): int(n or 0) for w, n in rows.all()}


async def set_required_count(
    session: AsyncSession, actor: Person, wish_id: int, count: int
) -> Wish:
    """The office (a grid worker or admin over the building) says how many helpers a wish
    needs, while it waits for its check or for helpers; never fewer than hold a place now
    (an open wish stays open: one more than are there)."""
    wish = await get_wish(session, wish_id)
    place = await place_of_building(session, wish.building_id)
    await _require_level(
        session, actor, place, 2, N_("Only a grid worker or an admin can assign wishes here.")
    )
    if wish.status not in (S.SUBMITTED, S.OPEN):
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )
    if not 1 <= count <= MAX_REQUIRED:
        raise InvalidInput(N_("A wish needs from 1 to 20 helpers."))
    if count <= wish.taken_count:
        raise InvalidInput(
            N_("{taken} already hold a place on wish {code}; ask for more helpers than that."),
            taken=wish.taken_count,
            code=wish.code,
        )
    before = wish.required_count
    changed = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.version == wish.version)
        .values(required_count=count, version=Wish.version + 1, updated_at=now(session))
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Wish {code} changed just now; please look again."), code=wish.code)
    await session.refresh(wish)
    await _record(session, wish, actor, "set_helpers", wish.status, f"{before} -> {count}")
    return wish

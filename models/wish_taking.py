"""Taking a wish: members accept places (or are assigned), give them back, say they are still
on it, and report it done; the scheduler frees a wish whose helper went quiet."""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, Conflict, IllegalTransition, InvalidInput, NotAllowed
from models.people import MemberProfile, Person, Role
from models.permissions import has_role
from models.reach import Place, grants_of, place_of_building
from models.wish_moves import (
    _assignment_of,
    _check_can_move,
    _move,
    _record,
    _release_everyone,
    _require_level,
    _text,
    check_applies,
    get_wish,
)
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus
MAX_HOURS = 24 * 7  # a week of work reported for one wish is the most


async def _approved_member(session: AsyncSession, person: Person, place: Place) -> None:
    profile = await session.get(MemberProfile, person.id)
    grants = await grants_of(session, person)
    if profile is None or not has_role(grants, Role.MEMBER, place) or person.erased_at:
        raise NotAllowed(N_("Only members of this community can take wishes."))
    if not profile.approved:
        raise NotAllowed(N_("An admin has not approved {name} as a member yet."), name=person.name)


async def _take_place(
    session: AsyncSession, wish: Wish, member: Person, actor: Person, action: str
) -> Wish:
    if member.id == wish.requester_id:
        raise NotAllowed(N_("You cannot take your own wish."))
    earlier = await _assignment_of(session, wish, member.id)
    if earlier is not None and earlier.status == AssignmentStatus.ACTIVE:
        raise IllegalTransition(
            N_("{name} has already taken wish {code}."), name=member.name, code=wish.code
        )
    from_status = wish.status
    # One conditional UPDATE: when two members press accept for the last place at the
    # same moment, the database lets exactly one of them through.
    taken = await session.execute(
        update(Wish)
        .where(
            Wish.id == wish.id,
            Wish.status == S.OPEN,
            Wish.taken_count < Wish.required_count,
        )
        .values(
            taken_count=Wish.taken_count + 1,
            status=case(
                (Wish.taken_count + 1 >= Wish.required_count, S.ACCEPTED.value),
                else_=S.OPEN.value,
            ),
            version=Wish.version + 1,
            updated_at=now(session),
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Somebody else took wish {code} first."), code=wish.code)
    moment = now(session)
    profile = await session.get(MemberProfile, member.id)
    # The place counts for the member's organisation, as it is when they take it.
    organisation_id = profile.organisation_id if profile else None
    try:
        if earlier is not None:
            earlier.status = AssignmentStatus.ACTIVE
            earlier.accepted_at = moment
            earlier.released_at = None
            earlier.assigned_by_id = actor.id if actor.id != member.id else None
            earlier.organisation_id = organisation_id
        else:
            session.add(
                WishAssignment(
                    wish_id=wish.id,
                    member_id=member.id,
                    status=AssignmentStatus.ACTIVE,
                    assigned_by_id=actor.id if actor.id != member.id else None,
                    accepted_at=moment,
                    organisation_id=organisation_id,
                )
            )
        await session.flush()
    except IntegrityError:
        # The same member pressed twice in two sessions; the first press counts.
        raise Conflict(
            N_("Wish {code} changed just now; please look again."), code=wish.code
        ) from None
    await session.refresh(wish)
    note = None if actor.id == member.id else member.name
    await _record(session, wish, actor, action, from_status, note)
    return wish


async def accept_wish(session: AsyncSession, actor: Person, wish_id: int) -> Wish:
    wish = await get_wish(session, wish_id)
    place = await place_of_building(session, wish.building_id)
    await _approved_member(session, actor, place)
    _check_can_move(wish, "accept")
    return await _take_place(session, wish, actor, actor, "accept")


async def assign_wish(session: AsyncSession, actor: Person, wish_id: int, member: Person) -> Wish:
    wish = await get_wish(session, wish_id)
    place = await place_of_building(session, wish.building_id)
    await _require_level(
        session, actor, place, 2, N_("Only a grid worker or an admin can assign wishes here.")
    )
    await _approved_member(session, member, place)
    _check_can_move(wish, "assign")
    return await _take_place(session, wish, member, actor, "assign")


async def release_wish(
    session: AsyncSession, actor: Person, wish_id: int, note: str | None = None
) -> Wish:
    """A member gives their place back; the wish is open again for someone else."""
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "release")
    assignment = await _assignment_of(session, wish, actor.id)
    assert assignment is not None
    text = _text(note, required=False, what=N_("a note"))
    assignment.status = AssignmentStatus.RELEASED
    assignment.released_at = now(session)
    return await _move(
        session, wish, actor, "release", S.OPEN, text, taken_count=Wish.taken_count - 1
    )


async def report_done(
    session: AsyncSession,
    actor: Person,
    wish_id: int,
    note: str | None = None,
    photo: str | None = None,
    hours: float | None = None,
) -> Wish:
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "report_done")
    if hours is not None and not 0 < hours <= MAX_HOURS:
        raise InvalidInput(N_("Hours are a number from 0 to {most}."), most=MAX_HOURS)
    assignment = await _assignment_of(session, wish, actor.id)
    assert assignment is not None
    text = _text(note, required=False, what=N_("a note"))
    assignment.done_note = text
    assignment.done_photo = photo
    assignment.hours = hours
    return await _move(session, wish, actor, "report_done", S.DONE, text)


async def still_on_it(session: AsyncSession, actor: Person, wish_id: int) -> Wish:
    """The member says they are still on it: the clock for "no progress" starts again."""
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "still_on_it")
    return await _move(session, wish, actor, "still_on_it", S.ACCEPTED)


async def auto_release(session: AsyncSession, wish_id: int) -> Wish:
    """Nobody answered "still on it?": the wish goes back to open, so it never hangs."""
    wish = await get_wish(session, wish_id)
    _check_can_move(wish, "auto_release")
    await _release_everyone(session, wish)
    return await _move(session, wish, None, "auto_release", S.OPEN, taken_count=0)

"""The life of a wish: one function per transition, each checking who may do it.

Each writes an event row; a change made from a stale read matches no row and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.co_requesters import co_requesters, joined_by
from models.errors import (
    N_,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    checked_text,
)
from models.people import MemberProfile, Person, Role
from models.permissions import LADDER, TOP_LEVEL, has_role, ladder_level
from models.point_awards import award_closed_wish, award_verification
from models.reach import Place, grants_of, place_of_building
from models.schedule import plan_for_wish
from models.wishes import (
    AssignmentStatus,
    Category,
    Urgency,
    Wish,
    WishAssignment,
    WishEvent,
    WishStatus,
)

S = WishStatus
MAX_DESCRIPTION = 1000
MAX_LONG_DESCRIPTION = 4000
MAX_NOTE = 1000
MAX_HOURS = 24 * 7  # a week of work reported for one wish is the most
MAX_PHOTOS = 5
MAX_REQUIRED = 20
MAX_URGENT_REASON = 500

# The legal moves, by action; the tests check the code against this table.
TRANSITIONS: dict[str, tuple[frozenset[WishStatus], frozenset[WishStatus]]] = {
    "verify": (frozenset({S.SUBMITTED}), frozenset({S.OPEN})),
    "reject": (frozenset({S.SUBMITTED}), frozenset({S.REJECTED})),
    "accept": (frozenset({S.OPEN}), frozenset({S.OPEN, S.ACCEPTED})),
    "assign": (frozenset({S.OPEN}), frozenset({S.OPEN, S.ACCEPTED})),
    "release": (frozenset({S.OPEN, S.ACCEPTED}), frozenset({S.OPEN})),
    "report_done": (frozenset({S.ACCEPTED}), frozenset({S.DONE})),
    "confirm": (frozenset({S.DONE}), frozenset({S.CLOSED})),
    "auto_confirm": (frozenset({S.DONE}), frozenset({S.CLOSED})),
    "dispute": (frozenset({S.DONE}), frozenset({S.ACCEPTED})),
    "cancel": (frozenset({S.SUBMITTED, S.OPEN}), frozenset({S.CANCELLED})),
    # A duplicate merged into another wish (models/duplicates.py) ends as cancelled.
    "merge": (frozenset({S.SUBMITTED, S.OPEN}), frozenset({S.CANCELLED})),
    "escalate": (
        frozenset({S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.ESCALATED}),
        frozenset({S.ESCALATED}),
    ),
    "resolve": (frozenset({S.ESCALATED}), frozenset({S.CLOSED})),
    # The scheduler's moves, when nobody acted in time.
    "still_on_it": (frozenset({S.ACCEPTED}), frozenset({S.ACCEPTED})),
    "auto_release": (frozenset({S.ACCEPTED}), frozenset({S.OPEN})),
    "auto_escalate": (frozenset({S.OPEN}), frozenset({S.ESCALATED})),
    "climb": (frozenset({S.ESCALATED}), frozenset({S.ESCALATED})),
    # Marking a wish urgent changes its flag and timers, never its state.
    "mark_urgent": (
        frozenset({S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.ESCALATED}),
        frozenset({S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.ESCALATED}),
    ),
}


def wish_code(wish_id: int) -> str:
    return f"W-{wish_id:06d}"


def _text(value: str | None, *, required: bool, what: str, limit: int = MAX_NOTE) -> str | None:
    return checked_text(value, required=required, what=what, limit=limit)


async def get_wish(session: AsyncSession, wish_id: int) -> Wish:
    # populate_existing: always act on what the database holds now, not a cached copy.
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        raise NotFound(N_("There is no such wish."))
    return wish


async def wish_by_code(session: AsyncSession, code: str) -> Wish:
    """Find a wish by its public code; 'w-123', 'W-000123' and '123' all work."""
    digits = code.strip().upper().removeprefix("W-").removeprefix("W")
    if not digits.isdigit() or len(digits) > 9:
        raise NotFound(N_("{code} is not a wish code (they look like W-000123)."), code=code)
    return await get_wish(session, int(digits))


def _check_can_move(wish: Wish, action: str) -> None:
    allowed_from, _ = TRANSITIONS[action]
    if wish.status not in allowed_from:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )


async def _record(
    session: AsyncSession,
    wish: Wish,
    actor: Person | None,
    action: str,
    from_status: WishStatus | None,
    note: str | None,
) -> None:
    session.add(
        WishEvent(
            wish_id=wish.id,
            actor_id=actor.id if actor else None,
            at=now(session),
            action=action,
            from_status=from_status,
            to_status=wish.status,
            note=note,
        )
    )
    await session.flush()
    # Every move re-plans the reminders: what the old state needed is cancelled.
    await plan_for_wish(session, wish)


async def _move(
    session: AsyncSession,
    wish: Wish,
    actor: Person | None,
    action: str,
    to: WishStatus,
    note: str | None = None,
    **values: Any,
) -> Wish:
    """Move the wish if nobody changed it since we read it; write the event."""
    from_status = wish.status
    result = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.version == wish.version)
        .values(status=to, version=Wish.version + 1, updated_at=now(session), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Wish {code} changed just now; please look again."), code=wish.code)
    await session.refresh(wish)
    await _record(session, wish, actor, action, from_status, note)
    return wish


# Who may do what a button offers: one rule per action, asked when the button is pressed
# (before any question) and again by the move itself at the end.
REQUESTER_ACTIONS = {
    "confirm": N_("Only the person who asked can confirm wish {code}."),
    "dispute": N_("Only the person who asked can dispute wish {code}."),
    "cancel": N_("Only the person who asked can cancel wish {code}."),
}
# What someone whose own wish was merged into this one may do too (not cancel it for all).
CO_REQUESTER_ACTIONS = frozenset({"confirm", "dispute"})
HEAD_ACTIONS = {
    "verify": N_("Only the head of this building can verify the wish."),
    "reject": N_("Only the head of this building can reject the wish."),
}
HELPER_ACTIONS = frozenset({"release", "report_done", "still_on_it"})


async def check_applies(session: AsyncSession, actor: Person, wish: Wish, action: str) -> None:
    """Refuse (a StoreError naming the wish's state) unless ``action`` still applies to the
    wish for this person: a stale button is answered before anything is asked."""
    if action in REQUESTER_ACTIONS:
        merged_in = action in CO_REQUESTER_ACTIONS and actor.id in await co_requesters(
            session, wish.id
        )
        if not merged_in and not await _is_requester_side(session, actor, wish):
            raise NotAllowed(REQUESTER_ACTIONS[action], code=wish.code)
    elif action in HEAD_ACTIONS:
        place = await place_of_building(session, wish.building_id)
        await _require_level(session, actor, place, 1, HEAD_ACTIONS[action])
    elif action in HELPER_ACTIONS:
        assignment = await _assignment_of(session, wish, actor.id)
        if assignment is None or assignment.status != AssignmentStatus.ACTIVE:
            raise NotAllowed(N_("You have not taken wish {code}."), code=wish.code)
    else:
        raise ValueError(f"no rule for {action}")
    _check_can_move(wish, action)


async def _is_requester_side(session: AsyncSession, actor: Person, wish: Wish) -> bool:
    """The requester, or whoever submitted on their behalf, speaks for the wish."""
    return actor.id in (wish.requester_id, wish.submitted_by_id)


async def _require_level(
    session: AsyncSession, actor: Person, place: Place, level: int, message: str, **params: Any
) -> int:
    held = ladder_level(await grants_of(session, actor), place)
    if held < level:
        raise NotAllowed(message, **params)
    return held


async def _active_assignments(session: AsyncSession, wish: Wish) -> Sequence[WishAssignment]:
    return (
        await session.scalars(
            select(WishAssignment)
            .where(
                WishAssignment.wish_id == wish.id,
                WishAssignment.status == AssignmentStatus.ACTIVE,
            )
            .order_by(WishAssignment.id)
            .execution_options(populate_existing=True)
        )
    ).all()


async def _assignment_of(
    session: AsyncSession, wish: Wish, member_id: int
) -> WishAssignment | None:
    return await session.scalar(
        select(WishAssignment)
        .where(WishAssignment.wish_id == wish.id, WishAssignment.member_id == member_id)
        .execution_options(populate_existing=True)
    )


async def _release_everyone(session: AsyncSession, wish: Wish) -> None:
    for assignment in await _active_assignments(session, wish):
        assignment.status = AssignmentStatus.RELEASED
        assignment.released_at = now(session)
    # Places a team took and has not named yet go too (models/team_claims.py).
    from models.team_claims import drop_unnamed

    await drop_unnamed(session, wish.id)
    await session.flush()


# --- submitting and checking --------------------------------------------------------


async def submit_wish(
    session: AsyncSession,
    actor: Person,
    *,
    building_id: int,
    category: str,
    description: str,
    urgency: Urgency = Urgency.NORMAL,
    preferred_time: dt.datetime | None = None,
    photos: Sequence[str] = (),
    required_count: int = 1,
    requester: Person | None = None,
    urgent_reason: str | None = None,
    description_limit: int = MAX_DESCRIPTION,
) -> Wish:
    """A resident asks for help, or a head (or admin) asks on a resident's behalf.

    A wish entered by someone who may verify it in that building is open at once; one with
    an urgent reason is urgent from the start (the reason is its "mark_urgent" event).
    """
    place = await place_of_building(session, building_id)
    grants = await grants_of(session, actor)
    requester = requester or actor
    if requester.erased_at is not None:
        raise NotFound(N_("There is no such person, or they were erased already."))
    if requester.id == actor.id:
        if not has_role(grants, Role.RESIDENT, place) and ladder_level(grants, place) == 0:
            raise NotAllowed(N_("You can ask for help only in the building you live in."))
    else:
        if ladder_level(grants, place) == 0:
            raise NotAllowed(N_("Only the building head or an admin can ask on someone's behalf."))
        if requester.building_id != building_id:
            raise InvalidInput(N_("{name} does not live in that building."), name=requester.name)
    found = await session.get(Category, category)
    if found is None or not found.active:
        raise InvalidInput(N_("Please choose one of the categories."))
    # Open311 clients may send longer ones (GeoReport allows 4,000 characters).
    limit = min(description_limit, MAX_LONG_DESCRIPTION)
    text = _text(description, required=True, what=N_("a description"), limit=limit)
    if not 1 <= required_count <= MAX_REQUIRED:
        raise InvalidInput(N_("A wish needs from 1 to 20 helpers."))
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(N_("At most 5 photos, please."))
    moment = now(session)
    if preferred_time is not None and preferred_time < moment:
        raise InvalidInput(N_("The preferred time has already passed."))
    why_urgent = _text(
        urgent_reason, required=False, what=N_("why it is urgent"), limit=MAX_URGENT_REASON
    )
    if why_urgent:
        urgency = Urgency.URGENT
    wish = Wish(
        building_id=building_id,
        category=category,
        description=text,
        urgency=Urgency(urgency),
        preferred_time=preferred_time,
        photos=list(photos),
        requester_id=requester.id,
        submitted_by_id=actor.id,
        status=S.SUBMITTED,
        required_count=required_count,
        taken_count=0,
        due_at=preferred_time,
        created_at=moment,
        updated_at=moment,
        version=1,
    )
    session.add(wish)
    await session.flush()
    wish.code = wish_code(wish.id)
    await session.flush()
    await _record(session, wish, actor, "submit", None, None)
    if why_urgent:
        await _record(session, wish, actor, "mark_urgent", S.SUBMITTED, why_urgent)
    if ladder_level(grants, place) > 0:
        await _move(session, wish, actor, "verify", S.OPEN)
    return wish


async def verify_wish(
    session: AsyncSession, actor: Person, wish_id: int, required_count: int | None = None
) -> Wish:
    """The head says the wish is real; they may say how many helpers it needs."""
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "verify")
    if required_count is None:
        wish = await _move(session, wish, actor, "verify", S.OPEN)
    else:
        if not 1 <= required_count <= MAX_REQUIRED:
            raise InvalidInput(N_("A wish needs from 1 to 20 helpers."))
        wish = await _move(session, wish, actor, "verify", S.OPEN, required_count=required_count)
    await award_verification(session, wish, actor.id)
    return wish


async def reject_wish(session: AsyncSession, actor: Person, wish_id: int, reason: str) -> Wish:
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "reject")
    note = _text(reason, required=True, what=N_("a reason"))
    return await _move(session, wish, actor, "reject", S.REJECTED, note, closed_at=now(session))


# --- members taking places --------------------------------------------------------------


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


# --- closing -------------------------------------------------------------------------------


async def _award(session: AsyncSession, wish: Wish, rating: int | None) -> None:
    """Points for everyone who held a place, exactly once per wish and member (the community's
    points rules: models/point_awards.py)."""
    await award_closed_wish(session, wish, rating, await _active_assignments(session, wish))


async def confirm_wish(
    session: AsyncSession,
    actor: Person,
    wish_id: int,
    rating: int | None = None,
    comment: str | None = None,
) -> Wish:
    """The requester says it was done and rates it; the wish closes and points are paid."""
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "confirm")
    if rating is not None and rating not in range(1, 6):
        raise InvalidInput(N_("A rating is from 1 to 5 stars."))
    text = _text(comment, required=False, what=N_("a comment"))
    wish = await _move(
        session,
        wish,
        actor,
        "confirm",
        S.CLOSED,
        text,
        rating=rating,
        rating_comment=text,
        closed_at=now(session),
    )
    await _award(session, wish, rating)
    return wish


async def auto_confirm(session: AsyncSession, wish_id: int) -> Wish:
    """Nobody confirmed in time: the system closes the wish as if confirmed without a rating."""
    wish = await get_wish(session, wish_id)
    _check_can_move(wish, "auto_confirm")
    wish = await _move(session, wish, None, "auto_confirm", S.CLOSED, closed_at=now(session))
    await _award(session, wish, None)
    return wish


async def dispute_wish(session: AsyncSession, actor: Person, wish_id: int, reason: str) -> Wish:
    """The requester says it was not done; it goes back to the members who took it."""
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "dispute")
    note = _text(reason, required=True, what=N_("what is still missing"))
    return await _move(session, wish, actor, "dispute", S.ACCEPTED, note)


async def cancel_wish(
    session: AsyncSession, actor: Person, wish_id: int, reason: str | None = None
) -> Wish:
    wish = await get_wish(session, wish_id)
    await check_applies(session, actor, wish, "cancel")
    note = _text(reason, required=False, what=N_("a reason"))
    await _release_everyone(session, wish)
    return await _move(
        session, wish, actor, "cancel", S.CANCELLED, note, taken_count=0, closed_at=now(session)
    )


# --- escalation ----------------------------------------------------------------------------


async def escalation_target(session: AsyncSession, actor: Person, wish: Wish) -> int:
    """The rung the actor would pass the wish up to; refused when they may not (asked before
    the reason, so a head's second press is refused at once)."""
    place = await place_of_building(session, wish.building_id)
    held = await _require_level(
        session, actor, place, 1, N_("Only the building head or an admin can escalate this wish.")
    )
    _check_can_move(wish, "escalate")
    current = wish.escalation_level or 0
    if wish.status == S.ESCALATED and held < current:
        raise NotAllowed(N_("Wish {code} has already gone above you."), code=wish.code)
    level = max(held, current) + 1
    if level > TOP_LEVEL:
        raise IllegalTransition(N_("Wish {code} is already at the top."), code=wish.code)
    return level


async def escalate_wish(session: AsyncSession, actor: Person, wish_id: int, reason: str) -> Wish:
    """Pass the wish one rung up the ladder: head, grid worker, community admin, street admin.

    It leaves the members who held it; whoever holds the new rung answers it.
    """
    wish = await get_wish(session, wish_id)
    level = await escalation_target(session, actor, wish)
    note = _text(reason, required=True, what=N_("a reason"))
    await _release_everyone(session, wish)
    return await _move(
        session, wish, actor, "escalate", S.ESCALATED, note, escalation_level=level, taken_count=0
    )


async def resolve_wish(session: AsyncSession, actor: Person, wish_id: int, answer: str) -> Wish:
    """Whoever holds the escalated wish answers it; the answer goes back to the requester."""
    wish = await get_wish(session, wish_id)
    place = await place_of_building(session, wish.building_id)
    needed = wish.escalation_level or TOP_LEVEL
    role = LADDER[min(needed, TOP_LEVEL) - 1]
    await _require_level(
        session,
        actor,
        place,
        needed,
        N_("Wish {code} waits for the answer of the {role}."),
        code=wish.code,
        role=role.value,
    )
    _check_can_move(wish, "resolve")
    text = _text(answer, required=True, what=N_("an answer"))
    return await _move(
        session, wish, actor, "resolve", S.CLOSED, text, resolution=text, closed_at=now(session)
    )


async def may_mark_urgent(session: AsyncSession, actor: Person, wish: Wish) -> None:
    """The requester's side, or whoever holds a rung over the building (its head and up);
    refused at once when the wish is urgent already or finished."""
    if not await _is_requester_side(session, actor, wish):
        place = await place_of_building(session, wish.building_id)
        await _require_level(
            session,
            actor,
            place,
            1,
            N_("Only the person who asked or the building head can mark wish {code} urgent."),
            code=wish.code,
        )
    _check_can_move(wish, "mark_urgent")
    if wish.urgency == Urgency.URGENT:
        raise IllegalTransition(N_("Wish {code} is already marked urgent."), code=wish.code)


async def mark_urgent(session: AsyncSession, actor: Person, wish_id: int, reason: str) -> Wish:
    """The wish becomes urgent, with a reason: its news goes even in quiet hours and its
    waiting timers are shorter (planned again from now)."""
    wish = await get_wish(session, wish_id)
    await may_mark_urgent(session, actor, wish)
    note = _text(reason, required=True, what=N_("why it is urgent"), limit=MAX_URGENT_REASON)
    return await _move(
        session, wish, actor, "mark_urgent", wish.status, note, urgency=Urgency.URGENT
    )


# --- the scheduler's moves ---------------------------------------------------------------


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


async def auto_escalate(session: AsyncSession, wish_id: int, reason: str) -> Wish:
    """Open for days with no taker: the community admin takes it up."""
    wish = await get_wish(session, wish_id)
    _check_can_move(wish, "auto_escalate")
    await _release_everyone(session, wish)
    level = LADDER.index(Role.ADMIN) + 1
    return await _move(
        session,
        wish,
        None,
        "auto_escalate",
        S.ESCALATED,
        reason,
        escalation_level=level,
        taken_count=0,
    )


async def climb(session: AsyncSession, wish_id: int, reason: str) -> Wish:
    """Nobody at the wish's rung answered in time: it goes one rung up (never past the top)."""
    wish = await get_wish(session, wish_id)
    _check_can_move(wish, "climb")
    level = wish.escalation_level or TOP_LEVEL
    if level >= TOP_LEVEL:
        raise IllegalTransition(N_("Wish {code} is already at the top."), code=wish.code)
    return await _move(
        session, wish, None, "climb", S.ESCALATED, reason, escalation_level=level + 1
    )


async def events_of(session: AsyncSession, wish_id: int) -> Sequence[WishEvent]:
    return (
        await session.scalars(
            select(WishEvent).where(WishEvent.wish_id == wish_id).order_by(WishEvent.id)
        )
    ).all()


async def latest_wishes_of(session: AsyncSession, person_id: int, limit: int) -> Sequence[Wish]:
    """The person's latest wishes, their own, sent for someone else, or joined through a
    merge (models/co_requesters.py), newest first."""
    return (
        await session.scalars(
            select(Wish)
            .where(
                or_(
                    Wish.requester_id == person_id,
                    Wish.submitted_by_id == person_id,
                    Wish.id.in_(joined_by(person_id)),
                )
            )
            .order_by(Wish.id.desc())
            .limit(limit)
        )
    ).all()


async def active_helpers(session: AsyncSession, wish_id: int) -> list[int]:
    """The members who hold a place on the wish now."""
    found = await session.scalars(
        select(WishAssignment.member_id).where(
            WishAssignment.wish_id == wish_id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
    )
    return list(found.all())


async def last_escalation_note(session: AsyncSession, wish_id: int) -> str | None:
    """Why the wish was passed up, the last time it was."""
    return await session.scalar(
        select(WishEvent.note)
        .where(WishEvent.wish_id == wish_id, WishEvent.action == "escalate")
        .order_by(WishEvent.id.desc())
        .limit(1)
    )


async def escalated_by(session: AsyncSession, wish_id: int) -> list[int]:
    """Everyone who passed the wish up (once per escalation)."""
    found = await session.scalars(
        select(WishEvent.actor_id).where(
            WishEvent.wish_id == wish_id,
            WishEvent.action == "escalate",
            WishEvent.actor_id.is_not(None),
        )
    )
    return [p for p in found.all() if p is not None]

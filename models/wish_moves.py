"""How a wish moves: the table of legal moves, who may press which button, and the one
conditional write every move goes through (a change made from a stale read matches no row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.co_requesters import co_requesters
from models.errors import N_, Conflict, IllegalTransition, NotAllowed, NotFound, checked_text
from models.people import Person
from models.permissions import ladder_level
from models.reach import Place, grants_of, place_of_building
from models.schedule import plan_for_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus

S = WishStatus
MAX_NOTE = 1000

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

"""Passing a wish up the ladder (head, grid worker, community admin, street admin) and the
answer that closes it; the scheduler passes up what waited too long."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, IllegalTransition, NotAllowed
from models.people import Person, Role
from models.permissions import LADDER, TOP_LEVEL
from models.reach import place_of_building
from models.wish_moves import (
    _check_can_move,
    _move,
    _release_everyone,
    _require_level,
    _text,
    get_wish,
)
from models.wishes import Wish, WishStatus

S = WishStatus


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

"""Asking for help: a wish is submitted, verified or rejected by the building's head, and
marked urgent (with a reason) by the requester's side or the head."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, IllegalTransition, InvalidInput, NotAllowed, NotFound
from models.people import Person, Role
from models.permissions import has_role, ladder_level
from models.point_awards import award_verification
from models.reach import grants_of, place_of_building
from models.wish_moves import (
    _check_can_move,
    _is_requester_side,
    _move,
    _record,
    _require_level,
    _text,
    check_applies,
    get_wish,
    wish_code,
)
from models.wishes import Category, Urgency, Wish, WishStatus

S = WishStatus
MAX_DESCRIPTION = 1000
MAX_LONG_DESCRIPTION = 4000
MAX_PHOTOS = 5
MAX_REQUIRED = 20
MAX_URGENT_REASON = 500


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

"""Closing a wish: the requester confirms and rates it (or the scheduler does, unrated), which
pays the points once; or disputes it, back to its helpers; or cancels it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, InvalidInput
from models.people import Person
from models.point_awards import award_closed_wish
from models.wish_moves import (
    _active_assignments,
    _check_can_move,
    _move,
    _release_everyone,
    _text,
    check_applies,
    get_wish,
)
from models.wishes import Wish, WishStatus

S = WishStatus


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

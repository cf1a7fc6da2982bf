"""Who may write to whom about a wish through the bot (the contact relay), and while when.

Once a member holds a place on a wish, they and the requester's side may pass messages, names
only, never numbers; when the wish closes, is cancelled or goes to the office, the relay ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, IllegalTransition, NotAllowed, NotFound
from models.people import Person
from models.wish_moves import get_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus
# A member holds a place: while the wish is in one of these, the two sides can write.
RELAY_OPEN = frozenset({S.OPEN, S.ACCEPTED, S.DONE})
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class Relay:
    wish: Wish
    from_helper: bool  # the writer is a member who holds a place (else the requester's side)
    to: tuple[int, ...]  # the people on the other side
    names: tuple[str, ...]  # their names, for "passed on to ..."


async def _places(session: AsyncSession, wish: Wish) -> tuple[list[int], set[int]]:
    """The members holding a place now, and everyone who ever held one."""
    rows = (
        await session.execute(
            select(WishAssignment.member_id, WishAssignment.status)
            .where(WishAssignment.wish_id == wish.id)
            .order_by(WishAssignment.id)
        )
    ).all()
    return [m for m, status in rows if status == AssignmentStatus.ACTIVE], {m for m, _ in rows}


def _ended(wish: Wish) -> IllegalTransition:
    return IllegalTransition(
        N_("Wish {code} is {status}: messages about it through the bot have ended."),
        code=wish.code,
        status=wish.status.value,
    )


async def relay_for(session: AsyncSession, actor: Person, wish_id: int) -> Relay:
    """The relay the actor may use on this wish now; refused with the wish's state otherwise."""
    wish = await get_wish(session, wish_id)
    helpers, ever = await _places(session, wish)
    requester_side = list(dict.fromkeys((wish.requester_id, wish.submitted_by_id)))
    if actor.id in helpers:
        to, from_helper = requester_side, True
    elif actor.id in requester_side:
        to, from_helper = helpers, False
    elif actor.id in ever:  # gave the place back, or the wish ended and let everyone go
        if wish.status in RELAY_OPEN:
            raise NotAllowed(N_("You have not taken wish {code}."), code=wish.code)
        raise _ended(wish)
    else:
        raise NotAllowed(
            N_("Only the person who asked and the members who took wish {code} write about it."),
            code=wish.code,
        )
    if wish.status not in RELAY_OPEN or not helpers:
        raise _ended(wish)
    found = (
        await session.execute(
            select(Person.id, Person.name)
            .where(Person.id.in_(to), Person.id != actor.id, Person.erased_at.is_(None))
            .order_by(Person.id)
        )
    ).all()
    if not found:
        raise NotFound(
            N_("Nobody on the other side of wish {code} can be reached through the bot any more."),
            code=wish.code,
        )
    return Relay(wish, from_helper, tuple(p for p, _ in found), tuple(n for _, n in found))

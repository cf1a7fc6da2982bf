"""Marking a wish urgent, with a reason: the requester (from /my) or the building head (from
the wish's card); whoever the wish waits for is told at once, even in quiet hours.
"""

from __future__ import annotations

from handlers.flows.common import button_number, text_input
from handlers.flows.news import heads_of, helpers_of, ladder_holders, requester_side, tell
from handlers.router import action
from handlers.turn import Flow, Speaker, Step, Turn, register_flow
from models.errors import N_
from models.people import Role
from models.permissions import LADDER
from models.wish_asking import MAX_URGENT_REASON, mark_urgent, may_mark_urgent
from models.wish_moves import get_wish
from models.wishes import Wish, WishStatus

REASON = "reason"
S = WishStatus


async def waiting_on(turn: Speaker, wish: Wish) -> list[int]:
    """Who the wish waits for now: its heads, the grid worker, its helpers or its rung."""
    if wish.status == S.SUBMITTED:
        return await heads_of(turn, wish.building_id)
    if wish.status == S.OPEN:
        return [
            *await heads_of(turn, wish.building_id),
            *await ladder_holders(turn, wish, Role.GRID_WORKER),
        ]
    if wish.status in (S.ACCEPTED, S.DONE):
        return await helpers_of(turn, wish)
    if wish.status == S.ESCALATED:
        return await ladder_holders(turn, wish, LADDER[(wish.escalation_level or len(LADDER)) - 1])
    return []


@action("urgent")
async def urgent_button(turn: Turn, args: list[str]) -> None:
    """Refused at once when the presser may not, or it is urgent or finished already."""
    assert turn.person is not None
    wish = await get_wish(turn.session, button_number(args))
    await may_mark_urgent(turn.session, turn.person, wish)
    await turn.start(FLOW, REASON, wish_id=wish.id, code=wish.code)


async def ask_reason(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Why is wish {code} urgent? Type a few words; whoever it waits for will read them "
            "at once, even at night.",
            code=turn.data["code"],
        ),
        [turn.nav(back=False)],
    )


async def answer_reason(turn: Turn) -> None:
    assert turn.person is not None
    reason = text_input(turn, limit=MAX_URGENT_REASON, what=N_("why it is urgent"))
    if reason is None:
        return
    wish = await mark_urgent(turn.session, turn.person, turn.data["wish_id"], reason)
    turn.end()
    turn.say(turn.t("Wish {code} is marked urgent. They were told at once.", code=wish.code))
    await tell(
        turn,
        [*await waiting_on(turn, wish), *requester_side(wish)],
        wish,
        N_("Wish {code} is urgent: {reason}"),
        reason=reason,
    )


FLOW = register_flow(Flow("urgent", {REASON: Step(ask_reason, answer_reason)}))

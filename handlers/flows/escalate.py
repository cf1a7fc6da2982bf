"""/escalate: a wish passed up to the next rung, with a reason whoever answers will read.

The reason typed on the line (/escalate CODE reason) or asked for in one step; see escalate.md.
"""

from __future__ import annotations

from handlers.flows.admin import FLOW, level_over, role_name, wish_and_text
from handlers.flows.common import button_number, text_input
from handlers.flows.news import helpers_of, ladder_holders, requester_side, tell
from handlers.router import action, command
from handlers.turn import Step, Turn, action_button, add_steps
from models.errors import N_, NotAllowed
from models.people import Role
from models.permissions import LADDER
from models.wish_escalation import escalate_wish, escalation_target
from models.wish_moves import MAX_NOTE, get_wish
from models.wishes import Wish

ESCALATE_REASON = "escalate_reason"


@command(
    "escalate",
    N_("pass a wish up to the next rung, with a reason"),
    Role.BUILDING_HEAD,
    Role.GRID_WORKER,
    Role.ADMIN,
)
async def escalate(turn: Turn) -> None:
    await wish_and_text(
        turn,
        N_("/escalate W-000123 needs the water company"),
        check_may_escalate,
        (FLOW, ESCALATE_REASON),
        do_escalate,
    )


@action("escalate")
async def escalate_button(turn: Turn, args: list[str]) -> None:
    wish = await get_wish(turn.session, button_number(args))
    await check_may_escalate(turn, wish)
    await turn.start(FLOW, ESCALATE_REASON, wish_id=wish.id, code=wish.code)


async def check_may_escalate(turn: Turn, wish: Wish) -> None:
    if await level_over(turn, wish) < 1:
        raise NotAllowed(N_("Only the building head or an admin can escalate this wish."))
    assert turn.person is not None
    await escalation_target(turn.session, turn.person, wish)  # gone above them, at the top


async def ask_escalate_reason(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Why does wish {code} go up a rung? Type the reason; whoever answers it will read it.",
            code=turn.data["code"],
        ),
        [turn.nav(back=False)],
    )


async def answer_escalate_reason(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_NOTE, what=N_("the reason"))
    if reason is None:
        return
    await do_escalate(turn, turn.data["wish_id"], reason)


async def do_escalate(turn: Turn, wish_id: int, reason: str) -> None:
    assert turn.person is not None
    before = await get_wish(turn.session, wish_id)
    helpers = await helpers_of(turn, before)
    wish = await escalate_wish(turn.session, turn.person, wish_id, reason)
    turn.end()
    level = wish.escalation_level or len(LADDER)
    role = LADDER[min(level, len(LADDER)) - 1]
    t = turn.t
    turn.say(
        t(
            "Wish {code} was passed up to the {role}. They were told.",
            code=wish.code,
            role=role_name(t, role),
        )
    )
    await tell(
        turn,
        await ladder_holders(turn, wish, role),
        wish,
        N_("Wish {code} was passed up to you: {reason}"),
        lambda tr: [[action_button(tr.raw("💬 Answer"), "resolve", wish.id)]],
        reason=reason,
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Your wish {code} was passed on to the office above; they will answer you."),
    )
    await tell(
        turn,
        helpers,
        wish,
        N_("Wish {code} was passed on to the office above; you no longer need to do it."),
    )


add_steps(FLOW, {ESCALATE_REASON: Step(ask_escalate_reason, answer_escalate_reason)})

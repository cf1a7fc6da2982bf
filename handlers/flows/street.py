"""Escalated wishes and their answers: /escalated and /resolve, for every rung above the head.

The answer closes the wish and comes back down to the requester and to whoever passed it up.
"""

from __future__ import annotations

from handlers.flows.admin import level_over, role_name, wish_and_text
from handlers.flows.common import button_number, status_name, text_input, wish_summary
from handlers.flows.news import requester_side, tell
from handlers.messages import Button
from handlers.router import action, command
from handlers.turn import Flow, Step, Turn, register_flow
from models.errors import N_, IllegalTransition, NotAllowed
from models.office_work import escalated_to
from models.people import Role
from models.permissions import LADDER, TOP_LEVEL
from models.wish_escalation import resolve_wish
from models.wish_moves import MAX_NOTE, get_wish
from models.wish_record import escalated_by, last_escalation_note
from models.wishes import Wish, WishStatus

ANSWER = "answer"
SHOWN = 20
ROLES = (Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)


@command("escalated", N_("escalated wishes waiting for your answer"), *ROLES)
async def escalated(turn: Turn) -> None:
    t = turn.t
    mine = await escalated_to(turn.session, turn.reach(*ROLES), turn.grants)
    if not mine:
        turn.say(t("No escalated wish waits for your answer."))
        return
    turn.say(
        t.plural("One wish waits for your answer:", "{n} wishes wait for your answer:", len(mine))
    )
    for wish, held in mine[:SHOWN]:
        reason = await escalation_reason(turn, wish)
        text = await wish_summary(turn, wish) + "\n" + t("Why it came up: {reason}", reason=reason)
        buttons: list[Button] = [turn.action(t.raw("💬 Answer"), "resolve", wish.id)]
        if held < TOP_LEVEL:
            buttons.append(turn.action(t.raw("⬆ Escalate"), "escalate", wish.id))
        turn.say(text, [buttons])
    if len(mine) > SHOWN:
        turn.say(t.plural("…and one more.", "…and {n} more.", len(mine) - SHOWN))


async def escalation_reason(turn: Turn, wish: Wish) -> str:
    note = await last_escalation_note(turn.session, wish.id)
    return note or "-"


@command("resolve", N_("answer an escalated wish; the answer goes to the requester"), *ROLES)
async def resolve(turn: Turn) -> None:
    await wish_and_text(
        turn,
        N_("/resolve W-000123 the water company comes on Monday"),
        check_may_resolve,
        (FLOW, ANSWER),
        do_resolve,
    )


@action("resolve")
async def resolve_button(turn: Turn, args: list[str]) -> None:
    wish = await get_wish(turn.session, button_number(args))
    await check_may_resolve(turn, wish)
    await turn.start(FLOW, ANSWER, wish_id=wish.id, code=wish.code)


async def check_may_resolve(turn: Turn, wish: Wish) -> None:
    """Refuse at once what the store would refuse at the end: another rung's, or not escalated."""
    needed = min(wish.escalation_level or TOP_LEVEL, TOP_LEVEL)
    if await level_over(turn, wish) < needed:
        raise NotAllowed(
            N_("Wish {code} waits for the answer of the {role}."),
            code=wish.code,
            role=role_name(turn.t, LADDER[needed - 1]),
        )
    if wish.status != WishStatus.ESCALATED:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=status_name(turn.t, wish.status.value),
        )


async def ask_answer(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Your answer to wish {code}? Type it; the resident will read it and the wish closes.",
            code=turn.data["code"],
        ),
        [turn.nav(back=False)],
    )


async def answer_answer(turn: Turn) -> None:
    answer = text_input(turn, limit=MAX_NOTE, what=N_("your answer"))
    if answer is None:
        return
    await do_resolve(turn, turn.data["wish_id"], answer)


async def do_resolve(turn: Turn, wish_id: int, answer: str) -> None:
    assert turn.person is not None
    wish = await resolve_wish(turn.session, turn.person, wish_id, answer)
    turn.end()
    turn.say(turn.t("Wish {code} is answered and closed. The resident was told.", code=wish.code))
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Your wish {code} has an answer from the office: {answer}"),
        answer=answer,
    )
    passed_up = await escalated_by(turn.session, wish.id)
    await tell(
        turn,
        [p for p in passed_up if p not in requester_side(wish)],
        wish,
        N_("Wish {code}, which you passed up, was answered: {answer}"),
        answer=answer,
    )


FLOW = register_flow(Flow("street", {ANSWER: Step(ask_answer, answer_answer)}))

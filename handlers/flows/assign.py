"""/assign: the members who fit a wish best, ranked with their reasons, and the one chosen.

The Assign button under /pending and the dashboard's drop-down end in the same assign_and_tell.
"""

from __future__ import annotations

from handlers.flows.admin import FLOW, level_over, wish_from_command
from handlers.flows.common import button_number, rows, status_name, wish_summary
from handlers.flows.news import requester_side, tell
from handlers.flows.suggested import TOP, candidate_line, resource_lines
from handlers.flows.tasks import task_buttons
from handlers.router import action, command
from handlers.turn import Step, Turn, add_steps
from models.dispatch import rank_supply
from models.errors import N_, IllegalTransition, NotAllowed, NotFound
from models.people import Person, Role
from models.wish_moves import get_wish
from models.wish_taking import assign_wish
from models.wishes import Wish, WishStatus

S = WishStatus

ASSIGN_MEMBER = "assign_member"

SUGGESTED = TOP  # members offered for one wish


@command("assign", N_("suggest who fits a wish, and assign it"), Role.GRID_WORKER, Role.ADMIN)
async def assign(turn: Turn) -> None:
    wish = await wish_from_command(turn, N_("/assign W-000123"))
    if wish is not None and len(turn.incoming.args) > 1:
        # /assign W-000123 3: the wish needs three helpers (handlers/flows/hands.py).
        from handlers.flows.hands import helpers_from_command

        wish = await helpers_from_command(turn, wish)
    if wish is not None:
        await start_assigning(turn, wish)


@action("assign")
async def assign_button(turn: Turn, args: list[str]) -> None:
    await start_assigning(turn, await get_wish(turn.session, button_number(args)))


async def start_assigning(turn: Turn, wish: Wish) -> None:
    """Refuse at once what the store would refuse at the end: out of scope, not open."""
    if await level_over(turn, wish) < 2:
        raise NotAllowed(N_("Only a grid worker or an admin can assign wishes here."))
    if wish.status != S.OPEN:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=status_name(turn.t, wish.status.value),
        )
    await turn.start(FLOW, ASSIGN_MEMBER, wish_id=wish.id, code=wish.code)


async def ask_assign_member(turn: Turn) -> None:
    t = turn.t
    wish = await get_wish(turn.session, turn.data["wish_id"])
    ranked, resources = await rank_supply(
        turn.session, wish, SUGGESTED, timezone=turn.config.timezone
    )
    if not ranked:
        turn.end()
        turn.say(
            t(
                "No approved member can take wish {code} now. "
                "Approve volunteers with /approve, or escalate it with /escalate {code}.",
                code=wish.code,
            )
        )
        return
    turn.remember(members=[c.id for c in ranked])
    lines = [t("Who should help with this wish? The best fits come first.")]
    lines.append(await wish_summary(turn, wish))
    lines += [candidate_line(t, number, c) for number, c in enumerate(ranked, start=1)]
    lines += resource_lines(t, resources)
    buttons = [
        turn.option(f"{number}. {c.name}", str(c.id)) for number, c in enumerate(ranked, start=1)
    ]
    turn.say("\n".join(lines), [*rows(buttons, 1), turn.nav(back=False)])


async def answer_assign_member(turn: Turn) -> None:
    assert turn.person is not None
    offered = [str(i) for i in turn.data.get("members", [])]
    if turn.value not in offered:
        turn.say(turn.t("Please choose a member with the buttons."))
        return
    member = await turn.session.get(Person, int(turn.value))
    if member is None:
        raise NotFound(N_("There is no such person."))
    wish_id = turn.data["wish_id"]
    turn.end()
    await assign_and_tell(turn, wish_id, member)


@action("assign_to")
async def assign_to_button(turn: Turn, args: list[str]) -> None:
    """The dashboard's ranked drop-down: the wish and the member chosen there, in one press."""
    wish_id = button_number(args)
    member = await turn.session.get(Person, button_number(args[1:]))
    if member is None:
        raise NotFound(N_("There is no such person."))
    await assign_and_tell(turn, wish_id, member)


async def assign_and_tell(turn: Turn, wish_id: int, member: Person) -> None:
    """Assign (the store checks who may, and whom), then tell the member and the requester."""
    assert turn.person is not None
    wish = await assign_wish(turn.session, turn.person, wish_id, member)
    turn.say(turn.t("Wish {code} is assigned to {name}.", code=wish.code, name=member.name))
    await tell(
        turn,
        [member.id],
        wish,
        N_("The office asks you to help with wish {code}. Thank you!"),
        lambda tr: [task_buttons(tr, wish)],
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Good news: {name} will help with your wish {code}."),
        name=member.name,
    )


add_steps(FLOW, {ASSIGN_MEMBER: Step(ask_assign_member, answer_assign_member)})

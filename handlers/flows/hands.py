"""Several hands: the head verifies a wish and says how many helpers it needs at once;
the office says it with `/assign W-000123 3`.

The "👥 Needs several helpers" button on the verify card; see hands.md.
"""

from __future__ import annotations

from handlers.flows.common import button_number
from handlers.flows.verification import verified
from handlers.router import action
from handlers.turn import Flow, Step, Turn, register_flow
from models.errors import N_, InvalidInput
from models.team_claims import set_required_count
from models.wish_asking import MAX_REQUIRED, verify_wish
from models.wish_moves import check_applies, get_wish
from models.wishes import Wish

COUNT = "count"
OFFERED = (2, 3, 4, 5, 6)


@action("hands")
async def hands(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    wish = await get_wish(turn.session, button_number(args))
    await check_applies(turn.session, turn.person, wish, "verify")  # a stale card: refused now
    await turn.start(FLOW, COUNT, wish_id=wish.id, code=wish.code)


async def ask_count(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(str(n), str(n)) for n in OFFERED]
    turn.say(
        t(
            "How many helpers does wish {code} need at once? Choose, or type a number up to 20.",
            code=turn.data["code"],
        ),
        [tuple(buttons), turn.nav(back=False)],
    )


async def answer_count(turn: Turn) -> None:
    assert turn.person is not None
    raw = turn.value if turn.value is not None else (turn.incoming.text or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REQUIRED:
        turn.say(turn.t("Please type a number from 1 to 20."))
        return
    wish = await verify_wish(turn.session, turn.person, turn.data["wish_id"], int(raw))
    turn.end()
    turn.say(
        turn.t.plural(
            "Wish {code} needs one helper.",
            "Wish {code} needs {n} helpers.",
            wish.required_count,
            code=wish.code,
        )
    )
    await verified(turn, wish)


async def helpers_from_command(turn: Turn, wish: Wish) -> Wish:
    """`/assign W-000123 3`: the office says the wish needs three helpers, then assigns."""
    assert turn.person is not None
    raw = turn.incoming.args[1]
    if not raw.isdigit():
        raise InvalidInput(N_("Please type a number from 1 to 20."))
    wish = await set_required_count(turn.session, turn.person, wish.id, int(raw))
    turn.say(
        turn.t.plural(
            "Wish {code} needs one helper.",
            "Wish {code} needs {n} helpers.",
            wish.required_count,
            code=wish.code,
        )
    )
    return wish


FLOW = register_flow(Flow("hands", {COUNT: Step(ask_count, answer_count)}))

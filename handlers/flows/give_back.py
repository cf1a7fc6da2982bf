"""↩ Give it back: a member who holds a place on a wish gives it back, after a yes.

One step, release; the requester side is told and fitting members are offered the wish again.
"""

from __future__ import annotations

from handlers.flows.common import status_name
from handlers.flows.news import requester_side, tell
from handlers.flows.tasks import FLOW, acting_member, held_wish
from handlers.flows.verification import offer_to_members
from handlers.router import action
from handlers.turn import Step, Turn, add_steps
from models.errors import N_
from models.wish_taking import release_wish
from models.wishes import WishStatus

RELEASE = "release"

S = WishStatus


@action("release")
async def release(turn: Turn, args: list[str]) -> None:
    wish = await held_wish(turn, args)
    if wish.status not in (S.OPEN, S.ACCEPTED):
        t = turn.t
        turn.say(
            t(
                "Wish {code} is {status}: it cannot be given back now.",
                code=wish.code,
                status=status_name(t, wish.status.value),
            )
        )
        return
    await turn.start(FLOW, RELEASE, wish_id=wish.id, code=wish.code)


async def ask_release(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Give wish {code} back? It will be open for other helpers again.",
            code=turn.data["code"],
        ),
        [
            (
                turn.option(t.raw("Yes, give it back"), "yes"),
                turn.option(t.raw("No, I'll keep it"), "no"),
            ),
            turn.nav(back=False),
        ],
    )


async def answer_release(turn: Turn) -> None:
    me = acting_member(turn)
    t = turn.t
    if turn.value == "no":
        code = turn.data["code"]
        turn.end()
        turn.say(t("Good: wish {code} stays with you.", code=code))
        return
    if turn.value != "yes":
        turn.say(t("Please choose with the buttons."))
        return
    wish = await release_wish(turn.session, me, turn.data["wish_id"])
    turn.end()
    turn.say(
        t(
            "Thank you for saying so in time. Wish {code} is open for other helpers again.",
            code=wish.code,
        )
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("{helper} cannot do your wish {code} after all. We are looking for another helper."),
        helper=me.name,
    )
    await offer_to_members(turn, wish)


add_steps(FLOW, {RELEASE: Step(ask_release, answer_release)})

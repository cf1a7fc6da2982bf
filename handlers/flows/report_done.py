"""✅ Report done: a member who took a wish says it is done, with a note, the hours, a photo.

Steps note, hours (only where points are paid per hour) and photo; the requester side confirms.
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.flows.common import status_name, text_input
from handlers.flows.news import ButtonsFor, helpers_of, requester_side, tell, with_co_requesters
from handlers.flows.tasks import FLOW, acting_member, held_wish
from handlers.i18n import Translator
from handlers.messages import Reply
from handlers.router import action
from handlers.turn import Step, Turn, action_button, add_steps
from models.cards import CONFIRM, wish_card
from models.errors import N_
from models.point_awards import rules_of_wish
from models.wish_moves import MAX_NOTE, get_wish
from models.wish_taking import MAX_HOURS, report_done
from models.wishes import Wish, WishStatus

NOTE = "note"
PHOTO = "photo"
HOURS = "hours"  # asked only where the community pays points per hour

S = WishStatus


@action("done")
async def done(turn: Turn, args: list[str]) -> None:
    wish = await held_wish(turn, args)
    if wish.status != S.ACCEPTED:
        t = turn.t
        turn.say(
            t(
                "Wish {code} is {status}: it cannot be reported done now.",
                code=wish.code,
                status=status_name(t, wish.status.value),
            )
        )
        return
    await turn.start(FLOW, NOTE, wish_id=wish.id, code=wish.code)


async def ask_note(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Well done! A short note about wish {code} for the neighbour? Type it, or skip.",
            code=turn.data["code"],
        ),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav(back=False)],
    )


async def answer_note(turn: Turn) -> None:
    if turn.value == "skip":
        turn.remember(note=None)
    else:
        note = text_input(turn, limit=MAX_NOTE, what=N_("a note"))
        if note is None:
            return
        turn.remember(note=note)
    wish = await get_wish(turn.session, turn.data["wish_id"])
    await turn.goto(HOURS if (await rules_of_wish(turn.session, wish)).per_hour else PHOTO)


async def ask_hours(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("How many hours did it take? Type a number like 2 or 1.5, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_hours(turn: Turn) -> None:
    if turn.value == "skip":
        turn.remember(hours=None)
    else:
        try:
            hours = float((turn.incoming.text or "").strip().replace(",", "."))
        except ValueError:
            hours = -1.0
        if not 0 < hours <= MAX_HOURS:
            turn.say(turn.t("Please type the hours as a number like 2 or 1.5, or press Skip."))
            return
        turn.remember(hours=hours)
    await turn.goto(PHOTO)


async def ask_photo(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("A photo of the result? Send one, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_photo(turn: Turn) -> None:
    if turn.incoming.photo:
        await _report(turn, turn.incoming.photo[:200])
    elif turn.value == "skip":
        await _report(turn, None)
    else:
        turn.say(turn.t("Please send a photo, or press Skip."))


def _confirm_buttons(wish: Wish) -> ButtonsFor:
    return lambda t: [
        [
            action_button(t.raw("⭐ It's done"), "confirm", wish.id),
            action_button(t.raw("Not done yet"), "dispute", wish.id),
        ]
    ]


async def _report(turn: Turn, photo: str | None) -> None:
    me = acting_member(turn)
    note: str | None = turn.data.get("note")
    hours = turn.data.get("hours")
    wish = await report_done(
        turn.session, me, turn.data["wish_id"], note, photo, float(hours) if hours else None
    )
    turn.end()
    turn.say(
        turn.t(
            "Thank you! Wish {code} is reported done. Your points arrive when it is confirmed; "
            "/points shows them.",
            code=wish.code,
        )
    )
    side = requester_side(wish)
    if photo:
        await _tell_photo(turn, side, wish, photo, me.name)
    if note:
        message = N_(
            "{helper} says your wish {code} is done: “{note}”. "
            "Please confirm it, or say what is still missing."
        )
    else:
        message = N_(
            "{helper} says your wish {code} is done. Please confirm it, or say what is still missing."
        )
    await tell(
        turn,
        side,
        wish,
        message,
        _confirm_buttons(wish),
        card=wish_card(wish.id, CONFIRM),
        helper=me.name,
        note=note or "",
    )
    others = [h for h in await helpers_of(turn, wish) if h not in side]
    await tell(turn, others, wish, N_("{helper} reported wish {code} done."), helper=me.name)


async def _tell_photo(
    turn: Turn, people: Iterable[int], wish: Wish, photo: str, helper: str
) -> None:
    """The photo on its own, before the message with the buttons (captions are short)."""
    actor = turn.person.id if turn.person else None
    for person_id in await with_co_requesters(turn, wish, people):
        if person_id == actor:
            continue

        def build(t: Translator) -> Reply:
            return Reply(
                t("The photo {helper} sent for wish {code}", helper=helper, code=wish.code),
                photo=photo,
            )

        await turn.tell(person_id, build)


add_steps(
    FLOW,
    {
        NOTE: Step(ask_note, answer_note),
        PHOTO: Step(ask_photo, answer_photo),
        HOURS: Step(ask_hours, answer_hours),
    },
)

"""A resident's own wishes (/my): where each stands, and confirm with stars, dispute, cancel.

Confirming asks for 1-5 stars and an optional comment; see my_wishes.md for the steps.
"""

from __future__ import annotations

from handlers.flows.common import button_number, rows, text_input, wish_summary
from handlers.flows.news import heads_of, helpers_of, requester_side, spend_card, tell
from handlers.flows.relay import relay_button
from handlers.messages import Button
from handlers.router import action, command
from handlers.turn import Flow, Step, Turn, register_flow
from models.cards import CONFIRM, VERIFY
from models.co_requesters import merged_from
from models.errors import N_
from models.people import Role
from models.wish_closing import cancel_wish, confirm_wish, dispute_wish
from models.wish_moves import check_applies, get_wish
from models.wish_record import latest_wishes_of
from models.wishes import Urgency, Wish, WishStatus

RATING = "rating"
COMMENT = "comment"
DISPUTE = "dispute"
CANCEL = "cancel"

S = WishStatus
SHOWN = 10


@command("my", N_("your wishes and how they stand"), Role.RESIDENT, Role.BUILDING_HEAD)
async def my_wishes(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    wishes = await latest_wishes_of(turn.session, turn.person.id, SHOWN)
    if not wishes:
        turn.say(t("You have no wishes yet. Send /wish when you need a hand."))
        return
    turn.say(t.plural("Your latest wish:", "Your latest {n} wishes:", len(wishes)))
    joined = await merged_from(turn.session, turn.person.id)
    for wish in wishes:
        summary = await wish_summary(turn, wish)
        if turn.person.id in (wish.requester_id, wish.submitted_by_id) or wish.id not in joined:
            turn.say(summary, [_buttons(turn, wish)])
            continue
        # Joined through a merge: the requester's own buttons, but only those they may press.
        merged = t("🔗 Your wish {code} was merged into this one.", code=joined[wish.id].code)
        joined_buttons = (
            (
                turn.action(t.raw("⭐ It's done"), "confirm", wish.id),
                turn.action(t.raw("Not done yet"), "dispute", wish.id),
            )
            if wish.status == S.DONE
            else ()
        )
        turn.say(summary + "\n" + merged, [joined_buttons])


def _buttons(turn: Turn, wish: Wish) -> tuple[Button, ...]:
    t = turn.t
    if wish.urgency == Urgency.NORMAL and wish.status in (S.SUBMITTED, S.OPEN, S.ACCEPTED):
        urgent = (turn.action(t.raw("🚨 It's urgent"), "urgent", wish.id),)
        return (*_state_buttons(turn, wish), *urgent)
    return _state_buttons(turn, wish)


def _state_buttons(turn: Turn, wish: Wish) -> tuple[Button, ...]:
    t = turn.t
    if wish.status == S.DONE:
        return (
            turn.action(t.raw("⭐ It's done"), "confirm", wish.id),
            turn.action(t.raw("Not done yet"), "dispute", wish.id),
            *relay_button(t, wish, to_helper=True),
        )
    if wish.status == S.ACCEPTED:
        return relay_button(t, wish, to_helper=True)
    if wish.status in (S.SUBMITTED, S.OPEN):
        cancel = turn.action(t.raw("Cancel this wish"), "cancel", wish.id)
        if wish.taken_count > 0:  # someone took a place already
            return (cancel, *relay_button(t, wish, to_helper=True))
        return (cancel,)
    return ()


async def _mine(turn: Turn, args: list[str], action: str) -> Wish:
    """The wish of the button, if it is the presser's own and the action still applies to
    it; refused at once otherwise, before anything is asked."""
    assert turn.person is not None
    wish = await get_wish(turn.session, button_number(args))
    await check_applies(turn.session, turn.person, wish, action)
    return wish


@action("confirm")
async def confirm(turn: Turn, args: list[str]) -> None:
    wish = await _mine(turn, args, "confirm")
    await turn.start(FLOW, RATING, wish_id=wish.id, code=wish.code)


async def ask_rating(turn: Turn) -> None:
    t = turn.t
    stars = [turn.option("⭐" * n, str(n)) for n in range(1, 6)]
    turn.say(
        t("How did it go with wish {code}? Give it 1 to 5 stars.", code=turn.data["code"]),
        [stars[:3], stars[3:], turn.nav(back=False)],
    )


async def answer_rating(turn: Turn) -> None:
    if turn.value not in {"1", "2", "3", "4", "5"}:
        turn.say(turn.t("Please choose 1 to 5 stars with the buttons."))
        return
    turn.remember(rating=int(turn.value))
    await turn.goto(COMMENT)


async def ask_comment(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("A word of thanks for your helper? Type it, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_comment(turn: Turn) -> None:
    assert turn.person is not None
    comment = None
    if turn.value != "skip":
        comment = text_input(turn, limit=500, what=N_("a comment"))
        if comment is None:
            return
    wish = await confirm_wish(
        turn.session, turn.person, turn.data["wish_id"], turn.data["rating"], comment
    )
    turn.end()
    turn.say(turn.t("Thank you! Wish {code} is closed.", code=wish.code))
    await spend_card(
        turn, requester_side(wish), wish, CONFIRM, N_("⭐ Wish {code} is confirmed and closed.")
    )
    await tell(
        turn,
        await helpers_of(turn, wish),
        wish,
        N_("Wish {code} was confirmed with {stars} stars. Your points have grown: /points"),
        stars=wish.rating or 0,
    )


@action("dispute")
async def dispute(turn: Turn, args: list[str]) -> None:
    wish = await _mine(turn, args, "dispute")
    await turn.start(FLOW, DISPUTE, wish_id=wish.id, code=wish.code)


async def ask_dispute(turn: Turn) -> None:
    turn.say(
        turn.t(
            "What is still missing for wish {code}? Your helper will see it.",
            code=turn.data["code"],
        ),
        [turn.nav(back=False)],
    )


async def answer_dispute(turn: Turn) -> None:
    assert turn.person is not None
    reason = text_input(turn, limit=500, what=N_("what is missing"))
    if reason is None:
        return
    wish = await dispute_wish(turn.session, turn.person, turn.data["wish_id"], reason)
    turn.end()
    turn.say(turn.t("Your helper was told. Wish {code} is back with them.", code=wish.code))
    await spend_card(
        turn,
        requester_side(wish),
        wish,
        CONFIRM,
        N_("Wish {code} went back to the helper: something is still missing."),
    )
    await tell(
        turn,
        await helpers_of(turn, wish),
        wish,
        N_("Wish {code} is not finished yet: {reason}"),
        reason=reason,
    )


@action("cancel")
async def cancel(turn: Turn, args: list[str]) -> None:
    wish = await _mine(turn, args, "cancel")
    await turn.start(FLOW, CANCEL, wish_id=wish.id, code=wish.code)


async def ask_cancel(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("Cancel wish {code}?", code=turn.data["code"]),
        [
            *rows(
                [
                    turn.option(t.raw("Yes, cancel it"), "yes"),
                    turn.option(t.raw("No, keep it"), "no"),
                ]
            )
        ],
    )


async def answer_cancel(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value == "no":
        turn.end()
        turn.say(turn.t("Kept. Nothing changed."))
        return
    if turn.value != "yes":
        turn.say(turn.t("Please choose with the buttons."))
        return
    before = await get_wish(turn.session, turn.data["wish_id"])
    helpers = await helpers_of(turn, before)
    wish = await cancel_wish(turn.session, turn.person, turn.data["wish_id"])
    turn.end()
    turn.say(turn.t("Wish {code} is cancelled.", code=wish.code))
    await spend_card(
        turn, await heads_of(turn, wish.building_id), wish, VERIFY, N_("Wish {code} was cancelled.")
    )
    await tell(turn, [*helpers, *requester_side(wish)], wish, N_("Wish {code} was cancelled."))


FLOW = register_flow(
    Flow(
        "my_wishes",
        {
            RATING: Step(ask_rating, answer_rating),
            COMMENT: Step(ask_comment, answer_comment),
            DISPUTE: Step(ask_dispute, answer_dispute),
            CANCEL: Step(ask_cancel, answer_cancel),
        },
    )
)

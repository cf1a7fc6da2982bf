"""Asking for help (/wish): category, description, optional photo, preferred time, a summary.

A building head runs the same flow for a resident (/onbehalf); see wish.md for the steps.
"""

from __future__ import annotations

import datetime as dt

from handlers.flows.common import categories, category_name, rows, text_input
from handlers.flows.verification import tell_heads_about
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.clock import now
from models.errors import N_
from models.people import Person, Role
from models.wish_asking import MAX_DESCRIPTION, MAX_URGENT_REASON, submit_wish
from models.wishes import Urgency

CATEGORY = "category"
DESCRIPTION = "description"
PHOTO = "photo"
WHEN = "when"
SUMMARY = "summary"
URGENT = "urgent"

# Preferred time, as offered on buttons: how far from now.
WHEN_CHOICES = {
    "any": (N_("Any time"), None),
    "today": (N_("Within a day"), dt.timedelta(days=1)),
    "days": (N_("Within 3 days"), dt.timedelta(days=3)),
    "week": (N_("Within a week"), dt.timedelta(days=7)),
}


@command("wish", N_("ask your neighbours for a hand"), Role.RESIDENT)
async def wish(turn: Turn) -> None:
    assert turn.person is not None
    homes = turn.scopes(Role.RESIDENT)
    building_id = turn.person.building_id if turn.person.building_id in homes else homes[0]
    await turn.start(FLOW, CATEGORY, building_id=building_id, requester_id=turn.person.id)


async def start_for(turn: Turn, requester: Person) -> None:
    """A head asks on behalf of a resident of their building."""
    await turn.start(FLOW, CATEGORY, building_id=requester.building_id, requester_id=requester.id)


async def ask_category(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(category_name(t, code), code) for code in await categories(turn)]
    turn.say(t("What kind of help is needed?"), [*rows(buttons, 2), turn.nav(back=False)])


async def answer_category(turn: Turn) -> None:
    if turn.value not in await categories(turn):
        turn.say(turn.t("Please choose a kind of help with the buttons."))
        return
    turn.remember(category=turn.value)
    await turn.goto(SUMMARY if turn.data.get("description") else DESCRIPTION)


async def ask_description(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Describe in a few words what is needed, and where. For example: the light on floor 3 is out."
        ),
        [turn.nav()],
    )


async def answer_description(turn: Turn) -> None:
    text = text_input(turn, limit=MAX_DESCRIPTION, what=N_("a description"))
    if text is None:
        return
    turn.remember(description=text)
    await turn.goto(SUMMARY if "when" in turn.data else PHOTO)


async def ask_photo(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("A photo helps. Send one now, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_photo(turn: Turn) -> None:
    if turn.incoming.photo:
        turn.remember(photos=[turn.incoming.photo])
    elif turn.value != "skip":
        turn.say(turn.t("Please send a photo, or press Skip."))
        return
    await turn.goto(WHEN)


async def ask_when(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), key) for key, (label, _) in WHEN_CHOICES.items()]
    turn.say(t("When should it be done?"), [*rows(buttons, 2), turn.nav()])


async def answer_when(turn: Turn) -> None:
    if turn.value not in WHEN_CHOICES:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(when=turn.value)
    await turn.goto(SUMMARY)


def _preferred_time(turn: Turn) -> dt.datetime | None:
    delta = WHEN_CHOICES[turn.data.get("when", "any")][1]
    return None if delta is None else now(turn.session) + delta


async def ask_summary(turn: Turn) -> None:
    t = turn.t
    data = turn.data
    label = WHEN_CHOICES[data.get("when", "any")][0]
    text = t(
        "Please check your wish:\n<b>{category}</b>\n{description}\nWhen: {when}\nPhoto: {photo}",
        category=category_name(t, data["category"]),
        description=data["description"],
        when=t.raw(label),
        photo=t.raw("yes") if data.get("photos") else t.raw("no"),
    )
    if data.get("urgent_reason"):
        text += "\n" + t("🚨 Urgent: {reason}", reason=data["urgent_reason"])
        urgent = turn.option(t.raw("Not urgent after all"), "not_urgent")
    else:
        urgent = turn.option(t.raw("🚨 It's urgent"), "urgent")
    turn.say(
        text,
        [
            (turn.option(t.raw("✅ Send"), "send"),),
            (
                turn.option(t.raw("Change the kind"), "edit:category"),
                turn.option(t.raw("Change the text"), "edit:description"),
            ),
            (urgent,),
            turn.nav(),
        ],
    )


async def answer_summary(turn: Turn) -> None:
    if turn.value == "edit:category":
        await turn.goto(CATEGORY)
        return
    if turn.value == "edit:description":
        await turn.goto(DESCRIPTION)
        return
    if turn.value == "urgent":
        await turn.goto(URGENT)
        return
    if turn.value == "not_urgent":
        turn.remember(urgent_reason=None)
        await turn.ask()
        return
    if turn.value != "send":
        turn.say(turn.t("Please use the buttons under your wish."))
        return
    assert turn.person is not None
    data = turn.data
    requester = await turn.session.get(Person, data["requester_id"])
    assert requester is not None
    wish = await submit_wish(
        turn.session,
        turn.person,
        building_id=data["building_id"],
        category=data["category"],
        description=data["description"],
        urgency=Urgency.NORMAL,
        preferred_time=_preferred_time(turn),
        photos=data.get("photos", []),
        requester=requester,
        urgent_reason=data.get("urgent_reason"),
    )
    turn.end()
    t = turn.t
    if requester.id == turn.person.id:
        turn.say(
            t(
                "Thank you! Your wish {code} was sent. The building head will look at it soon; "
                "/my shows how it goes.",
                code=wish.code,
            )
        )
    else:
        turn.say(
            t(
                "Wish {code} is open for helpers, on behalf of {name}.",
                code=wish.code,
                name=requester.name,
            )
        )
    await tell_heads_about(turn, wish)


async def ask_urgent(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Why is it urgent? Type a few words; the building head will read them at once, "
            "even at night."
        ),
        [turn.nav()],
    )


async def answer_urgent(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_URGENT_REASON, what=N_("why it is urgent"))
    if reason is None:
        return
    turn.remember(urgent_reason=reason)
    await turn.goto(SUMMARY)


FLOW = register_flow(
    Flow(
        "wish",
        {
            CATEGORY: Step(ask_category, answer_category),
            DESCRIPTION: Step(ask_description, answer_description),
            PHOTO: Step(ask_photo, answer_photo),
            WHEN: Step(ask_when, answer_when),
            SUMMARY: Step(ask_summary, answer_summary),
            URGENT: Step(ask_urgent, answer_urgent),
        },
    )
)

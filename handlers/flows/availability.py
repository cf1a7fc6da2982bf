"""/availability: a member says when they are free: weekdays, then one span of hours.

Dispatch (models/dispatch.py) ranks those free at a wish's preferred time higher; see
availability.md. What they once typed as free text is shown until they choose.
"""

from __future__ import annotations

from handlers.flows.common import rows
from handlers.i18n import Translator
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.availability import SPANS, days_of, set_availability
from models.errors import N_
from models.people import MemberProfile, Role

DAYS = "days"
HOURS = "hours"

DAY_NAMES = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
SPAN_NAMES = {
    "morning": N_("Mornings (8–12)"),
    "afternoon": N_("Afternoons (12–18)"),
    "evening": N_("Evenings (18–22)"),
    "daytime": N_("Daytime (8–18)"),
    "any": N_("Any time"),
}


def said(t: Translator, profile: MemberProfile) -> str:
    """ "Mon, Wed, Sat 18–22", or that nothing is stated yet (with the old text, if any)."""
    if not profile.available_days:
        if profile.availability:
            return t("not chosen yet (you wrote: {text})", text=profile.availability)
        return t.raw("not chosen yet")
    days = ", ".join(t.raw(DAY_NAMES[d]) for d in days_of(profile.available_days))
    return f"{days} {profile.available_from}–{profile.available_to}"


@command("availability", N_("say on which days and hours you are free to help"), Role.MEMBER)
async def availability(turn: Turn) -> None:
    assert turn.person is not None
    profile = await turn.session.get(MemberProfile, turn.person.id)
    if profile is None:
        turn.say(turn.t("Only members can say when they are free."))
        return
    turn.say(turn.t("You are free: {when}", when=said(turn.t, profile)))
    chosen = days_of(profile.available_days)
    await turn.start(FLOW, DAYS, days=chosen)


async def ask_days(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("days", []))
    buttons = [
        turn.option(("✅ " if d in chosen else "") + t.raw(name), f"day:{d}")
        for d, name in enumerate(DAY_NAMES)
    ]
    turn.say(
        t("On which days can you usually help? Choose, then press Done."),
        [*rows(buttons, 4), (turn.option(t.raw("Done"), "done"),), turn.nav(back=False)],
    )


async def answer_days(turn: Turn) -> None:
    value = turn.value or ""
    chosen = set(turn.data.get("days", []))
    if value.startswith("day:") and value[4:] in {str(d) for d in range(7)}:
        chosen ^= {int(value[4:])}
        turn.remember(days=sorted(chosen))
        await turn.redraw()
    elif value == "done" and chosen:
        await turn.goto(HOURS)
    elif value == "done":
        turn.say(turn.t("Please choose at least one day."))
    else:
        turn.say(turn.t("Please choose with the buttons."))


async def ask_hours(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(name), key) for key, name in SPAN_NAMES.items()]
    turn.say(t("At what time of day?"), [*rows(buttons, 2), turn.nav()])


async def answer_hours(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value not in SPANS:
        turn.say(turn.t("Please choose the hours with the buttons."))
        return
    profile = await set_availability(
        turn.session, turn.person, list(turn.data.get("days", [])), turn.value
    )
    turn.end()
    turn.say(
        turn.t(
            "Thank you! You are free: {when}. Wishes at those times will come to you first.",
            when=said(turn.t, profile),
        )
    )


FLOW = register_flow(
    Flow("availability", {DAYS: Step(ask_days, answer_days), HOURS: Step(ask_hours, answer_hours)})
)

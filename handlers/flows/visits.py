"""Key people: /visits flags a unit to visit regularly; ✅ Visited records a visit.

Steps visits, visit_building, visit_unit, visit_reason, visit_every; the "visit.due" reminder.
"""

from __future__ import annotations

import datetime as dt

from handlers.flows.common import building_name, button_number, rows, text_input
from handlers.flows.neighbourhood import FLOW, my_buildings
from handlers.i18n import Translator
from handlers.messages import Button, Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import action, command
from handlers.turn import Speaker, Step, Turn, action_button, add_steps
from models.errors import N_
from models.neighbourhood import VisitPlan
from models.people import Role
from models.reach import holders_at
from models.reminders import Reminder
from models.visits import MAX_REASON, MAX_UNIT, due_plan, flag_visits, record_visit, visit_plans

# /visits
V_LIST = "visits"
V_BUILDING = "visit_building"
V_UNIT = "visit_unit"
V_REASON = "visit_reason"
V_EVERY = "visit_every"

EVERY_DAYS = (7, 14, 30)


@command("visits", N_("neighbours to visit regularly"), Role.BUILDING_HEAD)
async def visits(turn: Turn) -> None:
    await turn.start(FLOW, V_LIST)


def visited_button(t: Translator, plan: VisitPlan) -> Button:
    return action_button(t.raw("✅ Visited"), "visited", plan.id, int(plan.next_due_at.timestamp()))


async def ask_visits(turn: Turn) -> None:
    t = turn.t
    plans = await visit_plans(turn.session, turn.scopes(Role.BUILDING_HEAD))
    if not plans:
        turn.say(t("No units are flagged for regular visits yet."))
    for plan in plans:
        turn.say(
            t(
                "<b>{unit}</b> · {building} · {reason}\nEvery {every} days; next visit {when}",
                unit=plan.unit,
                building=await building_name(turn, plan.building_id),
                reason=plan.reason,
                every=plan.every_days,
                when=t.when(plan.next_due_at),
            ),
            [(visited_button(t, plan),)],
        )
    turn.say(
        t("Flag a unit that needs regular visits (an elderly neighbour living alone, say)?"),
        [(turn.option(t.raw("➕ Flag a unit"), "add"),), turn.nav(back=False)],
    )


async def answer_visits(turn: Turn) -> None:
    if turn.value != "add":
        turn.say(turn.t("Please choose with the buttons."))
        return
    buildings = turn.scopes(Role.BUILDING_HEAD)
    if len(buildings) == 1:
        turn.remember(building_id=buildings[0])
        await turn.goto(V_UNIT)
        return
    await turn.goto(V_BUILDING)


async def ask_visit_building(turn: Turn) -> None:
    buttons = [turn.option(b.name, str(b.id)) for b in await my_buildings(turn, admin=False)]
    turn.say(turn.t("In which building?"), [*rows(buttons, 3), turn.nav()])


async def answer_visit_building(turn: Turn) -> None:
    if (
        turn.value is None
        or not turn.value.isdecimal()
        or int(turn.value) not in turn.scopes(Role.BUILDING_HEAD)
    ):
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(building_id=int(turn.value))
    await turn.goto(V_UNIT)


async def ask_visit_unit(turn: Turn) -> None:
    turn.say(turn.t("Which unit (flat)?"), [turn.nav()])


async def answer_visit_unit(turn: Turn) -> None:
    unit = text_input(turn, limit=MAX_UNIT, what=N_("the unit"))
    if unit is not None:
        turn.remember(unit=unit)
        await turn.goto(V_REASON)


async def ask_visit_reason(turn: Turn) -> None:
    turn.say(turn.t("Why do they need visits? (for example: lives alone, 86)"), [turn.nav()])


async def answer_visit_reason(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_REASON, what=N_("the reason"))
    if reason is not None:
        turn.remember(reason=reason)
        await turn.goto(V_EVERY)


async def ask_visit_every(turn: Turn) -> None:
    t = turn.t
    buttons = [
        turn.option(t.plural("Every {n} day", "Every {n} days", n), str(n)) for n in EVERY_DAYS
    ]
    turn.say(t("How often?"), [tuple(buttons), turn.nav()])


async def answer_visit_every(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value is None or not turn.value.isdecimal() or int(turn.value) not in EVERY_DAYS:
        turn.say(turn.t("Please choose with the buttons."))
        return
    plan = await flag_visits(
        turn.session,
        turn.person,
        turn.data["building_id"],
        turn.data["unit"],
        turn.data["reason"],
        int(turn.value),
    )
    turn.end()
    turn.say(
        turn.t(
            "{unit} is flagged. I will remind you of the first visit on {when}.",
            unit=plan.unit,
            when=turn.t.when(plan.next_due_at),
        )
    )


@action("visited")
async def visited(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    plan_id = button_number(args)
    due = None
    if len(args) > 1 and args[1].isdecimal():
        due = dt.datetime.fromtimestamp(int(args[1]), dt.UTC)
    visit = await record_visit(turn.session, turn.person, plan_id, due=due)
    plan = await turn.session.get(VisitPlan, visit.plan_id)
    assert plan is not None
    turn.say(
        turn.t(
            "Thank you! The visit to {unit} is recorded; the next is due {when}.",
            unit=plan.unit,
            when=turn.t.when(plan.next_due_at),
        )
    )


@reminder_kind("visit.due")
async def _visit_due(speaker: Speaker, reminder: Reminder) -> None:
    plan = await due_plan(speaker.session, reminder)
    if plan is None:
        return  # visited already, or no longer planned
    heads: list[int | None] = [
        *await holders_at(speaker.session, Role.BUILDING_HEAD, plan.building_id)
    ] or [reminder.target_person_id]
    building = await building_name(speaker, plan.building_id)
    for head_id in dict.fromkeys(heads):
        if head_id is None:
            continue
        await speaker.tell(
            head_id,
            lambda t: Reply(
                t(
                    "Time to visit {unit} in {building} ({reason}).",
                    unit=plan.unit,
                    building=building,
                    reason=plan.reason,
                ),
                ((visited_button(t, plan),),),
            ),
        )


add_steps(
    FLOW,
    {
        V_LIST: Step(ask_visits, answer_visits),
        V_BUILDING: Step(ask_visit_building, answer_visit_building),
        V_UNIT: Step(ask_visit_unit, answer_visit_unit),
        V_REASON: Step(ask_visit_reason, answer_visit_reason),
        V_EVERY: Step(ask_visit_every, answer_visit_every),
    },
)

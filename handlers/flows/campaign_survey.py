"""/survey: a building head answers the campaign's questions unit by unit, for their buildings.

Steps units and question, in the `campaigns` conversation; the "campaign.behind" reminder.
"""

from __future__ import annotations

from typing import Any

from handlers.flows.campaigns import FLOW
from handlers.flows.common import button_number, rows, text_input
from handlers.i18n import Markup, Translator
from handlers.messages import Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import action, command
from handlers.turn import Speaker, Step, Turn, action_button, add_steps
from models.campaign_answers import NO, YES, answer, skip_unit
from models.campaign_results import coverage, heads_behind
from models.campaign_units import (
    answers_of_unit,
    buildings_of_survey,
    get_survey,
    get_unit,
    open_surveys_for,
    questions_of,
    units_of,
)
from models.community import Building
from models.directory import building_names
from models.errors import N_, NotAllowed
from models.people import Role
from models.reminders import Reminder
from models.surveys import QuestionKind, Survey, SurveyUnit, UnitStatus

UNITS = "units"
QUESTION = "question"

MARKS = {UnitStatus.WAITING: "", UnitStatus.SKIPPED: "⏭ ", UnitStatus.DONE: "✅ "}


def _answer_text(t: Translator, kind: QuestionKind, value: str) -> str:
    if kind == QuestionKind.YES_NO:
        return t.raw(N_("Yes")) if value == YES else t.raw(N_("No"))
    return value


@command(
    "survey", N_("answer the office's campaign for the units of your building"), Role.BUILDING_HEAD
)
async def survey(turn: Turn) -> None:
    surveys = await open_surveys_for(turn.session, turn.scopes(Role.BUILDING_HEAD))
    if not surveys:
        turn.say(turn.t("There is no campaign for your building now."))
        return
    await _open_units(turn, surveys[0])


@action("campaign_units")
async def campaign_units(turn: Turn, args: list[str]) -> None:
    found = await get_survey(turn.session, button_number(args))
    await _open_units(turn, found)


async def _my_buildings(turn: Turn, survey: Survey) -> list[int]:
    """The campaign's buildings this head looks after."""
    mine = set(turn.scopes(Role.BUILDING_HEAD))
    return [b.id for b in await buildings_of_survey(turn.session, survey.id) if b.id in mine]


async def _open_units(turn: Turn, survey: Survey) -> None:
    if survey.closed:
        turn.say(turn.t("This campaign is closed."))
        return
    if not await _my_buildings(turn, survey):
        raise NotAllowed(N_("Only the building's head or an admin can answer for its units."))
    await turn.start(FLOW, UNITS, survey_id=survey.id)


async def ask_units(turn: Turn) -> None:
    t = turn.t
    found = await get_survey(turn.session, turn.data["survey_id"])
    mine = await _my_buildings(turn, found)
    units = await units_of(turn.session, found.id, mine)
    share = await coverage(turn.session, found.id)
    progress = [
        t("{building}: {done}/{total}", building=s.name, done=s.done, total=s.total)
        for s in share.buildings
        if s.id in mine
    ]
    names = await building_names(turn.session, mine)
    several = len(mine) > 1
    buttons = [
        turn.option(
            MARKS[u.status] + (names[u.building_id] + " " if several else "") + u.unit, str(u.id)
        )
        for u in units
    ]
    turn.say(
        t(
            "<b>{title}</b> — {progress}\nChoose a unit (✅ done, ⏭ skipped; a done unit can be corrected).",
            title=found.title,
            progress=Markup("; ".join(progress)),
        ),
        [*rows(buttons, 4), (turn.option(t.raw("✖ Close"), "close"),)],
    )


async def answer_units(turn: Turn) -> None:
    if turn.value == "close":
        turn.end()
        turn.say(turn.t("Your answers are saved. /survey brings you back."))
        return
    unit = await _my_unit(turn, turn.value)
    if unit is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(unit_id=unit.id, position=0)
    await turn.goto(QUESTION)


async def _my_unit(turn: Turn, value: str | None) -> SurveyUnit | None:
    if not value or not value.isdecimal():
        return None
    unit = await turn.session.get(SurveyUnit, int(value))
    found = await get_survey(turn.session, turn.data["survey_id"])
    if unit is None or unit.survey_id != found.id:
        return None
    if unit.building_id not in await _my_buildings(turn, found):
        return None
    return unit


async def ask_question(turn: Turn) -> None:
    t = turn.t
    unit = await get_unit(turn.session, turn.data["unit_id"])
    questions = await questions_of(turn.session, unit.survey_id)
    position = turn.data.get("position", 0)
    question = questions[position]
    current = (await answers_of_unit(turn.session, unit)).get(question.id)
    building = await turn.session.get(Building, unit.building_id)
    text = t(
        "{building} · {unit} — question {n} of {total}{sensitive}\n<b>{question}</b>",
        building=building.name if building else "?",
        unit=unit.unit,
        n=position + 1,
        total=len(questions),
        sensitive=" 🔒" if question.sensitive else "",
        question=question.text,
    )
    if question.kind == QuestionKind.NUMBER:
        text += "\n" + t("Type a number.")
    elif question.kind == QuestionKind.TEXT:
        text += "\n" + t("Type the answer.")
    buttons: list[tuple[Any, ...]] = []
    if question.kind == QuestionKind.CHOICE:
        buttons += rows([turn.option(c, f"c{i}") for i, c in enumerate(question.choices)], 2)
    elif question.kind == QuestionKind.YES_NO:
        buttons.append((turn.option(t.raw(N_("Yes")), YES), turn.option(t.raw(N_("No")), NO)))
    if current is not None:
        buttons.append(
            (
                turn.option(
                    t("✔ Keep: {answer}", answer=_answer_text(t, question.kind, current))[:60],
                    "keep",
                ),
            )
        )
    buttons.append(
        (
            turn.option(t.raw("« Back"), "prev"),
            turn.option(t.raw("⏭ Skip this unit"), "skip"),
            turn.option(t.raw("☰ Units"), "units"),
        )
    )
    turn.say(text, buttons)


async def answer_question(turn: Turn) -> None:
    assert turn.person is not None
    unit = await get_unit(turn.session, turn.data["unit_id"])
    questions = await questions_of(turn.session, unit.survey_id)
    position = turn.data.get("position", 0)
    question = questions[position]
    value = turn.value
    if value == "units":
        await turn.goto(UNITS)
        return
    if value == "skip":
        await skip_unit(turn.session, turn.person, unit.survey_id, unit.building_id, unit.unit)
        turn.say(turn.t("Unit {unit} skipped; you can come back to it.", unit=unit.unit))
        await _back_to_units(turn)
        return
    if value == "prev":
        if position == 0:
            await _back_to_units(turn)
        else:
            turn.remember(position=position - 1)
            await turn.goto(QUESTION)
        return
    if value != "keep":
        given: str | None
        if question.kind == QuestionKind.CHOICE:
            given = next((c for i, c in enumerate(question.choices) if value == f"c{i}"), None)
        elif question.kind == QuestionKind.YES_NO:
            given = value if value in (YES, NO) else None
        else:
            given = text_input(turn, limit=500, what=N_("the answer")) if value is None else None
            if given is None and value is None:
                return
        if given is None:
            turn.say(turn.t("Please choose with the buttons."))
            return
        unit = await answer(
            turn.session,
            turn.person,
            unit.survey_id,
            unit.building_id,
            unit.unit,
            question.id,
            given,
        )
    if position + 1 < len(questions):
        turn.remember(position=position + 1)
        await turn.goto(QUESTION)
        return
    if unit.status == UnitStatus.DONE:
        turn.say(turn.t("✅ Unit {unit} is done. Thank you!", unit=unit.unit))
    else:
        turn.say(turn.t("Some questions of unit {unit} are still open.", unit=unit.unit))
    await _back_to_units(turn)


async def _back_to_units(turn: Turn) -> None:
    turn.remember(_back=[])
    await turn.goto(UNITS, remember_back=False)


# --- the scheduler ---------------------------------------------------------------------------------


@reminder_kind("campaign.behind")
async def remind_behind(speaker: Speaker, reminder: Reminder) -> None:
    """A day before the deadline: only the heads whose buildings are not complete."""
    survey_id = reminder.payload.get("survey_id")
    if not isinstance(survey_id, int):
        return
    found = await speaker.session.get(Survey, survey_id)
    if found is None or found.closed:
        return
    for head, shares in (await heads_behind(speaker.session, survey_id)).items():

        def build(t: Translator, shares: Any = shares, found: Survey = found) -> Reply:
            return Reply(
                t(
                    "Reminder: <b>{title}</b> ends {deadline}. Still open: {progress}",
                    title=found.title,
                    deadline=t.when(found.deadline),
                    progress=Markup(
                        "; ".join(
                            t(
                                "{building}: {done}/{total}",
                                building=s.name,
                                done=s.done,
                                total=s.total,
                            )
                            for s in shares
                        )
                    ),
                ),
                ((action_button(t.raw("▶ Continue"), "campaign_units", found.id),),),
            )

        await speaker.tell(head, build)


add_steps(
    FLOW, {UNITS: Step(ask_units, answer_units), QUESTION: Step(ask_question, answer_question)}
)

"""Campaigns: /campaign defines one in chat, /survey lets heads answer unit by unit,
/coverage shows progress, /campaign_export sends the answers as XLSX; see campaigns.md.

The scheduler's "campaign.behind" reminder tells the heads whose buildings are not done.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from io import BytesIO
from typing import Any

from handlers.flows.common import buildings_of, button_number, rows, text_input
from handlers.i18n import Markup, Translator
from handlers.messages import Document, Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import action, command
from handlers.turn import Flow, Speaker, Step, Turn, action_button, register_flow
from models.campaigns import (
    NO,
    YES,
    Coverage,
    answer,
    answers_of_unit,
    buildings_of_survey,
    coverage,
    export_rows,
    get_survey,
    get_unit,
    heads_behind,
    open_surveys_for,
    parse_definition,
    parse_question,
    parse_question_line,
    questions_of,
    skip_unit,
    start_campaign,
    units_of,
)
from models.clock import now
from models.community import Building
from models.directory import building_names
from models.errors import N_, NotAllowed
from models.people import Role
from models.reach import holders_at
from models.reminders import Reminder
from models.surveys import QuestionKind, Survey, SurveyUnit, UnitStatus

TITLE = "title"
QUESTIONS = "questions"
BUILDINGS = "buildings"
DEADLINE = "deadline"
SUMMARY = "summary"
UNITS = "units"
QUESTION = "question"

DEADLINES = ((3, N_("3 days")), (7, N_("a week")), (14, N_("two weeks")))
KIND_NAMES = {
    QuestionKind.CHOICE: N_("choice"),
    QuestionKind.NUMBER: N_("number"),
    QuestionKind.YES_NO: N_("yes/no"),
    QuestionKind.TEXT: N_("text"),
}
STATUS_NAMES = {
    UnitStatus.WAITING: N_("waiting"),
    UnitStatus.SKIPPED: N_("skipped"),
    UnitStatus.DONE: N_("done"),
}
MARKS = {UnitStatus.WAITING: "", UnitStatus.SKIPPED: "⏭ ", UnitStatus.DONE: "✅ "}


def _kind_name(t: Translator, kind: QuestionKind) -> str:
    return t.raw(KIND_NAMES[kind])


def _answer_text(t: Translator, kind: QuestionKind, value: str) -> str:
    if kind == QuestionKind.YES_NO:
        return t.raw(N_("Yes")) if value == YES else t.raw(N_("No"))
    return value


# --- /campaign: define and start ----------------------------------------------------------------


@command("campaign", N_("start a campaign collecting household information"), Role.ADMIN)
async def campaign(turn: Turn) -> None:
    await turn.start(FLOW, TITLE, community_id=turn.scopes(Role.ADMIN)[0], questions=[])


async def ask_title(turn: Turn) -> None:
    turn.say(
        turn.t("A new campaign. What is its title? (e.g. Household check 2026)"),
        [turn.nav(back=False)],
    )


async def answer_title(turn: Turn) -> None:
    title = text_input(turn, limit=200, what=N_("a title"))
    if title:
        turn.remember(title=title)
        await turn.goto(QUESTIONS)


def _question_lines(t: Translator, questions: list[dict[str, Any]]) -> str:
    lines = []
    for i, q in enumerate(questions, start=1):
        parsed = parse_question(q)
        lines.append(
            t(
                "{n}. {text} ({kind}{choices}){sensitive}",
                n=i,
                text=parsed.text,
                kind=_kind_name(t, parsed.kind),
                choices=": " + ", ".join(parsed.choices) if parsed.choices else "",
                sensitive=" 🔒" if parsed.sensitive else "",
            )
        )
    return "\n".join(lines)


async def ask_questions(turn: Turn) -> None:
    t = turn.t
    questions = turn.data.get("questions", [])
    text = t(
        "Send the questions, one per message:\n"
        "<code>text: Standard address</code>\n"
        "<code>number: How many people live here?</code>\n"
        "<code>choice: Housing type = owned, rented, public</code>\n"
        "<code>yes/no: Does someone live alone? !</code>\n"
        "A final ! marks a sensitive question (health, living alone, disabilities)."
    )
    if questions:
        text += "\n\n" + _question_lines(t, questions)
    done = [turn.option(t.raw("✔ Done"), "done")] if questions else []
    turn.say(text, [tuple(done), turn.nav()])


async def answer_questions(turn: Turn) -> None:
    if turn.value == "done":
        if turn.data.get("questions"):
            await turn.goto(BUILDINGS)
        return
    line = text_input(turn, limit=500, what=N_("a question"))
    if line is None:
        return
    question = parse_question_line(line)
    turn.remember(questions=[*turn.data.get("questions", []), question])
    await turn.goto(QUESTIONS)


async def ask_buildings(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("buildings", []))
    buttons = [
        turn.option(("✅ " if b.name in chosen else "") + b.name, str(b.id))
        for b in await buildings_of(turn, turn.data["community_id"])
    ]
    done = [turn.option(t.raw("✔ Done"), "done")] if chosen else []
    turn.say(
        t("Which buildings? Press to choose or unchoose, then Done."),
        [*rows(buttons, 3), tuple(done), turn.nav()],
    )


async def answer_buildings(turn: Turn) -> None:
    if turn.value == "done":
        if turn.data.get("buildings"):
            await turn.goto(DEADLINE)
        return
    found = next(
        (b for b in await buildings_of(turn, turn.data["community_id"]) if str(b.id) == turn.value),
        None,
    )
    if found is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    chosen = list(turn.data.get("buildings", []))
    if found.name in chosen:
        chosen.remove(found.name)
    else:
        chosen.append(found.name)
    turn.remember(buildings=chosen)
    await turn.goto(BUILDINGS)


async def ask_deadline(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), str(days)) for days, label in DEADLINES]
    turn.say(t("By when should the heads have answered?"), [tuple(buttons), turn.nav()])


async def answer_deadline(turn: Turn) -> None:
    days = next((d for d, _ in DEADLINES if str(d) == turn.value), None)
    if days is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    deadline = now(turn.session) + dt.timedelta(days=days)
    turn.remember(deadline=deadline.isoformat())
    await turn.goto(SUMMARY)


def _definition(turn: Turn) -> dict[str, Any]:
    return {
        "title": turn.data.get("title"),
        "questions": turn.data.get("questions", []),
        "buildings": turn.data.get("buildings", []),
        "deadline": turn.data.get("deadline"),
    }


async def ask_summary(turn: Turn) -> None:
    t = turn.t
    definition = parse_definition(_definition(turn), turn.config.timezone)
    turn.say(
        t(
            "<b>{title}</b>\nBuildings: {buildings}\nDeadline: {deadline}\n\n{questions}\n\n"
            "Start it? The heads of these buildings will be asked at once.",
            title=definition.title,
            buildings=", ".join(definition.buildings),
            deadline=t.when(definition.deadline),
            questions=Markup(_question_lines(t, list(turn.data["questions"]))),
        ),
        [(turn.option(t.raw("🚀 Start"), "start"),), turn.nav()],
    )


async def answer_summary(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value != "start":
        turn.say(turn.t("Please choose with the buttons."))
        return
    definition = parse_definition(_definition(turn), turn.config.timezone)
    survey = await start_campaign(turn.session, turn.person, turn.data["community_id"], definition)
    turn.end()
    share = await coverage(turn.session, survey.id)
    turn.say(
        turn.t(
            "Campaign <b>{title}</b> started: {total} units in {buildings} buildings. "
            "/coverage shows the progress.",
            title=survey.title,
            total=share.total,
            buildings=len(share.buildings),
        )
    )
    for building in share.buildings:
        for head in await _heads(turn, building.id):
            await turn.tell(head, _invitation(survey, building.name, building.total))


def _invitation(survey: Survey, building: str, total: int) -> Any:
    def build(t: Translator) -> Reply:
        return Reply(
            t(
                "The office asks you about every unit of {building} ({total} units): "
                "<b>{title}</b>, until {deadline}.",
                building=building,
                total=total,
                title=survey.title,
                deadline=t.when(survey.deadline),
            ),
            ((action_button(t.raw("▶ Start"), "campaign_units", survey.id),),),
        )

    return build


async def _heads(turn: Speaker, building_id: int) -> list[int]:
    return await holders_at(turn.session, Role.BUILDING_HEAD, building_id)


# --- /survey: answer unit by unit ---------------------------------------------------------------


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


# --- /coverage and the export --------------------------------------------------------------------


def coverage_text(t: Translator, survey: Survey, share: Coverage) -> str:
    def line(name: str, done: int, total: int, percent: int) -> str:
        return t(
            "{name}: {done}/{total} ({percent} %)",
            name=name,
            done=done,
            total=total,
            percent=percent,
        )

    parts = [
        t(
            "<b>{title}</b> — until {deadline}: {done}/{total} ({percent} %)",
            title=survey.title,
            deadline=t.when(survey.deadline),
            done=share.done,
            total=share.total,
            percent=share.percent,
        ),
        t.raw("Grids:"),
        *(line(g.name, g.done, g.total, g.percent) for g in share.grids),
        t.raw("Buildings:"),
        *(line(b.name, b.done, b.total, b.percent) for b in share.buildings),
    ]
    return "\n".join(parts)


@command(
    "coverage",
    N_("how far the campaigns are, per grid and building"),
    Role.BUILDING_HEAD,
    Role.GRID_WORKER,
    Role.ADMIN,
)
async def coverage_command(turn: Turn) -> None:
    communities = await turn.reach(Role.ADMIN, Role.GRID_WORKER).community_ids(turn.session)
    surveys = await open_surveys_for(turn.session, turn.scopes(Role.BUILDING_HEAD), communities)
    if not surveys:
        turn.say(turn.t("There is no campaign running."))
        return
    for found in surveys:
        share = await coverage(turn.session, found.id)
        buttons = (
            [(turn.action(turn.t.raw("📊 Export XLSX"), "campaign_export", found.id),)]
            if found.community_id in turn.scopes(Role.ADMIN)
            else []
        )
        turn.say(coverage_text(turn.t, found, share), buttons)


@command("campaign_export", N_("the campaign answers as a spreadsheet"), Role.ADMIN)
async def campaign_export_command(turn: Turn) -> None:
    surveys = await open_surveys_for(turn.session, (), turn.scopes(Role.ADMIN))
    if not surveys:
        turn.say(turn.t("There is no campaign running."))
        return
    for found in surveys:
        await _export(turn, found.id)


@action("campaign_export")
async def campaign_export_action(turn: Turn, args: list[str]) -> None:
    await _export(turn, button_number(args))


async def _export(turn: Turn, survey_id: int) -> None:
    assert turn.person is not None
    t = turn.t
    export = await export_rows(turn.session, turn.person, survey_id)
    header = [t.raw(N_("building")), t.raw(N_("unit")), t.raw(N_("status")), *export.questions]
    body = [(b, u, t.raw(STATUS_NAMES[UnitStatus(s)]), *values) for b, u, s, *values in export.rows]
    content = await asyncio.to_thread(xlsx_bytes, export.title, header, body)
    day = now(turn.session).astimezone(turn.config.timezone).date().isoformat()
    turn.say(
        t.plural(
            "{title}: one unit.",
            "{title}: {n} units.",
            len(body),
            title=export.title,
        ),
        document=Document(f"campaign-{survey_id}-{day}.xlsx", content),
    )


def xlsx_bytes(title: str, header: list[str], body: list[tuple[str, ...]]) -> bytes:
    """One sheet, text kept as text (even when it starts with '=')."""
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    sheet.title = ILLEGAL_CHARACTERS_RE.sub("", title).replace("/", " ")[:31] or "Campaign"
    for row_number, row in enumerate([header, *body], start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(
                row=row_number, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", value)
            )
            cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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


FLOW = register_flow(
    Flow(
        "campaigns",
        {
            TITLE: Step(ask_title, answer_title),
            QUESTIONS: Step(ask_questions, answer_questions),
            BUILDINGS: Step(ask_buildings, answer_buildings),
            DEADLINE: Step(ask_deadline, answer_deadline),
            SUMMARY: Step(ask_summary, answer_summary),
            UNITS: Step(ask_units, answer_units),
            QUESTION: Step(ask_question, answer_question),
        },
    )
)

"""Campaigns: /campaign, an admin defines one in chat (title, questions, buildings, deadline).

Once started, its buildings' heads are told with ▶ Start; the rooms are listed in campaigns.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.flows.common import buildings_of, rows, text_input
from handlers.i18n import Markup, Translator
from handlers.messages import Reply
from handlers.router import command
from handlers.turn import Flow, Speaker, Step, Turn, action_button, register_flow
from models.campaign_answers import start_campaign
from models.campaign_definitions import parse_definition, parse_question, parse_question_line
from models.campaign_results import coverage
from models.clock import now
from models.errors import N_
from models.people import Role
from models.reach import holders_at
from models.surveys import QuestionKind, Survey

TITLE = "title"
QUESTIONS = "questions"
BUILDINGS = "buildings"
DEADLINE = "deadline"
SUMMARY = "summary"

DEADLINES = ((3, N_("3 days")), (7, N_("a week")), (14, N_("two weeks")))
KIND_NAMES = {
    QuestionKind.CHOICE: N_("choice"),
    QuestionKind.NUMBER: N_("number"),
    QuestionKind.YES_NO: N_("yes/no"),
    QuestionKind.TEXT: N_("text"),
}


def _kind_name(t: Translator, kind: QuestionKind) -> str:
    return t.raw(KIND_NAMES[kind])


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


FLOW = register_flow(
    Flow(
        "campaigns",
        {
            TITLE: Step(ask_title, answer_title),
            QUESTIONS: Step(ask_questions, answer_questions),
            BUILDINGS: Step(ask_buildings, answer_buildings),
            DEADLINE: Step(ask_deadline, answer_deadline),
            SUMMARY: Step(ask_summary, answer_summary),
        },
    )
)

"""Information-collection campaigns: define, start, answer unit by unit, coverage, exports.

Heads answer for the units of their building; sensitive answers are seen only by that
building's head and the community's admins, and appear in the privacy export of the person
they are about. The caller owns the transaction; refusals are StoreErrors with N_() keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Grid
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import Person, Role, RoleGrant
from models.permissions import has_role
from models.reach import Place, grants_of, place_of_building, reach_of
from models.schedule import add_reminder
from models.surveys import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyBuilding,
    SurveyQuestion,
    SurveyUnit,
    UnitStatus,
)

BEHIND = "campaign.behind"
MAX_TITLE = 200
MAX_QUESTION = 300
MAX_QUESTIONS = 30
MAX_CHOICES = 12
MAX_CHOICE = 40
MAX_TEXT_ANSWER = 500
HIDDEN = "—"
UTC_ZONE = ZoneInfo("UTC")
YES = "yes"
NO = "no"

KIND_WORDS = {
    "choice": QuestionKind.CHOICE,
    "number": QuestionKind.NUMBER,
    "yes/no": QuestionKind.YES_NO,
    "yes_no": QuestionKind.YES_NO,
    "yesno": QuestionKind.YES_NO,
    "text": QuestionKind.TEXT,
    # The same kinds in Chinese, as the Chinese help shows them.
    "选择": QuestionKind.CHOICE,
    "数字": QuestionKind.NUMBER,
    "是否": QuestionKind.YES_NO,
    "是/否": QuestionKind.YES_NO,
    "文字": QuestionKind.TEXT,
}


@dataclass(frozen=True)
class QuestionDefinition:
    text: str
    kind: QuestionKind
    choices: tuple[str, ...] = ()
    sensitive: bool = False


@dataclass(frozen=True)
class CampaignDefinition:
    title: str
    questions: tuple[QuestionDefinition, ...]
    buildings: tuple[str, ...]  # building names in the community
    deadline: dt.datetime  # aware


# --- definitions --------------------------------------------------------------------------------


def _text(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput(N_("The campaign needs {what}."), what=what)
    text = str(value).strip()
    if not text:
        raise InvalidInput(N_("The campaign needs {what}."), what=what)
    if len(text) > limit:
        raise InvalidInput(
            N_("{what} is too long (at most {limit} characters)."), what=what, limit=limit
        )
    return text


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("", "0", "no", "false", "n"):
        return False
    if text in ("1", "yes", "true", "y", "!", "x"):
        return True
    raise InvalidInput(N_("'{value}' is neither yes nor no."), value=value)


def _kind(value: object) -> QuestionKind:
    kind = KIND_WORDS.get(str(value or "").strip().lower())
    if kind is None:
        raise InvalidInput(
            N_("'{value}' is not a kind of question (choice, number, yes/no, text)."),
            value=value,
        )
    return kind


def _choices(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidInput(N_("The choices must be a list."))
    choices = tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))
    if any(len(c) > MAX_CHOICE for c in choices):
        raise InvalidInput(N_("A choice may have at most {limit} characters."), limit=MAX_CHOICE)
    return choices


def parse_question(data: Mapping[str, Any]) -> QuestionDefinition:
    text = _text(data.get("text"), MAX_QUESTION, N_("a question"))
    kind = _kind(data.get("kind"))
    choices = _choices(data.get("choices"))
    if kind == QuestionKind.CHOICE and not 2 <= len(choices) <= MAX_CHOICES:
        raise InvalidInput(
            N_("The question '{question}' needs between 2 and {limit} choices."),
            question=text,
            limit=MAX_CHOICES,
        )
    if kind != QuestionKind.CHOICE:
        choices = ()
    return QuestionDefinition(text, kind, choices, _flag(data.get("sensitive")))


def parse_question_line(line: str) -> dict[str, Any]:
    """One question in the chat syntax: "kind: text [= a, b, c] [!]", "!" marks it sensitive.

    "yes/no: Does someone live alone? !", "choice: Housing = owned, rented, public",
    "number: How many people live here?", "text: Standard address".
    """
    # Chinese keyboards type the full-width colon, equals sign and comma.
    line = line.replace("：", ":").replace("＝", "=").replace("，", ",").replace("、", ",")
    kind, colon, rest = line.partition(":")
    if not colon:
        raise InvalidInput(
            N_("Please write the question as kind: text, e.g. number: How many people live here?")
        )
    rest = rest.strip()
    sensitive = rest.endswith("!")
    if sensitive:
        rest = rest[:-1].rstrip()
    text, equals, choices = rest.partition("=")
    question: dict[str, Any] = {
        "kind": kind.strip(),
        "text": text.strip(),
        "sensitive": sensitive,
    }
    if equals:
        question["choices"] = choices
    parse_question(question)  # refuse it now, while the person can still correct it
    return question


def _deadline(value: object, timezone: ZoneInfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        # A day: the campaign runs to the end of it.
        moment = dt.datetime.combine(value, dt.time(23, 59))
    else:
        text = str(value or "").strip()
        try:
            if len(text) == 10:
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59))
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                N_("'{value}' is not a deadline like 2026-12-01 or 2026-12-01T18:00."),
                value=text,
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone)


def parse_definition(data: Mapping[str, Any], timezone: ZoneInfo = UTC_ZONE) -> CampaignDefinition:
    """Check a campaign as given (chat, YAML, CSV); a naive deadline is read in `timezone`."""
    if not isinstance(data, Mapping):
        raise InvalidInput(N_("A campaign must have a title, questions, buildings and a deadline."))
    title = _text(data.get("title"), MAX_TITLE, N_("a title"))
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list | tuple) or not raw_questions:
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a question"))
    if len(raw_questions) > MAX_QUESTIONS:
        raise InvalidInput(
            N_("A campaign may have at most {limit} questions."), limit=MAX_QUESTIONS
        )
    questions = []
    for raw in raw_questions:
        if not isinstance(raw, Mapping):
            raise InvalidInput(N_("Each question needs a text and a kind."))
        questions.append(parse_question(raw))
    raw_buildings = data.get("buildings")
    if isinstance(raw_buildings, str):
        raw_buildings = raw_buildings.split(",")
    if not isinstance(raw_buildings, list | tuple):
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a building"))
    buildings = tuple(dict.fromkeys(str(b).strip() for b in raw_buildings if str(b).strip()))
    if not buildings:
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a building"))
    deadline = _deadline(data.get("deadline"), timezone)
    return CampaignDefinition(title, tuple(questions), buildings, deadline)


# --- who may -----------------------------------------------------------------------------------


async def get_survey(session: AsyncSession, survey_id: int) -> Survey:
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(N_("There is no such campaign."))
    return survey


async def _is_admin(session: AsyncSession, person: Person, community_id: int) -> bool:
    return community_id in reach_of(await grants_of(session, person), Role.ADMIN).communities


async def _require_admin(session: AsyncSession, actor: Person, community_id: int) -> None:
    if not await _is_admin(session, actor, community_id):
        raise NotAllowed(N_("Only the community's admins can do this with a campaign."))


async def _survey_place(session: AsyncSession, survey: Survey, building_id: int) -> Place:
    found = await session.get(SurveyBuilding, (survey.id, building_id))
    if found is None:
        raise NotFound(N_("This building is not part of the campaign."))
    return await place_of_building(session, building_id)


async def _may_answer(
    session: AsyncSession, actor: Person, survey: Survey, building_id: int
) -> None:
    place = await _survey_place(session, survey, building_id)
    grants = await grants_of(session, actor)
    if not (has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place)):
        raise NotAllowed(N_("Only the building's head or an admin can answer for its units."))


# --- start ---------------------------------------------------------------------------------------


async def _buildings_by_name(
    session: AsyncSession, community_id: int, names: Sequence[str]
) -> list[Building]:
    found = []
    for name in names:
        matches = (
            await session.scalars(
                select(Building)
                .join(Grid, Grid.id == Building.grid_id)
                .where(Grid.community_id == community_id, Building.name == name)
            )
        ).all()
        if not matches:
            raise NotFound(N_("There is no building {name} in this community."), name=name)
        if len(matches) > 1:
            raise InvalidInput(
                N_("There are several buildings called {name}; rename one first."), name=name
            )
        found.append(matches[0])
    return found


async def known_units(session: AsyncSession, building_id: int) -> list[str]:
    """The units people are registered in, sorted (numbers by value, then text)."""
    units = (
        await session.scalars(
            select(Person.unit)
            .where(Person.building_id == building_id, Person.unit.is_not(None))
            .distinct()
        )
    ).all()
    cleaned = {u.strip() for u in units if u and u.strip()}
    return sorted(cleaned, key=lambda u: (not u.isdigit(), int(u) if u.isdigit() else 0, u))


async def start_campaign(
    session: AsyncSession, actor: Person, community_id: int, definition: CampaignDefinition
) -> Survey:
    await _require_admin(session, actor, community_id)
    moment = now(session)
    if definition.deadline <= moment:
        raise InvalidInput(N_("The deadline has already passed."))
    buildings = await _buildings_by_name(session, community_id, definition.buildings)
    survey = Survey(
        community_id=community_id,
        title=definition.title,
        deadline=definition.deadline,
        created_by_id=actor.id,
        created_at=moment,
        closed=False,
    )
    session.add(survey)
    await session.flush()
    for position, q in enumerate(definition.questions):
        session.add(
            SurveyQuestion(
                survey_id=survey.id,
                position=position,
                kind=q.kind,
                text=q.text,
                choices=list(q.choices),
                sensitive=q.sensitive,
            )
        )
    for building in buildings:
        session.add(SurveyBuilding(survey_id=survey.id, building_id=building.id))
        for unit in await known_units(session, building.id):
            session.add(
                SurveyUnit(
                    survey_id=survey.id,
                    building_id=building.id,
                    unit=unit,
                    status=UnitStatus.WAITING,
                    updated_at=moment,
                )
            )
    await session.flush()
    await add_reminder(
        session,
        BEHIND,
        max(moment, definition.deadline - dt.timedelta(days=1)),
        key=f"{BEHIND}:{survey.id}",
        payload={"survey_id": survey.id},
    )
    return survey


# --- reading --------------------------------------------------------------------------------------


async def questions_of(session: AsyncSession, survey_id: int) -> list[SurveyQuestion]:
    return list(
        (
            await session.scalars(
                select(SurveyQuestion)
                .where(SurveyQuestion.survey_id == survey_id)
                .order_by(SurveyQuestion.position)
            )
        ).all()
    )


async def buildings_of_survey(session: AsyncSession, survey_id: int) -> list[Building]:
    return list(
        (
            await session.scalars(
                select(Building)
                .join(SurveyBuilding, SurveyBuilding.building_id == Building.id)
                .where(SurveyBuilding.survey_id == survey_id)
                .order_by(Building.name)
            )
        ).all()
    )


async def units_of(
    session: AsyncSession, survey_id: int, building_ids: Sequence[int]
) -> list[SurveyUnit]:
    units = (
        await session.scalars(
            select(SurveyUnit).where(
                SurveyUnit.survey_id == survey_id, SurveyUnit.building_id.in_(building_ids)
            )
        )
    ).all()
    order = {u: i for i, u in enumerate(sorted({x.unit for x in units}, key=_unit_key))}
    return sorted(units, key=lambda u: (u.building_id, order[u.unit]))


def _unit_key(unit: str) -> tuple[bool, int, str]:
    return (not unit.isdigit(), int(unit) if unit.isdigit() else 0, unit)


async def get_unit(session: AsyncSession, unit_id: int) -> SurveyUnit:
    unit = await session.get(SurveyUnit, unit_id)
    if unit is None:
        raise NotFound(N_("There is no such unit in the campaign."))
    return unit


async def answers_of_unit(session: AsyncSession, unit: SurveyUnit) -> dict[int, str]:
    """The unit's answers by question id (for the head who answers, not for display to others)."""
    rows = (
        await session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.value)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(
                SurveyQuestion.survey_id == unit.survey_id,
                SurveyAnswer.building_id == unit.building_id,
                SurveyAnswer.unit == unit.unit,
            )
        )
    ).all()
    return {q: v for q, v in rows}


async def open_surveys_for(
    session: AsyncSession, building_ids: Sequence[int], community_ids: Sequence[int] = ()
) -> list[Survey]:
    """Campaigns not closed that ask these buildings, or run in these communities; newest first."""
    asked = select(SurveyBuilding.survey_id).where(SurveyBuilding.building_id.in_(building_ids))
    return list(
        (
            await session.scalars(
                select(Survey)
                .where(
                    Survey.closed.is_(False),
                    Survey.id.in_(asked) | Survey.community_id.in_(community_ids),
                )
                .order_by(Survey.id.desc())
            )
        ).all()
    )


# --- answering -----------------------------------------------------------------------------------


def clean_value(question: SurveyQuestion, value: str) -> str:
    """The answer as stored, or a refusal saying what this kind of question needs."""
    text = str(value).strip()
    if question.kind == QuestionKind.CHOICE:
        if text not in question.choices:
            raise InvalidInput(
                N_("Please choose one of: {choices}."), choices=", ".join(question.choices)
            )
        return text
    if question.kind == QuestionKind.NUMBER:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise InvalidInput(N_("Please answer with a number.")) from None
        if number != number or abs(number) > 1e12:  # NaN or absurd
            raise InvalidInput(N_("Please answer with a number."))
        return str(int(number)) if number.is_integer() else str(number)
    if question.kind == QuestionKind.YES_NO:
        lowered = text.lower()
        if lowered in (YES, "y", "true"):
            return YES
        if lowered in (NO, "n", "false"):
            return NO
        raise InvalidInput(N_("Please answer yes or no."))
    if not text:
        raise InvalidInput(N_("Please type the answer."))
    if len(text) > MAX_TEXT_ANSWER:
        raise InvalidInput(
            N_("That is too long (at most {limit} characters). Please shorten it."),
            limit=MAX_TEXT_ANSWER,
        )
    return text


async def _unit_row(
    session: AsyncSession, survey_id: int, building_id: int, unit: str
) -> SurveyUnit:
    row = await session.scalar(
        select(SurveyUnit).where(
            SurveyUnit.survey_id == survey_id,
            SurveyUnit.building_id == building_id,
            SurveyUnit.unit == unit,
        )
    )
    if row is None:
        raise NotFound(N_("There is no such unit in the campaign."))
    return row


async def _only_resident(session: AsyncSession, building_id: int, unit: str) -> int | None:
    people = (
        await session.scalars(
            select(Person.id).where(Person.building_id == building_id, Person.unit == unit).limit(2)
        )
    ).all()
    return people[0] if len(people) == 1 else None


async def answer(
    session: AsyncSession,
    actor: Person,
    survey_id: int,
    building_id: int,
    unit: str,
    question_id: int,
    value: str,
) -> SurveyUnit:
    """Answer (or correct) one question for one unit; the unit is done once all are answered."""
    survey = await get_survey(session, survey_id)
    if survey.closed:
        raise InvalidInput(N_("This campaign is closed."))
    await _may_answer(session, actor, survey, building_id)
    row = await _unit_row(session, survey_id, building_id, unit)
    question = await session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey_id:
        raise NotFound(N_("There is no such question in the campaign."))
    cleaned = clean_value(question, value)
    moment = now(session)
    existing = await session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.question_id == question_id,
            SurveyAnswer.building_id == building_id,
            SurveyAnswer.unit == unit,
        )
    )
    about = await _only_resident(session, building_id, unit)
    if existing is None:
        session.add(
            SurveyAnswer(
                question_id=question_id,
                building_id=building_id,
                unit=unit,
                about_person_id=about,
                value=cleaned,
                answered_by_id=actor.id,
                answered_at=moment,
            )
        )
    else:
        existing.value = cleaned
        existing.about_person_id = about
        existing.answered_by_id = actor.id
        existing.answered_at = moment
    await session.flush()
    answered = len(await answers_of_unit(session, row))
    total = len(await questions_of(session, survey_id))
    row.status = UnitStatus.DONE if answered >= total else UnitStatus.WAITING
    row.updated_by_id = actor.id
    row.updated_at = moment
    await session.flush()
    return row


async def skip_unit(
    session: AsyncSession, actor: Person, survey_id: int, building_id: int, unit: str
) -> SurveyUnit:
    """Leave a unit for later; a unit already done stays done."""
    survey = await get_survey(session, survey_id)
    if survey.closed:
        raise InvalidInput(N_("This campaign is closed."))
    await _may_answer(session, actor, survey, building_id)
    row = await _unit_row(session, survey_id, building_id, unit)
    if row.status != UnitStatus.DONE:
        row.status = UnitStatus.SKIPPED
        row.updated_by_id = actor.id
        row.updated_at = now(session)
        await session.flush()
    return row


# --- coverage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    id: int
    name: str
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done >= self.total

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.done * 100 // self.total


@dataclass(frozen=True)
class Coverage:
    survey_id: int
    buildings: list[Share] = field(default_factory=list)
    grids: list[Share] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(b.done for b in self.buildings)

    @property
    def total(self) -> int:
        return sum(b.total for b in self.buildings)

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.done * 100 // self.total


async def coverage(session: AsyncSession, survey_id: int) -> Coverage:
    """Units done / units total, per building and per grid of the campaign."""
    await get_survey(session, survey_id)
    done_count = func.sum(case((SurveyUnit.status == UnitStatus.DONE, 1), else_=0))
    counts = {
        building_id: (int(done or 0), int(total))
        for building_id, done, total in (
            await session.execute(
                select(SurveyUnit.building_id, done_count, func.count())
                .where(SurveyUnit.survey_id == survey_id)
                .group_by(SurveyUnit.building_id)
            )
        ).all()
    }
    buildings = []
    grids: dict[int, list[Share]] = {}
    grid_names: dict[int, str] = {}
    for building in await buildings_of_survey(session, survey_id):
        done, total = counts.get(building.id, (0, 0))
        share = Share(building.id, building.name, done, total)
        buildings.append(share)
        grids.setdefault(building.grid_id, []).append(share)
        grid_names[building.grid_id] = building.grid.name
    return Coverage(
        survey_id,
        buildings,
        sorted(
            (
                Share(
                    grid_id,
                    grid_names[grid_id],
                    sum(s.done for s in shares),
                    sum(s.total for s in shares),
                )
                for grid_id, shares in grids.items()
            ),
            key=lambda s: s.name,
        ),
    )


# --- viewing and exporting -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    building: str
    unit: str
    question: str
    value: str
    sensitive: bool


async def _viewable_buildings(
    session: AsyncSession, viewer: Person, survey: Survey
) -> dict[int, bool]:
    """Building id -> whether the viewer may read its sensitive answers."""
    grants = await grants_of(session, viewer)
    seen: dict[int, bool] = {}
    for building in await buildings_of_survey(session, survey.id):
        place = await place_of_building(session, building.id)
        full = has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place)
        if full or has_role(grants, Role.GRID_WORKER, place):
            seen[building.id] = full
    return seen


async def answers_for_viewer(
    session: AsyncSession, viewer: Person, survey_id: int
) -> list[AnswerRow]:
    """The answers the viewer may see: the buildings they look after, sensitive values hidden
    unless they are that building's head or an admin of the community. Anyone else is refused."""
    survey = await get_survey(session, survey_id)
    seen = await _viewable_buildings(session, viewer, survey)
    if not seen:
        raise NotAllowed(
            N_("Only the heads of its buildings and the admins can see this campaign.")
        )
    rows = (
        await session.execute(
            select(
                Building.id, Building.name, SurveyAnswer.unit, SurveyQuestion, SurveyAnswer.value
            )
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .join(Building, Building.id == SurveyAnswer.building_id)
            .where(SurveyQuestion.survey_id == survey_id, SurveyAnswer.building_id.in_(seen))
        )
    ).all()
    result = [
        AnswerRow(
            name,
            unit,
            question.text,
            value if not question.sensitive or seen[building_id] else HIDDEN,
            question.sensitive,
        )
        for building_id, name, unit, question, value in rows
    ]
    return sorted(result, key=lambda r: (r.building, _unit_key(r.unit), r.question))


async def privacy_export_for(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """The sensitive answers about one person, for their own data export."""
    rows = (
        await session.execute(
            select(Survey.title, SurveyQuestion.text, SurveyAnswer.value, SurveyAnswer.answered_at)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .join(Survey, Survey.id == SurveyQuestion.survey_id)
            .where(SurveyAnswer.about_person_id == person_id, SurveyQuestion.sensitive.is_(True))
            .order_by(Survey.id, SurveyQuestion.position)
        )
    ).all()
    return [
        {"campaign": title, "question": text, "answer": value, "answered_at": at}
        for title, text, value, at in rows
    ]


@dataclass(frozen=True)
class Export:
    title: str
    questions: list[str]  # the question columns, after building, unit, status
    rows: list[
        tuple[str, ...]
    ]  # building, unit, status code, one value per question ("" unanswered)


async def export_rows(session: AsyncSession, actor: Person, survey_id: int) -> Export:
    """One row per unit of the campaign, every answer included: for the community's admins."""
    survey = await get_survey(session, survey_id)
    await _require_admin(session, actor, survey.community_id)
    questions = await questions_of(session, survey_id)
    buildings = {b.id: b.name for b in await buildings_of_survey(session, survey_id)}
    answers: dict[tuple[int, str, int], str] = {
        (b, u, q): v
        for b, u, q, v in (
            await session.execute(
                select(
                    SurveyAnswer.building_id,
                    SurveyAnswer.unit,
                    SurveyAnswer.question_id,
                    SurveyAnswer.value,
                )
                .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
                .where(SurveyQuestion.survey_id == survey_id)
            )
        ).all()
    }
    units = await units_of(session, survey_id, list(buildings))
    units.sort(key=lambda u: (buildings[u.building_id], _unit_key(u.unit)))
    rows = [
        (
            buildings[u.building_id],
            u.unit,
            u.status.value,
            *(answers.get((u.building_id, u.unit, q.id), "") for q in questions),
        )
        for u in units
    ]
    return Export(survey.title, [q.text for q in questions], rows)


async def heads_behind(session: AsyncSession, survey_id: int) -> dict[int, list[Share]]:
    """The heads of the campaign's buildings that are not complete, with those buildings."""
    shares = [s for s in (await coverage(session, survey_id)).buildings if not s.complete]
    behind: dict[int, list[Share]] = {}
    for share in shares:
        heads = (
            await session.scalars(
                select(RoleGrant.person_id).where(
                    RoleGrant.role == Role.BUILDING_HEAD, RoleGrant.scope_id == share.id
                )
            )
        ).all()
        for head in heads:
            behind.setdefault(head, []).append(share)
    return behind

"""Starting a campaign (every unit people live in is listed, a reminder set for the day before
its deadline) and answering it unit by unit, or skipping a unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaign_definitions import CampaignDefinition
from models.campaign_units import (
    _may_answer,
    _require_admin,
    answers_of_unit,
    get_survey,
    questions_of,
)
from models.clock import now
from models.community import Building, Grid
from models.errors import N_, InvalidInput, NotFound
from models.people import Person
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
MAX_TEXT_ANSWER = 500
YES = "yes"
NO = "no"


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

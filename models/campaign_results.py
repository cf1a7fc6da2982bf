"""What a campaign found: coverage per building and grid, the answers each viewer may see
(sensitive ones only by the building's head and admins), exports, and who is behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaign_units import (
    _require_admin,
    _unit_key,
    buildings_of_survey,
    get_survey,
    questions_of,
    units_of,
)
from models.community import Building
from models.errors import N_, NotAllowed
from models.people import Person, Role, RoleGrant
from models.permissions import has_role
from models.reach import grants_of, place_of_building
from models.surveys import Survey, SurveyAnswer, SurveyQuestion, SurveyUnit, UnitStatus

HIDDEN = "—"


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

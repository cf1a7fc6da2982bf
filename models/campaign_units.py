"""A campaign as stored: its questions, buildings and units, the answers a unit has, and who
may act on it (its community's admins; a building's head or an admin for the units)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building
from models.errors import N_, NotAllowed, NotFound
from models.people import Person, Role
from models.permissions import has_role
from models.reach import Place, grants_of, place_of_building, reach_of
from models.surveys import Survey, SurveyAnswer, SurveyBuilding, SurveyQuestion, SurveyUnit


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

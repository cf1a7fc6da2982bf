"""Rankings by points earned (this month or all time, in a community, a grid or an
organisation) and a member's monthly statement. Others see only members who agreed, by first or chosen name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Grid
from models.errors import N_, checked_text
from models.people import MemberProfile, Person, Role, RoleGrant
from models.points import PointsEntry, PointsKind, RankingChoice

EARNING = (PointsKind.AWARD, PointsKind.ADJUSTMENT)
MAX_DISPLAY_NAME = 60


async def choose_ranking(
    session: AsyncSession, person: Person, shown: bool, display_name: str | None = None
) -> RankingChoice:
    """The person agrees (or no longer agrees) to appear in rankings, under this name."""
    choice = await session.get(RankingChoice, person.id)
    name = checked_text(display_name, required=False, what=N_("a name"), limit=MAX_DISPLAY_NAME)
    if choice is None:
        choice = RankingChoice(person_id=person.id, shown=shown, display_name=name, at=now(session))
        session.add(choice)
    else:
        choice.shown, choice.at = shown, now(session)
        if display_name is not None:
            choice.display_name = name
    await session.flush()
    return choice


async def shown_in_rankings(session: AsyncSession, person_id: int) -> bool:
    choice = await session.get(RankingChoice, person_id)
    return bool(choice and choice.shown)


async def shown_names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    """Of these people, those who agreed to appear in rankings: their chosen or first name."""
    rows = await session.execute(
        select(Person.id, Person.name, RankingChoice.display_name)
        .join(RankingChoice, RankingChoice.person_id == Person.id)
        .where(Person.id.in_(person_ids), RankingChoice.shown.is_(True))
    )
    return {pid: shown or (name or "").split(" ")[0] or "?" for pid, name, shown in rows.all()}


def _members(
    community_id: int, grid_id: int | None, organisation_id: int | None = None
) -> Select[Any]:
    query = (
        select(Person.id)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .join(MemberProfile, MemberProfile.person_id == Person.id)
        .where(
            RoleGrant.role == Role.MEMBER,
            RoleGrant.scope_id == community_id,
            MemberProfile.approved,
            Person.erased_at.is_(None),
        )
    )
    if organisation_id is not None:
        query = query.where(MemberProfile.organisation_id == organisation_id)
    if grid_id is not None:
        query = query.join(Building, Building.id == Person.building_id).where(
            Building.grid_id == grid_id
        )
    return query


def _earned(since: dt.datetime | None) -> Select[int, Any]:
    """Per person: the points earned (awards and corrections) since then (ever, if None)."""
    when: ColumnElement[bool] = PointsEntry.at >= since if since is not None else true()
    return select(
        PointsEntry.person_id,
        func.sum(case((and_(PointsEntry.kind.in_(EARNING), when), PointsEntry.amount), else_=0)),
    ).group_by(PointsEntry.person_id)


@dataclass(frozen=True)
class Standing:
    person_id: int
    name: str
    points: int


async def ranking(
    session: AsyncSession,
    community_id: int,
    *,
    grid_id: int | None = None,
    since: dt.datetime | None = None,
    everyone: bool = False,
    organisation_id: int | None = None,
) -> list[Standing]:
    """Members by points earned, most first (ties by name): only those who agreed to appear,
    unless ``everyone`` (to work out one member's own place, shown only to them). Within a
    grid (where they live) or an organisation (whose staff they are), when one is given."""
    earned = _earned(since).subquery()
    members = _members(community_id, grid_id, organisation_id).subquery()
    agreed: ColumnElement[bool] = true() if everyone else RankingChoice.shown.is_(True)
    rows = await session.execute(
        select(
            Person.id,
            Person.name,
            RankingChoice.display_name,
            func.coalesce(earned.c[1], 0),
        )
        .join(members, members.c.id == Person.id)
        .outerjoin(earned, earned.c.person_id == Person.id)
        .outerjoin(RankingChoice, RankingChoice.person_id == Person.id)
        .where(agreed)
    )
    standings = [
        Standing(pid, (shown or (name or "").split(" ")[0] or "?"), int(points))
        for pid, name, shown, points in rows.all()
    ]
    return sorted(standings, key=lambda s: (-s.points, s.name, s.person_id))


def place_of(standings: list[Standing], person_id: int) -> int | None:
    """The 1-based place (ties share the better place), or None when not in the list."""
    mine = next((s for s in standings if s.person_id == person_id), None)
    if mine is None:
        return None
    return 1 + sum(1 for s in standings if s.points > mine.points)


async def grid_of(session: AsyncSession, person: Person) -> Grid | None:
    if person.building_id is None:
        return None
    building = await session.get(Building, person.building_id)
    return building.grid if building else None


@dataclass(frozen=True)
class Statement:
    earned: int  # awards and corrections in the month
    spent: int  # rewards redeemed in the month, less the points of expired ones refunded
    balance: int  # at the end of the month (or now, for this month)


async def statement(
    session: AsyncSession, person_id: int, start: dt.datetime, end: dt.datetime
) -> Statement:
    inside = and_(PointsEntry.at >= start, PointsEntry.at < end)
    row = (
        await session.execute(
            select(
                func.sum(
                    case((and_(inside, PointsEntry.kind.in_(EARNING)), PointsEntry.amount), else_=0)
                ),
                func.sum(
                    case(
                        (
                            and_(
                                inside,
                                PointsEntry.kind == PointsKind.REDEMPTION,
                            ),
                            -PointsEntry.amount,
                        ),
                        else_=0,
                    )
                ),
                func.sum(case((PointsEntry.at < end, PointsEntry.amount), else_=0)),
            ).where(PointsEntry.person_id == person_id)
        )
    ).one()
    earned, spent, balance = (int(v or 0) for v in row)
    return Statement(earned, spent, balance)


def month_bounds(
    moment: dt.datetime, back: int = 0, timezone: dt.tzinfo = dt.UTC
) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month of the moment where the community lives, or ``back`` months before
    it: [start, end) as aware times."""
    local = moment.astimezone(timezone)
    year, month = local.year, local.month - back
    while month < 1:
        year, month = year - 1, month + 12
    start = dt.datetime(year, month, 1, tzinfo=timezone)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone)
    return start, end

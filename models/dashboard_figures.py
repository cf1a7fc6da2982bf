"""The figures behind the dashboard's charts: wishes per week, waiting times, points, coverage.

Plain queries over the communities the caller already chose; each returns small frozen values.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaign_results import coverage
from models.campaign_units import open_surveys_for
from models.people import Person, Role, RoleGrant
from models.points import PointsEntry
from models.reach import community_buildings
from models.wishes import Wish, WishEvent, WishStatus

# The actions that give a wish its first helper (see TRANSITIONS in models/wish_moves.py).
TAKING_ACTIONS = ("accept", "assign")

# Histogram buckets: (key, lower bound in hours, upper bound in hours or None for no bound).
# The keys are stable names for the caller's translated labels.
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("<1h", 0.0, 1.0),
    ("1-4h", 1.0, 4.0),
    ("4-12h", 4.0, 12.0),
    ("12-24h", 12.0, 24.0),
    ("1-3d", 24.0, 72.0),
    (">3d", 72.0, None),
)
BUCKET_KEYS: tuple[str, ...] = tuple(key for key, _, _ in BUCKETS)
STATUS_KEYS: tuple[str, ...] = tuple(status.value for status in WishStatus)


@dataclass(frozen=True)
class WeekCounts:
    """One ISO week (starting Monday, local time): wishes created in it, by their status now."""

    start: dt.date
    # Every status value, in WishStatus order, zero when there were none.
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Bucket:
    key: str
    low_hours: float
    high_hours: float | None
    count: int


@dataclass(frozen=True)
class Durations:
    """How long wishes waited for one thing, as histogram buckets and the median."""

    buckets: tuple[Bucket, ...]
    median_hours: float | None

    @property
    def count(self) -> int:
        return sum(b.count for b in self.buckets)


@dataclass(frozen=True)
class TimeToAcceptAndClose:
    accept: Durations
    close: Durations


@dataclass(frozen=True)
class MemberPoints:
    person_id: int
    name: str
    points: int


@dataclass(frozen=True)
class BuildingCoverage:
    building_id: int
    name: str
    households: int
    answered: int

    @property
    def percent(self) -> int | None:
        """Rounded down, like the /coverage command; None when no household is known."""
        return None if self.households == 0 else self.answered * 100 // self.households


@dataclass(frozen=True)
class CampaignCoverage:
    """One running campaign and, per building it asks, the households that answered."""

    survey_id: int
    title: str
    deadline: dt.datetime | None
    buildings: tuple[BuildingCoverage, ...]

    @property
    def households(self) -> int:
        return sum(b.households for b in self.buildings)

    @property
    def answered(self) -> int:
        return sum(b.answered for b in self.buildings)


def _within(
    community_ids: Sequence[int], building_ids: Collection[int] | None
) -> list[ColumnElement[bool]]:
    """Wishes of these communities; of these buildings too when given (a grid worker's grid)."""
    found: list[ColumnElement[bool]] = [Wish.building_id.in_(community_buildings(community_ids))]
    if building_ids is not None:
        found.append(Wish.building_id.in_(list(building_ids)))
    return found


def _local_midnight(day: dt.date, timezone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone).astimezone(dt.UTC)


async def wishes_per_week(
    session: AsyncSession,
    community_ids: Sequence[int],
    timezone: ZoneInfo,
    today: dt.date,
    weeks: int = 8,
    building_ids: Collection[int] | None = None,
) -> list[WeekCounts]:
    """The last `weeks` ISO weeks up to the one holding `today`, oldest first, every one present."""
    if weeks < 1:
        return []
    this_monday = today - dt.timedelta(days=today.weekday())
    mondays = [this_monday - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    # Each boundary is converted on its own, so a week that crosses a DST change stays right.
    bounds = [_local_midnight(m, timezone) for m in [*mondays, this_monday + dt.timedelta(7)]]
    # The week is worked out in SQL with plain comparisons: no database's date functions needed.
    week = case(
        *((Wish.created_at < bounds[i + 1], i) for i in range(weeks)),
        else_=None,
    )
    # Grouped in an outer query: PostgreSQL would not match a CASE with parameters in GROUP BY.
    inner = (
        select(week.label("week"), Wish.status.label("status"))
        .where(
            *_within(community_ids, building_ids),
            Wish.created_at >= bounds[0],
            Wish.created_at < bounds[-1],
        )
        .subquery()
    )
    rows = await session.execute(
        select(inner.c.week, inner.c.status, func.count()).group_by(inner.c.week, inner.c.status)
    )
    result = [WeekCounts(m, dict.fromkeys(STATUS_KEYS, 0)) for m in mondays]
    for index, status, count in rows.all():
        if index is None:
            continue
        result[int(index)].counts[WishStatus(status).value] = int(count)
    return result


def _durations(hours: Sequence[float]) -> Durations:
    counts = dict.fromkeys(BUCKET_KEYS, 0)
    for value in hours:
        for key, low, high in BUCKETS:
            if value >= low and (high is None or value < high):
                counts[key] += 1
                break
    return Durations(
        buckets=tuple(Bucket(key, low, high, counts[key]) for key, low, high in BUCKETS),
        median_hours=statistics.median(hours) if hours else None,
    )


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    # Clocks of several processes may differ by a moment; a wait is never negative.
    return max(0.0, (end - start).total_seconds() / 3600)


async def time_to_accept_and_close(
    session: AsyncSession,
    community_ids: Sequence[int],
    building_ids: Collection[int] | None = None,
) -> TimeToAcceptAndClose:
    """Hours from asking to the first helper taking it (accept or assign), and to closing.

    Closing is the first move to closed (confirmed, auto-confirmed or resolved); rejected and
    cancelled wishes never closed and are not counted, nor are wishes still waiting.
    """
    taken = (
        select(WishEvent.wish_id.label("wish_id"), func.min(WishEvent.at).label("at"))
        .where(WishEvent.action.in_(TAKING_ACTIONS))
        .group_by(WishEvent.wish_id)
        .subquery()
    )
    closed = (
        select(WishEvent.wish_id.label("wish_id"), func.min(WishEvent.at).label("at"))
        .where(WishEvent.to_status == WishStatus.CLOSED)
        .group_by(WishEvent.wish_id)
        .subquery()
    )
    rows = await session.execute(
        select(Wish.created_at, taken.c.at, closed.c.at)
        .outerjoin(taken, taken.c.wish_id == Wish.id)
        .outerjoin(closed, closed.c.wish_id == Wish.id)
        .where(
            *_within(community_ids, building_ids),
            or_(taken.c.at.is_not(None), closed.c.at.is_not(None)),
        )
    )
    to_accept: list[float] = []
    to_close: list[float] = []
    for created, taken_at, closed_at in rows.all():
        if taken_at is not None:
            to_accept.append(_hours(created, taken_at))
        if closed_at is not None:
            to_close.append(_hours(created, closed_at))
    return TimeToAcceptAndClose(accept=_durations(to_accept), close=_durations(to_close))


async def points_by_member(
    session: AsyncSession,
    community_ids: Sequence[int],
    limit: int = 10,
    building_ids: Collection[int] | None = None,
) -> list[MemberPoints]:
    """The members who earned most: positive ledger rows (awards, raises), not what they spent.

    A row for a wish of a community outside the scope is left out, as in the points list;
    so is one for a wish outside the given buildings (a grid worker's chart: their grid).
    """
    members = select(RoleGrant.person_id).where(
        RoleGrant.role == Role.MEMBER, RoleGrant.scope_id.in_(list(community_ids))
    )
    earned = func.sum(PointsEntry.amount)
    rows = await session.execute(
        select(Person.id, Person.name, earned)
        .join(PointsEntry, PointsEntry.person_id == Person.id)
        .outerjoin(Wish, PointsEntry.wish_id == Wish.id)
        .where(
            Person.id.in_(members),
            PointsEntry.amount > 0,
            or_(PointsEntry.wish_id.is_(None), and_(*_within(community_ids, building_ids))),
        )
        .group_by(Person.id, Person.name)
    )
    # Sorted here, not in SQL: ties by name must not depend on the database's collation.
    found = sorted(
        (MemberPoints(int(pid), name, int(points)) for pid, name, points in rows.all()),
        key=lambda m: (-m.points, m.name, m.person_id),
    )
    return found[: max(limit, 0)]


async def coverage_by_building(
    session: AsyncSession, community_ids: Sequence[int]
) -> list[CampaignCoverage]:
    """Per running campaign of these communities (newest first), each building's coverage.

    The numbers are those of /coverage (models.campaign_results.coverage): households are the units
    fixed when the campaign started, answered are the units with every question answered.
    """
    result = []
    for survey in await open_surveys_for(session, (), list(community_ids)):
        shares = await coverage(session, survey.id)
        result.append(
            CampaignCoverage(
                survey_id=survey.id,
                title=survey.title,
                deadline=survey.deadline,
                buildings=tuple(
                    BuildingCoverage(s.id, s.name, households=s.total, answered=s.done)
                    for s in shares.buildings
                ),
            )
        )
    return result

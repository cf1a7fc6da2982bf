"""An organisation's year: every service its people did (when, which wish, who, rating,
points), and the totals (services, hours, average rating, people who served).

Rows only; the file is written by handlers/org_report_file.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.commitments import HOURS_PER_PLACE, year_bounds
from models.organisations import Organisation
from models.people import Person
from models.points import PointsEntry, PointsKind
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus


@dataclass(frozen=True)
class ServiceRow:
    closed_at: dt.datetime  # local time
    code: str
    category: str
    person: str
    hours: int
    rating: int | None
    points: int


@dataclass(frozen=True)
class YearReport:
    organisation: str
    year: int
    rows: list[ServiceRow]

    @property
    def services(self) -> int:
        return len({r.code for r in self.rows})

    @property
    def hours(self) -> int:
        return sum(r.hours for r in self.rows)

    @property
    def people(self) -> list[str]:
        return sorted({r.person for r in self.rows})

    @property
    def average_rating(self) -> float | None:
        rated = {r.code: r.rating for r in self.rows if r.rating is not None}
        return round(sum(rated.values()) / len(rated), 2) if rated else None


async def year_report(
    session: AsyncSession, organisation: Organisation, year: int, timezone: ZoneInfo
) -> YearReport:
    start, end = year_bounds(year, timezone)
    rows = await session.execute(
        select(
            Wish.closed_at,
            Wish.code,
            Wish.category,
            Person.name,
            Wish.rating,
            func.coalesce(PointsEntry.amount, 0),
        )
        .select_from(WishAssignment)
        .join(Wish, Wish.id == WishAssignment.wish_id)
        .join(Person, Person.id == WishAssignment.member_id)
        .outerjoin(
            PointsEntry,
            and_(
                PointsEntry.wish_id == Wish.id,
                PointsEntry.person_id == WishAssignment.member_id,
                PointsEntry.kind == PointsKind.AWARD,
            ),
        )
        .where(
            WishAssignment.organisation_id == organisation.id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
            Wish.status == WishStatus.CLOSED,
            Wish.closed_at >= start,
            Wish.closed_at < end,
        )
        .order_by(Wish.closed_at, Wish.id, Person.name)
    )
    return YearReport(
        organisation.name,
        year,
        [
            ServiceRow(
                closed_at.astimezone(timezone),
                code or "",
                category,
                name,
                HOURS_PER_PLACE,
                rating,
                int(points),
            )
            for closed_at, code, category, name, rating, points in rows.all()
            if closed_at is not None
        ],
    )

"""The month in the office's buildings, in numbers: disputes, wishes submitted and closed,
notices sent, visits made and overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building
from models.errors import N_, InvalidInput, NotAllowed
from models.neighbourhood import Dispute, DisputeStatus, Visit, VisitPlan
from models.notices import Notice, NoticeBuilding
from models.people import Person
from models.reach import OFFICE_ROLES, reach
from models.wishes import Wish, WishStatus

UTC = ZoneInfo("UTC")


async def _report_buildings(session: AsyncSession, actor: Person, community_id: int) -> list[int]:
    """The buildings the actor reports on: the whole community for its admin (or the street's),
    their own grids for a grid worker."""
    office = await reach(session, actor, *OFFICE_ROLES)
    chosen = list(
        await session.scalars(office.buildings(community_id=community_id).order_by(Building.id))
    )
    if not chosen:
        raise NotAllowed(N_("You may not see this community's report."))
    return chosen


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise InvalidInput(N_("There is no such month."))
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def monthly_report(
    session: AsyncSession,
    actor: Person,
    community_id: int,
    year: int,
    month: int,
    tz: ZoneInfo = UTC,
) -> dict[str, Any]:
    """What happened in the month (local to tz): disputes logged, by their status now; wishes
    submitted and closed; notices sent; visits made, and visits overdue now."""
    buildings = await _report_buildings(session, actor, community_id)
    start, end = month_bounds(year, month, tz)

    async def count(query: Select[Any]) -> int:
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    disputes = {status.value: 0 for status in DisputeStatus}
    for status, n in (
        await session.execute(
            select(Dispute.status, func.count())
            .where(
                Dispute.building_id.in_(buildings),
                Dispute.created_at >= start,
                Dispute.created_at < end,
            )
            .group_by(Dispute.status)
        )
    ).all():
        disputes[DisputeStatus(status).value] = int(n)
    in_month = (Wish.building_id.in_(buildings),)
    return {
        "year": year,
        "month": month,
        "buildings": len(buildings),
        "disputes": disputes,
        "disputes_logged": sum(disputes.values()),
        "wishes_submitted": await count(
            select(Wish.id).where(*in_month, Wish.created_at >= start, Wish.created_at < end)
        ),
        "wishes_closed": await count(
            select(Wish.id).where(
                *in_month,
                Wish.status == WishStatus.CLOSED,
                Wish.closed_at >= start,
                Wish.closed_at < end,
            )
        ),
        "notices": await count(
            select(Notice.id)
            .join(NoticeBuilding, NoticeBuilding.notice_id == Notice.id)
            .where(
                NoticeBuilding.building_id.in_(buildings),
                Notice.created_at >= start,
                Notice.created_at < end,
            )
            .distinct()
        ),
        "visits": await count(
            select(Visit.id)
            .join(VisitPlan, VisitPlan.id == Visit.plan_id)
            .where(VisitPlan.building_id.in_(buildings), Visit.at >= start, Visit.at < end)
        ),
        "visits_overdue": await count(
            select(VisitPlan.id).where(
                VisitPlan.building_id.in_(buildings),
                VisitPlan.active,
                VisitPlan.next_due_at < now(session),
            )
        ),
    }

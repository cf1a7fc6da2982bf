"""The four lists an office exports: demand (wishes), supply (members), service, points.

Plain queries by community and local date range, narrowed to the asker's reach when given
(models/reach.py); each returns a Sheet of local-time rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building
from models.errors import N_
from models.organisations import Organisation
from models.people import MemberProfile, Person, Role, RoleGrant
from models.points import PointsEntry
from models.reach import community_buildings
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus

# What a cell may hold; datetimes are aware, in the timezone the list was asked for.
Cell = str | int | dt.datetime | None
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class Sheet:
    """One list: a title (also the XLSX sheet name), the column names and the rows."""

    title: str
    header: tuple[str, ...]
    rows: list[Row]


def day_bounds(
    start: dt.date | None, end: dt.date | None, timezone: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start 00:00, the day after end 00:00) in local time, as aware UTC; None is open."""
    low = high = None
    if start is not None:
        low = dt.datetime.combine(start, dt.time.min, tzinfo=timezone).astimezone(dt.UTC)
    if end is not None:
        after = end + dt.timedelta(days=1)
        high = dt.datetime.combine(after, dt.time.min, tzinfo=timezone).astimezone(dt.UTC)
    return low, high


def _in_range(
    column: Any, start: dt.date | None, end: dt.date | None, timezone: ZoneInfo
) -> list[ColumnElement[bool]]:
    low, high = day_bounds(start, end, timezone)
    conditions: list[ColumnElement[bool]] = []
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column < high)
    return conditions


def _local(value: dt.datetime | None, timezone: ZoneInfo) -> dt.datetime | None:
    return None if value is None else value.astimezone(timezone)


def _area(community_id: int, buildings: Select[int] | None) -> list[ColumnElement[bool]]:
    """Wishes of the community's buildings; only of these buildings too when given (the
    asker's reach, models/reach.py: a grid worker's list holds their grid only)."""
    found: list[ColumnElement[bool]] = [Wish.building_id.in_(community_buildings(community_id))]
    if buildings is not None:
        found.append(Wish.building_id.in_(buildings))
    return found


def _people_area(community_id: int, buildings: Select[int] | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [Person.building_id.in_(community_buildings(community_id))]
    if buildings is not None:
        found.append(Person.building_id.in_(buildings))
    return found


def _members_of(community_id: int) -> Select[int]:
    return select(RoleGrant.person_id).where(
        RoleGrant.role == Role.MEMBER, RoleGrant.scope_id == community_id
    )


async def demand_list(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
    *,
    with_requester: bool = False,
) -> Sheet:
    """Every wish asked in the community's buildings, by the day it was asked.

    The requester appears only as their unit: names and phones stay out of this list, unless
    the office asks for them (with_requester: the dashboard, within its scope), as the last
    two columns.
    """
    rows = await session.execute(
        select(Wish, Building.name, Person.unit, Person.name, Person.phone, Person.erased_at)
        .join(Building, Wish.building_id == Building.id)
        .join(Person, Wish.requester_id == Person.id)
        .where(*_area(community_id, buildings), *_in_range(Wish.created_at, start, end, timezone))
        .order_by(Wish.created_at, Wish.id)
    )
    return Sheet(
        title=N_("Demand"),
        header=(
            N_("Code"),
            N_("Created"),
            N_("Building"),
            N_("Unit"),
            N_("Category"),
            N_("Urgency"),
            N_("Status"),
            N_("Helpers needed"),
            N_("Helpers taken"),
            N_("Preferred time"),
            N_("Description"),
            *((N_("Requester"), N_("Phone")) if with_requester else ()),
        ),
        rows=[
            (
                wish.code,
                _local(wish.created_at, timezone),
                building,
                unit,
                wish.category,
                wish.urgency.value,
                wish.status.value,
                wish.required_count,
                wish.taken_count,
                _local(wish.preferred_time, timezone),
                wish.description,
                *(
                    (name if erased is None else "", (phone or "") if erased is None else "")
                    if with_requester
                    else ()
                ),
            )
            for wish, building, unit, name, phone, erased in rows
        ],
    )


async def supply_list(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
) -> Sheet:
    """Every member of the community, whatever the dates; the range counts their closed wishes
    (in the given buildings only, when given)."""
    closed = (
        select(
            WishAssignment.member_id.label("member_id"),
            func.count(func.distinct(Wish.id)).label("closed"),
        )
        .join(Wish, WishAssignment.wish_id == Wish.id)
        .where(
            WishAssignment.status == AssignmentStatus.ACTIVE,
            Wish.status == WishStatus.CLOSED,
            *_area(community_id, buildings),
            *_in_range(Wish.closed_at, start, end, timezone),
        )
        .group_by(WishAssignment.member_id)
        .subquery()
    )
    rows = await session.execute(
        select(Person, MemberProfile, func.coalesce(closed.c.closed, 0), Organisation.name)
        .join(
            RoleGrant,
            and_(
                RoleGrant.person_id == Person.id,
                RoleGrant.role == Role.MEMBER,
                RoleGrant.scope_id == community_id,
            ),
        )
        .outerjoin(MemberProfile, MemberProfile.person_id == Person.id)
        .outerjoin(closed, closed.c.member_id == Person.id)
        .outerjoin(Organisation, Organisation.id == MemberProfile.organisation_id)
    )
    # Sorted here, not in SQL: the order must not depend on the database's collation.
    members = sorted(rows, key=lambda r: (r[0].name, r[0].id))
    return Sheet(
        title=N_("Supply"),
        header=(
            N_("Name"),
            N_("Organisation"),
            N_("Skills"),
            N_("Availability"),
            N_("Approved"),
            N_("Balance"),
            N_("Wishes closed"),
        ),
        rows=[
            (
                person.name,
                organisation or "",
                ", ".join(profile.skills) if profile else "",
                profile.availability if profile else "",
                "yes" if profile is not None and profile.approved else "no",
                person.points_balance,
                int(count),
            )
            for person, profile, count, organisation in members
        ],
    )


async def service_list(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
) -> Sheet:
    """Who did what: one row per closed wish and member who held it, by the day it closed."""
    done = (
        select(WishEvent.wish_id.label("wish_id"), func.max(WishEvent.at).label("done_at"))
        .where(WishEvent.action == "report_done")
        .group_by(WishEvent.wish_id)
        .subquery()
    )
    earned = (
        select(
            PointsEntry.wish_id.label("wish_id"),
            PointsEntry.person_id.label("person_id"),
            func.sum(PointsEntry.amount).label("points"),
        )
        .where(PointsEntry.wish_id.is_not(None))
        .group_by(PointsEntry.wish_id, PointsEntry.person_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Wish,
            Building.name,
            Person.name,
            WishAssignment.accepted_at,
            done.c.done_at,
            func.coalesce(earned.c.points, 0),
        )
        .join(WishAssignment, WishAssignment.wish_id == Wish.id)
        .join(Person, WishAssignment.member_id == Person.id)
        .join(Building, Wish.building_id == Building.id)
        .outerjoin(done, done.c.wish_id == Wish.id)
        .outerjoin(
            earned,
            and_(earned.c.wish_id == Wish.id, earned.c.person_id == WishAssignment.member_id),
        )
        .where(
            *_area(community_id, buildings),
            Wish.status == WishStatus.CLOSED,
            WishAssignment.status == AssignmentStatus.ACTIVE,
            *_in_range(Wish.closed_at, start, end, timezone),
        )
        .order_by(Wish.closed_at, Wish.id, WishAssignment.id)
    )
    return Sheet(
        title=N_("Service"),
        header=(
            N_("Wish"),
            N_("Category"),
            N_("Building"),
            N_("Member"),
            N_("Accepted"),
            N_("Done"),
            N_("Closed"),
            N_("Rating"),
            N_("Points"),
        ),
        rows=[
            (
                wish.code,
                wish.category,
                building,
                member,
                _local(accepted_at, timezone),
                _local(done_at, timezone),
                _local(wish.closed_at, timezone),
                wish.rating,
                int(points),
            )
            for wish, building, member, accepted_at, done_at, points in rows
        ],
    )


async def points_ledger(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
) -> Sheet:
    """Ledger rows of the community's people (members, or living in its buildings).

    A row for a wish of another community stays out: it belongs to that community's list.
    With buildings given, only rows for wishes there and for the people living there.
    """
    rows = await session.execute(
        select(PointsEntry, Person.name, Wish.code)
        .join(Person, PointsEntry.person_id == Person.id)
        .outerjoin(Wish, PointsEntry.wish_id == Wish.id)
        .where(
            or_(
                Person.id.in_(_members_of(community_id)),
                and_(*_people_area(community_id, buildings)),
            ),
            or_(PointsEntry.wish_id.is_(None), and_(*_area(community_id, buildings))),
            *_in_range(PointsEntry.at, start, end, timezone),
        )
        .order_by(PointsEntry.at, PointsEntry.id)
    )
    return Sheet(
        title=N_("Points"),
        header=(N_("At"), N_("Person"), N_("Amount"), N_("Kind"), N_("Wish"), N_("Note")),
        rows=[
            (
                _local(entry.at, timezone),
                name,
                entry.amount,
                entry.kind.value,
                code or "",
                entry.note or "",
            )
            for entry, name, code in rows
        ],
    )


class ListQuery(Protocol):
    def __call__(
        self,
        session: AsyncSession,
        community_id: int,
        start: dt.date | None,
        end: dt.date | None,
        timezone: ZoneInfo,
        buildings: Select[int] | None = None,
    ) -> Awaitable[Sheet]: ...


async def resource_list(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
) -> Sheet:
    """The supply list's other half: the organisations paired with the community (one row per
    resource, or one for an organisation that lists none yet), then members' own resources.
    Community-wide whatever the buildings: an organisation serves the whole community."""
    from models.organisations import member_count, organisations_of_communities
    from models.resources import resources_in

    resources = await resources_in(session, [community_id])
    by_organisation: dict[int, list[Any]] = {}
    for resource in resources:
        if resource.organisation_id is not None:
            by_organisation.setdefault(resource.organisation_id, []).append(resource)
    rows: list[Row] = []

    def offered(resource: Any) -> Row:
        return (
            resource.service,
            ", ".join(resource.categories),
            resource.capacity_per_month,
            ",".join(str(d) for d in resource.weekdays),
            resource.hours,
            resource.where.value,
        )

    for organisation in await organisations_of_communities(session, [community_id]):
        head: Row = (
            organisation.name,
            organisation.kind.value,
            organisation.contact_name or "",
            organisation.contact_phone or "",
            await member_count(session, organisation.id),
        )
        for resource in by_organisation.get(organisation.id, []) or [None]:
            rows.append(head + (offered(resource) if resource else ("", "", None, "", "", "")))
    members = [r for r in resources if r.person_id is not None]
    names = {
        int(i): str(n)
        for i, n in (
            await session.execute(
                select(Person.id, Person.name).where(
                    Person.id.in_(sorted({r.person_id for r in members if r.person_id}))
                )
            )
        ).all()
    }
    for resource in sorted(members, key=lambda r: (names.get(r.person_id or 0, ""), r.id)):
        rows.append(
            (names.get(resource.person_id or 0, ""), "member", "", "", None, *offered(resource))
        )
    return Sheet(
        title=N_("Organisations and resources"),
        header=(
            N_("Organisation or member"),
            N_("Kind"),
            N_("Contact"),
            N_("Phone"),
            N_("Members"),
            N_("Service"),
            N_("Categories"),
            N_("Capacity per month"),
            N_("Weekdays"),
            N_("Hours"),
            N_("Where"),
        ),
        rows=rows,
    )


async def commitment_list(
    session: AsyncSession,
    community_id: int,
    start: dt.date | None,
    end: dt.date | None,
    timezone: ZoneInfo,
    buildings: Select[int] | None = None,
) -> Sheet:
    """This year's commitments (the year of the last day asked, else today's) and how far each
    has come: organisations first, then members."""
    from models.clock import now
    from models.commitments import commitments_in, progress_of

    year = end.year if end is not None else now(session).astimezone(timezone).year
    rows: list[Row] = []
    for commitment, who, organisation in await commitments_in(session, [community_id], year):
        progress = await progress_of(session, commitment, timezone)
        rows.append(
            (
                who,
                organisation,
                year,
                commitment.unit.value,
                commitment.target,
                progress.done,
                progress.expected,
                "no" if progress.behind else "yes",
            )
        )
    return Sheet(
        title=N_("Commitments"),
        header=(
            N_("Who"),
            N_("Organisation"),
            N_("Year"),
            N_("Unit"),
            N_("Committed"),
            N_("Done"),
            N_("Expected by now"),
            N_("On track"),
        ),
        rows=rows,
    )


# The lists by the name the command line and the dashboard use.
LISTS: dict[str, ListQuery] = {
    "demand": demand_list,
    "supply": supply_list,
    "service": service_list,
    "points": points_ledger,
    "resources": resource_list,
    "commitments": commitment_list,
}
LIST_NAMES: Sequence[str] = tuple(LISTS)

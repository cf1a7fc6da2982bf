"""The public noticeboard's figures: one community's wishes fulfilled in one local month.

Nothing here names a requester: only thanks texts, categories, and the members who helped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Community, Street
from models.organisations import Organisation
from models.people import MemberProfile, Person
from models.points import PointsEntry, PointsKind
from models.reach import community_buildings
from models.standings import shown_names
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

# The first month a board may show: earlier years cannot hold wishes, and far-off years
# would overflow the time zone arithmetic.
FIRST_YEAR = 2000
TOP = 10
THANKS_SHOWN = 30


@dataclass(frozen=True)
class CommunityEntry:
    id: int
    name: str
    street: str


@dataclass(frozen=True)
class Thanks:
    """What a resident wrote when confirming, with no trace of who wrote it."""

    wish_id: int
    closed_at: dt.datetime
    category: str
    rating: int | None
    text: str
    # Display names of the members who did it: they are the community's public helpers.
    helpers: tuple[str, ...]


@dataclass(frozen=True)
class Helper:
    person_id: int
    name: str
    wishes: int
    points: int


@dataclass(frozen=True)
class Team:
    name: str
    wishes: int
    points: int
    helpers: int


@dataclass(frozen=True)
class Board:
    community: CommunityEntry
    start: dt.datetime
    end: dt.datetime
    # Category code -> wishes fulfilled; most first, only categories with any.
    by_category: tuple[tuple[str, int], ...]
    thanks: tuple[Thanks, ...]
    thanks_total: int
    # The most active first, at most `top` of each; helpers_total counts every one.
    helpers: tuple[Helper, ...]
    helpers_total: int
    teams: tuple[Team, ...]

    @property
    def fulfilled(self) -> int:
        return sum(count for _, count in self.by_category)


def month_start(moment: dt.datetime, timezone: ZoneInfo) -> dt.date:
    """The first day of the local month holding the moment."""
    return moment.astimezone(timezone).date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_span(month: dt.date, timezone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight on the month's first day up to the next month's, both in UTC.

    Each end is converted on its own, so a month that crosses a DST change stays right.
    """

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=timezone).astimezone(dt.UTC)

    first = month.replace(day=1)
    return midnight(first), midnight(next_month(first))


def _fulfilled(
    community_id: int, start: dt.datetime, end: dt.datetime
) -> list[ColumnElement[bool]]:
    """Closed (confirmed, auto-confirmed or answered by the street) in the span, as the
    office's monthly report counts them."""
    return [
        Wish.building_id.in_(community_buildings(community_id)),
        Wish.status == WishStatus.CLOSED,
        Wish.closed_at >= start,
        Wish.closed_at < end,
    ]


async def public_communities(session: AsyncSession) -> list[CommunityEntry]:
    """Every community with a board, by street then name."""
    rows = await session.execute(
        select(Community.id, Community.name, Street.name)
        .join(Street, Community.street_id == Street.id)
        .order_by(Street.name, Community.name, Community.id)
    )
    return [CommunityEntry(int(i), name, street) for i, name, street in rows.all()]


async def community_entry(session: AsyncSession, community_id: int) -> CommunityEntry | None:
    row = (
        await session.execute(
            select(Community.id, Community.name, Street.name)
            .join(Street, Community.street_id == Street.id)
            .where(Community.id == community_id)
        )
    ).first()
    return None if row is None else CommunityEntry(int(row[0]), row[1], row[2])


async def fulfilled_by_category(
    session: AsyncSession, community_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, int]]:
    """Wishes fulfilled in [start, end), per category code: most first, then by code."""
    rows = await session.execute(
        select(Wish.category, func.count())
        .where(*_fulfilled(community_id, start, end))
        .group_by(Wish.category)
    )
    counted = [(code, int(n)) for code, n in rows.all()]
    return sorted(counted, key=lambda row: (-row[1], row[0]))


async def _helpers_of(session: AsyncSession, wish_ids: Sequence[int]) -> dict[int, list[str]]:
    if not wish_ids:
        return {}
    rows = await session.execute(
        select(WishAssignment.wish_id, Person.name)
        .join(Person, WishAssignment.member_id == Person.id)
        .where(
            WishAssignment.wish_id.in_(list(wish_ids)),
            # The places still held when the wish closed: the ones that were paid.
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
        .order_by(WishAssignment.wish_id, WishAssignment.id)
    )
    helpers: dict[int, list[str]] = defaultdict(list)
    for wish_id, name in rows.all():
        helpers[int(wish_id)].append(name)
    return helpers


async def thanks_in(
    session: AsyncSession,
    community_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = THANKS_SHOWN,
) -> tuple[list[Thanks], int]:
    """The thanks written when confirming wishes fulfilled in the span, newest first (at most
    `limit`), and how many there are in all."""
    written = [
        *_fulfilled(community_id, start, end),
        Wish.rating_comment.is_not(None),
        Wish.rating_comment != "",
    ]
    total = int(await session.scalar(select(func.count()).select_from(Wish).where(*written)) or 0)
    # Only the columns the board shows: the requester's row is never even read.
    rows = (
        await session.execute(
            select(Wish.id, Wish.closed_at, Wish.category, Wish.rating, Wish.rating_comment)
            .where(*written)
            .order_by(Wish.closed_at.desc(), Wish.id.desc())
            .limit(limit)
        )
    ).all()
    helpers = await _helpers_of(session, [int(row[0]) for row in rows])
    return [
        Thanks(
            wish_id=int(wish_id),
            closed_at=closed_at,
            category=category,
            rating=rating,
            text=text,
            helpers=tuple(helpers.get(int(wish_id), ())),
        )
        for wish_id, closed_at, category, rating, text in rows
        # The query asked for both; the check keeps the types honest.
        if closed_at is not None and text
    ], total


async def _closed_by_member(
    session: AsyncSession, community_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, int, str, str]]:
    """(wish id, member id, member name, organisation) for every place on a fulfilled wish."""
    rows = await session.execute(
        select(
            WishAssignment.wish_id,
            Person.id,
            Person.name,
            func.coalesce(Organisation.name, ""),
        )
        .join(Wish, WishAssignment.wish_id == Wish.id)
        .join(Person, WishAssignment.member_id == Person.id)
        .outerjoin(MemberProfile, MemberProfile.person_id == Person.id)
        .outerjoin(Organisation, Organisation.id == MemberProfile.organisation_id)
        .where(
            *_fulfilled(community_id, start, end),
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
    )
    return [(int(w), int(p), name, org) for w, p, name, org in rows.all()]


async def _awards(
    session: AsyncSession, community_id: int, start: dt.datetime, end: dt.datetime
) -> dict[int, int]:
    """Points awarded in the span for this community's wishes, per member.

    Awards only: an admin's adjustment or a redemption is not help given this month.
    """
    rows = await session.execute(
        select(PointsEntry.person_id, func.sum(PointsEntry.amount))
        .join(Wish, PointsEntry.wish_id == Wish.id)
        .where(
            PointsEntry.kind == PointsKind.AWARD,
            PointsEntry.at >= start,
            PointsEntry.at < end,
            Wish.building_id.in_(community_buildings(community_id)),
        )
        .group_by(PointsEntry.person_id)
    )
    return {int(person_id): int(total or 0) for person_id, total in rows.all()}


async def most_active(
    session: AsyncSession,
    community_id: int,
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[list[Helper], list[Team]]:
    """Every member and team (member profile's organisation) who helped in the span: who closed
    most wishes first, then who earned most points; a wish two of one team did counts once."""
    places = await _closed_by_member(session, community_id, start, end)
    points = await _awards(session, community_id, start, end)
    names: dict[int, str] = {}
    wishes_of: dict[int, set[int]] = defaultdict(set)
    team_of: dict[int, str] = {}
    for wish_id, person_id, name, organisation in places:
        names[person_id] = name
        wishes_of[person_id].add(wish_id)
        if organisation.strip():
            team_of[person_id] = organisation.strip()
    if missing := set(points) - set(names):
        # Paid in the span for a wish that closed just outside it (the clock ticked between
        # the two at midnight): the points are still this month's.
        rows = await session.execute(
            select(Person.id, Person.name, func.coalesce(Organisation.name, ""))
            .outerjoin(MemberProfile, MemberProfile.person_id == Person.id)
            .outerjoin(Organisation, Organisation.id == MemberProfile.organisation_id)
            .where(Person.id.in_(sorted(missing)))
        )
        for person_id, name, organisation in rows.all():
            names[int(person_id)] = name
            if organisation.strip():
                team_of[int(person_id)] = organisation.strip()
    helpers = sorted(
        (
            Helper(person_id, names[person_id], len(wishes_of[person_id]), points.get(person_id, 0))
            for person_id in names
        ),
        key=lambda h: (-h.wishes, -h.points, h.name, h.person_id),
    )
    team_wishes: dict[str, set[int]] = defaultdict(set)
    team_points: dict[str, int] = defaultdict(int)
    team_people: dict[str, int] = defaultdict(int)
    for person_id, team in team_of.items():
        team_wishes[team] |= wishes_of[person_id]
        team_points[team] += points.get(person_id, 0)
        team_people[team] += 1
    teams = sorted(
        (
            Team(team, len(team_wishes[team]), team_points[team], team_people[team])
            for team in team_people
        ),
        key=lambda t: (-t.wishes, -t.points, t.name),
    )
    return helpers, teams


async def community_board(
    session: AsyncSession,
    community_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    top: int = TOP,
    thanks_limit: int = THANKS_SHOWN,
) -> Board | None:
    """Everything the board shows for [start, end); None when there is no such community."""
    community = await community_entry(session, community_id)
    if community is None:
        return None
    thanks, thanks_total = await thanks_in(session, community_id, start, end, limit=thanks_limit)
    helpers, teams = await most_active(session, community_id, start, end)
    # On the wall: only members who agreed to appear in rankings, by first or chosen name.
    shown = await shown_names(session, [h.person_id for h in helpers])
    helpers = [replace(h, name=shown[h.person_id]) for h in helpers if h.person_id in shown]
    return Board(
        community=community,
        start=start,
        end=end,
        by_category=tuple(await fulfilled_by_category(session, community_id, start, end)),
        thanks=tuple(thanks),
        thanks_total=thanks_total,
        helpers=tuple(helpers[:top]),
        helpers_total=len(helpers),
        teams=tuple(teams[:top]),
    )

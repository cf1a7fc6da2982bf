"""What an Open311 client may read: with a key its owner's wishes, by the chat's own rules
(own wishes, heads their buildings, the office its area, members what /tasks shows them);
without one the public view (models/reach.py's public_wishes), redacted like the noticeboard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid
from models.open_tasks import held_by, takeable_by
from models.people import MemberProfile, Person, Role, RoleGrant
from models.permissions import LADDER, ladder_level
from models.reach import (
    OFFICE_ROLES,
    Place,
    grants_of,
    place_of_building,
    public_wishes,
    reach_of,
)
from models.reported_places import Point, ReportedPlace
from models.web_access import ApiClient
from models.web_access import secret_hash as key_hash
from models.wishes import (
    FINAL_STATUSES,
    Category,
    Wish,
    WishEvent,
    WishStatus,
)

S = WishStatus
# GeoReport's ceiling for one answer.
MAX_REQUESTS = 1000
# Bound parameters per IN (...): well under every database's limit.
CHUNK = 500
# A wish is "closed" for Open311 once nothing more will happen to it. A wish that is done
# but not yet confirmed stays open: the resident may still say it was not done.
CLOSED_STATUSES = FINAL_STATUSES
# The rung from which a person counts as the office (grid worker and up) for a place.
OFFICE_LEVEL = LADDER.index(Role.GRID_WORKER) + 1
# Event notes not meant as news about the wish: an assignment's note is the member's name.
QUIET_ACTIONS = frozenset({"assign"})


def open311_status(status: WishStatus) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


@dataclass(frozen=True)
class KeyOwner:
    """Who an API key acts as; revoked is told apart so the client hears why it was refused."""

    person: Person | None
    revoked: bool


@dataclass(frozen=True)
class RequestView:
    """One wish as the key's owner may see it; unit and note only for who may see them."""

    wish: Wish
    building: str
    community: str
    # The requester's unit: only for the requester's side and the office.
    unit: str | None
    # The note of the latest event (a reason, an answer): only for the same people.
    note: str | None
    # What an Open311 client typed as the address: only for the same people.
    address_string: str | None = None
    # Where the client said it is, else where the building stands; None when neither is known.
    point: Point | None = None
    # The wish's first photo ("web-file:N") and a client's photo link: only with a key.
    photo: str | None = None
    media_url: str | None = None


@dataclass(frozen=True)
class RequestFilter:
    wish_ids: Sequence[int] | None = None
    categories: Sequence[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset({"open", "closed"})
    limit: int = MAX_REQUESTS
    # How many of the newest to pass over first (a page after the first).
    offset: int = 0


async def key_owner(session: AsyncSession, key: str) -> KeyOwner:
    row = await session.scalar(select(ApiClient).where(ApiClient.key_hash == key_hash(key)))
    if row is None:
        return KeyOwner(None, revoked=False)
    if row.revoked_at is not None:
        return KeyOwner(None, revoked=True)
    return KeyOwner(await session.get(Person, row.person_id), revoked=False)


# --- categories (services) --------------------------------------------------------------------


async def active_categories(session: AsyncSession) -> Sequence[Category]:
    return (
        await session.scalars(select(Category).where(Category.active).order_by(Category.code))
    ).all()


async def active_category(session: AsyncSession, code: str) -> Category | None:
    found = await session.get(Category, code)
    return found if found is not None and found.active else None


# --- filing -----------------------------------------------------------------------------------


async def home_building(session: AsyncSession, person: Person) -> int | None:
    """Where the person may ask for help for themselves, as /wish picks it; None: nowhere."""
    homes = [g.scope_id for g in await grants_of(session, person) if g.role == Role.RESIDENT]
    if not homes:
        return None
    return person.building_id if person.building_id in homes else homes[0]


async def resident_in_care(session: AsyncSession, actor: Person, person_id: int) -> Person | None:
    """Someone the actor may ask for on behalf of: living in a building the actor is a rung
    of the ladder over (head, grid worker, admin, street admin). None for anyone else, so
    a client cannot learn who exists outside its care."""
    person = await session.get(Person, person_id)
    if person is None or person.building_id is None:
        return None
    place = await place_of_building(session, person.building_id)
    if ladder_level(await grants_of(session, actor), place) == 0:
        return None
    return person


# --- reading ----------------------------------------------------------------------------------


async def _member_wishes(
    session: AsyncSession, person: Person, grants: Sequence[RoleGrant]
) -> list[ColumnElement[bool]]:
    """What /tasks shows an approved member: the wishes they hold while under way, and the
    open ones in their communities that still need a helper (not their own)."""
    communities = [g.scope_id for g in grants if g.role == Role.MEMBER]
    profile = await session.get(MemberProfile, person.id)
    if not communities or profile is None or not profile.approved:
        return []
    return [
        and_(Wish.id.in_(held_by(person.id)), Wish.status.in_([S.OPEN, S.ACCEPTED, S.DONE])),
        takeable_by(person.id, reach_of(grants, Role.MEMBER)),
    ]


async def visible_to(session: AsyncSession, person: Person) -> ColumnElement[bool]:
    """The wishes the person may see; the same rules as their chat commands."""
    grants = await grants_of(session, person)
    seen: list[ColumnElement[bool]] = [
        Wish.requester_id == person.id,
        Wish.submitted_by_id == person.id,
    ]
    # Heads their buildings, the office its grids, communities and street.
    reached = reach_of(grants, Role.BUILDING_HEAD, *OFFICE_ROLES)
    if not reached.empty:
        seen.append(reached.wishes())
    seen += await _member_wishes(session, person, grants)
    return or_(*seen)


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


async def _latest_events(
    session: AsyncSession, wish_ids: Sequence[int]
) -> dict[int, tuple[str, str | None]]:
    """Each wish's latest event: its action and note."""
    latest: dict[int, tuple[str, str | None]] = {}
    for part in _chunks(wish_ids):
        newest = (
            select(func.max(WishEvent.id))
            .where(WishEvent.wish_id.in_(part))
            .group_by(WishEvent.wish_id)
        )
        rows = await session.execute(
            select(WishEvent.wish_id, WishEvent.action, WishEvent.note).where(
                WishEvent.id.in_(newest)
            )
        )
        latest.update({wish_id: (action, note) for wish_id, action, note in rows.all()})
    return latest


async def _units(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str | None]:
    units: dict[int, str | None] = {}
    for part in _chunks(person_ids):
        rows = await session.execute(select(Person.id, Person.unit).where(Person.id.in_(part)))
        units.update({pid: unit for pid, unit in rows.all()})
    return units


def _matching(filters: RequestFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.wish_ids is not None:
        where.append(Wish.id.in_(filters.wish_ids) if filters.wish_ids else false())
    if filters.categories is not None:
        where.append(Wish.category.in_(filters.categories) if filters.categories else false())
    if filters.start is not None:
        where.append(Wish.created_at >= filters.start)
    if filters.end is not None:
        where.append(Wish.created_at <= filters.end)
    if filters.statuses == frozenset({"closed"}):
        where.append(Wish.status.in_(CLOSED_STATUSES))
    elif filters.statuses == frozenset({"open"}):
        where.append(Wish.status.not_in(CLOSED_STATUSES))
    elif not filters.statuses:
        where.append(false())
    return where


async def _reported(session: AsyncSession, wish_ids: Sequence[int]) -> dict[int, ReportedPlace]:
    found: dict[int, ReportedPlace] = {}
    for part in _chunks(wish_ids):
        rows = await session.scalars(select(ReportedPlace).where(ReportedPlace.wish_id.in_(part)))
        found.update({row.wish_id: row for row in rows.all()})
    return found


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    return None if latitude is None or longitude is None else Point(latitude, longitude)


async def _views(
    session: AsyncSession,
    seen: ColumnElement[bool],
    filters: RequestFilter,
    trusted: Callable[[Wish, Place], bool],
    *,
    keyed: bool,
) -> list[RequestView]:
    rows = (
        await session.execute(
            select(
                Wish,
                Building.name,
                Community.name,
                Grid.id,
                Community.id,
                Community.street_id,
                Building.latitude,
                Building.longitude,
            )
            .join(Building, Wish.building_id == Building.id)
            .join(Grid, Building.grid_id == Grid.id)
            .join(Community, Grid.community_id == Community.id)
            .where(seen, *_matching(filters))
            .order_by(Wish.created_at.desc(), Wish.id.desc())
            .offset(max(filters.offset, 0))
            .limit(max(0, min(filters.limit, MAX_REQUESTS)))
        )
    ).all()
    shown = {
        wish.id
        for wish, _, _, grid_id, community_id, street_id, *_ in rows
        if trusted(wish, Place(wish.building_id, grid_id, community_id, street_id))
    }
    ids = [row[0].id for row in rows]
    events = await _latest_events(session, ids) if shown else {}
    units = await _units(
        session, sorted({row[0].requester_id for row in rows if row[0].id in shown})
    )
    reported = await _reported(session, ids) if keyed else {}
    views = []
    for wish, building, community, _, _, _, latitude, longitude in rows:
        action, note = events.get(wish.id, ("", None))
        mine = wish.id in shown
        told = reported.get(wish.id)
        point = _point(told.latitude, told.longitude) if told else None
        views.append(
            RequestView(
                wish=wish,
                building=building,
                community=community,
                unit=units.get(wish.requester_id) if mine else None,
                note=note if mine and action not in QUIET_ACTIONS else None,
                address_string=told.address_string if told and mine else None,
                point=point or _point(latitude, longitude),
                photo=next(iter(wish.photos), None) if keyed else None,
                media_url=told.media_url if told else None,
            )
        )
    return views


async def visible_requests(
    session: AsyncSession, person: Person, filters: RequestFilter
) -> list[RequestView]:
    """The wishes the person may see that match, newest first, at most filters.limit."""
    grants = await grants_of(session, person)

    def may_see_person(wish: Wish, place: Place) -> bool:
        # The requester's side and the office; a head or a member sees the building only.
        return person.id in (wish.requester_id, wish.submitted_by_id) or (
            ladder_level(grants, place) >= OFFICE_LEVEL
        )

    return await _views(
        session, await visible_to(session, person), filters, may_see_person, keyed=True
    )


async def public_requests(session: AsyncSession, filters: RequestFilter) -> list[RequestView]:
    """What anyone may read without a key, as the noticeboard shows wishes: no requester, no
    unit, no notes, no photos, no address the client typed; the building's own point only."""
    return await _views(session, public_wishes(), filters, lambda _w, _p: False, keyed=False)


async def visible_request(
    session: AsyncSession, person: Person, wish_id: int
) -> RequestView | None:
    """One wish, if the person may see it; None whether it is hidden or does not exist."""
    found = await visible_requests(session, person, RequestFilter(wish_ids=[wish_id], limit=1))
    return found[0] if found else None

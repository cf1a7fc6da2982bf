"""The office's desk: the demand list as the dashboard shows it (saved views with counts, search,
sorting, overdue rows) and what only the office writes on a wish (notes, urgency, helpers needed).

Scope comes from models/reach.py; what is overdue from the reminder rules (models/schedule.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ForeignKey, Text, and_, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.clock import now
from models.community import Building, Community
from models.errors import (
    N_,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    checked_text,
)
from models.office_work import escalated_to, level_over_wish
from models.people import Person, Role, RoleGrant
from models.permissions import LADDER, TOP_LEVEL
from models.reach import Reach, communities_run, grants_of, place_of_building
from models.schedule import overdue_wishes, plan_for_wish
from models.service_lists import day_bounds
from models.web_access import make_sign_in_code
from models.wish_asking import MAX_REQUIRED
from models.wish_moves import MAX_NOTE, get_wish
from models.wishes import Urgency, Wish, WishEvent, WishStatus

S = WishStatus
# The saved views, in the order the dashboard shows them.
VIEWS: dict[str, str] = {
    "all": N_("All"),
    "open": N_("Everything open"),
    "verify": N_("Waiting for verification"),
    "untaken": N_("Nobody took it"),
    "overdue": N_("Overdue"),
    "escalated": N_("Escalated to me"),
    "confirm": N_("Done, waiting for confirmation"),
}
OPEN_STATES = (S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.ESCALATED)
# The columns a list may be sorted by, by the name the address uses.
SORTS = ("code", "created", "building", "unit", "requester", "category", "urgency", "status")
MAX_SEARCH = 100
# The office's rung on the ladder (1 is the building head): a grid worker and up.
OFFICE_LEVEL = 2


class WishNote(Base):
    """An internal note on a wish: the office's own, never sent to residents or members."""

    __tablename__ = "wish_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime]
    text: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class DeskQuery:
    """What the office asked for: the place, the dates, a view, a search and an order."""

    community_id: int
    grid_id: int | None = None
    building_id: int | None = None
    status: str = ""
    category: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    view: str = "all"
    search: str = ""
    sort: str = "created"
    descending: bool = True


@dataclass(frozen=True)
class DeskRow:
    code: str
    created_at: dt.datetime
    building: str
    unit: str
    requester: str
    phone: str
    category: str
    urgency: str
    status: str
    required: int
    taken: int
    preferred_time: dt.datetime | None
    description: str
    overdue: bool


@dataclass(frozen=True)
class DeskList:
    rows: list[DeskRow]
    total: int
    counts: dict[str, int]


def _sort_column(name: str) -> ColumnElement[object]:
    columns: dict[str, ColumnElement[object]] = {
        "code": Wish.id,  # type: ignore[dict-item]
        "created": Wish.created_at,  # type: ignore[dict-item]
        "building": Building.name,  # type: ignore[dict-item]
        "unit": Person.unit,  # type: ignore[dict-item]
        "requester": Person.name,  # type: ignore[dict-item]
        "category": Wish.category,  # type: ignore[dict-item]
        "urgency": Wish.urgency,  # type: ignore[dict-item]
        "status": Wish.status,  # type: ignore[dict-item]
    }
    return columns.get(name, columns["created"])


def _searched(text: str) -> ColumnElement[bool]:
    """Code, description, requester's name or unit contain the words (each of them)."""
    conditions = []
    for word in text.split()[:5]:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Wish.code, Wish.description, Person.name, Person.unit)
                )
            )
        )
    return and_(*conditions) if conditions else and_(True)


async def demand_desk(
    session: AsyncSession,
    reach: Reach,
    grants: Sequence[RoleGrant],
    query: DeskQuery,
    timezone: ZoneInfo,
    limit: int,
) -> DeskList:
    """The demand list of one community within the reach, narrowed by the query, sorted, at
    most ``limit`` rows; with the number of wishes in each saved view under the same place,
    dates and category (the view, status and search aside)."""
    moment = now(session)
    low, high = day_bounds(query.start, query.end, timezone)
    base: list[ColumnElement[bool]] = [
        reach.wishes(
            community_id=query.community_id, grid_id=query.grid_id, building_id=query.building_id
        )
    ]
    if low is not None:
        base.append(Wish.created_at >= low)
    if high is not None:
        base.append(Wish.created_at < high)
    if query.category:
        base.append(Wish.category == query.category)
    mine = [wish.id for wish, _ in await escalated_to(session, reach, grants)]
    overdue = Wish.id.in_(overdue_wishes(moment))
    views: dict[str, ColumnElement[bool]] = {
        "all": and_(True),
        "open": Wish.status.in_(OPEN_STATES),
        "verify": Wish.status == S.SUBMITTED,
        "untaken": and_(Wish.status == S.OPEN, Wish.taken_count == 0),
        "overdue": and_(Wish.status.in_(OPEN_STATES), overdue),
        "escalated": Wish.id.in_(mine) if mine else false(),
        "confirm": Wish.status == S.DONE,
    }
    counts = {}
    for name, condition in views.items():
        counts[name] = int(
            await session.scalar(select(func.count(Wish.id)).where(*base, condition)) or 0
        )
    wanted = [*base, views.get(query.view, views["all"])]
    if query.status:
        wanted.append(Wish.status == query.status)
    if query.search.strip():
        wanted.append(_searched(query.search[:MAX_SEARCH]))
    joined = (
        select(Wish, Building.name, Person, overdue)
        .join(Building, Wish.building_id == Building.id)
        .join(Person, Wish.requester_id == Person.id)
        .where(*wanted)
    )
    total = int(await session.scalar(select(func.count()).select_from(joined.subquery())) or 0)
    column = _sort_column(query.sort)
    order = column.desc() if query.descending else column.asc()
    found = await session.execute(joined.order_by(order, Wish.id.desc()).limit(limit))
    rows = [
        DeskRow(
            code=wish.code or "",
            created_at=wish.created_at.astimezone(timezone),
            building=building,
            unit=person.unit or "",
            requester=person.name if person.erased_at is None else "",
            phone=(person.phone or "") if person.erased_at is None else "",
            category=wish.category,
            urgency=wish.urgency.value,
            status=wish.status.value,
            required=wish.required_count,
            taken=wish.taken_count,
            preferred_time=wish.preferred_time.astimezone(timezone)
            if wish.preferred_time
            else None,
            description=wish.description,
            overdue=bool(late) and wish.status in OPEN_STATES,
        )
        for wish, building, person, late in found.all()
    ]
    return DeskList(rows, total, counts)


async def is_overdue(session: AsyncSession, wish: Wish) -> bool:
    """Whether the wish has waited past what the community's reminder rules allow."""
    if wish.status not in OPEN_STATES:
        return False
    found = await session.scalar(
        select(func.count()).where(Wish.id == wish.id, Wish.id.in_(overdue_wishes(now(session))))
    )
    return bool(found)


# --- what the office writes on a wish --------------------------------------------------------


async def _office_over(session: AsyncSession, actor: Person, wish: Wish) -> None:
    if await level_over_wish(session, await grants_of(session, actor), wish) < OFFICE_LEVEL:
        raise NotAllowed(N_("Only the office of this wish's building can do that."))


async def add_note(session: AsyncSession, actor: Person, wish_id: int, text: str) -> WishNote:
    """An internal note on the wish, for the office only."""
    wish = await get_wish(session, wish_id)
    await _office_over(session, actor, wish)
    kept = checked_text(text, required=True, what=N_("a note"), limit=MAX_NOTE)
    assert kept is not None
    note = WishNote(wish_id=wish.id, author_id=actor.id, at=now(session), text=kept)
    session.add(note)
    await session.flush()
    return note


@dataclass(frozen=True)
class NoteLine:
    at: dt.datetime
    author: str | None
    text: str


async def notes_of(session: AsyncSession, wish_id: int) -> list[NoteLine]:
    """The wish's internal notes, oldest first, with their authors' names."""
    found = await session.execute(
        select(WishNote, Person.name)
        .outerjoin(Person, WishNote.author_id == Person.id)
        .where(WishNote.wish_id == wish_id)
        .order_by(WishNote.at, WishNote.id)
    )
    return [NoteLine(note.at, name, note.text) for note, name in found.all()]


async def _change(
    session: AsyncSession, actor: Person, wish: Wish, action: str, note: str, **values: object
) -> Wish:
    """Change the wish's fields if nobody changed it since it was read; an event says what
    changed, and the reminders are planned again (their timers may depend on it)."""
    result = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.version == wish.version)
        .values(version=Wish.version + 1, updated_at=now(session), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Wish {code} changed just now; please look again."), code=wish.code)
    await session.refresh(wish)
    session.add(
        WishEvent(
            wish_id=wish.id,
            actor_id=actor.id,
            at=now(session),
            action=action,
            from_status=wish.status,
            to_status=wish.status,
            note=note,
        )
    )
    await session.flush()
    await plan_for_wish(session, wish)
    return wish


async def set_urgency(session: AsyncSession, actor: Person, wish_id: int, urgency: str) -> Wish:
    """The office marks a wish urgent or normal again (while it is still under way)."""
    wish = await get_wish(session, wish_id)
    await _office_over(session, actor, wish)
    try:
        chosen = Urgency(urgency)
    except ValueError:
        raise InvalidInput(N_("There is no such urgency.")) from None
    if wish.status not in OPEN_STATES:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )
    if chosen == wish.urgency:
        return wish
    return await _change(session, actor, wish, "urgency", chosen.value, urgency=chosen)


async def set_required(session: AsyncSession, actor: Person, wish_id: int, count: int) -> Wish:
    """How many helpers the wish needs; changed while it waits for a check or for helpers,
    and never to as few as have taken it already (it would count as taken, unasked)."""
    wish = await get_wish(session, wish_id)
    await _office_over(session, actor, wish)
    if not 1 <= count <= MAX_REQUIRED:
        raise InvalidInput(
            N_("Helpers needed is a number from 1 to {most}."), most=str(MAX_REQUIRED)
        )
    if wish.status not in (S.SUBMITTED, S.OPEN):
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=wish.status.value,
        )
    if count <= wish.taken_count:
        raise InvalidInput(
            N_("{taken} helpers have taken wish {code} already: it needs more than that."),
            taken=str(wish.taken_count),
            code=wish.code,
        )
    if count == wish.required_count:
        return wish
    return await _change(session, actor, wish, "helpers", str(count), required_count=count)


# --- the history, saying who did what to whom ------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    actor: str | None
    action: str
    from_status: str | None
    to_status: str
    note: str | None
    # For a move up the ladder: the rung it went to (1 building head ... 4 street admin).
    rung: int | None


async def history(session: AsyncSession, wish: Wish) -> list[HistoryLine]:
    """The wish's events, oldest first, each with its actor's name and, for a move up the
    ladder, the rung it reached: the wish's own rung for the last one, worked out for those
    before (an escalation goes one above both the escalator and where it was)."""
    found = (
        await session.execute(
            select(WishEvent, Person)
            .outerjoin(Person, WishEvent.actor_id == Person.id)
            .where(WishEvent.wish_id == wish.id)
            .order_by(WishEvent.at, WishEvent.id)
        )
    ).all()
    ups = ("escalate", "auto_escalate", "climb")
    last_up = max((i for i, (e, _) in enumerate(found) if e.action in ups), default=-1)
    level = 0
    lines = []
    for index, (event, actor) in enumerate(found):
        rung = None
        if event.action in ups:
            if index == last_up and wish.status == S.ESCALATED and wish.escalation_level:
                level = wish.escalation_level
            elif event.action == "auto_escalate":
                level = LADDER.index(Role.ADMIN) + 1
            elif event.action == "climb":
                level += 1
            else:
                held = await level_over_wish(session, await grants_of(session, actor), wish)
                level = max(held, level) + 1
            level = min(level, TOP_LEVEL)
            rung = level
        lines.append(
            HistoryLine(
                event.at,
                actor.name if actor is not None and actor.erased_at is None else None,
                event.action,
                event.from_status.value if event.from_status else None,
                event.to_status.value,
                event.note,
                rung,
            )
        )
    return lines


# --- the office's contact, shown on the noticeboard and on sign-in slips ----------------------

MAX_CONTACT = 200


async def office_contact(session: AsyncSession, community_id: int) -> str | None:
    """How residents reach the community's office (public: it is pinned up on the board)."""
    return await session.scalar(
        select(Community.office_contact).where(Community.id == community_id)
    )


async def set_office_contact(
    session: AsyncSession, actor: Person, community_id: int, text: str
) -> str | None:
    """The community's admin (or its street admin) says how to reach the office; empty
    clears it."""
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only the community's admin can change its office contact."))
    kept = checked_text(text, required=False, what=N_("a contact"), limit=MAX_CONTACT)
    await session.execute(
        update(Community).where(Community.id == community_id).values(office_contact=kept)
    )
    return kept


@dataclass(frozen=True)
class Slip:
    """What a printed sign-in slip says: who, where, the code, and how to reach the office."""

    name: str
    building: str
    unit: str
    locale: str | None
    code: str
    contact: str | None


async def sign_in_slip(session: AsyncSession, actor: Person, person_id: int) -> Slip:
    """A fresh sign-in code for a resident the actor looks after, with what the slip prints."""
    person = await session.get(Person, person_id)
    if person is None or person.building_id is None or person.erased_at is not None:
        raise NotFound(N_("There is no such person."))
    code = await make_sign_in_code(session, actor, person)
    building = await session.get(Building, person.building_id)
    assert building is not None
    place = await place_of_building(session, building.id)
    return Slip(
        person.name,
        building.name,
        person.unit or "",
        person.locale,
        code,
        await office_contact(session, place.community_id),
    )


async def residents_for_slips(
    session: AsyncSession, reach: Reach, community_id: int, limit: int
) -> list[tuple[int, str]]:
    """The residents of the reach's buildings in the community, as (id, "name · building
    unit"), by building, unit and name: whom the office may print a sign-in slip for."""
    found = await session.execute(
        select(Person.id, Person.name, Building.name, Person.unit)
        .join(Building, Person.building_id == Building.id)
        .where(
            Person.building_id.in_(reach.buildings(community_id=community_id)),
            Person.erased_at.is_(None),
        )
        .order_by(Building.name, Person.unit, Person.name, Person.id)
        .limit(limit)
    )
    return [
        (person_id, f"{name} · {building} {unit or ''}".strip())
        for person_id, name, building, unit in found.all()
    ]

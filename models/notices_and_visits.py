"""What building heads do besides wishes: notices with read counts, small disputes, key people.

Plain store operations `op(session, actor, ...)`; the caller owns the transaction. A read is
one row per notice and person, so a second press or a second device changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building
from models.errors import (
    N_,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    checked_text,
)
from models.neighbourhood import Dispute, DisputeStatus, Visit, VisitPlan
from models.notices import Notice, NoticeBuilding, NoticeRead
from models.people import Identity, Person, Role, RoleGrant
from models.permissions import has_role, ladder_level
from models.reach import OFFICE_ROLES, grants_of, place_of_building, reach
from models.reminders import Reminder, ReminderStatus
from models.schedule import add_reminder
from models.wishes import Wish, WishStatus

MAX_NOTICE = 2000
MAX_PARTIES = 200
MAX_WHAT = 1000
MAX_UNIT = 40
MAX_REASON = 200
MAX_NOTE = 1000
VISIT_DUE = "visit.due"
UTC = ZoneInfo("UTC")
HEAD_LEVEL = 1  # the ladder's first rung: the building head
GRID_LEVEL = 2


def _text(value: str | None, *, limit: int, what: str, required: bool = True) -> str | None:
    return checked_text(value, required=required, what=what, limit=limit)


def _required(value: str | None, *, limit: int, what: str) -> str:
    cleaned = _text(value, limit=limit, what=what)
    assert cleaned is not None
    return cleaned


async def _level(session: AsyncSession, actor: Person, building_id: int) -> int:
    place = await place_of_building(session, building_id)
    return ladder_level(await grants_of(session, actor), place)


# --- notices -------------------------------------------------------------------------------


async def send_notice(
    session: AsyncSession, actor: Person, building_ids: Iterable[int], text: str
) -> Notice:
    """A head for their own buildings, an admin for any building of their community."""
    buildings = sorted(set(building_ids))
    if not buildings:
        raise InvalidInput(N_("Choose at least one building."))
    body = _required(text, limit=MAX_NOTICE, what=N_("the notice"))
    grants = await grants_of(session, actor)
    communities = set()
    for building_id in buildings:
        place = await place_of_building(session, building_id)
        if not (has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place)):
            raise NotAllowed(N_("You may send notices only to your own buildings."))
        communities.add(place.community_id)
    if len(communities) != 1:
        raise InvalidInput(N_("A notice goes to buildings of one community."))
    notice = Notice(
        community_id=communities.pop(), sender_id=actor.id, text=body, created_at=now(session)
    )
    session.add(notice)
    await session.flush()
    session.add_all(NoticeBuilding(notice_id=notice.id, building_id=b) for b in buildings)
    await session.flush()
    return notice


async def get_notice(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(N_("There is no such notice."))
    return notice


async def notice_buildings(session: AsyncSession, notice_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(NoticeBuilding.building_id)
                .where(NoticeBuilding.notice_id == notice_id)
                .order_by(NoticeBuilding.building_id)
            )
        ).all()
    )


def _residents_of(notice: Notice) -> Select[Any]:
    """Residents of the notice's buildings (not its sender)."""
    return (
        select(RoleGrant.person_id)
        .join(NoticeBuilding, NoticeBuilding.building_id == RoleGrant.scope_id)
        .where(
            NoticeBuilding.notice_id == notice.id,
            RoleGrant.role == Role.RESIDENT,
            RoleGrant.person_id != notice.sender_id,
        )
    )


def _audience(notice: Notice) -> Select[Any]:
    """Who a notice is for: its buildings' residents who have a chat, each once."""
    with_chat = select(Identity.person_id)
    return (
        _residents_of(notice)
        .where(RoleGrant.person_id.in_(with_chat))
        .distinct()
        .order_by(RoleGrant.person_id)
    )


async def audience(session: AsyncSession, notice: Notice) -> list[int]:
    return list((await session.scalars(_audience(notice))).all())


async def mark_read(session: AsyncSession, person: Person, notice_id: int) -> bool:
    """Record that the person read the notice; True the first time, False ever after.

    Two presses at once (two devices, two processes) may both find no row: the second insert
    then fails on the primary key inside its savepoint, and counts as read already.
    """
    notice = await get_notice(session, notice_id)
    mine = await session.scalar(
        _residents_of(notice).where(RoleGrant.person_id == person.id).limit(1)
    )
    if mine is None:
        raise NotAllowed(N_("This notice was not for you."))
    already = await session.scalar(
        select(NoticeRead.person_id).where(
            NoticeRead.notice_id == notice_id, NoticeRead.person_id == person.id
        )
    )
    if already is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(NoticeRead(notice_id=notice_id, person_id=person.id, read_at=now(session)))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def _may_follow(session: AsyncSession, actor: Person, notice: Notice) -> None:
    """The sender, an admin of its community, or a head of one of its buildings."""
    if actor.id == notice.sender_id:
        return
    grants = await grants_of(session, actor)
    for building_id in await notice_buildings(session, notice.id):
        place = await place_of_building(session, building_id)
        if has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place):
            return
    raise NotAllowed(N_("That notice is not one of yours."))


async def read_counts(session: AsyncSession, actor: Person, notice_id: int) -> tuple[int, int]:
    """(read, total): total is the audience; read counts each reader among them once."""
    notice = await get_notice(session, notice_id)
    await _may_follow(session, actor, notice)
    everyone = _audience(notice).subquery()
    total = await session.scalar(select(func.count()).select_from(everyone))
    read = await session.scalar(
        select(func.count(NoticeRead.person_id)).where(
            NoticeRead.notice_id == notice_id,
            NoticeRead.person_id.in_(select(everyone.c.person_id)),
        )
    )
    return int(read or 0), int(total or 0)


async def unread_people(session: AsyncSession, actor: Person, notice_id: int) -> list[int]:
    """Who the notice is for and has not pressed "I've read it" yet."""
    notice = await get_notice(session, notice_id)
    await _may_follow(session, actor, notice)
    readers = select(NoticeRead.person_id).where(NoticeRead.notice_id == notice_id)
    return list(
        (await session.scalars(_audience(notice).where(RoleGrant.person_id.not_in(readers)))).all()
    )


async def notices_sent_by(session: AsyncSession, actor: Person, limit: int = 5) -> list[Notice]:
    return list(
        (
            await session.scalars(
                select(Notice)
                .where(Notice.sender_id == actor.id)
                .order_by(Notice.id.desc())
                .limit(limit)
            )
        ).all()
    )


# --- disputes ------------------------------------------------------------------------------


async def log_dispute(
    session: AsyncSession,
    head: Person,
    building_id: int,
    parties: str,
    what: str,
    outcome: str | None = None,
) -> Dispute:
    """A head (or anyone above on the ladder) logs it; with an outcome it is settled already."""
    if await _level(session, head, building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can log its disputes."))
    settled = _text(outcome, limit=MAX_WHAT, what=N_("the outcome"), required=False)
    moment = now(session)
    dispute = Dispute(
        building_id=building_id,
        parties=_required(parties, limit=MAX_PARTIES, what=N_("the parties' units")),
        what=_required(what, limit=MAX_WHAT, what=N_("what it is about")),
        outcome=settled,
        status=DisputeStatus.SETTLED if settled else DisputeStatus.OPEN,
        reported_by_id=head.id,
        created_at=moment,
        updated_at=moment,
    )
    session.add(dispute)
    await session.flush()
    return dispute


async def get_dispute(session: AsyncSession, dispute_id: int) -> Dispute:
    dispute = await session.get(Dispute, dispute_id, populate_existing=True)
    if dispute is None:
        raise NotFound(N_("There is no such dispute."))
    return dispute


async def _move_dispute(
    session: AsyncSession,
    dispute: Dispute,
    allowed: Sequence[DisputeStatus],
    to: DisputeStatus,
    **values: Any,
) -> Dispute:
    """One conditional UPDATE: two people moving it at once cannot both win."""
    if dispute.status not in allowed:
        if dispute.status == DisputeStatus.SETTLED:
            raise IllegalTransition(N_("Dispute #{id} is settled already."), id=dispute.id)
        raise IllegalTransition(N_("Dispute #{id} is with the grid worker already."), id=dispute.id)
    result = await session.execute(
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == dispute.status)
        .values(status=to, updated_at=now(session), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Dispute #{id} changed just now; please look again."), id=dispute.id)
    await session.refresh(dispute)
    return dispute


async def settle_dispute(
    session: AsyncSession, actor: Person, dispute_id: int, outcome: str
) -> Dispute:
    """An open one by its head; an escalated one by the grid worker (or above)."""
    dispute = await get_dispute(session, dispute_id)
    level = await _level(session, actor, dispute.building_id)
    needed = GRID_LEVEL if dispute.status == DisputeStatus.ESCALATED else HEAD_LEVEL
    if level < needed:
        raise NotAllowed(N_("You may not settle this dispute."))
    text = _required(outcome, limit=MAX_WHAT, what=N_("the outcome"))
    return await _move_dispute(
        session,
        dispute,
        (DisputeStatus.OPEN, DisputeStatus.ESCALATED),
        DisputeStatus.SETTLED,
        outcome=text,
    )


async def escalate_dispute(session: AsyncSession, actor: Person, dispute_id: int) -> Dispute:
    """The head passes it to the grid worker of the building's grid."""
    dispute = await get_dispute(session, dispute_id)
    if await _level(session, actor, dispute.building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can pass this dispute on."))
    return await _move_dispute(session, dispute, (DisputeStatus.OPEN,), DisputeStatus.ESCALATED)


async def disputes_for(
    session: AsyncSession, building_ids: Sequence[int], statuses: Sequence[DisputeStatus]
) -> list[Dispute]:
    return list(
        (
            await session.scalars(
                select(Dispute)
                .where(Dispute.building_id.in_(building_ids), Dispute.status.in_(statuses))
                .order_by(Dispute.id)
                .limit(20)
            )
        ).all()
    )


# --- the monthly report --------------------------------------------------------------------


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


# --- key people: visits --------------------------------------------------------------------


def _visit_key(plan: VisitPlan) -> str:
    return f"{VISIT_DUE}:{plan.id}:{plan.next_due_at.isoformat()}"


async def _plan_reminder(session: AsyncSession, plan: VisitPlan, head_id: int) -> None:
    await add_reminder(
        session,
        VISIT_DUE,
        plan.next_due_at,
        person_id=head_id,
        key=_visit_key(plan),
        payload={"plan_id": plan.id, "due": plan.next_due_at.isoformat()},
    )


async def flag_visits(
    session: AsyncSession,
    head: Person,
    building_id: int,
    unit: str,
    reason: str,
    every_days: int,
) -> VisitPlan:
    """A unit to visit every N days; the head is reminded when a visit is due."""
    if await _level(session, head, building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can plan its visits."))
    if not 1 <= every_days <= 365:
        raise InvalidInput(N_("Visits can be every 1 to 365 days."))
    moment = now(session)
    plan = VisitPlan(
        building_id=building_id,
        unit=_required(unit, limit=MAX_UNIT, what=N_("the unit")),
        reason=_required(reason, limit=MAX_REASON, what=N_("the reason")),
        every_days=every_days,
        next_due_at=moment + dt.timedelta(days=every_days),
        active=True,
        created_by_id=head.id,
        created_at=moment,
    )
    session.add(plan)
    await session.flush()
    await _plan_reminder(session, plan, head.id)
    return plan


async def get_plan(session: AsyncSession, plan_id: int) -> VisitPlan:
    plan = await session.get(VisitPlan, plan_id, populate_existing=True)
    if plan is None or not plan.active:
        raise NotFound(N_("There is no such visit plan."))
    return plan


async def record_visit(
    session: AsyncSession,
    head: Person,
    plan_id: int,
    note: str | None = None,
    *,
    due: dt.datetime | None = None,
) -> Visit:
    """The visit is made: the next is due every_days after this one was (or after today, when
    it was made so late that date has passed). `due`, from a reminder's button, makes a second
    press of the same button harmless: that visit is recorded already."""
    plan = await get_plan(session, plan_id)
    if await _level(session, head, plan.building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can record its visits."))
    if due is not None and plan.next_due_at != due:
        raise Conflict(N_("That visit is recorded already."))
    moment = now(session)
    every = dt.timedelta(days=plan.every_days)
    old_due = plan.next_due_at
    next_due = old_due + every
    if next_due <= moment:
        next_due = moment + every
    moved = await session.execute(
        update(VisitPlan)
        .where(VisitPlan.id == plan.id, VisitPlan.next_due_at == old_due)
        .values(next_due_at=next_due)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("That visit is recorded already."))
    await session.execute(
        update(Reminder)
        .where(Reminder.key == _visit_key(plan), Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(plan)
    visit = Visit(
        plan_id=plan.id,
        visited_by_id=head.id,
        at=moment,
        note=_text(note, limit=MAX_NOTE, what=N_("a note"), required=False),
    )
    session.add(visit)
    await session.flush()
    await _plan_reminder(session, plan, head.id)
    return visit


async def stop_visits(session: AsyncSession, head: Person, plan_id: int) -> VisitPlan:
    plan = await get_plan(session, plan_id)
    if await _level(session, head, plan.building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can plan its visits."))
    plan.active = False
    await session.execute(
        update(Reminder)
        .where(Reminder.key == _visit_key(plan), Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return plan


async def visit_plans(session: AsyncSession, building_ids: Sequence[int]) -> list[VisitPlan]:
    return list(
        (
            await session.scalars(
                select(VisitPlan)
                .where(VisitPlan.building_id.in_(building_ids), VisitPlan.active)
                .order_by(VisitPlan.next_due_at, VisitPlan.id)
                .limit(30)
            )
        ).all()
    )


async def due_plan(session: AsyncSession, reminder: Reminder) -> VisitPlan | None:
    """The plan a visit reminder is about, if that visit is still due (not made, not stopped)."""
    plan_id = reminder.payload.get("plan_id")
    if not isinstance(plan_id, int):
        return None
    plan = await session.get(VisitPlan, plan_id, populate_existing=True)
    if plan is None or not plan.active:
        return None
    if plan.next_due_at.isoformat() != reminder.payload.get("due"):
        return None
    return plan

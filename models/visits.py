"""Key people a head visits regularly: a plan per person, a reminder at each due date, every
visit on record; stopping a plan cancels its reminder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from models.head_work import HEAD_LEVEL, _level, _required, _text
from models.neighbourhood import Visit, VisitPlan
from models.people import Person
from models.reminders import Reminder, ReminderStatus
from models.schedule import add_reminder

MAX_UNIT = 40
MAX_REASON = 200
MAX_NOTE = 1000
VISIT_DUE = "visit.due"


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

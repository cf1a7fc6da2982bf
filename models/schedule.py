"""Which reminders each state of a wish needs, and when; quiet hours.

Planned on every move of a wish (the old ones are cancelled); stored as rows, never closures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Community, Grid
from models.errors import N_, InvalidInput
from models.people import Role, RoleGrant
from models.permissions import TOP_LEVEL
from models.reminders import Reminder, ReminderStatus
from models.wishes import Urgency, Wish, WishStatus

S = WishStatus
WISH_PREFIX = "wish."


@dataclass(frozen=True)
class ReminderRules:
    """Hours and days before each nudge; the settings give the defaults, a community its own."""

    verify_hours: float = 12  # submitted, not verified: the head; twice that: the grid worker
    open_hours: float = 24  # open with no taker: the grid worker, with suggestions
    open_escalate_days: float = 3  # open with no taker: escalated to the admin
    before_hours: float = 2  # accepted: the member, this long before the preferred time
    progress_days: float = 3  # accepted, no progress: ask the member whether they are on it
    answer_hours: float = 24  # ...and with no answer, give the wish back to open
    confirm_hours: float = 24  # done, not confirmed: remind the requester
    auto_confirm_hours: float = 72  # ...and confirm it for them
    escalated_hours: float = 24  # escalated, unanswered: it climbs a rung (at the top: reminded)
    top_reminders: int = 7  # how many times the street admin is reminded at the top
    urgent_factor: float = 0.5  # an urgent wish's waiting timers (verify, open, escalated) x this
    quiet_start: str = "22:00"
    quiet_end: str = "08:00"
    digest_time: str = "08:30"  # the admins' daily digest, local time
    head_prompt_weekday: int = 0  # Monday, with the digest: "anything new in your building?"
    keep_closed_days: float = 180  # a finished wish's personal details, then blanked

    def merged(self, overrides: dict[str, Any]) -> ReminderRules:
        """These rules with a community's overrides; an unknown or bad value is refused."""
        known = {f.name: f.type for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name == "dispatch":  # the dispatch weights live beside them (models/dispatch.py)
                continue
            if name not in known:
                raise InvalidInput(N_("There is no reminder rule called {name}."), name=name)
            current = getattr(self, name)
            try:
                if isinstance(current, str):
                    _clock_time(str(value))
                    values[name] = str(value)
                else:
                    values[name] = type(current)(value)
                    if values[name] < 0:
                        raise ValueError
            except (TypeError, ValueError):
                raise InvalidInput(
                    N_("The rule {name} cannot be {value}."), name=name, value=value
                ) from None
        return dataclasses.replace(self, **values)


def _clock_time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def default_rules(session: AsyncSession) -> ReminderRules:
    rules = session.info.get("rules")
    return rules if isinstance(rules, ReminderRules) else ReminderRules()


async def rules_for_building(session: AsyncSession, building_id: int) -> ReminderRules:
    overrides = await session.scalar(
        select(Community.rules)
        .join(Grid, Grid.community_id == Community.id)
        .join(Building, Building.grid_id == Grid.id)
        .where(Building.id == building_id)
    )
    return default_rules(session).merged(overrides or {})


def in_quiet_hours(moment: dt.datetime, rules: ReminderRules, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).time()
    start, end = _clock_time(rules.quiet_start), _clock_time(rules.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def after_quiet_hours(moment: dt.datetime, rules: ReminderRules, tz: ZoneInfo) -> dt.datetime:
    """The moment itself, or the end of the quiet hours it falls in (local morning)."""
    if not in_quiet_hours(moment, rules, tz):
        return moment
    local = moment.astimezone(tz)
    end = _clock_time(rules.quiet_end)
    morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if morning <= local:
        morning += dt.timedelta(days=1)
    return morning.astimezone(dt.UTC)


def waiting_hours(wish: Wish, rules: ReminderRules) -> dt.timedelta:
    """An hour of waiting for someone to answer the wish: shorter when it is urgent."""
    return dt.timedelta(hours=rules.urgent_factor if wish.urgency == Urgency.URGENT else 1)


def _plan(wish: Wish, rules: ReminderRules, moment: dt.datetime) -> list[tuple[str, dt.datetime]]:
    hours = waiting_hours(wish, rules)  # the office's and the members' answers: shorter if urgent
    days = 24 * hours
    if wish.status == S.ESCALATED:
        # Nobody at this rung answered in time: it climbs; at the top, the street admin is
        # reminded (handlers/reminders.py plans the next reminders, up to top_reminders).
        at_top = (wish.escalation_level or TOP_LEVEL) >= TOP_LEVEL
        return [
            (
                "escalated_top" if at_top else "escalated_climb",
                moment + rules.escalated_hours * hours,
            )
        ]
    if wish.status == S.SUBMITTED:
        return [
            ("verify_head", moment + rules.verify_hours * hours),
            ("verify_grid", moment + 2 * rules.verify_hours * hours),
        ]
    if wish.status == S.OPEN:
        return [
            ("open_grid", moment + rules.open_hours * hours),
            ("open_escalate", moment + rules.open_escalate_days * days),
        ]
    hours, days = dt.timedelta(hours=1), dt.timedelta(days=1)  # the helper's own pace
    if wish.status == S.ACCEPTED:
        plan = [("still_on_it", moment + rules.progress_days * days)]
        if wish.preferred_time is not None and wish.preferred_time > moment:
            before = wish.preferred_time - rules.before_hours * hours
            if before > moment:
                plan.append(("before_time", before))
            plan.append(("time_passed", wish.preferred_time))
        return plan
    if wish.status == S.DONE:
        return [
            ("confirm_remind", moment + rules.confirm_hours * hours),
            ("auto_confirm", moment + rules.auto_confirm_hours * hours),
        ]
    return []


async def cancel_wish_reminders(session: AsyncSession, wish_id: int) -> None:
    await session.execute(
        update(Reminder)
        .where(
            Reminder.wish_id == wish_id,
            Reminder.status == ReminderStatus.PENDING,
            Reminder.kind.startswith(WISH_PREFIX),
        )
        .values(status=ReminderStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


async def plan_for_wish(session: AsyncSession, wish: Wish) -> None:
    """Cancel what the old state needed; add what the new one needs."""
    await cancel_wish_reminders(session, wish.id)
    rules = await rules_for_building(session, wish.building_id)
    moment = now(session)
    for kind, due in _plan(wish, rules, moment):
        await add_reminder(session, f"{WISH_PREFIX}{kind}", due, wish=wish)


async def add_reminder(
    session: AsyncSession,
    kind: str,
    due: dt.datetime,
    *,
    wish: Wish | None = None,
    person_id: int | None = None,
    key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Reminder | None:
    """One rule reminder; its key (by default kind, wish and the wish's version) keeps it single."""
    key = key or f"{kind}:{wish.id if wish else person_id}:{wish.version if wish else ''}"
    if await session.scalar(select(Reminder.id).where(Reminder.key == key)) is not None:
        return None
    row = Reminder(
        due_at=due,
        target_person_id=person_id,
        kind=kind,
        wish_id=wish.id if wish else None,
        payload={**(payload or {}), "version": wish.version if wish else None},
        status=ReminderStatus.PENDING,
        key=key,
        urgent=bool(wish and wish.urgency == Urgency.URGENT),
        attempts=0,
        created_at=now(session),
    )
    session.add(row)
    await session.flush()
    return row


async def claim_due_reminders(session: AsyncSession, limit: int = 1) -> list[Reminder]:
    """Lock due rule reminders (not ready messages); other processes skip what this one holds."""
    return list(
        (
            await session.scalars(
                select(Reminder)
                .where(
                    Reminder.status == ReminderStatus.PENDING,
                    Reminder.due_at <= now(session),
                    Reminder.platform.is_(None),
                )
                .order_by(Reminder.due_at, Reminder.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )


async def plan_for_role(session: AsyncSession, role: Role, kind: str, day: dt.date) -> int:
    """One reminder of this kind for each holder of the role, once per day whatever the processes.

    The admins' morning digest and the building heads' weekly prompt are planned this way.
    """
    holders = (
        await session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == role).distinct())
    ).all()
    made = 0
    for person_id in holders:
        key = f"{kind}:{day.isoformat()}:{person_id}"
        added = await add_reminder(session, kind, now(session), person_id=person_id, key=key)
        made += added is not None
    return made


# A nudge that comes before anything is late: its time passing makes nothing overdue.
NOT_LATE = (f"{WISH_PREFIX}before_time",)


def overdue_wishes(moment: dt.datetime) -> Select[int | None]:
    """The ids of the wishes overdue at the moment by their community's reminder rules: a
    reminder planned for the state they are in now (planned at or after their last move) fell
    due, and nobody moved them since. The dashboard's "overdue" view and rows ask here."""
    return (
        select(Reminder.wish_id)
        .join(Wish, Wish.id == Reminder.wish_id)
        .where(
            Reminder.kind.startswith(WISH_PREFIX),
            Reminder.kind.not_in(NOT_LATE),
            Reminder.status != ReminderStatus.CANCELLED,
            Reminder.due_at <= moment,
            Reminder.created_at >= Wish.updated_at,
        )
    )

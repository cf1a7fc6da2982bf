"""The rule reminders: due ones fired a batch per transaction with what they send, a failing
one backed off and at last given up; the daily plan of digests, prompts and statements.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.outage import database_blinked
from handlers.reminders import fire
from models.clock import now
from models.commitments import plan_behind_reminders
from models.errors import StoreError
from models.people import Role
from models.reminders import Reminder, ReminderStatus
from models.retention import plan_retention
from models.schedule import claim_due_reminders, plan_for_role

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("wishbot.runtime")

# A rule reminder whose firing keeps failing (a bug, not an outage) is given up after this.
MAX_ATTEMPTS = 8
# Due rule reminders fired per transaction, and how often the sweep looks for due ones.
REMINDER_BATCH = 50
REMINDER_WAKE_SECONDS = 0.25


def back_off(row: Reminder, moment: dt.datetime, reason: str) -> None:
    """A rule reminder whose firing failed (a bug): try it again later, twice as late each time;
    after MAX_ATTEMPTS, give up and say why. Sending never comes here: see
    OutboxSide._send_due."""
    row.last_error = reason
    if row.attempts >= MAX_ATTEMPTS:
        row.status = ReminderStatus.FAILED
    else:
        row.due_at = moment + dt.timedelta(seconds=2**row.attempts)


class RuleReminders:
    """The runtime's firing of rule reminders, one round at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.app = runtime.app
        self._lock = asyncio.Lock()

    async def fire_reminders(self) -> int:
        """Fire every due rule reminder, a batch per transaction with what they send; what
        a batch queued goes out while the next batch fires."""
        fired = 0
        async with self._lock:
            while batch := await self._fire_batch():
                fired += batch
                self.runtime.outbox_waiting.set()
        return fired

    async def _fire_batch(self) -> int:
        """Claim up to REMINDER_BATCH due reminders (other processes skip them) and fire each
        in its own savepoint: one that no longer applies or fails alone is recorded alone."""
        async with self.app.sessions.begin() as session:
            rows = await claim_due_reminders(session, REMINDER_BATCH)
            for row in rows:
                row.attempts += 1
                try:
                    async with session.begin_nested():
                        await self.runtime.queue(
                            session, await fire(session, row, self.runtime.config)
                        )
                    row.status = ReminderStatus.SENT
                    row.sent_at = now(session)
                except StoreError as refused:
                    # Somebody moved the wish at the same moment: the reminder no longer applies.
                    row.status = ReminderStatus.CANCELLED
                    row.last_error = refused.key[:500]
                except Exception as error:
                    if database_blinked(error):
                        # The database, not the reminder: nothing is committed, the rows stay
                        # due and the sweep tries again after a wait (never counted against them).
                        raise
                    # A bug: try again later, then give up with a record.
                    log.exception("reminder %s failed", row.id)
                    back_off(row, now(session), type(error).__name__)
        return len(rows)

    async def plan_daily(self) -> None:
        """The admins' digests (and on its weekday the heads' prompt), once whatever the processes."""
        rules = self.app.settings.rules
        async with self.app.sessions.begin() as session:
            today = now(session).astimezone(self.app.settings.timezone).date()
            await plan_for_role(session, Role.ADMIN, "digest", today)
            await plan_retention(session, today)
            await plan_behind_reminders(session, self.app.settings.timezone)
            if today.weekday() == rules.head_prompt_weekday:
                await plan_for_role(session, Role.BUILDING_HEAD, "head_prompt", today)
            if today.day == 1:
                # Each member's points statement of the month just ended (flows/standing.py).
                await plan_for_role(session, Role.MEMBER, "points_statement", today)
        self.runtime.reminders_waiting.set()

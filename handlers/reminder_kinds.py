"""The registry of reminders that are not about one wish (digests, campaigns, visits).

Apart from handlers/reminders.py so that a flow can register its kinds without an import
cycle (handlers.reminders imports the flows' shared news module).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.turn import Speaker
from models.reminders import Reminder

OtherFire = Callable[[Speaker, Reminder], Awaitable[None]]
OTHER_REMINDERS: dict[str, OtherFire] = {}


def reminder_kind(kind: str) -> Callable[[OtherFire], OtherFire]:
    def register(run: OtherFire) -> OtherFire:
        assert kind not in OTHER_REMINDERS, f"reminder kind {kind} is registered twice"
        OTHER_REMINDERS[kind] = run
        return run

    return register

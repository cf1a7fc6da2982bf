"""The clock the store reads: injected through the session, so tests control time.

build_app puts a Clock into the sessionmaker's info; store operations call now(session).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, when: dt.datetime) -> None:
        self._now = when


def now(session: AsyncSession) -> dt.datetime:
    clock = session.info.get("clock")
    if clock is None:
        raise RuntimeError(
            "the session has no clock: open sessions through build_app's sessionmaker"
        )
    current: dt.datetime = clock.now()
    return current

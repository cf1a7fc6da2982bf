"""One kind of trouble (the database, a platform): logged once when it starts and once when it
ends, never per try; the wait before the next try doubles from one second up to a ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

FIRST_WAIT = 1.0
LONGEST_WAIT = 60.0

Pause = Callable[[float], Awaitable[None]]


class Outage:
    def __init__(self, what: str, log: logging.Logger, longest: float = LONGEST_WAIT) -> None:
        self.what = what
        self.log = log
        self.longest = longest
        self.failures = 0

    @property
    def ongoing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> float:
        """Note one failed try; the seconds to wait before the next."""
        if self.failures == 0:
            # The error's kind only: its text may carry SQL parameters or a token.
            self.log.warning(
                "%s failed (%s); trying again with growing waits", self.what, type(error).__name__
            )
        self.failures += 1
        wait: float = min(FIRST_WAIT * 2.0 ** (self.failures - 1), self.longest)
        return wait

    def ended(self) -> None:
        if self.failures:
            self.log.warning("%s works again after %d failed tries", self.what, self.failures)
        self.failures = 0


def pause_until(stopping: asyncio.Event) -> Pause:
    """Wait the seconds, or less if the app stops."""

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=seconds)

    return pause


def database_blinked(error: BaseException) -> bool:
    """The database, not the statement: a connection lost or refused, a lock, a read-only or
    restarting server ("not now", so the work waits), as against a bug's "never"."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError)):
        return True
    # A driver error SQLAlchemy could not sort (asyncpg's "not accepting connections").
    return type(error) is DBAPIError

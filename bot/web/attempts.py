"""How often one address may try a sign-in code or open a guest chat, per process.

Codes are long and short-lived; this keeps a patient guesser or a form-filling robot slow.
"""

from __future__ import annotations

import datetime as dt
from collections import deque

from models.clock import Clock


class Attempts:
    """At most `limit` attempts per address within `window`; the clock is injected."""

    def __init__(self, clock: Clock, limit: int, window: dt.timedelta) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[dt.datetime]] = {}

    def _recent(self, address: str) -> deque[dt.datetime]:
        moments = self._seen.setdefault(address, deque())
        oldest = self.clock.now() - self.window
        while moments and moments[0] <= oldest:
            moments.popleft()
        if not moments:
            # Forget quiet addresses, so the table does not grow without end.
            del self._seen[address]
            return deque()
        return moments

    def allowed(self, address: str) -> bool:
        return len(self._recent(address)) < self.limit

    def record(self, address: str) -> None:
        self._recent(address)
        self._seen.setdefault(address, deque()).append(self.clock.now())

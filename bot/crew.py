"""A few workers on one line of work: one starts, and a worker that sees more waiting than
the crew is busy with calls in another, up to the crew's size; done when the last is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Crew:
    def __init__(self, size: int) -> None:
        self.size = size
        self._running: set[asyncio.Task[int]] = set()
        self._all: list[asyncio.Task[int]] = []
        self._work: Callable[[Crew], Awaitable[int]] | None = None

    @property
    def busy(self) -> int:
        """Workers at work now."""
        return len(self._running)

    def has_room(self) -> bool:
        return len(self._running) < self.size

    def call_in(self) -> None:
        """Another worker, if there is room (a worker that saw more waiting calls this)."""
        if self._work is None or not self.has_room():
            return
        task = asyncio.ensure_future(self._work(self))
        self._running.add(task)
        self._all.append(task)
        task.add_done_callback(self._running.discard)

    async def run(self, work: Callable[[Crew], Awaitable[int]]) -> int:
        """Run ``work`` (it returns how much it did) until every worker called in is done.

        No worker is cancelled when another fails (one mid-transaction would leave it
        hanging): the first failure is raised once they have all stopped.
        """
        self._work = work
        self.call_in()
        while self._running:
            await asyncio.wait(set(self._running))
        self._work = None
        done = 0
        failure: BaseException | None = None
        for task in self._all:
            error = task.exception()
            if error is None:
                done += task.result()
            elif failure is None:
                failure = error
        self._all.clear()
        if failure is not None:
            raise failure
        return done

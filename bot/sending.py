"""What every adapter's send ends in, whatever its platform: it went (a return), it is to be
tried later (RetryLater, or any other error: the platform is away), or never (Undeliverable)."""

from __future__ import annotations


class Undeliverable(Exception):
    """The platform refused for good (blocked, chat gone, bad request): do not retry."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        # The person blocked the bot (or left it): they are unreachable until they write.
        self.blocked = blocked


class RetryLater(Exception):
    """The platform asked us to slow down: try again after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds

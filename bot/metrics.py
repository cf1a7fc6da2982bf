"""What the running bot counts for /metrics (Prometheus) and says once per update in the log.

The runtime and the Telegram adapter call the small hooks here; nothing counted
names a person, and nothing logged holds what anyone wrote.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from handlers.messages import Incoming

log = logging.getLogger("wishbot.updates")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

UPDATES = Counter(
    "wishbot_updates",
    "Updates handled, by platform, kind (command, button, text...) and outcome",
    ["platform", "kind", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "wishbot_handler_seconds",
    "Time from claiming an update in the inbox to its replies committed to the outbox",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BOT_API = Counter(
    "wishbot_bot_api_calls",
    "Telegram Bot API calls, by method and outcome (ok, 429, or the error's name)",
    ["method", "outcome"],
    registry=REGISTRY,
)
SWEEPS = Counter(
    "wishbot_sweeps", "Rounds of each sweep that ended well", ["sweep"], registry=REGISTRY
)
SWEEP_LAST = Gauge(
    "wishbot_sweep_last_run_timestamp_seconds",
    "When each sweep last ended well (Unix time)",
    ["sweep"],
    registry=REGISTRY,
)
REMINDERS_FIRED = Counter(
    "wishbot_reminders_fired",
    "Rule reminders fired (due reminders turned into news)",
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "wishbot_outbox_due", "Outbox messages due and not yet sent", registry=REGISTRY
)
OUTBOX_AGE = Gauge(
    "wishbot_outbox_oldest_due_seconds",
    "How long the oldest due outbox message has waited",
    registry=REGISTRY,
)
INBOX_DEPTH = Gauge("wishbot_inbox_waiting", "Updates kept and not yet handled", registry=REGISTRY)
WISHES = Gauge("wishbot_wishes", "Wishes by status", ["status"], registry=REGISTRY)

# When each sweep last ended well, on the runtime's clock (/readyz reads it).
last_swept: dict[str, dt.datetime] = {}


@dataclass
class _Update:
    row_id: int
    platform: str
    started: float
    kind: str = "other"
    handler: str = "none"
    outcome: str = "handled"


_current: contextvars.ContextVar[_Update | None] = contextvars.ContextVar(
    "wishbot_update", default=None
)


async def watched(handle_one: Callable[[], Awaitable[bool | None]]) -> bool | None:
    """Run one inbox step; count and log the update it claimed (if any) once it is done."""
    _current.set(None)
    try:
        result = await handle_one()
    except BaseException:
        _finish("left in the inbox")  # the database: the update waits for the next round
        raise
    _finish(None)
    return result


def update_claimed(row_id: int, platform: str) -> None:
    _current.set(_Update(row_id, platform, time.perf_counter()))


def update_routed(incoming: Incoming | None) -> None:
    """What the update was and which handler takes it (names only, never what was written)."""
    update = _current.get()
    if update is None:
        return
    if incoming is None:
        update.outcome = "ignored"  # nothing the bot reads (an edit, a join...)
        return
    update.kind, update.handler = _kind_and_handler(incoming)


def update_failed() -> None:
    """Handling the update failed (a bug): it is marked handled with the error."""
    update = _current.get()
    if update is not None:
        update.outcome = "failed"


def update_put_aside() -> _Update | None:
    """Take the update being handled out of this step (a batch of several): updates_done
    counts and logs it once the batch is committed."""
    update = _current.get()
    _current.set(None)
    return update


def updates_done(updates: Sequence[_Update | None], outcome: str | None = None) -> None:
    """Count and log the updates of a batch (put aside while it was handled)."""
    for update in updates:
        _current.set(update)
        _finish(outcome)


def _finish(outcome: str | None) -> None:
    update = _current.get()
    _current.set(None)
    if update is None:
        return
    outcome = outcome or update.outcome
    seconds = time.perf_counter() - update.started
    UPDATES.labels(update.platform, update.kind, outcome).inc()
    LATENCY.labels(update.kind).observe(seconds)
    log.info(
        "update %s %s %s: %s in %.0f ms",
        update.row_id,
        update.platform,
        update.handler,
        outcome,
        seconds * 1000,
        extra={
            "update_id": update.row_id,
            "platform": update.platform,
            "kind": update.kind,
            "handler": update.handler,
            "outcome": outcome,
            "latency_ms": round(seconds * 1000, 1),
        },
    )


def _kind_and_handler(incoming: Incoming) -> tuple[str, str]:
    from handlers.router import ACTIONS, COMMAND_ACTION, COMMANDS
    from handlers.turn import ACTION_PREFIX, STEP_PREFIX

    if incoming.command is not None:
        name = incoming.command
        return "command", "/" + name if name in COMMANDS else "unknown command"
    if incoming.button is not None:
        prefix, _, rest = incoming.button.partition(":")
        name = rest.split(":")[0]
        if prefix == ACTION_PREFIX and name == COMMAND_ACTION:
            command = rest.split(":")[1] if rest.count(":") else ""
            return "button", "/" + command if command in COMMANDS else "menu"
        if prefix == ACTION_PREFIX and name in ACTIONS:
            return "button", "action " + name
        return "button", "step" if prefix == STEP_PREFIX else "unknown button"
    kind = next(
        (
            name
            for name, value in (
                ("photo", incoming.photo),
                ("document", incoming.document),
                ("contact", incoming.phone),
                ("location", incoming.location),
                ("text", incoming.text),
            )
            if value is not None
        ),
        "other",
    )
    return kind, "step or help"


def swept(name: str, done: object, moment: dt.datetime) -> None:
    """A sweep's round ended well (``done``: what it returned, e.g. reminders fired)."""
    SWEEPS.labels(name).inc()
    SWEEP_LAST.labels(name).set(moment.timestamp())
    last_swept[name] = moment
    if name == "fire_reminders" and isinstance(done, int):
        REMINDERS_FIRED.inc(done)


class CountedLimiter(AIORateLimiter):
    """PTB's rate limiter, counting every Bot API call by method and outcome."""

    async def process_request(
        self,
        callback: Callable[..., Any],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        try:
            result = await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        except RetryAfter:
            BOT_API.labels(endpoint, "429").inc()
            raise
        except Exception as error:
            BOT_API.labels(endpoint, type(error).__name__).inc()
            raise
        BOT_API.labels(endpoint, "ok").inc()
        return result

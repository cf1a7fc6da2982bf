"""/healthz (the process answers), /readyz (it can do its work) and /metrics (Prometheus).

/metrics answers loopback callers that come through no proxy, and others only with the
WISHBOT_METRICS_TOKEN as a bearer token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import ipaddress

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from bot import metrics
from bot.app import App
from bot.database import reading
from bot.migrate import head_revision
from models.vitals import inbox_backlog, outbox_backlog, wishes_by_status

routes = web.RouteTableDef()
# The sweeps /readyz expects to have ended well lately (bot/runtime.py names them so).
SWEEPS = ("handle_inbox", "send_outbox", "fire_reminders")
# A probe gives up on the database after this long.
PROBE_SECONDS = 5.0
DATABASE_UP = Gauge(
    "wishbot_database_up",
    "1 when the last /metrics or /readyz reached the database",
    registry=metrics.REGISTRY,
)


def _app(request: web.Request) -> App:
    from bot.web.server import site_of

    return site_of(request).app


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="alive\n")


async def readiness(app: App) -> list[tuple[str, str | None]]:
    """Each check with None when it holds, else what is wrong and what to do."""
    settings = app.settings
    checks: list[tuple[str, str | None]] = []
    try:
        async with asyncio.timeout(PROBE_SECONDS), reading(app.sessions) as session:
            versions = (
                await session.scalars(text("SELECT version_num FROM alembic_version"))
            ).all()
            backlog = await outbox_backlog(session)
    except Exception as error:  # whatever the driver raises: the database cannot be used now
        DATABASE_UP.set(0)
        reason = str(getattr(error, "orig", None) or error or type(error).__name__)
        return [("database", f"unreachable: {reason.splitlines()[0] if reason else 'timeout'}")]
    DATABASE_UP.set(1)
    checks.append(("database", None))
    head = head_revision()
    current = ", ".join(versions) or "none"
    checks.append(
        (
            "migrations",
            None
            if head is None or list(versions) == [head]
            else f"at {current}, the code needs {head}: run wishbot migrate",
        )
    )
    moment = app.clock.now()
    stale = dt.timedelta(seconds=max(settings.ready_outbox_seconds, 4 * settings.sweep_seconds))
    for sweep in SWEEPS:
        last = metrics.last_swept.get(sweep)
        problem = None
        if last is None:
            problem = "has not run yet"
        elif moment - last > stale:
            problem = f"last ran {int((moment - last).total_seconds())} s ago"
        checks.append((f"sweep {sweep}", problem))
    checks.append(
        (
            "outbox",
            None
            if backlog.oldest_seconds <= settings.ready_outbox_seconds
            else f"{backlog.depth} due messages, the oldest waiting "
            f"{int(backlog.oldest_seconds)} s (is the platform reachable?)",
        )
    )
    return checks


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    checks = await readiness(_app(request))
    ready = all(problem is None for _, problem in checks)
    lines = [f"{name}: {problem or 'ok'}" for name, problem in checks]
    return web.Response(
        status=200 if ready else 503,
        text=("ready" if ready else "not ready") + "\n" + "\n".join(lines) + "\n",
    )


def may_read_metrics(request: web.Request, token: str | None) -> bool:
    """Loopback with no proxy in between, or the metrics token as a bearer token."""
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer "):
        return hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode())
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False  # a proxy on this machine passes on whoever asked it
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def refresh_store_gauges(app: App) -> None:
    """The outbox, the inbox and the wishes as the store has them now."""
    try:
        async with asyncio.timeout(PROBE_SECONDS), reading(app.sessions) as session:
            outbox = await outbox_backlog(session)
            inbox = await inbox_backlog(session)
            wishes = await wishes_by_status(session)
    except Exception:  # the database is away: say so, keep the last values
        DATABASE_UP.set(0)
        return
    DATABASE_UP.set(1)
    metrics.OUTBOX_DEPTH.set(outbox.depth)
    metrics.OUTBOX_AGE.set(outbox.oldest_seconds)
    metrics.INBOX_DEPTH.set(inbox.depth)
    metrics.WISHES.clear()
    for status, count in wishes.items():
        metrics.WISHES.labels(status).set(count)


@routes.get("/metrics")
async def metrics_page(request: web.Request) -> web.Response:
    app = _app(request)
    if not may_read_metrics(request, app.settings.metrics_token):
        return web.Response(
            status=403, text="/metrics answers loopback, or a bearer WISHBOT_METRICS_TOKEN\n"
        )
    await refresh_store_gauges(app)
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

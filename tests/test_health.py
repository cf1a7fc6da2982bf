"""/healthz, /readyz and /metrics on the real web app: readiness follows the database, the
migrations, the sweeps and the outbox; /metrics counts a Telegram conversation and a 429 and
answers only loopback or its token. Each update leaves one log line without names or texts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.migrate import head_revision
from models.clock import ManualClock
from models.outbox import queue_message
from tests.telegram_bot import telegram_bot
from tests.test_faults import database_away
from tests.web import Visitor, web_site


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _sweep_all(site_runtime: object) -> None:
    from bot.runtime import Runtime

    assert isinstance(site_runtime, Runtime)
    for work in (site_runtime.handle_inbox, site_runtime.send_outbox, site_runtime.fire_reminders):
        await site_runtime.sweep_once(work)


async def test_readyz_follows_the_database_the_migrations_the_sweeps_and_the_outbox(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with web_site(app) as site:
        visitor = await site.visitor()
        await _sweep_all(site.runtime)
        assert await visitor.get("/readyz") == (
            200,
            "ready\ndatabase: ok\nmigrations: ok\nsweep handle_inbox: ok\n"
            "sweep send_outbox: ok\nsweep fire_reminders: ok\noutbox: ok\n",
        )

        async with database_away(app, table="alembic_version") as back:
            status, body = await visitor.get("/readyz")
            assert status == 503 and "database: unreachable" in body, body
            assert await visitor.get("/healthz") == (200, "alive\n")
            await back()
        status, body = await visitor.get("/readyz")
        assert status == 200, body

        # A database behind the code's migrations.
        head = head_revision()
        async with app.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001_old'"))
        try:
            status, body = await visitor.get("/readyz")
            assert status == 503
            assert f"migrations: at 0001_old, the code needs {head}: run wishbot migrate" in body
        finally:
            async with app.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE alembic_version SET version_num = :head"), {"head": head}
                )

        # Sweeps that stopped going round, and a message nobody sends.
        async with sessions.begin() as session:
            await queue_message(session, platform="telegram", chat_id="42", payload={"text": "hi"})
        clock.advance(dt.timedelta(seconds=700))
        status, body = await visitor.get("/readyz")
        assert status == 503
        assert "sweep send_outbox: last ran 700 s ago" in body
        assert "outbox: 1 due messages, the oldest waiting 700 s" in body
        await _sweep_all(site.runtime)
        status, body = await visitor.get("/readyz")
        assert status == 503 and "sweep send_outbox: ok" in body and "outbox: 1 due" in body


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


async def _metrics(visitor: Visitor) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = await visitor.get("/metrics")
    assert status == 200, body
    return _samples(body)


def _grew(
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    after: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    name: str,
    **labels: str,
) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_a_conversation_and_a_429_and_each_update_is_logged_once(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with telegram_bot(_url(app), clock) as bot, web_site(bot.app, bot.runtime) as site:
        bot.server.clock = lambda: clock.now().timestamp()
        visitor = await site.visitor()
        before = await _metrics(visitor)
        carol = bot.user(4001, "Carolina Secretname")
        bot.server.fail_next("sendMessage", kind=429)
        with caplog.at_level(logging.INFO, logger="wishbot.updates"):
            await carol.send("/start")
            assert carol.inbox() == []  # held by the 429, on the test's clock
            clock.advance(dt.timedelta(seconds=2))
            await bot.step()
            assert carol.inbox()
            await carol.send("/help")
            await carol.send("my phone is 13800138000")
        after = await _metrics(visitor)

    commands = _grew(
        before,
        after,
        "wishbot_updates_total",
        platform="telegram",
        kind="command",
        outcome="handled",
    )
    assert commands == 2
    texts = _grew(
        before, after, "wishbot_updates_total", platform="telegram", kind="text", outcome="handled"
    )
    assert texts == 1
    assert (
        _grew(before, after, "wishbot_bot_api_calls_total", method="sendMessage", outcome="429")
        == 1
    )
    assert (
        _grew(before, after, "wishbot_bot_api_calls_total", method="sendMessage", outcome="ok") >= 3
    )
    assert _grew(before, after, "wishbot_handler_seconds_count", kind="command") == 2
    assert ("wishbot_outbox_due", ()) in after and ("wishbot_database_up", ()) in after

    lines = [r for r in caplog.records if r.name == "wishbot.updates"]
    assert len(lines) == 3
    assert [getattr(r, "handler", None) for r in lines] == ["/start", "/help", "step or help"]
    assert {getattr(r, "outcome", None) for r in lines} == {"handled"}
    assert all(isinstance(getattr(r, "latency_ms", None), float) for r in lines)
    for record in lines:
        line = record.getMessage()
        assert "Carolina" not in line and "Secretname" not in line and "13800138000" not in line


async def test_metrics_answer_loopback_and_the_token_only(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    guarded = dataclasses.replace(
        app, settings=dataclasses.replace(app.settings, metrics_token="metrics-token-123")
    )
    async with web_site(guarded) as site:
        visitor = await site.visitor()
        status, body = await visitor.get("/metrics")
        assert status == 200 and "process_cpu_seconds_total" in body
        # Through a proxy on this machine (Caddy): whoever asked it is not loopback.
        proxied = await visitor.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status == 403
        with_token = await visitor.client.get(
            "/metrics",
            headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer metrics-token-123"},
        )
        assert with_token.status == 200
        wrong = await visitor.client.get(
            "/metrics", headers={"Authorization": "Bearer metrics-token-12"}
        )
        assert wrong.status == 403

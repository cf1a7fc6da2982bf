"""Real bot processes drain the outbox: two share one PostgreSQL outbox, one is killed mid-send.

Counted at the fake Bot API server, every due message arrives exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.app import App, build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.reminders import Reminder, ReminderStatus
from tests.databases import fresh_database
from tests.fake_bot_api import FakeBotApi

START_SECONDS = 60  # a bot process must be up (migrated, polling) within this
PREFIX = "reminder "


class Deliveries:
    """The reminder messages the fake server carried out, counted as calls are answered.

    Incremental, so that waiting for 10,000 stays cheap: the cursor stops at the first
    sendMessage still in flight and goes on from there next time.
    """

    def __init__(self, server: FakeBotApi) -> None:
        self.server = server
        self.cursor = 0
        self.texts: Counter[str] = Counter()
        self.chats: dict[str, set[int]] = {}
        self.clients: Counter[str | None] = Counter()

    @property
    def total(self) -> int:
        return self.texts.total()

    def update(self) -> Deliveries:
        calls = self.server.calls
        while self.cursor < len(calls):
            call = calls[self.cursor]
            if call.method == "sendMessage":
                if call.status is None and not call.abandoned:
                    break
                text = str(call.params.get("text", ""))
                if call.ok and text.startswith(PREFIX):
                    self.texts[text] += 1
                    self.chats.setdefault(text, set()).add(int(call.params["chat_id"]))
                    self.clients[call.client] += 1
            self.cursor += 1
        return self

    async def wait(self, condition: str, count: int, seconds: float) -> None:
        """Until ``total`` (all deliveries) or ``distinct`` (texts) reaches ``count``."""

        def reached() -> bool | None:
            self.update()
            done = self.total if condition == "total" else len(self.texts)
            return done >= count or None

        await self.server.wait_until(reached, timeout=seconds)


def chat_of(number: int, users: int) -> int:
    return 50_000 + number % users


async def fill_outbox(app: App, server: FakeBotApi, count: int, users: int) -> None:
    """``count`` due messages to ``users`` chats the fake server knows, in one transaction."""
    for user in range(users):
        server.user(chat_of(user, users), f"Neighbour {user}", language_code="en")
    moment = dt.datetime.now(dt.UTC)
    rows = [
        {
            "due_at": moment,
            "kind": "message",
            "platform": "telegram",
            "chat_id": str(chat_of(number, users)),
            "payload": {"text": f"{PREFIX}{number}", "buttons": []},
            "status": ReminderStatus.PENDING,
            "urgent": False,
            "attempts": 0,
            "created_at": moment,
        }
        for number in range(count)
    ]
    async with app.sessions.begin() as session:
        await session.execute(insert(Reminder), rows)


async def statuses(app: App) -> dict[str, int]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(Reminder.status, func.count()).group_by(Reminder.status)
        )
        return {str(status): n for status, n in rows.all()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(url: str, base_url: str, server: FakeBotApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env.update(
        {
            "WISHBOT_DATABASE_URL": url,
            "WISHBOT_TELEGRAM_TOKEN": server.token,
            "WISHBOT_TELEGRAM_BASE_URL": base_url,
            "WISHBOT_TELEGRAM_RATE": "100000",  # PTB's limiter must not be what we measure
            "WISHBOT_SWEEP_SECONDS": "0.2",
            # A killed process's claim lapses after this (a send here takes well under it).
            "WISHBOT_SEND_LEASE_SECONDS": "15",
            "WISHBOT_LOCALE": "en",
        }
    )
    return env


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot run`, yielded once it polls; killed on the way out if still running."""
    # Each process serves the web too: each on its own free port.
    env = {**env, "WISHBOT_WEB_PORT": str(free_port())}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        log: list[str] = []
        while True:
            line = (
                await asyncio.wait_for(process.stderr.readline(), timeout=START_SECONDS)
            ).decode()
            log.append(line)
            assert line, "the bot stopped before it polled:\n" + "".join(log)
            if "Telegram: long polling" in line:
                break
        # Keep reading so a full pipe never stalls the bot.
        drain = asyncio.create_task(process.stderr.read())
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if drain is not None:
            await drain


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    assert await asyncio.wait_for(process.wait(), timeout=60) == 0


# Several bot processes need PostgreSQL; SQLite serves one process.
@pytest.mark.postgres
async def test_two_processes_send_ten_thousand_reminders_once(tmp_path: Path) -> None:
    count, users = 10_000, 500
    async with fresh_database(tmp_path) as url, FakeBotApi() as server:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine)
            await fill_outbox(app, server, count, users)
            deliveries = Deliveries(server)
            async with (
                bot_process(bot_env(url, server.base_url_for("a"), server)) as first,
                bot_process(bot_env(url, server.base_url_for("b"), server)) as second,
            ):
                started = time.monotonic()
                await deliveries.wait("total", count, seconds=600)
                seconds = time.monotonic() - started
                await stop(first)
                await stop(second)
            print(f"\n10,000 reminders by two processes in {seconds:.1f}s")
            deliveries.update()
            assert deliveries.texts == Counter(f"{PREFIX}{n}" for n in range(count))
            assert all(
                deliveries.chats[f"{PREFIX}{n}"] == {chat_of(n, users)} for n in range(count)
            )
            # Both processes took their share (each tagged its base URL).
            assert set(deliveries.clients) == {"a", "b"}
            assert min(deliveries.clients.values()) > count // 10, deliveries.clients
            assert await statuses(app) == {"sent": count}
            assert server.violations == []
        finally:
            await app.close()


async def test_killed_mid_send_every_reminder_once(tmp_path: Path) -> None:
    count, users = 300, 30
    async with fresh_database(tmp_path) as url, FakeBotApi() as server:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine)
            await fill_outbox(app, server, count, users)
            deliveries = Deliveries(server)
            async with bot_process(bot_env(url, server.base_url_for("first"), server)) as bot:
                await deliveries.wait("total", 100, seconds=120)
                hold = server.hold_next("sendMessage")
                await asyncio.wait_for(hold.arrived.wait(), timeout=60)
                assert hold.call is not None
                held = str(hold.call.params["text"])
                # Killed at once: well inside PTB's read timeout, so the bot is still waiting.
                bot.kill()
                await bot.wait()
            # What was answered before had been committed; the held one had not.
            delivered_before = deliveries.update().total
            assert await statuses(app) == {
                "sent": delivered_before,
                "pending": count - delivered_before,
            }
            # The request never completed: its client died holding it, so it was not carried out
            # (and releasing it now changes nothing).
            await asyncio.wait_for(hold.done.wait(), timeout=30)
            assert hold.client_gone.is_set()
            hold.release()
            assert hold.call.abandoned and hold.call.status is None
            assert held not in deliveries.update().texts
            assert deliveries.total == delivered_before
            async with bot_process(bot_env(url, server.base_url_for("second"), server)) as bot:
                await deliveries.wait("distinct", count, seconds=120)
                await stop(bot)
            deliveries.update()
            assert deliveries.texts == Counter(f"{PREFIX}{n}" for n in range(count))
            assert deliveries.clients["first"] == delivered_before
            assert deliveries.clients["second"] == count - delivered_before
            assert await statuses(app) == {"sent": count}
            assert server.violations == []
        finally:
            await app.close()

"""Two bot processes in webhook mode on one PostgreSQL: one conversation, its updates to both in turn.

The updates are posted at once, alternating between the processes; the conversation must
still complete in order (each answer lands in the right step).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from bot.telegram import SECRET_HEADER, WEBHOOK_PATH
from models.community import Building, Community, Grid, Street
from models.invites import setup_code
from tests.databases import fresh_database
from tests.fake_bot_api import FakeBotApi

# Several bot processes need PostgreSQL; SQLite serves one process.
pytestmark = pytest.mark.postgres
SECRET = "test-webhook-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str], port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={
            **env,
            "WISHBOT_WEB_PORT": str(port),
            "WISHBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        log = []
        while True:
            line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
            log.append(line)
            assert line, "".join(log)
            if "Webhook listening" in line:
                break
        # Keep reading so a full pipe never stalls the bot.
        drain = asyncio.create_task(process.stderr.read())
        yield process
    finally:
        # Also when it never came up: a bot left behind would outlive the test run.
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=60)
        if drain is not None:
            await drain


async def test_one_conversation_across_two_processes(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url, FakeBotApi() as server:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        await migrate(app.engine)
        async with app.sessions.begin() as session:
            code = await setup_code(session)
        assert code is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": url,
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_WEBHOOK_SECRET": SECRET,
                "WISHBOT_LOCALE": "en",
                "WISHBOT_SWEEP_SECONDS": "0.2",
            }
        )
        ports = [_free_port(), _free_port()]
        async with bot_process(env, ports[0]), bot_process(env, ports[1]):
            admin = server.user(user_id=4242, first_name="Office", language_code="en")
            for text in (
                f"/start {code}",
                "Riverside Street",
                "Sunflower",
                "North, South",
                "1, 2",
                "3",
            ):
                admin.send(text)
            updates = server.pending_updates()
            assert len(updates) == 6
            async with aiohttp.ClientSession() as http:
                for index, update in enumerate(updates):
                    port = ports[index % 2]
                    async with http.post(
                        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                        json=update,
                        headers={SECRET_HEADER: SECRET},
                    ) as answer:
                        assert answer.status == 200
                # A redelivery (Telegram retries) changes nothing.
                async with http.post(
                    f"http://127.0.0.1:{ports[1]}{WEBHOOK_PATH}",
                    json=updates[2],
                    headers={SECRET_HEADER: SECRET},
                ) as answer:
                    assert answer.status == 200
                async with http.post(
                    f"http://127.0.0.1:{ports[0]}{WEBHOOK_PATH}", json=updates[0]
                ) as answer:
                    assert answer.status == 403  # no secret: not Telegram
            await server.wait_for(
                lambda call: (
                    call.method == "sendMessage" and "is ready" in str(call.params.get("text"))
                ),
                timeout=60,
            )
        async with app.sessions() as session:
            streets = (await session.scalars(select(Street.name))).all()
            communities = (await session.scalars(select(Community.name))).all()
            layout = (
                await session.execute(
                    select(Grid.name, Building.name)
                    .join(Building, Building.grid_id == Grid.id)
                    .order_by(Grid.name, Building.name)
                )
            ).all()
        await app.close()
        assert streets == ["Riverside Street"]
        assert communities == ["Sunflower"]
        assert [tuple(r) for r in layout] == [("North", "1"), ("North", "2"), ("South", "3")]
        texts = [m.text for m in server.sent_to(admin.chat_id)]
        assert sum("is ready" in (t or "") for t in texts) == 1
        assert server.violations == []

"""`wishbot run` with no token: migrates, says how to go further, stays up, stops cleanly.

The real process, started as `make run` starts it, stopped with SIGTERM as a service manager would.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_without_a_token_stays_up_until_stopped(tmp_path: Path) -> None:
    database = tmp_path / "data" / "wishbot.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = f"sqlite:///{database}"
    env["WISHBOT_WEB_PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        said = []
        # Read what it logs until it says it is running; an early exit ends the loop with "".
        for line in iter(process.stderr.readline, ""):
            said.append(line)
            if "is running" in line:
                break
        log = "".join(said)
        assert "is running" in log, log
        assert "WISHBOT_TELEGRAM_TOKEN" in log
        assert f"http://127.0.0.1:{port}" in log
        assert "Load the demo community" in log and "seed-demo" in log
        assert process.poll() is None, "the bot exited on its own"
        # The web chat answers, and offers the demo on this empty database.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            html = page.read().decode()
        assert page.status == 200 and 'action="/signin"' in html and "/demo/load" in html
        # It created and migrated its database on the way up.
        with sqlite3.connect(database) as db:
            assert db.execute("select count(*) from categories").fetchone()[0] > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_run_with_a_token_answers_on_telegram_by_long_polling(tmp_path: Path) -> None:
    import asyncio

    from tests.fake_bot_api import FakeBotApi

    async with FakeBotApi() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_SWEEP_SECONDS": "0.2",
                "WISHBOT_WEB_PORT": str(free_port()),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            log = ""
            while "is running" not in log:
                line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
                assert line, log
                log += line
            # An empty database: the log carries the one-time set-up code.
            code = log.split("/start ")[1].split()[0]
            assert code.startswith("setup-")
            drain = asyncio.create_task(process.stderr.read())
            user = server.user(user_id=777, first_name="Office", language_code="en")
            user.send(f"/start {code}")
            await server.wait_for(
                lambda c: c.method == "sendMessage" and "first admin" in str(c.params.get("text")),
                timeout=60,
            )
            assert server.violations == []
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
            await drain
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def test_a_taken_web_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env["WISHBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
        env["WISHBOT_WEB_PORT"] = str(port)
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("wishbot: cannot listen on") and "WISHBOT_WEB_PORT" in last
    assert "Traceback" not in done.stderr


async def test_an_unreachable_database_makes_the_sweep_wait_not_spin() -> None:
    import asyncio

    from bot.app import build_app
    from bot.runtime import Runtime
    from bot.settings import load_settings

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # Nothing listens there: every connection is refused at once.
    settings = load_settings({"WISHBOT_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{port}/x"})
    app = build_app(settings)
    runtime = Runtime(app)
    try:
        for work in (runtime.handle_inbox, runtime.fire_reminders, runtime.send_outbox):
            # The error reaches the sweep (which logs it and waits for its next wake); a loop
            # that retried at once would never return, and this guard would fail the test.
            try:
                await asyncio.wait_for(work(), timeout=60)
            except TimeoutError:  # (itself an OSError: caught first)
                raise AssertionError(f"{work.__name__} kept retrying at once") from None
            except OSError:
                pass
            else:
                raise AssertionError(f"{work.__name__} went on as if the database were there")
    finally:
        await app.close()


async def test_run_with_a_wechat_account_sets_its_menu_and_answers_a_follower(
    tmp_path: Path,
) -> None:
    import asyncio
    import datetime as dt

    from aiohttp import ClientSession

    from tests.fake_wechat_api import CallbackClient, FakeWeChatApi

    def wall() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async with FakeWeChatApi(wall) as server, ClientSession() as http:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "WISHBOT_SWEEP_SECONDS": "0.2",
                "WISHBOT_WEB_PORT": str(port),
                **server.settings(safe=True),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            log = ""
            while "is running" not in log:
                line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
                assert line, log
                log += line
            drain = asyncio.create_task(process.stderr.read())
            assert server.menu is not None and server.menu_sets == 1
            callback = CallbackClient(http, f"http://127.0.0.1:{port}/wechat", wall, safe=True)
            follower = server.follower("o-first", callback)
            answer = await follower.follow()
            assert (answer.status, await answer.text()) == (200, "success")
            first = await server.wait_for_sent("o-first")
            assert first.kind == "msgmenu" and "English" in first.text
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
            await drain
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

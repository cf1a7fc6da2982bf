"""`wishbot check` and the checks `wishbot run` makes first: one line per check saying what to
do, a non-zero exit on any failure; run refuses a database from an older version without --migrate.

The real command in a subprocess, against the real database (SQLite or PostgreSQL) and the fake
Bot API server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from bot.app import build_app
from bot.migrate import head_revision, migrate
from bot.settings import load_settings
from tests.databases import fresh_database
from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


async def wishbot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**clean, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_each_broken_setting_is_a_line_of_its_own() -> None:
    code, out, err = await wishbot(
        "check",
        env={
            "WISHBOT_WEB_PORT": "99999",
            "WISHBOT_LOCALE": "fr",
            "WISHBOT_TIMEZONE": "Mars/Olympus",
            "WISHBOT_LOG_FORMAT": "xml",
        },
    )
    assert code == 1, err
    assert out.splitlines() == [
        "FAIL settings: WISHBOT_LOCALE must be one of zh_Hans, en, not 'fr'",
        "FAIL settings: WISHBOT_LOG_FORMAT must be text or json, not 'xml'",
        "FAIL settings: WISHBOT_TIMEZONE 'Mars/Olympus' is not a time zone (e.g. Asia/Shanghai)",
        "FAIL settings: WISHBOT_WEB_PORT must be a whole number from 1 to 65535, not '99999'",
        "SKIP database, migrations, catalogues, telegram: fix the settings first",
    ]
    assert "Traceback" not in err


async def test_an_unreachable_database_and_bot_api_fail_their_lines() -> None:
    port = closed_port()
    code, out, err = await wishbot(
        "check",
        env={
            "WISHBOT_DATABASE_URL": f"postgresql://wishbot:pw-secret@127.0.0.1:{port}/wishes",
            "WISHBOT_TELEGRAM_TOKEN": "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "WISHBOT_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot",
        },
    )
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "ok   settings: valid"
    assert lines[1].startswith(
        f"FAIL database: cannot reach postgresql+asyncpg://wishbot:***@127.0.0.1:{port}/wishes"
    )
    assert lines[1].endswith("start the database server or fix WISHBOT_DATABASE_URL")
    assert lines[2] == "FAIL migrations: not checked: the database cannot be reached"
    assert lines[3] == "ok   catalogues: zh_Hans, en"
    assert lines[4] == (
        "FAIL telegram: cannot reach the Bot API (NetworkError): check the network or "
        "WISHBOT_TELEGRAM_BASE_URL"
    )
    assert "pw-secret" not in out + err and "AAAAAAAAAAAA" not in out + err


async def test_a_new_database_a_wrong_token_and_then_all_well(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url, FakeBotApi() as server:
        env = {
            "WISHBOT_DATABASE_URL": url,
            "WISHBOT_TELEGRAM_TOKEN": "999999:WRONGWRONGWRONGWRONGWRONGWRONGWRONG",
            "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
        }
        code, out, _ = await wishbot("check", env=env)
        assert code == 1
        assert "FAIL migrations: a new, empty database: run wishbot migrate" in out
        assert "FAIL telegram: the Bot API refused the token: fix WISHBOT_TELEGRAM_TOKEN" in out

        code, _, err = await wishbot("migrate", env=env)
        assert code == 0, err
        env["WISHBOT_TELEGRAM_TOKEN"] = server.token
        code, out, err = await wishbot("check", env=env)
        assert code == 0, out + err
        assert [line[:4] for line in out.splitlines()] == ["ok  "] * 5
        assert f"ok   migrations: at {head_revision()}" in out
        assert "ok   telegram: getMe answers as @" in out


async def test_run_refuses_an_older_database_unless_told_to_migrate(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0006_runtime")
        finally:
            await app.close()
        env = {"WISHBOT_DATABASE_URL": url, "WISHBOT_WEB_PORT": str(closed_port())}
        code, out, err = await wishbot("run", env=env)
        assert code == 2
        assert err.strip().splitlines()[-1] == (
            f"wishbot: the database is at 0006_runtime, this version needs {head_revision()}: "
            "back it up (wishbot backup FILE), then run wishbot migrate "
            "(or wishbot run --migrate)"
        )
        code, out, _ = await wishbot("check", env=env)
        assert code == 1 and "FAIL migrations: the database is at 0006_runtime" in out

        clean = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--migrate",
            env={**clean, **env},
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            log = ""
            while "is running" not in log:
                line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
                assert line, log
                log += line
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), timeout=60)
            assert process.returncode == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        code, out, _ = await wishbot("check", env=env)
        assert code == 0, out


async def test_a_copy_without_its_catalogues_fails_that_line(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "project"
    for package in ("bot", "handlers", "models"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    # English is there; the Chinese catalogue was lost on the way.
    shutil.copytree(ROOT / "locales" / "en", copy / "locales" / "en")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env={**clean, "WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"},
        cwd=copy,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1
    line = next(x for x in out.decode().splitlines() if "catalogues" in x)
    assert line == (
        f"FAIL catalogues: cannot compile zh_Hans (FileNotFoundError) under "
        f"{copy / 'locales'}: reinstall from a complete copy of the project"
    )

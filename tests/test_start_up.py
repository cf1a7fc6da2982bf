"""Start to first reply: the command line imports no web side, and a /start that waited in
Telegram is answered before the web side is even imported; the web side still comes up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.fake_bot_api import FakeBotApi
from tests.test_run import free_port

# Parts only some configurations or commands use: none is imported before it is needed.
WEB_SIDE = ("aiohttp", "aiohttp.web", "bot.web.server", "bot.demo", "jinja2", "segno", "openpyxl")


def test_the_command_line_imports_no_web_side() -> None:
    probe = "import sys, bot.cli; print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe, *WEB_SIDE], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [], "imported with the command line: " + done.stdout


async def test_a_start_that_waited_is_answered_before_the_web_side_comes_up(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as server:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_WEB_PORT": str(port),
            }
        )
        early = server.user(user_id=4242, first_name="Early", language_code="en")
        early.send("/start")  # waits in Telegram while the bot is down

        def answered() -> bool:
            return any(
                c.params.get("chat_id") in (early.id, str(early.id))
                for c in server.calls_of("sendMessage")
            )

        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            log = ""
            answered_before_web = None
            while "is running" not in log:
                line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
                assert line, log
                log += line
                if "The web chat and the dashboard answer at" in line:
                    answered_before_web = answered()
            assert answered_before_web is True, log
            # The newcomers' command list (three calls to Telegram, a comfort) waits for that.
            methods = [c.method for c in server.calls]
            assert methods.index("sendMessage") < methods.index("setMyCommands"), methods
            drain = asyncio.create_task(process.stderr.read())
            # The web side is up and healthy once the bot says it is running.
            url = f"http://127.0.0.1:{port}/healthz"
            with await asyncio.to_thread(urllib.request.urlopen, url, timeout=30) as page:
                assert (page.status, page.read()) == (200, b"alive\n")
            assert server.violations == []
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
            await drain
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def test_a_changed_catalogue_is_never_read_from_its_old_compiled_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import i18n

    folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "messages.po"
    po.write_bytes((i18n.LOCALES_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").read_bytes())
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    assert i18n.catalogue.__wrapped__("zh_Hans").gettext("Small Wishes") == "微心愿"
    assert len(list(folder.glob("*.mo"))) == 1  # kept for the next start
    assert i18n.catalogue.__wrapped__("zh_Hans").gettext("Small Wishes") == "微心愿"  # read back
    po.write_text(po.read_text().replace('msgstr "微心愿"', 'msgstr "小心愿"', 1))
    assert i18n.catalogue.__wrapped__("zh_Hans").gettext("Small Wishes") == "小心愿"
    assert len(list(folder.glob("*.mo"))) == 1  # the old one is gone

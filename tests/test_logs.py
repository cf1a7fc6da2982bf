"""What the logs never hold: the bot's token, people's names, phones and what they typed.

Every record from every logger is caught at DEBUG, through the command line's own set-up,
while a wish lives its whole life on Telegram and in the web chat and a database error strikes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.logs import QUIET, REDACT, keep_secret, set_up_logging
from models.directory import link_identity
from models.inbox import InboxUpdate
from models.people import Person
from models.wishes import Wish, WishStatus
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site

HEAD, FIXER = "Hortensia Quillfeather", "Barnaby Wrenfield"
HEAD_PHONE, FIXER_PHONE = "+86 137 4444 0199", "+86 136 3333 0177"
TG_NAME, TG_PHONE = "Zephyrine", "+86 139 5555 0123"
WEB_NAME, WEB_PHONE = "Wenjing Marlowe", "+86 135 2222 0155"
TG_WISH, TG_NOTE = "The quince tap gurgles all night", "Fitted a periwinkle washer"
WEB_WISH, WEB_NOTE = "The marigold lamp flickers on floor 4", "Swapped the tamarind bulb"
FAULTY = "Kumquat branches block the bike shed"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_line() -> Iterator[Capture]:
    """The command line's logging set-up at DEBUG, written to a list; put back afterwards."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in QUIET}
    root_level, secrets = root.level, set(REDACT.secrets)
    capture = Capture()
    set_up_logging(capture, logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        REDACT.secrets = secrets


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _unmistakable(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    """Names and phones no library line could hold by chance."""
    async with sessions.begin() as s:
        for person, name, phone in (
            (town.head_n1, HEAD, HEAD_PHONE),
            (town.fixer, FIXER, FIXER_PHONE),
        ):
            await s.execute(
                update(Person)
                .where(Person.id == person.id)
                .values(name=name, phone=phone, phone_consent=True, locale="en")
            )


async def _refuse_kumquats(app: App, on: bool) -> None:
    """A database that fails the insert of a wish about kumquats (its error names the row)."""
    postgres = app.engine.dialect.name == "postgresql"
    async with app.engine.begin() as connection:
        if on and postgres:
            await connection.execute(
                text(
                    "ALTER TABLE wishes ADD CONSTRAINT refuse_one_text "
                    "CHECK (description NOT LIKE '%Kumquat%') NOT VALID"
                )
            )
        elif on:
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse_one_text BEFORE INSERT ON wishes "
                    "WHEN NEW.description LIKE '%Kumquat%' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                )
            )
        elif postgres:
            await connection.execute(text("ALTER TABLE wishes DROP CONSTRAINT refuse_one_text"))
        else:
            await connection.execute(text("DROP TRIGGER refuse_one_text"))


def _found(lines: list[str], secrets: list[str]) -> list[tuple[str, str]]:
    digits = [s.replace(" ", "").lstrip("+") for s in secrets if s.startswith("+")]
    return [
        (secret, line)
        for line in lines
        for secret in secrets + digits
        if secret.lower() in line.lower()
    ]


async def test_no_token_name_phone_or_text_in_any_log_line(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, every_line: Capture
) -> None:
    await _unmistakable(sessions, town)
    async with sessions.begin() as s:
        await link_identity(s, town.head_n1, "telegram", "4101")
        await link_identity(s, town.fixer, "telegram", "4102")
    async with telegram_bot(_url(app), app.clock) as bot:
        token = bot.server.token
        keep_secret(token)  # as the command line does with the settings' token
        erin = bot.user(4100, TG_NAME)
        head, fixer = bot.user(4101, "Head"), bot.user(4102, "Fixer")
        await erin.send("/start")
        await erin.press("English")
        await erin.press("I live here")
        await erin.press("Sunflower")
        await erin.press("N1")
        await erin.send("9-901")
        erin.user.send_contact(TG_PHONE)
        await bot.step()
        assert TG_NAME in erin.text()
        await erin.send("/wish")
        await erin.press("Repairs")
        await erin.send(TG_WISH)
        await erin.press("Skip")
        await erin.press("Within a day")
        await erin.press("Send")
        await head.press("Verify")
        await fixer.send("/tasks")
        await fixer.press("I'll do it")
        await fixer.press("Report done")
        await fixer.send(TG_NOTE)
        await fixer.press("Skip")
        await erin.press("It's done")
        await erin.press("⭐⭐⭐⭐⭐")
        await erin.press("Skip")

        # The database fails a turn with the person's text in the failing statement.
        await _refuse_kumquats(app, True)
        try:
            await erin.send("/wish")
            await erin.press("Repairs")
            await erin.send(FAULTY)
            await erin.press("Skip")
            await erin.press("Within a day")
            await erin.press("Send")
        finally:
            await _refuse_kumquats(app, False)
        assert bot.server.violations == []

    async with web_site(app) as site:
        head_web = await site.signed_in(town.head_n1)
        fixer_web = await site.signed_in(town.fixer)
        wen = await site.visitor()
        await wen.post("/guest", {"name": WEB_NAME})
        await wen.say("/start")
        await wen.press("English")
        await wen.press("I live here")
        await wen.press("Sunflower")
        await wen.press("N1")
        await wen.say("8-808")
        await wen.say(phone=WEB_PHONE)
        await wen.say("/wish")
        await wen.press("Repairs")
        await wen.say(WEB_WISH)
        await wen.press("Skip")
        await wen.press("Any time")
        await wen.press("Send")
        await head_web.say("/help")
        await head_web.press("Verify")
        await fixer_web.say("/tasks")
        await fixer_web.press("I'll do it")
        await fixer_web.press("Report done")
        await fixer_web.say(WEB_NOTE)
        await fixer_web.press("Skip")
        await wen.say("/help")
        await wen.press("It's done")
        await wen.press("⭐⭐⭐⭐⭐")
        await wen.press("Skip")

    async with sessions() as s:
        closed = (
            await s.scalars(select(Wish.description).where(Wish.status == WishStatus.CLOSED))
        ).all()
        assert sorted(closed) == sorted([TG_WISH, WEB_WISH])
        assert await s.scalar(select(Wish).where(Wish.description == FAULTY)) is None
        failed = (await s.scalars(select(InboxUpdate).where(InboxUpdate.error.is_not(None)))).all()
        assert len(failed) == 1  # the fault struck, and was logged
    lines = every_line.lines
    fault = [line for line in lines if "failed" in line and "Traceback" in line]
    # The statement is named, its parameters never (the engine's hide_parameters).
    assert fault and all("SQL parameters hidden" in line for line in fault)
    secrets = [
        token,
        token.split(":")[1],
        TG_NAME,
        WEB_NAME,
        HEAD,
        FIXER,
        TG_PHONE,
        WEB_PHONE,
        HEAD_PHONE,
        FIXER_PHONE,
        TG_WISH,
        TG_NOTE,
        WEB_WISH,
        WEB_NOTE,
        FAULTY,
        "Kumquat",
        "quince",
        "marigold",
    ]
    assert _found(lines, secrets) == []


def test_a_secret_that_slips_into_a_line_is_hidden(every_line: Capture) -> None:
    """The second line of defence: whatever a library logs, the token is blanked."""
    token = "123456789:AAH-secret-part-of-the-token-1234567"
    logging.getLogger("httpx").warning("POST https://api.telegram.org/bot%s/getMe", token)
    try:
        raise RuntimeError(f"failed at /bot{token}/sendMessage")
    except RuntimeError:
        logging.getLogger("somewhere").exception("sending failed")
    logging.getLogger("asyncpg-ish").error(
        'new row violates check constraint\nDETAIL:  Failing row contains (1, "A private text").'
    )
    lines = every_line.lines
    assert len(lines) == 3 and "[hidden]" in lines[0] and "[hidden]" in lines[1]
    assert not any("secret-part" in line or "private text" in line for line in lines)


async def test_json_lines_one_per_update_with_no_name_text_or_token(tmp_path: Path) -> None:
    """`wishbot run` with WISHBOT_LOG_FORMAT=json: every line is a JSON object; each update
    has one line with its id, platform, handler, outcome and latency, and nothing typed."""
    import asyncio
    import json
    import os
    import signal
    import socket
    import sys

    from tests.fake_bot_api import FakeBotApi

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with FakeBotApi() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_SWEEP_SECONDS": "0.2",
                "WISHBOT_WEB_PORT": str(port),
                "WISHBOT_LOG_FORMAT": "json",
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
            user = server.user(user_id=778, first_name=TG_NAME, language_code="en")
            user.send("/help")
            user.send(f"{TG_WISH} {TG_PHONE}")
            await server.wait_for(
                lambda c: c.method == "sendMessage" and c.params.get("chat_id") == user.chat_id,
                timeout=60,
            )
            for _ in range(200):
                if len(server.sent_to(user.chat_id)) >= 2:
                    break
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            _, rest = await asyncio.wait_for(process.communicate(), timeout=60)
            assert process.returncode == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text_log = log + (rest or b"").decode()
    lines = [json.loads(line) for line in text_log.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    updates = [line for line in lines if line["logger"] == "wishbot.updates"]
    assert updates, text_log
    assert [(u["platform"], u["kind"], u["handler"], u["outcome"]) for u in updates] == [
        ("telegram", "command", "/help", "handled"),
        ("telegram", "text", "step or help", "handled"),
    ]
    assert all(isinstance(u["update_id"], int) and u["latency_ms"] >= 0 for u in updates)
    for secret in (TG_NAME, TG_WISH, TG_PHONE, server.token, "quince"):
        assert secret not in text_log

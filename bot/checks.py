"""`wishbot check` (and the start of `wishbot run`): settings, database, migrations, catalogues
and the Bot API, one line each with what to do when it fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.migrate import head_revision
from bot.settings import PREFIX, Settings, SettingsError, load_settings

# How long a check waits on the database or the Bot API.
WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    says: str  # what was found, or what is wrong and what to do

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.says}"


def setting_findings(environ: Mapping[str, str] | None = None) -> list[Finding]:
    """Each bad setting on its own line (load_settings stops at the first)."""
    env = dict(os.environ if environ is None else environ)
    findings: list[Finding] = []
    config = env.get(PREFIX + "CONFIG")
    if config:
        try:
            load_settings({PREFIX + "CONFIG": config})
        except SettingsError as e:
            findings.append(Finding("settings", False, str(e)))
    for key in sorted(env):
        if not key.startswith(PREFIX) or key == PREFIX + "CONFIG":
            continue
        try:
            load_settings({key: env[key]})
        except SettingsError as e:
            findings.append(Finding("settings", False, str(e)))
    if findings:
        return findings
    try:
        load_settings(env)
    except SettingsError as e:  # a mix that is wrong only together
        return [Finding("settings", False, str(e))]
    return [Finding("settings", True, "valid")]


async def schema_state(
    settings: Settings, engine: AsyncEngine | None = None
) -> tuple[list[str], str | None]:
    """The revisions the database is at (empty: a new database) and the code's newest; on the
    running bot's own engine where it has one (a second connection costs the start)."""
    from bot.database import create_engine

    own = engine is None
    engine = engine or create_engine(settings.database_url)
    try:
        async with asyncio.timeout(WAIT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            try:
                async with conn.begin_nested():
                    rows = (
                        await conn.execute(text("SELECT version_num FROM alembic_version"))
                    ).all()
            except DBAPIError:
                rows = []  # no table yet: a new database
    finally:
        if own:
            await engine.dispose()
    return [str(v) for (v,) in rows], head_revision()


async def database_findings(settings: Settings, engine: AsyncEngine | None = None) -> list[Finding]:
    url = settings.database_url.render_as_string(hide_password=True)
    try:
        versions, head = await schema_state(settings, engine)
    except Exception as error:  # whatever the driver raises: the server or the URL
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        return [
            Finding(
                "database",
                False,
                f"cannot reach {url} ({reason[0] if reason else 'timed out'}): start the "
                "database server or fix WISHBOT_DATABASE_URL",
            ),
            Finding("migrations", False, "not checked: the database cannot be reached"),
        ]
    found = [Finding("database", True, f"{url} reachable")]
    if not versions:
        found.append(Finding("migrations", False, "a new, empty database: run wishbot migrate"))
    elif head is not None and versions != [head]:
        found.append(
            Finding(
                "migrations",
                False,
                f"the database is at {', '.join(versions)}, this version needs {head}: back it "
                "up (wishbot backup FILE), then run wishbot migrate",
            )
        )
    else:
        found.append(Finding("migrations", True, f"at {', '.join(versions)}"))
    return found


def catalogue_findings() -> list[Finding]:
    from handlers.i18n import LOCALES_DIR, SUPPORTED, catalogue

    broken = []
    for locale in SUPPORTED:
        try:
            catalogue(locale)  # compiled once: `wishbot run` goes on to use it
        except Exception as error:  # a missing or unreadable .po file
            broken.append(f"{locale} ({type(error).__name__})")
    if broken:
        return [
            Finding(
                "catalogues",
                False,
                f"cannot compile {', '.join(broken)} under {LOCALES_DIR}: "
                "reinstall from a complete copy of the project",
            )
        ]
    return [Finding("catalogues", True, ", ".join(SUPPORTED))]


async def telegram_findings(settings: Settings) -> list[Finding]:
    if not settings.telegram_token:
        return [
            Finding("telegram", True, "no token: the web chat only (set WISHBOT_TELEGRAM_TOKEN)")
        ]
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bot.bot_api_client import bot_api_request

    # One HTTP client for the one call, on the TLS context the running bot goes on to use.
    request = bot_api_request()
    bot = Bot(
        settings.telegram_token,
        base_url=settings.telegram_base_url,
        request=request,
        get_updates_request=request,
    )
    try:
        async with asyncio.timeout(WAIT_SECONDS), bot:  # initialising asks getMe
            username = bot.username
    except InvalidToken:
        return [
            Finding("telegram", False, "the Bot API refused the token: fix WISHBOT_TELEGRAM_TOKEN")
        ]
    except (TelegramError, TimeoutError, OSError) as error:
        return [
            Finding(
                "telegram",
                False,
                f"cannot reach the Bot API ({type(error).__name__}): check the network or "
                "WISHBOT_TELEGRAM_BASE_URL",
            )
        ]
    return [Finding("telegram", True, f"getMe answers as @{username}")]


async def all_findings(settings: Settings, engine: AsyncEngine | None = None) -> list[Finding]:
    return [
        *await database_findings(settings, engine),
        *catalogue_findings(),
        *await telegram_findings(settings),
    ]

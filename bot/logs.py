"""How the bot logs: one set-up for the command line and the tests, and what it never writes.

Libraries that would log the token (httpx's request URLs) or what people typed (the Bot API
calls' parameters, SQL parameters) are held above DEBUG; a filter on the handler blanks any
secret that still slips into a line, the token above all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The least level at which each library may speak: below it they write requests, parameters
# or rows (the Bot API token is in every URL httpx logs at INFO).
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,  # DEBUG: every Bot API call with its text
    "sqlalchemy": logging.WARNING,  # INFO/DEBUG: statements and rows
    "aiosqlite": logging.INFO,  # DEBUG: every statement with its parameters
    "asyncio": logging.INFO,
    "alembic": logging.WARNING,  # every migration step; we say "up to date" ourselves
    "apscheduler": logging.WARNING,  # every wake-up of the sweeps
    "aiohttp.access": logging.WARNING,  # a sign-in link carries its code
}
# A Telegram bot token, wherever it appears (bot123456:ABC-...).
TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# What a database error quotes from the row or the parameters (PostgreSQL's DETAIL line,
# asyncpg's "invalid input for query argument $1: 'the value'", SQLAlchemy's parameters).
QUOTED = re.compile(
    r"(DETAIL: |invalid input for query argument \$\d+: |\[parameters: ).*",
)
HIDDEN = "[hidden]"


class Redact(logging.Filter):
    """Blanks secrets in a record's message and in its traceback before any handler writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def hide(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        return QUOTED.sub(r"\1" + HIDDEN, TOKEN.sub(HIDDEN, text))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw template, never the arguments
            message = str(record.msg)
        record.msg, record.args = self.hide(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.hide(record.exc_text)
        if record.stack_info:
            record.stack_info = self.hide(record.stack_info)
        return True


class LocalTimes(logging.Formatter):
    """Each line's time in the community's time zone, with its offset (2026-12-03T13:48:05+08:00)."""

    zone: dt.tzinfo | None = None  # None until the settings are read: the machine's own zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC).astimezone(self.zone)
        return moment.isoformat(timespec="seconds")


# The fields of our own lines that a JSON line carries besides the message (ids, names of
# handlers and outcomes: never anything a person wrote).
FIELDS = ("update_id", "platform", "kind", "handler", "outcome", "latency_ms")


class JsonLines(LocalTimes):
    """One JSON object a line (WISHBOT_LOG_FORMAT=json), for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def use_time_zone(zone: dt.tzinfo) -> None:
    """From now on, log times in the community's time zone (the settings name it)."""
    LocalTimes.zone = zone


REDACT = Redact()
_installed: logging.Handler | None = None


def set_up_logging(
    handler: logging.Handler | None = None, level: int = logging.INFO, log_format: str = "text"
) -> None:
    """Log to stderr (or to `handler`) at `level`, with the libraries held and secrets hidden.

    Like logging.basicConfig, nothing is added when the root logger already has handlers and
    none is given (a host such as pytest set them up); those get the redacting filter too.
    """
    global _installed
    root = logging.getLogger()
    for name, least in QUIET.items():
        logging.getLogger(name).setLevel(least)
    if handler is None and any(h is not _installed for h in root.handlers):
        for existing in root.handlers:
            existing.addFilter(REDACT)
        return
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines() if log_format == "json" else LocalTimes(FORMAT))
    handler.addFilter(REDACT)
    if _installed is not None:  # set up again (the command line run twice in one process)
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level)
    _installed = handler


def keep_secret(*secrets: str | None) -> None:
    """Never write these (the bot's token, the webhook secret, the database password)."""
    REDACT.secrets.update(s for s in secrets if s and len(s) >= 8)

"""Settings in one typed object, read once at start.

Every setting comes from a WISHBOT_* environment variable or from the TOML file
named by WISHBOT_CONFIG (the environment wins); a bad one raises SettingsError.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from models.errors import InvalidInput
from models.schedule import ReminderRules

PREFIX = "WISHBOT_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/wishbot.db"
SUPPORTED_LOCALES = ("zh_Hans", "en")

# Plain driver names are accepted and mapped to the async driver we ship.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str
    app_secret: str
    # The callback's token (signatures) and, for safe mode, its 43-character EncodingAESKey.
    token: str
    aes_key: str | None
    base_url: str
    # The template message that carries news outside the 48-hour reply window.
    news_template: str | None


@dataclass(frozen=True)
class Settings:
    database_url: URL
    telegram_token: str | None
    telegram_base_url: str
    web_host: str
    web_port: int
    locale: str
    timezone: ZoneInfo
    # Webhook mode when set: Telegram posts to {public_url}/telegram/webhook.
    public_url: str | None = None
    webhook_secret: str = ""
    # How often the inbox and the outbox are swept when nothing wakes them sooner.
    sweep_seconds: float = 5.0
    # Telegram's overall ceiling, messages per second (a local Bot API server allows more).
    telegram_rate: float = 30.0
    # How long a sender holds a claimed outbox row; past it another process takes the row
    # over (a crashed sender). Longer than any one send, with its timeouts and rate waits.
    send_lease_seconds: float = 60.0
    # Reminder rules every community starts from ([rules] in the config file).
    rules: ReminderRules = field(default_factory=ReminderRules)
    # Web pages of other sites that may read Open311 from the browser (CORS, GET only):
    # origins like https://map.example.org, or "*" for any.
    open311_cors_origins: tuple[str, ...] = ()
    # /metrics answers loopback callers, and others only with this bearer token (unset: none).
    metrics_token: str | None = None
    # /readyz is not ready while a due outbox row has waited longer than this.
    ready_outbox_seconds: float = 600.0
    # "text" (readable) or "json" (one object a line) for the log.
    log_format: str = "text"
    # Nightly backups (SQLite) go to this folder when set, keeping the newest backup_keep.
    backup_dir: Path | None = None
    backup_keep: int = 7
    # On SIGTERM: due messages still go out for at most this long, then the process exits.
    stop_seconds: float = 10.0
    # A WeChat service account (bot/wechat.py), served when the app id, secret and token are set.
    wechat: WeChatSettings | None = None

    @property
    def public_address(self) -> str:
        """Where links the bot sends lead: the public URL, else the local web address."""
        return self.public_url or self.web_address

    @property
    def web_address(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"


def _database_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(
            "WISHBOT_DATABASE_URL is not a database URL "
            "(expected e.g. sqlite:///data/wishbot.db or postgresql://user@host/db)"
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise SettingsError(
            f"WISHBOT_DATABASE_URL uses {url.drivername!r}; "
            "only sqlite and postgresql are supported"
        )
    url = url.set(drivername=driver)
    if driver.startswith("sqlite") and not url.database:
        raise SettingsError("WISHBOT_DATABASE_URL names no SQLite file")
    return url


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise SettingsError(f"WISHBOT_WEB_PORT must be a whole number from 1 to 65535, not {raw!r}")
    return port


def _locale(raw: str) -> str:
    try:
        Locale.parse(raw)
    except (ValueError, UnknownLocaleError):
        raise SettingsError(f"WISHBOT_LOCALE {raw!r} is not a locale") from None
    if raw not in SUPPORTED_LOCALES:
        raise SettingsError(
            f"WISHBOT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, not {raw!r}"
        )
    return raw


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"WISHBOT_TIMEZONE {raw!r} is not a time zone (e.g. Asia/Shanghai)"
        ) from None


def _base_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise SettingsError("WISHBOT_TELEGRAM_BASE_URL must start with http:// or https://")
    return raw


def _public_url(raw: str) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError("WISHBOT_PUBLIC_URL must start with https:// (or http:// for tests)")
    return raw.rstrip("/")


def _origins(raw: str) -> tuple[str, ...]:
    found = []
    for part in raw.split(","):
        origin = part.strip().rstrip("/")
        if not origin:
            continue
        scheme, _, host = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not host or "/" in host):
            raise SettingsError(
                "WISHBOT_OPEN311_CORS_ORIGINS lists origins like https://map.example.org "
                f"(comma-separated), or *; {origin!r} is not one"
            )
        found.append(origin)
    return tuple(found)


def _seconds(raw: str, name: str = "SWEEP_SECONDS") -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 0.05 <= value <= 3600:
        raise SettingsError(
            f"WISHBOT_{name} must be a number of seconds from 0.05 to 3600, not {raw!r}"
        )
    return value


def _secret(raw: str, token: str | None) -> str:
    # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -.
    if raw:
        if not all(c.isascii() and (c.isalnum() or c in "_-") for c in raw) or len(raw) > 256:
            raise SettingsError("WISHBOT_WEBHOOK_SECRET may hold only letters, digits, _ and -")
        return raw
    return hashlib.sha256(f"wishbot-webhook:{token or ''}".encode()).hexdigest()[:48]


def _rate(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if not 0 < value <= 100_000:
        raise SettingsError(
            f"WISHBOT_TELEGRAM_RATE must be messages per second above 0, not {raw!r}"
        )
    return value


def _log_format(raw: str) -> str:
    if raw not in ("text", "json"):
        raise SettingsError(f"WISHBOT_LOG_FORMAT must be text or json, not {raw!r}")
    return raw


def _count(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise SettingsError(f"WISHBOT_{name} must be a whole number from 1 to 1000, not {raw!r}")
    return value


def _rules(raw: Any) -> ReminderRules:
    if raw is None:
        return ReminderRules()
    if not isinstance(raw, dict):
        raise SettingsError("WISHBOT_CONFIG: [rules] must be a table of rule = value")
    try:
        return ReminderRules().merged(raw)
    except InvalidInput as e:
        raise SettingsError(f"WISHBOT_CONFIG [rules]: {e}") from None


def _read_config_file(path: str) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"WISHBOT_CONFIG names {path!r}, which does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"WISHBOT_CONFIG file {path!r} is not valid TOML: {e}") from None
    # Keys may be written as in the environment (WISHBOT_WEB_PORT) or short (web_port).
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.upper()
        values[name if name.startswith(PREFIX) else PREFIX + name] = value
    return values


_KNOWN = (
    "DATABASE_URL",
    "TELEGRAM_TOKEN",
    "TELEGRAM_BASE_URL",
    "WEB_HOST",
    "WEB_PORT",
    "LOCALE",
    "TIMEZONE",
    "PUBLIC_URL",
    "WEBHOOK_SECRET",
    "SWEEP_SECONDS",
    "RULES",
    "TELEGRAM_RATE",
    "OPEN311_CORS_ORIGINS",
    "SEND_LEASE_SECONDS",
    "METRICS_TOKEN",
    "READY_OUTBOX_SECONDS",
    "LOG_FORMAT",
    "BACKUP_DIR",
    "BACKUP_KEEP",
    "STOP_SECONDS",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_AES_KEY",
    "WECHAT_BASE_URL",
    "WECHAT_NEWS_TEMPLATE",
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (default: os.environ) and the config file."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    if env.get(PREFIX + "CONFIG"):
        values.update(_read_config_file(env[PREFIX + "CONFIG"]))
        unknown = sorted(k for k in values if k.removeprefix(PREFIX) not in _KNOWN)
        if unknown:
            raise SettingsError(f"WISHBOT_CONFIG file has an unknown setting: {unknown[0]}")
    values.update({k: v for k, v in env.items() if k.startswith(PREFIX) and k != PREFIX + "CONFIG"})

    def get(name: str, default: str) -> str:
        value = values.get(PREFIX + name)
        return default if value is None or str(value).strip() == "" else str(value).strip()

    token = get("TELEGRAM_TOKEN", "") or None
    return Settings(
        database_url=_database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        telegram_token=token,
        telegram_base_url=_base_url(get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot")),
        web_host=get("WEB_HOST", "127.0.0.1"),
        web_port=_port(get("WEB_PORT", "8080")),
        locale=_locale(get("LOCALE", "zh_Hans")),
        timezone=_timezone(get("TIMEZONE", "Asia/Shanghai")),
        public_url=_public_url(get("PUBLIC_URL", "")),
        webhook_secret=_secret(get("WEBHOOK_SECRET", ""), token),
        sweep_seconds=_seconds(get("SWEEP_SECONDS", "5")),
        rules=_rules(values.get(PREFIX + "RULES")),
        telegram_rate=_rate(get("TELEGRAM_RATE", "30")),
        send_lease_seconds=_seconds(get("SEND_LEASE_SECONDS", "60"), "SEND_LEASE_SECONDS"),
        open311_cors_origins=_origins(get("OPEN311_CORS_ORIGINS", "")),
        metrics_token=get("METRICS_TOKEN", "") or None,
        ready_outbox_seconds=_seconds(get("READY_OUTBOX_SECONDS", "600"), "READY_OUTBOX_SECONDS"),
        log_format=_log_format(get("LOG_FORMAT", "text")),
        backup_dir=Path(get("BACKUP_DIR", "")) if get("BACKUP_DIR", "") else None,
        backup_keep=_count(get("BACKUP_KEEP", "7"), "BACKUP_KEEP"),
        stop_seconds=_seconds(get("STOP_SECONDS", "10"), "STOP_SECONDS"),
        wechat=_wechat(get),
    )


def _wechat(get: Any) -> WeChatSettings | None:
    """The service account's settings; None (WeChat not served) unless id, secret and token
    are all set."""
    app_id, secret, token = (
        get("WECHAT_APP_ID", ""),
        get("WECHAT_APP_SECRET", ""),
        get("WECHAT_TOKEN", ""),
    )
    if not (app_id or secret or token):
        return None
    if not (app_id and secret and token):
        raise SettingsError(
            "WISHBOT_WECHAT_APP_ID, WISHBOT_WECHAT_APP_SECRET and WISHBOT_WECHAT_TOKEN "
            "go together: set all three to serve WeChat, or none"
        )
    if not 3 <= len(token) <= 32 or not token.isascii() or not token.isalnum():
        raise SettingsError("WISHBOT_WECHAT_TOKEN must be 3 to 32 letters and digits")
    aes_key = get("WECHAT_AES_KEY", "") or None
    if aes_key is not None and (
        len(aes_key) != 43 or not aes_key.isascii() or not aes_key.isalnum()
    ):
        raise SettingsError(
            "WISHBOT_WECHAT_AES_KEY must be the 43 letters and digits of the EncodingAESKey"
        )
    base = get("WECHAT_BASE_URL", "https://api.weixin.qq.com")
    if not base.startswith(("http://", "https://")):
        raise SettingsError("WISHBOT_WECHAT_BASE_URL must start with http:// or https://")
    return WeChatSettings(
        app_id=app_id,
        app_secret=secret,
        token=token,
        aes_key=aes_key,
        base_url=base.rstrip("/"),
        news_template=get("WECHAT_NEWS_TEMPLATE", "") or None,
    )

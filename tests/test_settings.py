"""Settings: defaults, the environment, the TOML file, and one clear line for each bad one.

The command line turns a bad setting into that line and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_need_nothing_set() -> None:
    settings = load_settings({})
    assert settings.database_url.render_as_string() == "sqlite+aiosqlite:///data/wishbot.db"
    assert settings.telegram_token is None
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8080)
    assert settings.locale == "zh_Hans"
    assert str(settings.timezone) == "Asia/Shanghai"


def test_the_environment_sets_everything() -> None:
    settings = load_settings(
        {
            "WISHBOT_DATABASE_URL": "postgresql://bot:secret@db.local/wishes",
            "WISHBOT_TELEGRAM_TOKEN": "123:abc",
            "WISHBOT_TELEGRAM_BASE_URL": "http://127.0.0.1:9999/bot",
            "WISHBOT_WEB_HOST": "0.0.0.0",
            "WISHBOT_WEB_PORT": "9090",
            "WISHBOT_LOCALE": "en",
            "WISHBOT_TIMEZONE": "Europe/Berlin",
        }
    )
    assert settings.database_url.drivername == "postgresql+asyncpg"
    assert settings.telegram_token == "123:abc"
    assert settings.telegram_base_url == "http://127.0.0.1:9999/bot"
    assert settings.web_address == "http://0.0.0.0:9090"
    assert settings.locale == "en"
    assert str(settings.timezone) == "Europe/Berlin"


def test_a_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "wishbot.toml"
    config.write_text('web_port = 8181\nWISHBOT_LOCALE = "en"\ntimezone = "Asia/Tokyo"\n')
    settings = load_settings({"WISHBOT_CONFIG": str(config), "WISHBOT_TIMEZONE": "UTC"})
    assert (settings.web_port, settings.locale, str(settings.timezone)) == (8181, "en", "UTC")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WISHBOT_DATABASE_URL", "::not a url::"),
        ("WISHBOT_DATABASE_URL", "mysql://root@localhost/db"),
        ("WISHBOT_DATABASE_URL", "sqlite://"),
        ("WISHBOT_WEB_PORT", "eighty"),
        ("WISHBOT_WEB_PORT", "70000"),
        ("WISHBOT_LOCALE", "xx_NOPE"),
        ("WISHBOT_LOCALE", "fr"),
        ("WISHBOT_TIMEZONE", "Mars/Olympus"),
        ("WISHBOT_TELEGRAM_BASE_URL", "api.telegram.org/bot"),
        ("WISHBOT_CONFIG", "/nowhere/wishbot.toml"),
    ],
)
def test_a_bad_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({name: value})
    assert name in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_broken_or_unknown_config_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("web_port = = 1")
    with pytest.raises(SettingsError, match="WISHBOT_CONFIG"):
        load_settings({"WISHBOT_CONFIG": str(broken)})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'")
    with pytest.raises(SettingsError, match="WISHBOT_COLOUR"):
        load_settings({"WISHBOT_CONFIG": str(unknown)})


def _wishbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WISHBOT_WEB_PORT": "abc"}, "WISHBOT_WEB_PORT"),
        ({"WISHBOT_DATABASE_URL": "oracle://x"}, "WISHBOT_DATABASE_URL"),
        # A server that is not there: the URL is named, its password is not shown.
        ({"WISHBOT_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x"}, "WISHBOT_DATABASE_URL"),
    ],
)
def test_the_command_line_says_one_line_and_stops(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = _wishbot({"WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env}, "migrate")
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert named in lines[0] and "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr


def test_an_unknown_command_is_one_line(tmp_path: Path) -> None:
    result = _wishbot({"WISHBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, "fly")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1

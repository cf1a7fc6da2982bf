"""Dates read the same way to everyone: month named, 24-hour clock, the community's time zone.

The web and the bot call the product by one name in each language; a log line carries its offset.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import init_app
from models.wishes import Wish, WishStatus
from tests.chat import World
from tests.town import Town
from tests.wishes import wish_in

if TYPE_CHECKING:
    Client = TestClient[web.Request, web.Application]

ROOT = Path(__file__).resolve().parent.parent
# 05:48 UTC on 3 December is 13:48 in Shanghai, the community's time zone.
WANTED = dt.datetime(2026, 12, 3, 5, 48, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "3 Dec 2026, 13:48"), ("zh-hans", "2026年12月3日 13:48")]
)
async def test_a_date_in_the_chat_names_the_month_in_the_community_time(
    sessions: async_sessionmaker[AsyncSession], town: Town, language: str, shown: str
) -> None:
    wish = await wish_in(sessions, town, WishStatus.OPEN)
    async with sessions.begin() as s:
        found = await s.get(Wish, wish.id)
        assert found is not None
        found.preferred_time = WANTED
    world = World(sessions)
    fixer = await world.as_person(town.fixer, language)
    await fixer.send("/tasks")
    text = "\n".join(fixer.texts())
    assert shown in text, text
    assert "12/3/26" not in text and "PM" not in text and "05:48" not in text


@pytest.fixture
async def client(app: App, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Client]:
    async with TestClient(TestServer(init_app(app, Runtime(app)))) as test_client:
        yield test_client


@pytest.mark.parametrize(("language", "name"), [("zh-CN", "微心愿"), ("en", "Small Wishes")])
async def test_the_web_and_the_bot_use_one_product_name(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, language: str, name: str
) -> None:
    response = await client.get(f"/c/{town.sunflower.id}", headers={"Accept-Language": language})
    assert response.status == 200
    page = await response.text()
    brand = re.search(r'<a class="brand" href="/">(.*?)</a>', page)
    assert brand and brand.group(1) == name
    assert "小小心愿" not in page

    newcomer = World(sessions).chat("Newcomer", language)
    greeting = (await newcomer.send("/start"))[0].text
    assert name in greeting
    assert "小小心愿" not in greeting


def test_a_log_line_carries_the_community_offset(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WISHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'wishes.db'}",
        "WISHBOT_TIMEZONE": "Asia/Shanghai",
        "TZ": "UTC",  # the machine's own zone differs from the community's
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if "up to date" in line]
    assert lines, done.stderr
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00 INFO ", lines[0]), lines[0]

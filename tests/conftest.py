"""Shared fixtures: one migrated database per run (SQLite or PostgreSQL), wiped per test.

The app comes from build_app, as in production; only the clock is a manual one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.clock import ManualClock
from models.schema import Base
from tests.databases import fresh_database
from tests.needs import (  # noqa: F401 (hooks: Chromium and PostgreSQL, skipped or required)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_setup,
    pytest_terminal_summary,
)
from tests.town import Town, build_town

# 09:00 on a Monday in Shanghai.
START = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
# Rows the migrations put in; the wipe leaves them.
SEEDED_TABLES = {"categories"}


@pytest.fixture(scope="session")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[App]:
    async with fresh_database(tmp_path_factory.mktemp("db")) as url:
        settings = load_settings({"WISHBOT_DATABASE_URL": url})
        application = build_app(settings, clock=ManualClock(START))
        await migrate(application.engine)
        yield application
        await application.close()


@pytest.fixture
def clock(app: App) -> ManualClock:
    assert isinstance(app.clock, ManualClock)
    return app.clock


@pytest.fixture
async def sessions(app: App, clock: ManualClock) -> async_sessionmaker[AsyncSession]:
    clock.set(START)
    async with app.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in SEEDED_TABLES:
                await session.execute(delete(table))
    return app.sessions


@pytest.fixture
async def town(sessions: async_sessionmaker[AsyncSession]) -> Town:
    async with sessions.begin() as session:
        return await build_town(session)


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path

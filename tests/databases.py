"""Fresh, empty databases for tests: a file for SQLite, a new database on the PostgreSQL server.

WISHBOT_TEST_DATABASE_URL names the server; unset, every test database is SQLite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.settings import load_settings


def server_url() -> str | None:
    return os.environ.get("WISHBOT_TEST_DATABASE_URL") or None


def on_postgres() -> bool:
    return server_url() is not None


@asynccontextmanager
async def fresh_database(tmp_dir: Path) -> AsyncIterator[str]:
    """Yield the URL of a new empty database; drop it afterwards."""
    server = server_url()
    if server is None:
        yield f"sqlite:///{tmp_dir / f'wishbot-{uuid.uuid4().hex[:8]}.db'}"
        return
    from bot.database import create_engine

    name = f"wishbot_test_{uuid.uuid4().hex[:12]}"
    admin_url = load_settings({"WISHBOT_DATABASE_URL": server}).database_url
    admin = create_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

"""Alembic's environment: runs on a connection handed in by bot.migrate, or on a URL.

render_as_batch lets the same migrations alter tables on SQLite.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from models.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_url() -> None:
    # Used by `alembic` on the command line (alembic.ini); the bot hands in a connection.
    from bot.database import create_engine
    from bot.settings import load_settings

    url = load_settings(os.environ).database_url

    async def go() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_from_url()

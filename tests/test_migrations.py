"""The Alembic migrations build exactly the schema the models describe.

A model changed without a migration (or the other way round) fails here.
"""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.schema import Base
from models.wishes import Category
from tests.databases import fresh_database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine)
            await migrate(app.engine)  # a second run is a no-op
            async with app.engine.connect() as conn:
                assert await conn.run_sync(_diff) == []
                tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert set(Base.metadata.tables) <= tables
            async with app.sessions() as session:
                codes = set((await session.scalars(select(Category.code))).all())
            assert {"repair", "errand", "companionship", "paperwork", "cleaning", "other"} <= codes
        finally:
            await app.close()

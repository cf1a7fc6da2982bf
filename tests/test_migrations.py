"""The Alembic migrations build exactly the schema the models describe.

A model changed without a migration (or the other way round) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from bot.app import build_app
from bot.migrate import alembic_config, head_revision, migrate
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


async def test_a_database_behind_is_brought_to_the_head_and_one_at_it_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-up shortcut (no Alembic when the schema is at its head) never skips work."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0006_privacy")
            await migrate(app.engine)  # behind: Alembic runs
            async with app.engine.connect() as conn:
                assert await conn.run_sync(_diff) == []

            def no_alembic(*_: object) -> None:
                raise AssertionError("Alembic ran on a database at its head")

            monkeypatch.setattr(command, "upgrade", no_alembic)
            await migrate(app.engine)
        finally:
            await app.close()

"""Bring the database to the newest schema with the Alembic migrations in models/.

Runs in one transaction on the engine's own connection, so a failure leaves nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

import models

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(models.__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(None|"([^"]*)")', re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest revision, read from the migration files: the one no other comes after
    (None when that is not a single plain chain: then Alembic decides)."""
    revisions: set[str] = set()
    before: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((name, value) for name, _, value in _REVISION.findall(path.read_text()))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            before.add(found["down_revision"])
    heads = revisions - before
    return heads.pop() if len(heads) == 1 else None


def _at_head(connection: Connection) -> bool:
    """Whether the database is already at the newest schema: one small query, no Alembic
    (importing and running it costs a good part of a second at every start)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with connection.begin_nested():
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False  # a new database: no table yet
    return [v for (v,) in versions] == [head]


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    def upgrade(connection: Connection) -> None:
        if revision == "head" and _at_head(connection):
            return
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)

"""`wishbot copy-db FROM_URL TO_URL`: the whole store from one database to another (SQLite to
PostgreSQL and back), every row with its id, the sequences moved past them, the rules checked.

The target must be empty; it is migrated first, and the rows go in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, Table, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.checks import schema_state
from bot.database import READ_ONLY, create_engine
from bot.migrate import migrate
from bot.settings import Settings, SettingsError, load_settings
from models.schema import Base

BATCH = 1000
# Rows the migrations themselves put in (the category list): replaced by the source's.
SEEDED = {"categories"}


class CopyError(Exception):
    """The copy cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]

    def summary(self) -> str:
        total = sum(self.rows.values())
        return f"Copied {total} rows in {sum(1 for n in self.rows.values() if n)} tables"


def _settings(url: str, which: str) -> Settings:
    try:
        return load_settings({"WISHBOT_DATABASE_URL": url})
    except SettingsError as e:
        raise CopyError(f"{which}: {e}".replace("WISHBOT_DATABASE_URL", which)) from None


def _shown(settings: Settings) -> str:
    return settings.database_url.render_as_string(hide_password=True)


async def _row_counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = int(await conn.scalar(select(func.count()).select_from(table)) or 0)
    return counts


async def copy_database(from_url: str, to_url: str) -> Copied:
    source_settings, target_settings = _settings(from_url, "FROM_URL"), _settings(to_url, "TO_URL")
    if source_settings.database_url == target_settings.database_url:
        raise CopyError("FROM_URL and TO_URL are the same database")
    try:
        versions, head = await schema_state(source_settings)
    except Exception as error:  # whatever the driver raises
        raise CopyError(f"cannot reach {_shown(source_settings)}: {_reason(error)}") from None
    if versions != [head]:
        raise CopyError(
            f"{_shown(source_settings)} is at schema {', '.join(versions) or 'none'}, not "
            f"{head}: run wishbot migrate on it first"
        )
    source, target = (
        create_engine(source_settings.database_url),
        create_engine(target_settings.database_url),
    )
    try:
        try:
            await _refuse_non_empty(target, _shown(target_settings))
            await migrate(target)
        except CopyError:
            raise
        except Exception as error:
            raise CopyError(f"cannot use {_shown(target_settings)}: {_reason(error)}") from None
        return await _copy(source, target)
    finally:
        await source.dispose()
        await target.dispose()


def _reason(error: Exception) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


async def _refuse_non_empty(target: AsyncEngine, shown: str) -> None:
    async with target.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        if not names:
            return
        full = [
            t.name
            for t in Base.metadata.sorted_tables
            if t.name in names
            and t.name not in SEEDED
            and await conn.scalar(select(func.count()).select_from(t))
        ]
    if full:
        raise CopyError(
            f"{shown} is not empty (rows in {', '.join(full[:5])}): copy into a new database"
        )


async def _copy(source: AsyncEngine, target: AsyncEngine) -> Copied:
    copied: dict[str, int] = {}
    # One read transaction: a consistent picture (taking no write lock on SQLite).
    snapshot: dict[str, object] = {READ_ONLY: True}
    if source.dialect.name == "postgresql":
        snapshot = {"isolation_level": "REPEATABLE READ"}
    async with source.connect() as read, target.begin() as write:
        await read.execution_options(**snapshot)
        await read.begin()
        if write.dialect.name == "sqlite":
            await write.execute(text("PRAGMA defer_foreign_keys = ON"))
        for name in SEEDED:
            await write.execute(Base.metadata.tables[name].delete())
        for table in Base.metadata.sorted_tables:
            copied[table.name] = await _copy_table(read, write, table)
        if write.dialect.name == "postgresql":
            await _move_sequences(write)
        expected = await _row_counts(read)
        found = await _row_counts(write)
        if found != expected:
            wrong = [n for n in expected if expected[n] != found.get(n)]
            raise CopyError(
                f"row counts differ after the copy in {', '.join(wrong)}: nothing was kept"
            )
        from sqlalchemy.ext.asyncio import AsyncSession

        from models.invariants import broken_invariants

        session = AsyncSession(bind=write)
        problems = await broken_invariants(session)
        await session.close()
        if problems:
            raise CopyError(
                f"the copy breaks the store's rules ({'; '.join(problems[:3])}): nothing was kept"
            )
    return Copied(copied)


async def _copy_table(read: AsyncConnection, write: AsyncConnection, table: Table) -> int:
    order = list(table.primary_key.columns)
    result = await read.stream(select(table).order_by(*order))
    count = 0
    async for rows in result.mappings().partitions(BATCH):
        await write.execute(table.insert(), [dict(row) for row in rows])
        count += len(rows)
    return count


async def _move_sequences(write: AsyncConnection) -> None:
    """Each id sequence past the copied ids, so the next row gets a new one."""
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer) or keys[0].name != "id":
            continue
        sequence = await write.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        if sequence is None:
            continue
        await write.execute(
            text(
                f'SELECT setval(:sequence, COALESCE((SELECT MAX(id) FROM "{table.name}"), 1), '
                f'(SELECT MAX(id) FROM "{table.name}") IS NOT NULL)'
            ),
            {"sequence": sequence},
        )

"""Backups of a SQLite store while the bot runs (SQLite's online backup API), restoring one
only after it is checked (integrity, migrations, invariants), and the nightly backups.

PostgreSQL has its own tools (pg_dump, pg_restore): the commands say how to use them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bot.migrate import MIGRATIONS, migrate
from bot.settings import Settings

log = logging.getLogger("wishbot.backup")
NIGHTLY = "wishbot-{stamp}.db"
NIGHTLY_GLOB = "wishbot-*.db"


class BackupError(Exception):
    """The backup cannot be made or used; the message says why and what to do."""


def sqlite_path(url: URL) -> Path | None:
    """The store's file, or None when it is not SQLite."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def postgres_guidance(url: URL, file: Path, restoring: bool = False) -> str:
    shown = url.set(drivername="postgresql", password=None).render_as_string()
    if restoring:
        return (
            "the store is PostgreSQL: stop the bot, then  pg_restore --clean --if-exists "
            f"--no-owner --dbname '{shown}' {file}  and  wishbot check"
        )
    return (
        "the store is PostgreSQL, whose own tool copies it while the bot runs:  "
        f"pg_dump --format=custom --file {file} '{shown}'  (pg_restore puts it back)"
    )


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (the online backup API, one read transaction:
    writers go on meanwhile in WAL mode), written beside the target and moved into place."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)


def backup(settings: Settings, file: Path) -> str:
    """Write a backup of the store to ``file``; what was done, in one line."""
    source = sqlite_path(settings.database_url)
    if source is None:
        raise BackupError(postgres_guidance(settings.database_url, file))
    if not source.exists():
        raise BackupError(f"there is no database at {source} yet: nothing to back up")
    if file.exists():
        raise BackupError(f"{file} exists already: name a new file")
    file.parent.mkdir(parents=True, exist_ok=True)
    copy_sqlite(source, file)
    return f"Backed up {source} to {file} ({file.stat().st_size // 1024} KiB)"


def _known_revisions() -> set[str]:
    from bot.migrate import _REVISION

    found: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, _, value in _REVISION.findall(path.read_text()):
            if name == "revision":
                found.add(value)
    return found


def _inspected_copy(file: Path, work: Path) -> str:
    """Copy the backup to ``work`` and check its pages and its schema; the revision it is at."""
    if not file.is_file():
        raise BackupError(f"{file} is not a file")
    try:
        copy_sqlite(file, work)
        db = sqlite3.connect(work)
        try:
            integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
            try:
                versions = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
            except sqlite3.DatabaseError:
                versions = []
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        work.unlink(missing_ok=True)
        raise BackupError(f"{file} is not a readable SQLite database ({error})") from None
    if integrity != ["ok"]:
        work.unlink(missing_ok=True)
        raise BackupError(f"{file} is damaged: {'; '.join(integrity[:3])}")
    if len(versions) != 1 or versions[0] not in _known_revisions():
        work.unlink(missing_ok=True)
        raise BackupError(
            f"{file} is at schema {', '.join(versions) or 'none'}, which this version does not "
            "know: restore it with the version that made it"
        )
    return str(versions[0])


async def checked_copy(file: Path, work: Path) -> str:
    """Copy the backup to ``work``, check it (integrity, schema, the store's invariants) and
    bring the copy to the newest schema; the revision it was at. BackupError says what is wrong."""
    from bot.app import build_app
    from bot.settings import load_settings
    from models.invariants import broken_invariants

    revision = await asyncio.to_thread(_inspected_copy, file, work)
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": f"sqlite:///{work}"}))
    try:
        await migrate(app.engine)
        async with app.sessions() as session:
            problems = await broken_invariants(session)
    finally:
        await app.close()
    if problems:
        await asyncio.to_thread(work.unlink, missing_ok=True)
        raise BackupError(f"{file} breaks the store's rules: {'; '.join(problems[:5])}")
    return revision


async def restore(settings: Settings, file: Path, moment: dt.datetime) -> str:
    """Replace the store with a checked backup; the store before is kept beside it."""
    target = sqlite_path(settings.database_url)
    if target is None:
        raise BackupError(postgres_guidance(settings.database_url, file, restoring=True))
    work = target.with_name(target.name + ".restoring")
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    revision = await checked_copy(file, work)
    kept = await asyncio.to_thread(_put_in_place, work, target, moment)
    said = f"Restored {file} (schema {revision}) into {target}"
    return said + (f"; the database before is kept as {kept}" if kept else "")


def _put_in_place(work: Path, target: Path, moment: dt.datetime) -> Path | None:
    kept = None
    try:
        if target.exists():
            kept = target.with_name(f"{target.name}.before-restore-{moment:%Y%m%dT%H%M%S}")
            copy_sqlite(target, kept)
        _write_into(work, target)
    finally:
        work.unlink(missing_ok=True)
    return kept


def _write_into(source: Path, target: Path) -> None:
    """Overwrite the live file through SQLite itself, so its WAL cannot bring old pages back."""
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def nightly_backup(settings: Settings, moment: dt.datetime) -> Path | None:
    """Tonight's backup into WISHBOT_BACKUP_DIR, keeping the newest WISHBOT_BACKUP_KEEP."""
    folder, source = settings.backup_dir, sqlite_path(settings.database_url)
    if folder is None or source is None or not source.exists():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / NIGHTLY.format(stamp=f"{moment.astimezone(settings.timezone):%Y-%m-%dT%H%M}")
    if not file.exists():
        copy_sqlite(source, file)
    for old in sorted(folder.glob(NIGHTLY_GLOB))[: -settings.backup_keep]:
        old.unlink()
    return file


def schedule_backups(scheduler: Any, settings: Settings, now: Any) -> None:
    """The nightly backup job, when a folder is set (SQLite; PostgreSQL: pg_dump from cron)."""
    if settings.backup_dir is None or sqlite_path(settings.database_url) is None:
        return

    async def job() -> None:
        try:
            file = await asyncio.to_thread(nightly_backup, settings, now())
        except (OSError, sqlite3.Error) as error:
            log.warning("The nightly backup failed: %s", error)
            return
        log.info("Nightly backup written to %s", file)

    scheduler.add_job(job, "cron", hour=3, minute=30, id="backup")

"""`wishbot backup` while wishes move, `wishbot restore` only of a backup that checks out, and
the nightly backups keeping the newest N.

The real commands in subprocesses against a SQLite file the test writes to at the same time
(backups are SQLite's; PostgreSQL gets pg_dump guidance).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App, build_app
from bot.backup import nightly_backup
from bot.migrate import migrate
from bot.settings import load_settings
from models.clock import ManualClock
from models.invariants import broken_invariants
from models.wishes import Wish, WishStatus
from tests.conftest import START
from tests.test_invariants import check_invariants
from tests.town import Town, build_town
from tests.wishes import wish_in

ROOT = Path(__file__).resolve().parent.parent


async def wishbot(*args: str, database: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = f"sqlite:///{database}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@asynccontextmanager
async def store(path: Path) -> AsyncIterator[tuple[App, Town]]:
    app = build_app(
        load_settings({"WISHBOT_DATABASE_URL": f"sqlite:///{path}"}), clock=ManualClock(START)
    )
    await migrate(app.engine)
    async with app.sessions.begin() as session:
        town = await build_town(session)
    try:
        yield app, town
    finally:
        await app.close()


async def wishes_in(path: Path) -> int:
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": f"sqlite:///{path}"}))
    try:
        async with app.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(Wish))
            assert not await broken_invariants(session)
        await check_invariants(app.sessions)  # the tests' own reading of the rules
    finally:
        await app.close()
    return count or 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_backup_taken_during_traffic_restores_with_every_invariant(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "backups" / "monday.db"
    async with store(live) as (app, town):
        stop, going = asyncio.Event(), asyncio.Event()
        made = 0

        async def traffic() -> None:
            nonlocal made
            statuses = [WishStatus.CLOSED, WishStatus.OPEN, WishStatus.ACCEPTED, WishStatus.DONE]
            while not stop.is_set():
                await wish_in(app.sessions, town, statuses[made % len(statuses)])
                made += 1
                if made >= 5:
                    going.set()
                await asyncio.sleep(0)

        writer = asyncio.create_task(traffic())
        await going.wait()
        at_start = made
        code, out, err = await wishbot("backup", str(copy), database=live)
        at_end = made
        stop.set()
        await writer
        assert code == 0, err
        assert out.startswith(f"Backed up {live} to {copy}")
        assert at_end > at_start, "the traffic went on while the backup was made"

        # A new machine: restore into an empty place.
        elsewhere = tmp_path / "new-server" / "wishbot.db"
        code, out, err = await wishbot("restore", str(copy), database=elsewhere)
        assert code == 0, err
        assert out.startswith(f"Restored {copy} (schema ")
        restored = await wishes_in(elsewhere)
        assert at_start <= restored <= at_end

        # Over the live store (the bot stopped): the one before is kept beside it.
        before = await wishes_in(live)
        code, out, err = await wishbot("restore", str(copy), database=live)
        assert code == 0, err
        kept = Path(out.strip().split("kept as ")[1])
        assert await wishes_in(live) == restored
        assert await wishes_in(kept) == before

        code, _, err = await wishbot("backup", str(copy), database=live)
        assert code == 2 and "exists already" in err


async def test_restore_refuses_a_bad_backup_and_changes_nothing(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    async with store(live) as (app, town):
        await wish_in(app.sessions, town, WishStatus.CLOSED)
    good = tmp_path / "good.db"
    assert (await wishbot("backup", str(good), database=live))[0] == 0
    untouched = digest(live)

    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("shopping list\n" * 100)
    code, _, err = await wishbot("restore", str(not_a_database), database=live)
    assert code == 2 and "is not a readable SQLite database" in err

    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(good.read_bytes())
    with sqlite3.connect(tampered) as db:
        db.execute(
            "UPDATE people SET points_balance = points_balance + 999 WHERE id = (SELECT min(id) FROM people)"
        )
    db.close()
    code, _, err = await wishbot("restore", str(tampered), database=live)
    assert code == 2 and "breaks the store's rules: person " in err and "ledger" in err

    future = tmp_path / "future.db"
    future.write_bytes(good.read_bytes())
    with sqlite3.connect(future) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_future'")
    db.close()
    code, _, err = await wishbot("restore", str(future), database=live)
    assert code == 2 and "schema 0099_future, which this version does not know" in err

    assert digest(live) == untouched
    assert sorted(p.name for p in tmp_path.glob("live.db*")) in (  # noqa: ASYNC240
        ["live.db"],
        ["live.db", "live.db-shm", "live.db-wal"],
    )


async def test_backup_of_postgresql_says_how_with_pg_dump(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = "postgresql://wishbot:pw-secret@db.local/wishes"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "backup",
        str(tmp_path / "x.dump"),
        env=env,
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert "pg_dump --format=custom --file" in err.decode() and "pw-secret" not in err.decode()
    assert not (tmp_path / "x.dump").exists()


async def test_nightly_backups_keep_the_newest_n(tmp_path: Path) -> None:
    live, folder = tmp_path / "live.db", tmp_path / "nightly"
    async with store(live):
        pass
    settings = load_settings(
        {
            "WISHBOT_DATABASE_URL": f"sqlite:///{live}",
            "WISHBOT_BACKUP_DIR": str(folder),
            "WISHBOT_BACKUP_KEEP": "3",
        }
    )
    clock = ManualClock(START)
    for _ in range(5):
        made = nightly_backup(settings, clock.now())
        assert made is not None and made.exists()
        clock.advance(dt.timedelta(days=1))
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        "wishbot-2026-11-25T0900.db",
        "wishbot-2026-11-26T0900.db",
        "wishbot-2026-11-27T0900.db",
    ]
    assert await wishes_in(folder / kept[-1]) == 0

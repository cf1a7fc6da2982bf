"""`wishbot copy-db`: a seeded SQLite store to PostgreSQL (or another SQLite file) and back,
every row equal, the sequences past the copied ids, the invariants holding; a non-empty target
is refused and left as it was.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.clock import ManualClock
from models.inbox import store_update
from models.invariants import broken_invariants
from models.outbox import queue_message
from models.people import Person
from models.points_ledger import adjust_points
from models.schema import Base
from models.wish_asking import submit_wish
from models.wishes import WishStatus
from tests.conftest import START
from tests.databases import fresh_database
from tests.town import Town, build_town
from tests.wishes import wish_in

ROOT = Path(__file__).resolve().parent.parent


async def wishbot(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
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
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def seeded(url: str) -> Town:
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}), clock=ManualClock(START))
    try:
        await migrate(app.engine)
        async with app.sessions.begin() as session:
            town = await build_town(session)
        for status in WishStatus:
            await wish_in(app.sessions, town, status)
        await wish_in(app.sessions, town, WishStatus.OPEN, required_count=2)
        async with app.sessions.begin() as session:
            admin = await session.get(Person, town.admin.id)
            fixer = await session.get(Person, town.fixer.id)
            assert admin is not None and fixer is not None
            await adjust_points(session, admin, fixer, 7, "helped at the fair")
            await queue_message(session, platform="telegram", chat_id="1", payload={"text": "hi"})
            await store_update(
                session, "telegram", 1, "1", {"update_id": 1, "message": {"text": "x"}}
            )
    finally:
        await app.close()
    return town


async def every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
    try:
        async with app.engine.connect() as conn:
            rows = {}
            for table in Base.metadata.sorted_tables:
                result = await conn.execute(select(table).order_by(*table.primary_key.columns))
                rows[table.name] = [dict(r) for r in result.mappings()]
        async with app.sessions() as session:
            assert await broken_invariants(session) == []
    finally:
        await app.close()
    return rows


@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_copy_db_moves_every_row_and_back(tmp_path: Path, target: str) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    town = await seeded(source)
    before = await every_row(source)
    assert len(before["wishes"]) == len(WishStatus) + 1 and before["points_ledger"]

    async with fresh_database(tmp_path) as server_url:
        to = server_url if target == "postgres" else f"sqlite:///{tmp_path / 'target.db'}"
        code, out, err = await wishbot("copy-db", source, to)
        assert code == 0, err
        total = sum(len(rows) for rows in before.values())
        assert out.startswith(f"Copied {total} rows in ")
        assert await every_row(to) == before

        # Refused: the target is no longer empty; nothing in it changes.
        code, _, err = await wishbot("copy-db", source, to)
        assert code == 2 and "is not empty (rows in " in err and "copy into a new database" in err
        assert await every_row(to) == before

        # And back into a new SQLite file.
        back = f"sqlite:///{tmp_path / 'back.db'}"
        code, _, err = await wishbot("copy-db", to, back)
        assert code == 0, err
        assert await every_row(back) == before

        # The sequences are past the copied ids: a new wish gets the next one.
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": to}), clock=ManualClock(START))
        try:
            async with app.sessions.begin() as session:
                alice = await session.get(Person, town.alice.id)
                assert alice is not None
                wish = await submit_wish(
                    session, alice, building_id=town.n1.id, category="repair", description="New"
                )
            assert wish.id == max(w["id"] for w in before["wishes"]) + 1
        finally:
            await app.close()


async def test_copy_db_refuses_an_older_source_and_a_bad_url(tmp_path: Path) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": old}))
    try:
        await migrate(app.engine, "0006_runtime")
    finally:
        await app.close()
    code, _, err = await wishbot("copy-db", old, f"sqlite:///{tmp_path / 'new.db'}")
    assert code == 2 and "is at schema 0006_runtime" in err and "wishbot migrate" in err
    assert not (tmp_path / "new.db").exists()
    code, _, err = await wishbot("copy-db", old, "mysql://x@y/z")
    assert code == 2 and "TO_URL uses 'mysql'" in err

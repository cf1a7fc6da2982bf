"""The inbox claim's plan does not depend on history or statistics: with a million handled
updates, before and after ANALYZE, it reads the waiting rows' partial indexes, never the table.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.inbox import claim_next, claim_query
from tests.databases import fresh_database

HANDLED = 1_000_000


# EXPLAIN plans and table statistics are PostgreSQL's; SQLite's planner has none to drift with.
@pytest.mark.postgres
async def test_the_inbox_claim_reads_only_waiting_rows_with_a_million_handled(
    tmp_path: Path,
) -> None:
    sql = str(
        claim_query().compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine)
            async with app.engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO inbox (platform, update_id, chat_key, payload, received_at,"
                        " handled_at) SELECT 'telegram', g, 'telegram:' || (g % 5000), '{}',"
                        " now(), now() FROM generate_series(1, :n) AS g"
                    ),
                    {"n": HANDLED},
                )
                # A few waiting, two of them in one chat: the second must wait its turn.
                await conn.execute(
                    text(
                        "INSERT INTO inbox (platform, update_id, chat_key, payload, received_at)"
                        " SELECT 'telegram', :n + g, 'telegram:' || (g % 3), '{}', now()"
                        " FROM generate_series(1, 5) AS g"
                    ),
                    {"n": HANDLED},
                )
            for moment in ("fresh", "analysed"):
                if moment == "analysed":
                    async with app.engine.begin() as conn:
                        await conn.execute(text("ANALYZE inbox"))
                async with app.engine.begin() as conn:
                    plan = "\n".join(row[0] for row in await conn.execute(text("EXPLAIN " + sql)))
                assert "Seq Scan on inbox" not in plan, (moment, plan)
                assert "ix_inbox_waiting" in plan, (moment, plan)
                started = time.perf_counter()
                async with app.sessions.begin() as session:
                    first = await claim_next(session)
                    assert first is not None and first.update_id == HANDLED + 1
                seconds = time.perf_counter() - started
                print(f"\n{moment}: claim in {seconds * 1000:.1f} ms\n{plan}")
        finally:
            await app.close()

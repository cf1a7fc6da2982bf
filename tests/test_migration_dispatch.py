"""Migration 0008_dispatch: members' free-text availability is kept word for word, and read
into weekdays and hours where it says something we can read (English or Chinese)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.availability import EVERY_DAY, WEEKDAYS, WEEKEND
from tests.databases import fresh_database

TYPED = {
    1: "weekends",
    2: "工作日晚上",
    3: "whenever I can",
    4: "",
    5: "Saturday mornings and afternoons",
}
EXPECTED = {
    1: (WEEKEND, 0, 24),
    2: (WEEKDAYS, 18, 22),
    3: (0, 0, 24),  # nothing we can read: not stated, the words kept
    4: (0, 0, 24),
    5: (1 << 5, 8, 18),
}


async def test_free_text_availability_is_kept_and_read(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0007_cards")
            moment = dt.datetime(2026, 11, 1)
            async with app.engine.begin() as conn:
                for pid, typed in TYPED.items():
                    await conn.execute(
                        text(
                            "INSERT INTO people (id, name, phone_consent, points_balance,"
                            " unreachable, created_at) VALUES (:id, :name, false, 0, false, :at)"
                        ),
                        {"id": pid, "name": f"M{pid}", "at": moment},
                    )
                    await conn.execute(
                        text(
                            "INSERT INTO member_profiles (person_id, skills, availability,"
                            " organisation, approved) VALUES (:id, '[]', :typed, '', true)"
                        ),
                        {"id": pid, "typed": typed},
                    )
            await migrate(app.engine)
            async with app.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT person_id, availability, available_days, available_from,"
                            " available_to FROM member_profiles ORDER BY person_id"
                        )
                    )
                ).all()
            assert {r[0]: r[1] for r in rows} == TYPED
            assert {r[0]: (r[2], r[3], r[4]) for r in rows} == EXPECTED
            assert EVERY_DAY not in {r[2] for r in rows}
        finally:
            await app.close()

"""Migration 0008_points keeps what was there: a redemption made before codes gets its cost
from its ledger row, and the new roles, ledger kinds and statuses are allowed afterwards."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from tests.databases import fresh_database

AT = "2026-11-01 10:00:00"


async def test_an_old_redemption_is_kept_and_the_new_values_are_allowed(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0007_cards")
            async with app.engine.begin() as conn:
                for statement in (
                    "INSERT INTO streets (id, name) VALUES (1, 'High Street')",
                    "INSERT INTO communities (id, street_id, name) VALUES (1, 1, 'Sunflower')",
                    "INSERT INTO people (id, name, phone_consent, points_balance, unreachable, created_at) "
                    f"VALUES (1, 'Fixer', false, 30, false, '{AT}')",
                    "INSERT INTO role_grants (person_id, role, scope_id, granted_at) "
                    f"VALUES (1, 'member', 1, '{AT}')",
                    "INSERT INTO rewards (id, community_id, name, cost, stock, active) "
                    "VALUES (1, 1, 'Tea set', 20, 2, true)",
                    "INSERT INTO points_ledger (id, person_id, amount, kind, idempotency_key, at) "
                    f"VALUES (1, 1, 50, 'award', 'a-1', '{AT}')",
                    "INSERT INTO points_ledger (id, person_id, amount, kind, idempotency_key, at) "
                    f"VALUES (2, 1, -20, 'redemption', 'r-1', '{AT}')",
                    "INSERT INTO redemptions (id, reward_id, person_id, points_entry_id, status, at) "
                    f"VALUES (1, 1, 1, 2, 'requested', '{AT}')",
                ):
                    await conn.execute(text(statement))
            await migrate(app.engine)
            async with app.engine.begin() as conn:
                row = (
                    await conn.execute(
                        text("SELECT cost, status, code FROM redemptions WHERE id = 1")
                    )
                ).one()
                assert tuple(row) == (20, "requested", None)
                grants = (await conn.execute(text("SELECT role FROM role_grants"))).all()
                assert [g for (g,) in grants] == ["member"]
                await conn.execute(
                    text(
                        "INSERT INTO role_grants (person_id, role, scope_id, granted_at) "
                        f"VALUES (1, 'partner', 1, '{AT}')"
                    )
                )
                await conn.execute(
                    text(
                        "INSERT INTO points_ledger (id, person_id, amount, kind, idempotency_key, "
                        f"at) VALUES (3, 1, 20, 'redemption', 'refund-1', '{AT}')"
                    )
                )
                await conn.execute(
                    text("UPDATE redemptions SET status = 'expired', refund_entry_id = 3")
                )
                point_rules = (
                    await conn.execute(text("SELECT point_rules FROM communities"))
                ).scalar_one()
                assert point_rules in ({}, "{}")
        finally:
            await app.close()

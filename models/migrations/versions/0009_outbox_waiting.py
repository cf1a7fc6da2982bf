"""outbox: partial indexes on the waiting messages, so the claim's plan cannot drift

Revision ID: 0009_outbox_waiting
Revises: 0008_points
Create Date: 2026-11-30 17:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_outbox_waiting"
down_revision: str | None = "0008_points"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING_MESSAGE = sa.text("status = 'pending' AND kind = 'message'")


def upgrade() -> None:
    op.create_index(
        "ix_reminders_waiting",
        "reminders",
        ["due_at", "id"],
        sqlite_where=WAITING_MESSAGE,
        postgresql_where=WAITING_MESSAGE,
    )
    op.create_index(
        "ix_reminders_waiting_chat",
        "reminders",
        ["platform", "chat_id", "due_at", "id"],
        sqlite_where=WAITING_MESSAGE,
        postgresql_where=WAITING_MESSAGE,
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_waiting_chat", table_name="reminders")
    op.drop_index("ix_reminders_waiting", table_name="reminders")

"""outbox claims with a lease and sent parts; partial indexes of waiting updates and messages

Revision ID: 0006_runtime
Revises: 0005
Create Date: 2026-11-30 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_runtime"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("handled_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_index(
        "ix_reminders_chat_line", "reminders", ["platform", "chat_id", "status", "due_at"]
    )
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.create_index(
        "ix_inbox_waiting", "inbox", ["id"], sqlite_where=WAITING, postgresql_where=WAITING
    )
    op.create_index(
        "ix_inbox_waiting_chat",
        "inbox",
        ["chat_key", "id"],
        sqlite_where=WAITING,
        postgresql_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_waiting_chat", table_name="inbox")
    op.drop_index("ix_inbox_waiting", table_name="inbox")
    op.create_index("ix_inbox_pending", "inbox", ["handled_at", "chat_key", "id"])
    op.drop_index("ix_reminders_chat_line", table_name="reminders")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
        batch_op.drop_column("claimed_until")

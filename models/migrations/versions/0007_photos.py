"""photos: Telegram photos kept in the store with the web's, and Telegram's id for each

Revision ID: 0007_photos
Revises: 0006_privacy
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_photos"
down_revision: str | None = "0006_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_file_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("telegram_unique_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_web_files_telegram_unique_id"), ["telegram_unique_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("web_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_files_telegram_unique_id"))
        batch_op.drop_column("telegram_unique_id")
        batch_op.drop_column("telegram_file_id")

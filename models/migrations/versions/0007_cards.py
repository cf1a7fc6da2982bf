"""cards: which platform message each card (a wish's Verify card, its confirm card) became

Revision ID: 0007_cards
Revises: 0006_privacy
Create Date: 2026-11-30 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_cards"
down_revision: str | None = "0007_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("card_key", sa.String(length=100), nullable=False),
        sa.Column("message_ref", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_messages")),
        sa.UniqueConstraint(
            "platform",
            "chat_id",
            "card_key",
            name=op.f("uq_card_messages_platform_chat_id_card_key"),
        ),
    )


def downgrade() -> None:
    op.drop_table("card_messages")

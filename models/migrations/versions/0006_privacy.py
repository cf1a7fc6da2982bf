"""privacy: erased people; roster phones are the office's, not consent

Revision ID: 0006_privacy
Revises: 0005
Create Date: 2026-11-30 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_privacy"
down_revision: str | None = "0006_runtime"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    # Phones from the office's roster were marked as consent. Nobody with no chat at all can
    # have agreed in chat: their phone is kept for the office only.
    op.execute(
        "UPDATE people SET phone_consent = false WHERE phone IS NOT NULL AND phone_consent "
        "AND id NOT IN (SELECT person_id FROM identities)"
    )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

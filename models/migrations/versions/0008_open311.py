"""open311: buildings' coordinates, and what an Open311 client said about a wish's place

Revision ID: 0008_open311
Revises: 0007_cards
Create Date: 2026-11-30 14:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_open311"
down_revision: str | None = "0007_cards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing buildings keep every row; their place on the map is not known yet.
    with op.batch_alter_table("buildings") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    op.create_table(
        "reported_places",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("address_string", sa.String(length=250), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name=op.f("fk_reported_places_wish_id_wishes")
        ),
        sa.PrimaryKeyConstraint("wish_id", name=op.f("pk_reported_places")),
    )


def downgrade() -> None:
    op.drop_table("reported_places")
    with op.batch_alter_table("buildings") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")

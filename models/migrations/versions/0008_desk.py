"""desk: the office's internal notes on wishes, and each community's office contact

Revision ID: 0008_desk
Revises: 0008_orgs
Create Date: 2026-11-30 14:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_desk"
down_revision: str | None = "0008_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wish_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_wish_notes_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name=op.f("fk_wish_notes_wish_id_wishes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_notes")),
    )
    with op.batch_alter_table("wish_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wish_notes_wish_id"), ["wish_id"], unique=False)
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_contact", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("office_contact")
    with op.batch_alter_table("wish_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wish_notes_wish_id"))
    op.drop_table("wish_notes")

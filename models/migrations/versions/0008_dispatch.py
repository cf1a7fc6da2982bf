"""dispatch: members' availability as weekdays and hours; extra requesters of merged wishes

The free text a member typed stays as it was; what it says that can be read ("weekends",
"evenings", "周末", "晚上"...) is copied into the new columns (a frozen copy of
models/availability.py's reading, so that this migration never changes with the code).

Revision ID: 0008_dispatch
Revises: 0008_desk
Create Date: 2026-11-30 14:10:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_dispatch"
down_revision: str | None = "0008_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_DAY, WEEKDAYS, WEEKEND = 0b1111111, 0b0011111, 0b1100000
SPANS = {"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 22)}


def _read(text: str) -> tuple[int, int, int] | None:
    lowered = text.lower()
    days = 0
    if re.search(r"weekend|周末", lowered):
        days |= WEEKEND
    if re.search(r"saturday|周六|星期六", lowered):
        days |= 1 << 5
    if re.search(r"sunday|周日|星期日|星期天", lowered):
        days |= 1 << 6
    if re.search(r"weekday|workday|工作日|周一至周五", lowered):
        days |= WEEKDAYS
    if re.search(r"every ?day|daily|any ?time|每天|随时", lowered):
        days = EVERY_DAY
    span: tuple[int, int] | None = None
    for words, key in (
        (r"morning|上午|早上", "morning"),
        (r"afternoon|下午", "afternoon"),
        (r"evening|night|晚上|傍晚", "evening"),
    ):
        if re.search(words, lowered):
            low, high = SPANS[key]
            span = (min(span[0], low), max(span[1], high)) if span else (low, high)
    if not days and span is None:
        return None
    start, end = span or (0, 24)
    return days or EVERY_DAY, start, end


def upgrade() -> None:
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("available_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("available_from", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("available_to", sa.Integer(), server_default="24", nullable=False)
        )
    profiles = sa.table(
        "member_profiles",
        sa.column("person_id", sa.Integer()),
        sa.column("availability", sa.String()),
        sa.column("available_days", sa.Integer()),
        sa.column("available_from", sa.Integer()),
        sa.column("available_to", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(profiles.c.person_id, profiles.c.availability).where(
            profiles.c.availability != ""
        )
    ).all()
    for person_id, text in rows:
        read = _read(text or "")
        if read is not None:
            days, start, end = read
            bind.execute(
                profiles.update()
                .where(profiles.c.person_id == person_id)
                .values(available_days=days, available_from=start, available_to=end)
            )
    op.create_table(
        "wish_requesters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("from_wish_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_wish_id"], ["wishes.id"], name=op.f("fk_wish_requesters_from_wish_id_wishes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_wish_requesters_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name=op.f("fk_wish_requesters_wish_id_wishes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_requesters")),
        sa.UniqueConstraint(
            "wish_id", "person_id", name=op.f("uq_wish_requesters_wish_id_person_id")
        ),
    )
    with op.batch_alter_table("wish_requesters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wish_requesters_from_wish_id"), ["from_wish_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wish_requesters_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_wish_requesters_wish_id"), ["wish_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wish_requesters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wish_requesters_wish_id"))
        batch_op.drop_index(batch_op.f("ix_wish_requesters_person_id"))
        batch_op.drop_index(batch_op.f("ix_wish_requesters_from_wish_id"))
    op.drop_table("wish_requesters")
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.drop_column("available_to")
        batch_op.drop_column("available_from")
        batch_op.drop_column("available_days")

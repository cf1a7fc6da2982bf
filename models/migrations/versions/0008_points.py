"""points: partners, reward details, collection codes and refunds, points rules, rankings

Revision ID: 0008_points
Revises: 0008_dispatch
Create Date: 2026-11-30 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_points"
down_revision: str | None = "0008_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("resident", "building_head", "member", "grid_worker", "admin", "street_admin")
OLD_STATUSES = ("requested", "handed_over")


def _in(column: str, values: Sequence[str]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


def _recheck(table: str, column: str, name: str, values: Sequence[str]) -> None:
    """A portable enum's CHECK names the values it allows: replace it with the new list."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(name, _in(column, values))


def upgrade() -> None:
    _recheck("role_grants", "role", "role", (*OLD_ROLES, "partner"))
    _recheck("redemptions", "status", "redemptionstatus", (*OLD_STATUSES, "expired"))

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=200), server_default="", nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_partners_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["people.id"], name=op.f("fk_partners_contact_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("community_id", "name", name=op.f("uq_partners_community_id_name")),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partners_community_id"), ["community_id"])
        batch_op.create_index(batch_op.f("ix_partners_contact_id"), ["contact_id"])

    op.create_table(
        "ranking_choices",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_ranking_choices_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_ranking_choices")),
    )

    # Redemptions refer to rewards: SQLite cannot copy rewards into a new table under their
    # rows (its foreign keys are on inside the migration's transaction), so rewards only gets
    # columns added in place, the reference with its column.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE rewards ADD COLUMN partner_id INTEGER "
            "CONSTRAINT fk_rewards_partner_id_partners REFERENCES partners (id)"
        )
    else:
        op.add_column("rewards", sa.Column("partner_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_rewards_partner_id_partners"), "rewards", "partners", ["partner_id"], ["id"]
        )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("collect_at", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("photo", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_rewards_partner_id"), ["partner_id"])

    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("cost", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("refund_entry_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_redemptions_code"), ["code"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_redemptions_refund_entry_id"), ["refund_entry_id"]
        )
        batch_op.create_index(batch_op.f("ix_redemptions_expires_at"), ["expires_at"])
        batch_op.create_foreign_key(
            batch_op.f("fk_redemptions_closed_by_id_people"), "people", ["closed_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_redemptions_refund_entry_id_points_ledger"),
            "points_ledger",
            ["refund_entry_id"],
            ["id"],
        )
    # Redemptions made before codes: what they cost is what their ledger row took.
    op.execute(
        "UPDATE redemptions SET cost = -(SELECT amount FROM points_ledger "
        "WHERE points_ledger.id = redemptions.points_entry_id)"
    )

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("point_rules", sa.JSON(), server_default="{}", nullable=False)
        )
    with op.batch_alter_table("wish_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hours", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wish_assignments", schema=None) as batch_op:
        batch_op.drop_column("hours")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("point_rules")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_redemptions_refund_entry_id_points_ledger"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_redemptions_closed_by_id_people"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_redemptions_expires_at"))
        batch_op.drop_constraint(batch_op.f("uq_redemptions_refund_entry_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_redemptions_code"), type_="unique")
        for column in (
            "refund_entry_id",
            "closed_by_id",
            "closed_at",
            "expires_at",
            "cost",
            "code",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rewards_partner_id_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_rewards_partner_id"))
        for column in ("photo", "collect_at", "valid_until", "partner_id"):
            batch_op.drop_column(column)
    op.drop_table("ranking_choices")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_contact_id"))
        batch_op.drop_index(batch_op.f("ix_partners_community_id"))
    op.drop_table("partners")
    op.execute("DELETE FROM redemptions WHERE status = 'expired'")
    _recheck("redemptions", "status", "redemptionstatus", OLD_STATUSES)
    op.execute("DELETE FROM role_grants WHERE role = 'partner'")
    _recheck("role_grants", "role", "role", OLD_ROLES)

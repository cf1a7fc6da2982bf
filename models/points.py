"""The points ledger: append-only, one row per award, adjustment or redemption.

Each row has a unique idempotency key, so a retried award adds nothing.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class PointsKind(enum.StrEnum):
    AWARD = "award"
    ADJUSTMENT = "adjustment"
    # A reward paid for (negative), or its points back when it was not collected (positive,
    # key "refund-<redemption>", once).
    REDEMPTION = "redemption"


class PointsEntry(Base):
    __tablename__ = "points_ledger"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    amount: Mapped[int]
    kind: Mapped[PointsKind] = mapped_column(str_enum(PointsKind))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime]


class RankingChoice(Base):
    """Whether a member agreed to appear in the rankings others see, and under which name."""

    __tablename__ = "ranking_choices"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    shown: Mapped[bool] = mapped_column(default=False)
    # A chosen display name; none: the first word of their name.
    display_name: Mapped[str | None] = mapped_column(String(60))
    at: Mapped[dt.datetime]

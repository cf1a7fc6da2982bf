"""The rewards catalogue of a community and the redemptions members make from it.

A redemption is paid by one ledger row, so it can never push a balance below zero.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class RedemptionStatus(enum.StrEnum):
    REQUESTED = "requested"
    HANDED_OVER = "handed_over"


class Reward(Base):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    cost: Mapped[int]
    # None: unlimited.
    stock: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)


class Redemption(Base):
    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    points_entry_id: Mapped[int] = mapped_column(ForeignKey("points_ledger.id"), unique=True)
    status: Mapped[RedemptionStatus] = mapped_column(str_enum(RedemptionStatus))
    at: Mapped[dt.datetime]

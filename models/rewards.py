"""The partners of a community, their rewards catalogue and the redemptions members make.

A redemption is paid by one ledger row, so it can never push a balance below zero.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class RedemptionStatus(enum.StrEnum):
    REQUESTED = "requested"
    HANDED_OVER = "handed_over"
    EXPIRED = "expired"  # not collected in time: the points came back (one refund row)


class Partner(Base):
    """A shop or service (or the community's own charity shop) that gives rewards for points."""

    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # What they are, in the office's words: a barber, a clinic, the charity shop.
    kind: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Who confirms hand-overs with /handover (holds the partner role in the community).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


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
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    valid_until: Mapped[dt.datetime | None]
    # Where and when to collect it, in the partner's words.
    collect_at: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(200))


class Redemption(Base):
    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    points_entry_id: Mapped[int] = mapped_column(ForeignKey("points_ledger.id"), unique=True)
    status: Mapped[RedemptionStatus] = mapped_column(str_enum(RedemptionStatus))
    at: Mapped[dt.datetime]
    # The short code the member shows the partner; None only for rows older than codes.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    cost: Mapped[int] = mapped_column(default=0, server_default="0")
    expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # Handed over or expired: when, and who confirmed the hand-over.
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    refund_entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_ledger.id"), unique=True)

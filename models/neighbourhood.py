"""What building heads keep besides wishes: small disputes, and key people to visit.

Disputes stay small (or go to the grid worker); visits come round on a schedule.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    ESCALATED = "escalated"


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    # The units of the parties, as the head writes them ("3-201 and 3-301").
    parties: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus))
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class VisitPlan(Base):
    """A unit that needs regular visits (an elderly neighbour living alone, say)."""

    __tablename__ = "visit_plans"
    __table_args__ = (CheckConstraint("every_days BETWEEN 1 AND 365", name="every_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))
    every_days: Mapped[int]
    next_due_at: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("visit_plans.id"), index=True)
    visited_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(Text)

"""Wishes, the members who took them, and one event row per change.

The columns the life of a wish needs; the operations live in models/wish_moves.py
and the rooms along its life (wish_asking, wish_taking, wish_closing, wish_escalation, wish_record).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class WishStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    OPEN = "open"
    ACCEPTED = "accepted"
    DONE = "done"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"


FINAL_STATUSES = frozenset({WishStatus.CLOSED, WishStatus.REJECTED, WishStatus.CANCELLED})


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "active"
    RELEASED = "released"


class Category(Base):
    """What kind of help; base_points is what a member earns for one closed wish."""

    __tablename__ = "categories"
    __table_args__ = (CheckConstraint("base_points >= 0", name="base_points_not_negative"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    base_points: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Wish(Base):
    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint("required_count BETWEEN 1 AND 20", name="required_count"),
        CheckConstraint("taken_count >= 0 AND taken_count <= required_count", name="taken_count"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        Index("ix_wishes_status_building", "status", "building_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # W-000123, set from the id once it is known.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.NORMAL)
    preferred_time: Mapped[dt.datetime | None]
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[WishStatus] = mapped_column(str_enum(WishStatus))
    required_count: Mapped[int] = mapped_column(default=1)
    taken_count: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime | None]
    # 1 building head, 2 grid worker, 3 community admin, 4 street admin.
    escalation_level: Mapped[int | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    # Every change bumps it; a change made from a stale read matches no row.
    version: Mapped[int] = mapped_column(default=1)


class WishAssignment(Base):
    """A member holding one place on a wish (accepted or assigned)."""

    __tablename__ = "wish_assignments"
    __table_args__ = (UniqueConstraint("wish_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(str_enum(AssignmentStatus))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    accepted_at: Mapped[dt.datetime]
    released_at: Mapped[dt.datetime | None]
    done_note: Mapped[str | None] = mapped_column(Text)
    done_photo: Mapped[str | None] = mapped_column(String(200))
    # The organisation the place was held for (its member, or its team claim), when taken.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Hours the member gave to a long service (reported with done): points per hour.
    hours: Mapped[float | None] = mapped_column(Float)


class WishEvent(Base):
    """Who moved which wish from what to what, when, and why."""

    __tablename__ = "wish_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[WishStatus | None] = mapped_column(str_enum(WishStatus, "from_status"))
    to_status: Mapped[WishStatus] = mapped_column(str_enum(WishStatus, "to_status"))
    note: Mapped[str | None] = mapped_column(Text)

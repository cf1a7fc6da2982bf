"""The outbox: every reminder, notification and broadcast message is a row with a due time.

A sweep claims due rows and sends them; the row says what to reload, never a closure.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Broadcast(Base):
    """One message to many: each recipient is an outbox row; the sender gets a report."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # building, grid, community or a role name; scope_id names the place.
    audience: Mapped[str] = mapped_column(String(40))
    scope_id: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]
    reported_at: Mapped[dt.datetime | None]


# The outbox's waiting rows (models/outbox.py: MESSAGE, ReminderStatus.PENDING).
WAITING_MESSAGE = text("status = 'pending' AND kind = 'message'")


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at"),
        # Each chat's waiting messages, to send them in order: one seek whatever the history.
        Index("ix_reminders_chat_line", "platform", "chat_id", "status", "due_at"),
        # Only messages waiting to go are in these two (the outbox claim's scan, and its look
        # into each candidate's chat): small whatever was sent before, so the claim's plan
        # cannot drift with the table's size or its statistics.
        Index(
            "ix_reminders_waiting",
            "due_at",
            "id",
            sqlite_where=WAITING_MESSAGE,
            postgresql_where=WAITING_MESSAGE,
        ),
        Index(
            "ix_reminders_waiting_chat",
            "platform",
            "chat_id",
            "due_at",
            "id",
            sqlite_where=WAITING_MESSAGE,
            postgresql_where=WAITING_MESSAGE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    due_at: Mapped[dt.datetime]
    target_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Where a message goes: a platform and a chat on it (empty for a reminder not yet addressed).
    platform: Mapped[str | None] = mapped_column(String(20))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ReminderStatus] = mapped_column(
        str_enum(ReminderStatus), default=ReminderStatus.PENDING
    )
    # A rule's reminder has a key (kind, wish, stage): planning it twice adds nothing.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Urgent ones go out in quiet hours too.
    urgent: Mapped[bool] = mapped_column(default=False, server_default="0")
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # A sender holds the row until then and sends it outside any transaction; a crashed
    # sender's claim lapses and another takes the row over. After a 429 or a failure it says
    # when the row may go again; set, it keeps the row first in its chat's line until it ends.
    claimed_until: Mapped[dt.datetime | None]
    # How many parts of a multi-part message went already: a retry sends only the rest.
    parts_sent: Mapped[int] = mapped_column(default=0, server_default="0")

"""Cards: messages a later reply may edit (a wish's Verify card, its confirm card), by key.

When a card goes out, the runtime keeps which platform message it became in that chat.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.clock import now

# Every kind of card, named by what it offers.
VERIFY = "verify"  # Verify / Reject, to the building's heads
CONFIRM = "confirm"  # It's done / Not done yet, to the requester


def wish_card(wish_id: int, kind: str) -> str:
    """The key of one wish's card of a kind, the same in every chat it went to."""
    return f"wish:{wish_id}:{kind}"


class CardMessage(Base):
    __tablename__ = "card_messages"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "card_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    card_key: Mapped[str] = mapped_column(String(100))
    # The platform's reference of the message (Telegram: its message_id; web: the outbox row).
    message_ref: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime]


async def remember_card(
    session: AsyncSession, platform: str, chat_id: str, key: str, message_ref: str
) -> None:
    """The card went out as this message; a later one with the same key replaces it."""
    row = await session.scalar(
        select(CardMessage).where(
            CardMessage.platform == platform,
            CardMessage.chat_id == chat_id,
            CardMessage.card_key == key,
        )
    )
    if row is None:
        session.add(
            CardMessage(
                platform=platform,
                chat_id=chat_id,
                card_key=key,
                message_ref=message_ref,
                sent_at=now(session),
            )
        )
    else:
        row.message_ref = message_ref
        row.sent_at = now(session)
    await session.flush()


async def card_message(session: AsyncSession, platform: str, chat_id: str, key: str) -> str | None:
    """The message the card became in that chat, if it went there."""
    found: str | None = await session.scalar(
        select(CardMessage.message_ref).where(
            CardMessage.platform == platform,
            CardMessage.chat_id == chat_id,
            CardMessage.card_key == key,
        )
    )
    return found

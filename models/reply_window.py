"""What a platform with a reply window (WeChat's 48 hours) needs to know of a chat: when the
person last wrote, and which choices the chat was last offered (answered by their number)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.conversations import Conversation
from models.inbox import InboxUpdate
from models.outbox import MESSAGE
from models.reminders import Reminder, ReminderStatus


async def last_heard(session: AsyncSession, platform: str, chat_key: str) -> dt.datetime | None:
    """When the chat last sent anything the platform counts as writing (kept in the inbox)."""
    found: dt.datetime | None = await session.scalar(
        select(func.max(InboxUpdate.received_at)).where(
            InboxUpdate.platform == platform, InboxUpdate.chat_key == chat_key
        )
    )
    return found


@dataclass(frozen=True)
class LastQuestion:
    """What the chat was last asked: its (label, data) buttons in reading order (empty: a
    number is then just a number), and whether it asked for a phone number."""

    choices: list[tuple[str, str]]
    asks_phone: bool = False


async def last_question(session: AsyncSession, platform: str, chat_id: str) -> LastQuestion:
    """The last message the chat was sent, as a question to answer."""
    recent = await session.scalars(
        select(Reminder.payload)
        .where(
            Reminder.platform == platform,
            Reminder.chat_id == chat_id,
            Reminder.kind == MESSAGE,
            Reminder.status == ReminderStatus.SENT,
        )
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc())
        .limit(8)
    )
    # A row that only changed the chat's menu is no message the person saw.
    payload = next((p for p in recent if p.get("text") or p.get("buttons")), None)
    if not payload:
        return LastQuestion([])
    return LastQuestion(
        [(str(label), str(data)) for row in payload.get("buttons") or [] for label, data in row],
        asks_phone=bool(payload.get("ask_phone")),
    )


async def already_kept(session: AsyncSession, platform: str, update_id: int) -> bool:
    """Whether the inbox has this update (a platform's retry of it changes nothing)."""
    found = await session.scalar(
        select(InboxUpdate.id).where(
            InboxUpdate.platform == platform, InboxUpdate.update_id == update_id
        )
    )
    return found is not None


async def chat_locale(session: AsyncSession, platform: str, chat_id: str) -> str | None:
    """The language a chat's conversation was held in (chosen before registering), if any."""
    found: str | None = await session.scalar(
        select(Conversation.locale).where(
            Conversation.platform == platform, Conversation.chat_id == chat_id
        )
    )
    return found

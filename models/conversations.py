"""Where each chat is in its conversation: flow, step, collected data and a step token.

Kept in the database so a restart or a second bot process loses no conversation.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import cache
from typing import Any

from sqlalchemy import JSON, ForeignKey, Select, String, UniqueConstraint, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.clock import now


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Changes whenever the step changes; buttons carry it, so old buttons are recognised.
    token: Mapped[str] = mapped_column(String(12))
    # The language chosen before the person is registered.
    locale: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime]


def new_token() -> str:
    return secrets.token_hex(3)


@cache
def _of_chat() -> Select[Conversation]:
    """Built once per process (every update runs it): building costs more than running."""
    return (
        select(Conversation)
        .where(
            Conversation.platform == bindparam("platform"),
            Conversation.chat_id == bindparam("chat_id"),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def conversation_for(session: AsyncSession, platform: str, chat_id: str) -> Conversation:
    """The chat's conversation row, created on first contact and locked for this turn."""
    found = await session.scalar(_of_chat(), {"platform": platform, "chat_id": chat_id})
    if found is not None:
        return found
    conversation = Conversation(
        platform=platform, chat_id=chat_id, data={}, token=new_token(), updated_at=now(session)
    )
    session.add(conversation)
    await session.flush()
    return conversation

"""What a chat adapter asks of the store about photos and sent files, each in its own short
transaction: keep fetched bytes, read them back to upload or handle, remember Telegram's id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.database import reading
from models.photos import (
    keep_platform_photo,
    photo_type,
    remember_telegram_file,
    stored_photo,
    telegram_file_of,
)
from models.web_access import keep_document, keep_photo, web_document


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    telegram_file_id: str | None


class PhotoStore:
    """The adapter's side of the store: never called inside another transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def keep(self, person_key: str, content: bytes, file_id: str, unique_id: str) -> str:
        async with self._sessions.begin() as session:
            return await keep_platform_photo(
                session,
                person_key,
                content,
                telegram_file_id=file_id,
                telegram_unique_id=unique_id,
            )

    async def telegram_file(self, reference: str) -> tuple[bool, str | None]:
        """Whether the photo is still kept, and Telegram's id for it if it has one."""
        async with reading(self._sessions) as session:
            return await telegram_file_of(session, reference)

    async def read(self, reference: str) -> Photo | None:
        async with reading(self._sessions) as session:
            row = await stored_photo(session, reference)
            if row is None:
                return None
            return Photo(row.content, row.content_type, row.telegram_file_id)

    async def keep_sent(self, person_key: str, content: bytes) -> str:
        """Keep a photo fetched from a platform that has no lasting id for it (WeChat)."""
        async with self._sessions.begin() as session:
            return await keep_photo(
                session, person_key, photo_type(content) or "image/jpeg", content
            )

    async def keep_document(self, person_key: str, content: bytes) -> str:
        """Keep a sent file (a resident list); its reference is what the update carries."""
        async with self._sessions.begin() as session:
            return await keep_document(session, person_key, content)

    async def document(self, reference: str) -> bytes | None:
        async with reading(self._sessions) as session:
            return await web_document(session, reference)

    async def remember(self, reference: str, telegram_file_id: str) -> None:
        async with self._sessions.begin() as session:
            await remember_telegram_file(session, reference, telegram_file_id)

"""What a chat adapter asks of the store about photos, each in its own short transaction:
keep fetched bytes, read a stored photo to upload it, remember the platform's id for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.database import reading
from models.photos import (
    keep_platform_photo,
    remember_telegram_file,
    stored_photo,
    telegram_file_of,
)


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

    async def remember(self, reference: str, telegram_file_id: str) -> None:
        async with self._sessions.begin() as session:
            await remember_telegram_file(session, reference, telegram_file_id)

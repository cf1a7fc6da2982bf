"""Photos in the store, whatever platform they came from: one reference ("web-file:N") that
every adapter can show; Telegram's own id for the bytes is remembered so each goes up once."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, InvalidInput
from models.web_access import PHOTO_LIMIT, WebFile

PREFIX = "web-file:"


def photo_reference(file_id: int) -> str:
    return f"{PREFIX}{file_id}"


def stored_photo_id(reference: str | None) -> int | None:
    """The store's id in a reference; None for anything else (an old Telegram file id)."""
    if not reference or not reference.startswith(PREFIX):
        return None
    number = reference.removeprefix(PREFIX)
    return int(number) if number.isdecimal() and len(number) <= 12 else None


def photo_type(content: bytes) -> str | None:
    """What the bytes are, read from their first bytes (a sender's word is not trusted)."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


async def keep_platform_photo(
    session: AsyncSession,
    person_key: str,
    content: bytes,
    *,
    telegram_file_id: str,
    telegram_unique_id: str,
) -> str:
    """Keep a photo fetched from Telegram; the same photo delivered again keeps one row.
    (Per sender: erasing one person must not take a photo another forwarded with it.)"""
    known = await session.scalar(
        select(WebFile.id)
        .where(WebFile.telegram_unique_id == telegram_unique_id, WebFile.person_key == person_key)
        .order_by(WebFile.id)
        .limit(1)
    )
    if known is not None:
        return photo_reference(known)
    if not content or len(content) > PHOTO_LIMIT:
        raise InvalidInput(N_("That photo is too big (at most 5 MB)."))
    row = WebFile(
        person_key=person_key,
        content_type=photo_type(content) or "image/jpeg",  # Telegram sends photos as JPEG
        content=content,
        created_at=now(session),
        telegram_file_id=telegram_file_id[:200],
        telegram_unique_id=telegram_unique_id[:100],
    )
    session.add(row)
    await session.flush()
    return photo_reference(row.id)


async def stored_photo(session: AsyncSession, reference: str) -> WebFile | None:
    file_id = stored_photo_id(reference)
    return None if file_id is None else await session.get(WebFile, file_id)


async def telegram_file_of(session: AsyncSession, reference: str) -> tuple[bool, str | None]:
    """Whether the stored photo is still there, and Telegram's id for it (without its bytes:
    a card to twenty members needs the bytes once)."""
    row_id = stored_photo_id(reference)
    if row_id is None:
        return False, None
    found = (
        await session.execute(select(WebFile.telegram_file_id).where(WebFile.id == row_id))
    ).first()
    return (False, None) if found is None else (True, found[0])


async def remember_telegram_file(session: AsyncSession, reference: str, file_id: str) -> None:
    """Telegram's id for a stored photo it now has (after an upload): later sends reuse it."""
    row_id = stored_photo_id(reference)
    if row_id is not None:
        await session.execute(
            update(WebFile).where(WebFile.id == row_id).values(telegram_file_id=file_id[:200])
        )


async def telegram_ids_of(session: AsyncSession, references: list[str]) -> set[str]:
    """Telegram's ids for stored photos: other chats' copies of a card may quote them."""
    ids = [i for i in map(stored_photo_id, references) if i is not None]
    if not ids:
        return set()
    rows = await session.execute(
        select(WebFile.telegram_file_id, WebFile.telegram_unique_id).where(WebFile.id.in_(ids))
    )
    return {value for row in rows for value in row if value}

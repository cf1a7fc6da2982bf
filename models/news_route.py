"""Which of a person's chats their news goes to: the web chat's page always (it is a record,
not a push), and of the platforms that push (Telegram, WeChat) only the one they used last."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.inbox import InboxUpdate
from models.outbox import chats_of
from models.web_access import WEB


async def news_chats(session: AsyncSession, person_id: int) -> Sequence[tuple[str, str]]:
    """The (platform, chat) pairs news for the person goes to, so it reaches them once.
    Someone who never wrote from any of their pushing chats gets it in all of them."""
    chats = await chats_of(session, person_id)
    pushing = [(platform, chat) for platform, chat in chats if platform != WEB]
    if len(pushing) <= 1:
        return chats
    keys = {f"{platform}:{chat}": (platform, chat) for platform, chat in pushing}
    rows = await session.execute(
        # The latest kept update (ids grow as updates arrive; times may tie).
        select(InboxUpdate.chat_key, func.max(InboxUpdate.id))
        .where(InboxUpdate.chat_key.in_(keys))
        .group_by(InboxUpdate.chat_key)
    )
    heard: dict[str, int] = {key: last for key, last in rows.all() if last is not None}
    if not heard:
        return chats
    last = keys[max(heard, key=lambda key: heard[key])]
    return [
        (platform, chat) for platform, chat in chats if platform == WEB or (platform, chat) == last
    ]


async def once_each(
    session: AsyncSession, chats: Sequence[tuple[int, str, str]]
) -> list[tuple[int, str, str]]:
    """(person, platform, chat) rows of many people (a broadcast's), each person's pushing
    chats narrowed as news_chats narrows them, in one query whatever their number."""
    pushing: dict[int, list[str]] = {}
    for person, platform, chat in chats:
        if platform != WEB:
            pushing.setdefault(person, []).append(f"{platform}:{chat}")
    several = {person: keys for person, keys in pushing.items() if len(keys) > 1}
    if not several:
        return list(chats)
    rows = await session.execute(
        select(InboxUpdate.chat_key, func.max(InboxUpdate.id))
        .where(InboxUpdate.chat_key.in_([key for keys in several.values() for key in keys]))
        .group_by(InboxUpdate.chat_key)
    )
    heard = {key: last for key, last in rows.all() if last is not None}
    chosen = {
        person: max((k for k in keys if k in heard), key=lambda k: heard[k])
        for person, keys in several.items()
        if any(k in heard for k in keys)
    }
    return [
        (person, platform, chat)
        for person, platform, chat in chats
        if platform == WEB or person not in chosen or chosen[person] == f"{platform}:{chat}"
    ]

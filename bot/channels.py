"""The chat platforms that start from their settings (Telegram, WeChat): each registers with
the runtime under its platform name, with its capabilities, and brings its own web routes;
the runtime names none of them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from handlers.messages import Incoming, Reply
from handlers.turn import Config

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App


class Channel(Protocol):
    """An adapter (see bot/runtime.py) that starts and stops itself and has web routes."""

    platform: str
    # What it can do: edit a sent message; an account menu; photos; how long after the
    # person last wrote it may answer freely (None: no limit).
    can_edit: bool
    has_menus: bool
    has_photos: bool
    reply_window: dt.timedelta | None
    chat_interval: dt.timedelta

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]: ...

    async def answer_button(self, query_id: str) -> None: ...

    async def send(
        self, chat_id: str, reply: Reply, done: int, went: Callable[[int], Awaitable[None]]
    ) -> str | None: ...

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool: ...

    async def start(self) -> None: ...

    def configure(self, config: Config) -> Config:
        """The handlers' settings with what they need to know of this platform."""
        ...

    async def listen(self, stopping: asyncio.Event) -> None:
        """Fetch updates until stopped, for a platform that is asked (Telegram's long
        polling); return at once for one that posts to our web routes."""
        ...

    async def stop(self) -> None: ...

    def web_routes(self) -> list[web.RouteDef]: ...


# Keeps a platform's updates (update id, chat key, payload) in the inbox; how many were new.
KeepUpdates = Callable[[str, list[tuple[int, str, dict[str, Any]]]], Awaitable[int]]


def configured(
    app: App,
    keep: KeepUpdates,
    wake: Callable[[], None],
    take: Callable[[str, int, str, dict[str, Any]], Awaitable[None]] | None = None,
) -> list[Channel]:
    """Every platform whose settings are there, not yet started; `take` keeps (and where safe
    handles) one webhook update in one transaction (Runtime.take_update)."""
    found: list[Channel] = []
    if app.settings.telegram_token:
        from bot.photo_store import PhotoStore
        from bot.telegram import PLATFORM, TelegramAdapter

        async def keep_telegram(updates: list[tuple[int, str, dict[str, Any]]]) -> int:
            return await keep(PLATFORM, updates)

        found.append(
            TelegramAdapter(app.settings, keep_telegram, wake, PhotoStore(app.sessions), take=take)
        )
    if app.settings.wechat is not None:
        from bot.wechat import WeChatAdapter

        found.append(WeChatAdapter(app.settings, app.sessions, app.clock, wake))
    return found

"""The chat platforms that start from their settings alone (WeChat): each registers with the
runtime under its platform name, with its capabilities, and brings its own web routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from handlers.messages import Incoming, Reply

if TYPE_CHECKING:
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
    # Where a building invite's QR poster opens on our web server, if the platform has them.
    poster_path: str | None

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]: ...

    async def answer_button(self, query_id: str) -> None: ...

    async def send(
        self, chat_id: str, reply: Reply, done: int, went: Callable[[int], Awaitable[None]]
    ) -> str | None: ...

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def web_routes(self) -> list[web.RouteDef]: ...


def configured(app: App, wake: Callable[[], None]) -> list[Channel]:
    """Every platform whose settings are there, not yet started."""
    found: list[Channel] = []
    if app.settings.wechat is not None:
        from bot.wechat import WeChatAdapter

        found.append(WeChatAdapter(app.settings, app.sessions, app.clock, wake))
    return found

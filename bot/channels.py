"""The chat platforms that start from their settings alone (WeChat): each registers with the
runtime under its platform name, with its capabilities, and brings its own web routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App


class Channel(Protocol):
    platform: str
    can_edit: bool
    has_menus: bool
    has_photos: bool

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

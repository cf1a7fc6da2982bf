"""The real WeChat adapter on the real web app and runtime, against the fake WeChat API.

Every callback a follower posts is followed by one step (inbox, reminders, outbox), as in
tests/telegram_bot.py: no background tasks, no sleeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer

from bot.app import App
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.web.server import init_app
from bot.wechat import WeChatAdapter
from models.clock import ManualClock
from tests.fake_wechat_api import CallbackClient, FakeWeChatApi, Follower
from tests.web import WebSite


@dataclass
class WeChatBot:
    server: FakeWeChatApi
    app: App
    runtime: Runtime
    adapter: WeChatAdapter
    site: WebSite
    callback: CallbackClient
    session: ClientSession

    async def step(self) -> None:
        await self.runtime.handle_inbox()
        await self.runtime.fire_reminders()
        await self.runtime.send_outbox()

    def follower(self, openid: str) -> Follower:
        return self.server.follower(openid, self.callback)

    async def get(self, **query: str) -> ClientResponse:
        response = await self.session.get(self.callback.url, params=query)
        await response.read()
        return response


class SteppingCallback(CallbackClient):
    """Posts as WeChat does, then lets the bot take one step."""

    bot: WeChatBot | None = None

    async def post(self, xml: str, **query_overrides: object) -> ClientResponse:
        response = await super().post(xml, **query_overrides)
        if self.bot is not None:
            await self.bot.step()
        return response


@asynccontextmanager
async def wechat_bot(
    app: App, clock: ManualClock, *, runtime: Runtime | None = None, safe: bool = False
) -> AsyncIterator[WeChatBot]:
    """The adapter registered with ``runtime`` (a fresh one by default) and served at /wechat."""
    runtime = runtime or Runtime(app)
    async with FakeWeChatApi(clock.now) as server:
        account = load_settings(server.settings(safe=safe)).wechat
        settings = dataclasses.replace(app.settings, wechat=account)
        adapter = WeChatAdapter(settings, app.sessions, clock, runtime.inbox_waiting.set)
        await adapter.start()
        runtime.adapters[adapter.platform] = adapter
        runtime.config = adapter.configure(runtime.config)
        web_app = init_app(app, runtime)
        web_app.add_routes(adapter.web_routes())
        test_server = TestServer(web_app, host="127.0.0.1")
        await test_server.start_server()
        session = ClientSession()
        callback = SteppingCallback(
            session, str(test_server.make_url("/wechat")), clock.now, safe=safe
        )
        bot = WeChatBot(
            server, app, runtime, adapter, WebSite(app, runtime, test_server), callback, session
        )
        callback.bot = bot
        try:
            yield bot
        finally:
            for visitor in bot.site.visitors:
                await visitor.client.close()
            await session.close()
            await test_server.close()
            await adapter.stop()

"""The real web app (init_app, the runtime's inbox and outbox) served on loopback for tests,
and a visitor with their own cookies who fills forms and chats as a browser would over HTTP."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import CSRF_COOKIE, init_app
from models.people import Person
from models.web_access import make_sign_in_code

_ids = itertools.count(1_000_000)


@dataclass
class Visitor:
    client: TestClient[Any, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)

    def csrf(self) -> str:
        for cookie in self.client.session.cookie_jar:
            if cookie.key == CSRF_COOKIE:
                return cookie.value
        raise AssertionError("no CSRF cookie yet: open a page first")

    async def get(self, path: str) -> tuple[int, str]:
        response = await self.client.get(path)
        return response.status, await response.text()

    async def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> ClientResponse:
        if csrf:
            await self.client.get("/")  # a page first, as a browser would have
            data = {"csrf": self.csrf(), **data}
        return await self.client.post(path, data=data, allow_redirects=False)

    async def sign_in(self, code: str) -> ClientResponse:
        return await self.post("/signin", {"code": code})

    async def say(self, text: str | None = None, **fields: str) -> list[dict[str, Any]]:
        """Send a message (or press with button=..., label=...); return what came back."""
        body: dict[str, Any] = {"id": next(_ids), **fields}
        if text is not None:
            body["text"] = text
        body["in"], body["out"] = self._cursors()
        response = await self.client.post(
            "/chat/say", json=body, headers={"X-CSRF-Token": self.csrf()}
        )
        data = await response.json()
        assert response.status == 200, data
        new = [m for m in data["messages"] if m not in self.lines]
        for m in new:
            self._draw(m)
        return [m for m in new if not m["mine"] and "menu" not in m]

    def _draw(self, m: dict[str, Any]) -> None:
        """As chat.js draws it: a line that replaces an earlier one takes its place."""
        target = m.get("replaces")
        for index, line in enumerate(self.lines):
            if target and not line["mine"] and (line.get("replaces") or line["id"]) == target:
                self.lines[index] = m
                return
        self.lines.append(m)

    async def press(self, label: str) -> list[dict[str, Any]]:
        for line in reversed(self.lines):
            for row in line.get("buttons") or []:
                for text, data in row:
                    if label in text:
                        # The browser says which line the button was on (chat.js).
                        shown_as = str(line.get("replaces") or line["id"])
                        message = re.sub(r"^\D+", "", shown_as)
                        return await self.say(button=data, label=text, message=message)
        raise AssertionError(f"no button {label!r} in the chat")

    def text(self) -> str:
        bot = [m for m in self.lines if not m["mine"] and "menu" not in m]
        assert bot, "the bot said nothing"
        return re.sub(r"<[^>]+>", "", bot[-1]["html"])

    def _cursors(self) -> tuple[int, int]:
        ins = [int(m["id"][2:]) for m in self.lines if m["id"].startswith("in")]
        outs = [int(m["id"][3:]) for m in self.lines if m["id"].startswith("out")]
        return max(ins, default=0), max(outs, default=0)


@dataclass
class WebSite:
    app: App
    runtime: Runtime
    server: TestServer
    visitors: list[Visitor] = field(default_factory=list)

    async def visitor(self, locale: str = "en") -> Visitor:
        """A new browser; its pages in English unless told (the chat follows the person)."""
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        visitor = Visitor(client)
        self.visitors.append(visitor)
        await visitor.get(f"/lang/{locale}")
        return visitor

    async def signed_in(self, person: Person, by: Person | None = None) -> Visitor:
        async with self.app.sessions.begin() as session:
            actor = await session.get(Person, (by or person).id)
            target = await session.get(Person, person.id)
            assert actor is not None and target is not None
            code = await make_sign_in_code(session, actor, target)
        visitor = await self.visitor()
        response = await visitor.sign_in(code)
        assert response.status == 302, await response.text()
        return visitor

    @property
    def url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")


@asynccontextmanager
async def web_site(app: App, runtime: Runtime | None = None) -> AsyncIterator[WebSite]:
    runtime = runtime or Runtime(app)
    server = TestServer(init_app(app, runtime), host="127.0.0.1")
    await server.start_server()
    site = WebSite(app, runtime, server)
    try:
        yield site
    finally:
        for visitor in site.visitors:
            await visitor.client.close()
        await server.close()

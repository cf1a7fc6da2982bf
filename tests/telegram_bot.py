"""The real bot (PTB Application, inbox, handlers, outbox) against the fake Bot API server.

step() is one round: getUpdates into the inbox, handle it, send the outbox. No background
tasks and no sleeps: a test sees exactly what one message caused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.app import App, build_app
from bot.photo_store import PhotoStore
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.telegram import PLATFORM, TelegramAdapter
from models.clock import Clock
from tests.fake_bot_api import FakeBotApi, FakeUser, SentMessage


@dataclass
class TelegramBot:
    server: FakeBotApi
    app: App
    runtime: Runtime
    telegram: TelegramAdapter

    async def step(self) -> None:
        while await self.telegram.poll_once(timeout=0):
            pass
        await self.runtime.handle_inbox()
        await self.runtime.fire_reminders()
        await self.runtime.send_outbox()

    def user(self, user_id: int, name: str, language: str | None = "en") -> Person:
        return Person(
            self, self.server.user(user_id=user_id, first_name=name, language_code=language)
        )


@dataclass
class Person:
    """Someone on Telegram: sends, presses, and reads what the bot sent them."""

    bot: TelegramBot
    user: FakeUser

    @property
    def chat_id(self) -> int:
        return self.user.chat_id

    def inbox(self) -> list[SentMessage]:
        return [m for m in self.bot.server.sent_to(self.chat_id) if not m.deleted]

    @property
    def last(self) -> SentMessage:
        messages = self.inbox()
        assert messages, f"nothing was sent to {self.user.first_name}"
        return messages[-1]

    def text(self) -> str:
        return self.last.text or self.last.caption or ""

    async def send(self, text: str) -> list[SentMessage]:
        return await self._then(lambda: self.user.send(text))

    async def send_photo(self, file_id: str, content: bytes | None = None) -> list[SentMessage]:
        return await self._then(lambda: self.user.send_photo(file_id, content=content))

    async def send_document(self, content: bytes, file_name: str) -> list[SentMessage]:
        return await self._then(lambda: self.user.send_document(content, file_name, "text/csv"))

    async def press(self, label: str) -> list[SentMessage]:
        """Press an inline button, or a keyboard button (which sends its label as text)."""
        for message in reversed(self.inbox()):
            if message.buttons:
                break
            for row in message.keyboard or ():
                if label in row:
                    return await self.send(label)
        data = self.button(label)
        return await self._then(lambda: self.user.press(data))

    def button(self, label: str) -> str:
        for message in reversed(self.inbox()):
            for row in message.buttons:
                for text, data in row:
                    if label in text:
                        return data
        raise AssertionError(f"{self.user.first_name} sees no button {label!r}")

    async def _then(self, act: object) -> list[SentMessage]:
        before = len(self.inbox())
        act()  # type: ignore[operator]
        await self.bot.step()
        return self.inbox()[before:]


@asynccontextmanager
async def telegram_bot(
    database_url: str, clock: Clock, locale: str = "en", extra: dict[str, str] | None = None
) -> AsyncIterator[TelegramBot]:
    """The bot against a fresh fake server; `extra` adds settings (e.g. WISHBOT_TELEGRAM_RATE)."""
    async with FakeBotApi() as server:
        settings = load_settings(
            {
                "WISHBOT_DATABASE_URL": database_url,
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_LOCALE": locale,
                **(extra or {}),
            }
        )
        app = build_app(settings, clock=clock)
        runtime = Runtime(app)

        async def keep(updates: list[tuple[int, str, dict[str, Any]]]) -> int:
            return await runtime.keep_updates(PLATFORM, updates)

        telegram = TelegramAdapter(
            settings,
            keep,
            runtime.inbox_waiting.set,
            PhotoStore(app.sessions),
            take=runtime.take_update,
        )
        await telegram.start()
        await telegram.settle()  # as Runtime.run does once the first round is answered
        runtime.adapters[PLATFORM] = telegram
        try:
            yield TelegramBot(server, app, runtime, telegram)
        finally:
            await telegram.stop()
            await app.close()

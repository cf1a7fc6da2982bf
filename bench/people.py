"""Scripted people on the fake server: they send, wait for the bot's answer, and note how long.

Each waits for what a person would wait for (a button to press, an answer), never for a sleep.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.harness import Broken, Replies
from tests.fake_bot_api import FakeBotApi, FakeUser, SentMessage

STEP_SECONDS = 120  # a reply slower than this is a lost reply


def know(server: FakeBotApi, chats: range | list[int], name: str = "Neighbour") -> None:
    """Make chats known to the fake server (so the bot may write to them)."""
    for chat in chats:
        server.user(chat, f"{name} {chat}", language_code="en")


@dataclass
class Person:
    """Someone in a private chat with the bot; ``latencies`` holds update-to-reply seconds."""

    server: FakeBotApi
    replies: Replies
    user: FakeUser
    latencies: list[float] = field(default_factory=list)
    updates: int = 0

    @property
    def chat_id(self) -> int:
        return self.user.chat_id

    def seen(self) -> int:
        return len(self.server.sent_to(self.chat_id, include_deleted=True))

    def _find(self, label: str, since: int, marker: str | None) -> SentMessage | None:
        messages = self.server.sent_to(self.chat_id, include_deleted=True)
        for message in reversed(messages[since:] if marker is None else messages):
            if marker is not None and marker not in (message.text or message.caption or ""):
                continue
            for row in message.buttons:
                for text, data in row:
                    if label in text and data is not None:
                        return message
        return None

    async def wait_button(
        self, label: str, since: int, sent_at: float | None, marker: str | None = None
    ) -> str:
        """Wait for a (new) message with a button labelled ``label``; returns its data."""
        found: list[SentMessage] = []

        def probe() -> float | None:
            message = self._find(label, since, marker)
            if message is None:
                return None
            found.append(message)
            return time.monotonic()

        await self.replies.wait_chat(self.chat_id, probe, STEP_SECONDS)
        self._note(sent_at)
        message = found[-1]
        for row in message.buttons:
            for text, data in row:
                if label in text and data is not None:
                    return data
        raise Broken(f"chat {self.chat_id}: button {label!r} vanished")

    async def wait_text(self, words: str, since: int, sent_at: float) -> None:
        """Wait for a new message containing ``words`` (not just any message, e.g. news)."""

        def probe() -> float | None:
            messages = self.server.sent_to(self.chat_id, include_deleted=True)[since:]
            return time.monotonic() if any(words in (m.text or "") for m in messages) else None

        await self.replies.wait_chat(self.chat_id, probe, STEP_SECONDS)
        answered = next(
            (
                r.time
                for r in self.replies.delivered(self.chat_id)
                if r.time >= sent_at and words in r.text
            ),
            time.monotonic(),
        )
        self.latencies.append(answered - sent_at)

    async def wait_any(self, since: int, sent_at: float) -> None:
        await self.replies.wait_chat(
            self.chat_id, lambda: time.monotonic() if self.seen() > since else None, STEP_SECONDS
        )
        self._note(sent_at)

    def _note(self, sent_at: float | None) -> None:
        if sent_at is None:
            return
        answered = self.replies.first_after(self.chat_id, sent_at)
        self.latencies.append((answered or time.monotonic()) - sent_at)

    def send(self, text: str) -> tuple[int, float]:
        since = self.seen()
        self.updates += 1
        moment = time.monotonic()
        self.user.send(text)
        return since, moment

    def press(self, data: str) -> tuple[int, float]:
        since = self.seen()
        self.updates += 1
        moment = time.monotonic()
        self.user.press(data)
        return since, moment

    async def send_then(self, text: str, label: str | None) -> str | None:
        since, moment = self.send(text)
        if label is None:
            await self.wait_any(since, moment)
            return None
        return await self.wait_button(label, since, moment)

    async def press_then(self, data: str, label: str | None) -> str | None:
        since, moment = self.press(data)
        if label is None:
            await self.wait_any(since, moment)
            return None
        return await self.wait_button(label, since, moment)


def person(server: FakeBotApi, replies: Replies, chat_id: int, name: str) -> Person:
    return Person(server, replies, server.user(chat_id, name, language_code="en"))

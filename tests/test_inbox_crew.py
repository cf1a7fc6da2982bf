"""Several chats handled at once where the database has several writers (PostgreSQL): a slow
turn holds only its own chat, and each chat's updates still go one at a time, in order.

The gate is real: a transaction of the test holds Ann's conversation row, as a slow turn of
hers would; no sleeps.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.conversations import conversation_for
from tests.databases import on_postgres
from tests.telegram_bot import TelegramBot, telegram_bot

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="SQLite has one writer: its updates are handled one at a time"
)
HELP = "Here is what you can do"


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _helps(texts: list[str | None]) -> int:
    return sum(HELP in (t or "") for t in texts)


async def _until_answered(bot: TelegramBot, chat_id: int) -> None:
    """Send what the handling queues, each time it says so, until the chat has an answer."""
    while not _helps([m.text for m in bot.server.sent_to(chat_id)]):
        await bot.runtime.outbox_waiting.wait()
        bot.runtime.outbox_waiting.clear()
        await bot.runtime.send_outbox()


async def test_a_slow_chat_does_not_hold_another_chats_answer(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        ann, bob = bot.user(5301, "Ann"), bot.user(5302, "Bob")
        await ann.send("/start")
        await bob.send("/start")
        handling: asyncio.Task[int] | None = None
        try:
            async with sessions.begin() as gate:
                await conversation_for(gate, "telegram", str(ann.chat_id))  # Ann's turn waits
                ann.user.send("/help")  # first in the inbox
                ann.user.send("/language")  # her next: must wait for her /help
                bob.user.send("/help")
                assert await bot.telegram.poll_once(timeout=0) == 3
                bot.runtime.outbox_waiting.clear()
                handling = asyncio.create_task(bot.runtime.handle_inbox())
                async with asyncio.timeout(20):
                    await _until_answered(bot, bob.chat_id)
                assert not handling.done()  # Ann's turn still waits at the gate
                assert _helps([m.text for m in ann.inbox()]) == 0
            assert await handling == 3
        finally:
            if handling is not None and not handling.done():
                await handling
        await bot.runtime.send_outbox()
        texts = [m.text or "" for m in ann.inbox()]
        assert HELP in texts[-2] and "language" in texts[-1].lower(), texts
        assert bot.server.violations == []

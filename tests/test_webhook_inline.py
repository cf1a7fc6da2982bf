"""A webhook's update stored and handled in one transaction where that is safe (one writer).

On SQLite the answer is queued before Telegram hears 200; a chat's older waiting update still
goes first. On PostgreSQL the update is committed alone and the inbox sweep handles it
(Runtime.take_update says why).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.telegram import PLATFORM
from bot.telegram_updates import chat_key
from models.clock import ManualClock
from models.inbox import InboxUpdate
from tests.databases import on_postgres
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.test_faults import free_port, outbox_rows


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


@asynccontextmanager
async def webhook_bot(app: App, clock: ManualClock) -> AsyncIterator[TelegramBot]:
    port = free_port()
    extra = {"WISHBOT_PUBLIC_URL": f"http://127.0.0.1:{port}", "WISHBOT_WEBHOOK_SECRET": "s3"}
    async with telegram_bot(_url(app), clock, extra=extra) as bot:
        site = web.Application()
        site.add_routes(bot.telegram.webhook_routes())
        runner = web.AppRunner(site, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield bot
        finally:
            await runner.cleanup()


async def _waiting(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as s:
        found = await s.scalars(
            select(InboxUpdate.update_id)
            .where(InboxUpdate.handled_at.is_(None))
            .order_by(InboxUpdate.id)
        )
        return list(found.all())


async def test_a_webhook_update_is_answered_in_the_transaction_that_keeps_it(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with webhook_bot(app, clock) as bot:
        ann = bot.user(5201, "Ann")
        transactions: list[object] = []

        def began(conn: Any) -> None:
            transactions.append(conn)

        event.listen(bot.app.engine.sync_engine, "begin", began)
        ann.user.send("/start")
        assert await bot.server.deliver_webhook(attempts=1) == 1
        event.remove(bot.app.engine.sync_engine, "begin", began)
        if on_postgres():
            # Several writers: committed alone, handled by the sweep (see take_update).
            assert await _waiting(sessions) != []
            assert await bot.runtime.handle_inbox() == 1
        else:
            # When Telegram heard 200, the answer was already waiting in the outbox: one
            # transaction kept the update, handled it and queued the answer.
            assert len(transactions) == 1
            assert await _waiting(sessions) == []
            assert len(await outbox_rows(sessions, ann.chat_id)) == 1
            assert await bot.runtime.handle_inbox() == 0
        await bot.runtime.send_outbox()
        assert [(m.text or "")[:10] for m in ann.inbox()] == ["Welcome to"]


async def test_a_webhook_update_waits_behind_an_older_one_of_its_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Ann's /start was kept (say, while the sweep was busy) and waits; her /help comes by the
    webhook: it must not be answered first."""
    async with webhook_bot(app, clock) as bot:
        ann = bot.user(5202, "Ann")
        ann.user.send("/start")
        [older] = bot.server.updates
        bot.server.updates.clear()
        kept = [(older["update_id"], chat_key(older), older)]
        assert await bot.runtime.keep_updates(PLATFORM, kept) == 1
        ann.user.send("/help")
        [help_update] = bot.server.updates
        assert await bot.server.deliver_webhook(attempts=1) == 1
        assert len(await _waiting(sessions)) == 2  # both wait: the older first
        assert await bot.runtime.handle_inbox() == 2
        await bot.runtime.send_outbox()
        assert [(m.text or "")[:10] for m in ann.inbox()] == ["Welcome to", "Here is wh"]
        # A redelivery of the /help (Telegram retries) is kept once and answered once.
        bot.server.updates.append(help_update)
        assert await bot.server.deliver_webhook(attempts=1) == 1
        assert await bot.runtime.handle_inbox() == 0
        await bot.runtime.send_outbox()
        assert len(ann.inbox()) == 2

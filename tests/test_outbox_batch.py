"""The outbox claims a batch of rows (one per chat) per transaction and records their outcomes
together with the next claim; a chat's messages still go one after the other, in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.outbox import claim_messages, queue_message
from models.reminders import Broadcast
from tests.telegram_bot import telegram_bot
from tests.town import Town

CHATS = 30


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def test_thirty_chats_go_out_in_a_few_transactions_each_once_in_order(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock, extra={"WISHBOT_TELEGRAM_RATE": "100000"}) as bot:
        people = [bot.user(7000 + n, f"Neighbour {n}") for n in range(CHATS)]
        async with sessions.begin() as s:
            for p in people:
                for number in (1, 2):
                    await queue_message(
                        s,
                        platform="telegram",
                        chat_id=str(p.chat_id),
                        payload={"text": f"news {number}", "buttons": []},
                    )
        transactions: list[object] = []
        updates: list[str] = []

        def began(conn: Any) -> None:
            transactions.append(conn)

        def executed(*args: Any) -> None:
            if args[2].startswith("UPDATE reminders"):
                updates.append(args[2])

        engine = bot.app.engine.sync_engine
        event.listen(engine, "begin", began)
        event.listen(engine, "before_cursor_execute", executed)
        try:
            await bot.runtime.send_outbox()
        finally:
            event.remove(engine, "begin", began)
            event.remove(engine, "before_cursor_execute", executed)
        for p in people:
            assert [m.text for m in p.inbox()] == ["news 1", "news 2"]
        # 60 messages: a claim of up to ten rows (each chat's first, then their second) per
        # transaction with the outcomes of the ten before, and the broadcast report's look;
        # one transaction per message before.
        assert len(transactions) <= 10, len(transactions)
        # Per batch one update claims its rows and one marks those that went (68 before: the
        # claims, and each row marked alone).
        assert len(updates) <= 2 * len(transactions), len(updates)
        assert bot.server.violations == []


async def test_a_slow_send_does_not_hold_up_the_rest_of_its_batch(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """A batch's messages (each of its own chat) go side by side: while Bea's is in flight
    (the fake server holds it, as a slow network would), Cid's and Dan's arrive."""
    async with telegram_bot(_url(app), clock, extra={"WISHBOT_TELEGRAM_RATE": "100000"}) as bot:
        ann, bea, cid, dan = (bot.user(7100 + n, name) for n, name in enumerate("ABCD"))
        async with sessions.begin() as s:
            for person in (ann, bea, cid, dan):
                await queue_message(
                    s,
                    platform="telegram",
                    chat_id=str(person.chat_id),
                    payload={"text": "news", "buttons": []},
                )
        held = bot.server.hold_next("sendMessage", chat_id=bea.chat_id)
        sending = asyncio.create_task(bot.runtime.send_outbox())
        await asyncio.wait_for(held.arrived.wait(), 10)
        # Without sends side by side Cid's waits behind Bea's: a TimeoutError here.
        await bot.server.wait_until(lambda: (cid.inbox() and dan.inbox()) or None, timeout=10)
        assert not bea.inbox()
        held.release()
        assert await asyncio.wait_for(sending, 10) == 4
        assert [len(p.inbox()) for p in (ann, bea, cid, dan)] == [1, 1, 1, 1]


async def test_a_batch_takes_few_broadcast_rows_so_an_answer_waits_for_few_sends(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Sends at Telegram's 30 a second take a third of a second for ten: a batch holds at most
    three broadcast rows, so an answer written meanwhile waits for at most three sends; answers
    fill a batch up to ten."""
    lease = dt.timedelta(seconds=60)
    async with sessions.begin() as s:
        broadcast = Broadcast(
            sender_id=town.admin.id,
            community_id=town.sunflower.id,
            audience="community",
            text="Water is off tomorrow.",
            created_at=clock.now(),
        )
        s.add(broadcast)
        await s.flush()
        for chat in range(12):
            row = await queue_message(
                s, platform="telegram", chat_id=f"b{chat}", payload={"text": "w", "buttons": []}
            )
            row.broadcast_id = broadcast.id
    async with sessions.begin() as s:
        first, _ = await claim_messages(s, "telegram", lease, limit=10, broadcast_limit=3)
    assert len(first) == 3
    async with sessions.begin() as s:
        for chat in range(5):
            await queue_message(
                s, platform="telegram", chat_id=f"a{chat}", payload={"text": "hi", "buttons": []}
            )
    async with sessions.begin() as s:
        second, _ = await claim_messages(s, "telegram", lease, limit=10, broadcast_limit=3)
    assert [row.chat_id for row in second] == [*(f"a{n}" for n in range(5)), "b3", "b4", "b5"]

"""The inbox side: updates kept as they arrive, then handled each chat's in order (a crew of
workers, or batches with one writer), their answers queued in the outbox in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crew import Crew
from bot.database import one_writer
from bot.metrics import (
    update_claimed,
    update_failed,
    update_put_aside,
    update_routed,
    updates_done,
    watched,
)
from bot.outage import database_blinked
from handlers.messages import Outgoing
from handlers.router import handle
from models.clock import now
from models.inbox import (
    InboxUpdate,
    claim_batch,
    claim_next,
    claim_update,
    mark_all_handled,
    mark_handled,
    store_update,
    store_updates,
    waiting_besides,
)
from models.news_route import news_chats
from models.outbox import chats_of, last_waiting, queue_message
from models.schedule import after_quiet_hours, default_rules

if TYPE_CHECKING:
    from bot.runtime import Adapter, Runtime

log = logging.getLogger("wishbot.runtime")

# Chats handled at once where the database has several writers (PostgreSQL).
INBOX_WORKERS = 4
# Updates (each of a different chat) handled per transaction where there is one writer.
INBOX_BATCH = 8


class InboxSide:
    """The runtime's handling of updates, and the queueing of every reply."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.app = runtime.app
        self._lock = asyncio.Lock()
        # Whether an update can be handled in the transaction that stores it (take_update).
        self.one_writer = one_writer(runtime.app.engine)

    async def keep_update(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> bool:
        async with self.app.sessions.begin() as session:
            return await store_update(session, platform, update_id, chat_key, payload)

    async def keep_updates(
        self, platform: str, updates: list[tuple[int, str, dict[str, Any]]]
    ) -> int:
        """Keep a batch of updates in one transaction; how many were new."""
        async with self.app.sessions.begin() as session:
            return await store_updates(session, platform, updates)

    async def take_update(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> None:
        """Keep one update (a webhook's) and, where it is safe, handle it in the same
        transaction: one transaction instead of two, and its answers are queued before the
        platform hears that it arrived. A bug in handling is recorded with the update (a
        savepoint); the database failing loses nothing: nothing is committed, the platform
        is not told 200 and delivers it again.

        Safe only with one writer (SQLite), and only when nothing older of the chat waits
        (else it waits its turn in the inbox). With several writers (PostgreSQL, several
        processes) the storing transaction cannot know that: under READ COMMITTED it does not
        see another's uncommitted update of the same chat, so two updates of one chat posted
        at once (Telegram opens up to 40 webhook connections) would both be handled at once,
        out of order, each reading the conversation as it was before the other. There the
        update is committed alone, and the inbox sweep claims it: each chat in order,
        whatever the processes.
        """
        if not self.one_writer:
            await self.keep_update(platform, update_id, chat_key, payload)
            self.runtime.inbox_waiting.set()
            return
        await watched(lambda: self._take_here(platform, update_id, chat_key, payload))

    async def _take_here(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> bool | None:
        """take_update with one writer: kept, and handled in the same transaction."""
        query: tuple[Adapter, str] | None = None
        async with self.app.sessions.begin() as session:
            if not await store_update(session, platform, update_id, chat_key, payload):
                return None  # a redelivery: handled (or waiting) already
            row = await claim_update(session, platform, update_id)
            if row is None:  # an older update of the chat waits: this one after it
                self.runtime.inbox_waiting.set()
                return None
            error: str | None = None
            try:
                async with session.begin_nested():
                    query = await self._answer(session, row)
            except Exception as failed:  # a bug: recorded with the update, the chat goes on
                if database_blinked(failed):
                    raise
                log.exception("update %s failed: %s", row.id, type(failed).__name__)
                update_failed()
                error, query = type(failed).__name__, None
            await mark_handled(session, row, error=error)
        if query is not None:
            await query[0].answer_button(query[1])
        self.runtime.outbox_waiting.set()
        return True

    async def handle_inbox(self) -> int:
        """Handle every waiting update, each chat's in order; return how many.

        With several writers (PostgreSQL) up to INBOX_WORKERS chats at once: the claim gives
        each worker the oldest update of a chat nobody holds, so a chat's updates still go
        one at a time, in order, and a slow one holds only its own chat. With one writer
        (SQLite) one at a time: they would only queue for its lock.
        """
        async with self._lock:
            crew = Crew(1 if self.one_writer else INBOX_WORKERS)
            handled = await crew.run(self._handle_waiting)
        if handled:
            self.runtime.outbox_waiting.set()
        return handled

    async def _handle_waiting(self, crew: Crew) -> int:
        """One worker: updates until none is left that it may take."""
        handled = 0
        size = INBOX_BATCH if self.one_writer else 1
        alone = 0  # a failed batch's updates, handled one by one before the next batch
        while not self.app.stopping.is_set():
            if size > 1 and not alone:
                done = await self._handle_batch(size)
                if done is None:
                    break
                if done > 0:
                    handled += done
                    self.runtime.outbox_waiting.set()
                    continue
                # One of the batch failed (a bug): each alone, so only that one is recorded.
                alone = -done
            if await watched(lambda: self._handle_one(crew)) is None:
                break
            alone = max(alone - 1, 0)
            handled += 1
            self.runtime.outbox_waiting.set()  # its answers go while the next is handled
        return handled

    async def _handle_batch(self, size: int) -> int | None:
        """With one writer: up to ``size`` updates, each the next of a different chat, handled
        in one transaction (one BEGIN, claim, mark and commit instead of one each); how many.
        None when nothing waits. When one of them failed (a bug), minus how many there were:
        nothing was committed, and the caller handles them one by one (the oldest waiting
        of their chats, so the claims find them again), so the others go on and the failure
        is recorded with its update alone.
        """
        queries: list[tuple[Adapter, str]] = []
        records = []
        try:
            async with self.app.sessions.begin() as session:
                rows = await claim_batch(session, size)
                if not rows:
                    return None
                for row in rows:
                    query = await self._answer(session, row)
                    records.append(update_put_aside())
                    if query is not None:
                        queries.append(query)
                await mark_all_handled(session, rows)
        except Exception as error:
            put_aside = update_put_aside()
            if database_blinked(error):
                updates_done([*records, put_aside], "left in the inbox")
                raise
            return -len(rows)
        updates_done(records)
        for adapter, query_id in queries:
            await adapter.answer_button(query_id)
        return len(rows)

    async def _handle_one(self, crew: Crew | None = None) -> bool | None:
        query: tuple[Adapter, str] | None = None
        row_id: int | None = None
        try:
            async with self.app.sessions.begin() as session:
                row = await claim_next(session)
                if row is None:
                    return None
                row_id = row.id
                # More waiting than the other workers hold: call in a hand.
                if crew is not None and crew.has_room():
                    more = await waiting_besides(session, row_id, crew.busy)
                    if more >= crew.busy:
                        crew.call_in()
                query = await self._answer(session, row)
                await mark_handled(session, row)
        except Exception as error:  # a bug must not block the chat: record it and go on
            if row_id is None or database_blinked(error):
                # The database itself is in trouble: the update stays waiting (nothing of its
                # handling was committed). Going round again at once would spin; the sweep
                # logs it once and tries again after a wait.
                raise
            log.exception("update %s failed: %s", row_id, type(error).__name__)
            update_failed()
            await self._give_up(row_id, type(error).__name__)
        if query is not None:
            await query[0].answer_button(query[1])
        return True

    async def _answer(self, session: AsyncSession, row: InboxUpdate) -> tuple[Adapter, str] | None:
        """Handle a claimed update and queue its answers; the button press to acknowledge."""
        update_claimed(row.id, row.platform)
        adapter = self.runtime.adapters.get(row.platform)
        if adapter is None:
            return None
        incoming, query_id = adapter.parse(row.payload)
        update_routed(incoming)
        if incoming is not None:
            await self.queue(session, await handle(session, incoming, self.runtime.config))
        return (adapter, query_id) if query_id else None

    async def _give_up(self, row_id: int | None, reason: str) -> None:
        if row_id is None:
            return
        async with self.app.sessions.begin() as session:
            row = await session.get(InboxUpdate, row_id)
            if row is not None and row.handled_at is None:
                await mark_handled(session, row, error=reason)

    async def queue(self, session: AsyncSession, outgoing: list[Outgoing]) -> None:
        """Write the replies to the outbox; news for others waits out the quiet hours."""
        moment = now(session)
        morning = after_quiet_hours(moment, default_rules(session), self.app.settings.timezone)
        for item in outgoing:
            payload = item.reply.to_json()
            if item.platform and item.chat_id:
                # An answer to someone who just wrote: they are awake.
                await queue_message(
                    session, platform=item.platform, chat_id=item.chat_id, payload=payload
                )
            elif item.person_id is not None:
                # News once, where they were last; a menu or an edit wherever it applies.
                reach = chats_of if item.is_edit or item.reply.menu else news_chats
                for platform, chat in await reach(session, item.person_id):
                    due = moment if item.urgent else morning
                    if item.is_edit:
                        # An edit wakes nobody: it goes now, but never before the card it edits
                        # (news held for the morning goes first, in the chat's order).
                        due = max(moment, await last_waiting(session, platform, chat) or moment)
                    await queue_message(
                        session,
                        platform=platform,
                        chat_id=chat,
                        payload=payload,
                        person_id=item.person_id,
                        due_at=due,
                    )

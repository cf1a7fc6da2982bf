"""The running bot: inbox -> handlers -> outbox, and the adapters that feed and drain them.

Each update is handled in one transaction with its replies queued; sends happen after commit,
each outbox row claimed in a short transaction, sent outside any, and marked in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.channels import configured
from bot.crew import Crew
from bot.database import one_writer
from bot.listening import bind
from bot.metrics import (
    swept,
    update_claimed,
    update_failed,
    update_put_aside,
    update_routed,
    updates_done,
    watched,
)
from bot.outage import Outage, Pause, pause_until
from bot.sending import RetryLater, Undeliverable
from handlers.broadcast_report import broadcast_news
from handlers.messages import MAX_FILE, FileUnavailable, Incoming, Outgoing, Reply
from handlers.reminders import fire
from handlers.router import handle
from handlers.turn import Config
from models.cards import card_message, remember_card
from models.clock import now
from models.commitments import plan_behind_reminders
from models.errors import StoreError
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
from models.outbox import (
    chats_of,
    claim_messages,
    last_waiting,
    mark_all_sent,
    mark_parts_sent,
    mark_refused,
    message_kind,
    queue_message,
    release_claim,
)
from models.people import Role
from models.reminders import Reminder, ReminderStatus
from models.retention import plan_retention
from models.schedule import (
    after_quiet_hours,
    claim_due_reminders,
    default_rules,
    plan_for_role,
)

if TYPE_CHECKING:
    # The web side, the scheduler and backups are imported where they start (in run), so
    # that what waited in Telegram is answered first.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("wishbot.runtime")

# Telegram lets a chat have about one message a second: a 429 this soon after the chat's
# last message is that chat's limit, not the bot's.
CHAT_WINDOW = dt.timedelta(seconds=1)
# A rule reminder whose firing keeps failing (a bug, not an outage) is given up after this.
MAX_ATTEMPTS = 8
# Due rule reminders fired per transaction, and how often the sweep looks for due ones.
REMINDER_BATCH = 50
REMINDER_WAKE_SECONDS = 0.25
# Chats handled at once where the database has several writers (PostgreSQL).
INBOX_WORKERS = 4
# Updates (each of a different chat) handled per transaction where there is one writer.
INBOX_BATCH = 8
# At start the web side waits this long at most for what waited in Telegram to be answered
# (a long backlog is not waited out: the sweeps go on with it).
FIRST_ROUND_SECONDS = 3.0
# Outbox rows claimed per transaction (an answer waits at most for this many sends).
SEND_BATCH = 10


def database_blinked(error: BaseException) -> bool:
    """The database, not the statement: a connection lost or refused, a lock, a read-only or
    restarting server ("not now", so the work waits), as against a bug's "never"."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError)):
        return True
    # A driver error SQLAlchemy could not sort (asyncpg's "not accepting connections").
    return type(error) is DBAPIError


async def first_of(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Wait until one of the events is set, or the timeout passes."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


def _all(writes: list[Write]) -> Write:
    """One write of several (the outcomes of a batch): the rows that went marked together,
    then the others in their order."""
    went = [each for each in writes if isinstance(each, Went)]
    others = [each for each in writes if not isinstance(each, Went)]

    async def write(session: AsyncSession) -> None:
        if went:
            await _record_went(session, went)
        for each in others:
            await each(session)

    return write


@dataclasses.dataclass(frozen=True)
class Went:
    """A row that went (its card, if any, to remember by the platform's message reference):
    written with the batch's others that went, in one statement."""

    row_id: int
    claim: dt.datetime
    card: tuple[str, str, str, str] | None = None  # platform, chat, card, message reference

    async def __call__(self, session: AsyncSession) -> None:
        await _record_went(session, [self])


async def _record_went(session: AsyncSession, went: list[Went]) -> None:
    marked = await mark_all_sent(session, [(each.row_id, each.claim) for each in went])
    for each in went:
        if each.row_id not in marked:
            log.warning("outbox row %s was taken over while it was being sent", each.row_id)
        elif each.card is not None:
            await remember_card(session, *each.card)


def back_off(row: Reminder, moment: dt.datetime, reason: str) -> None:
    """A rule reminder whose firing failed (a bug): try it again later, twice as late each time;
    after MAX_ATTEMPTS, give up and say why. Sending never comes here: see _send_due."""
    row.last_error = reason
    if row.attempts >= MAX_ATTEMPTS:
        row.status = ReminderStatus.FAILED
    else:
        row.due_at = moment + dt.timedelta(seconds=2**row.attempts)


Write = Callable[[AsyncSession], Awaitable[object]]


@dataclasses.dataclass(frozen=True)
class Claimed:
    """An outbox row this process holds until ``claim`` (its lease), as read when claimed."""

    row_id: int
    chat: str
    claim: dt.datetime
    reply: Reply
    done: int  # parts that went on earlier tries
    # The platform message this reply replaces (an edit whose message is known), else None.
    edit_ref: str | None = None
    broadcast: bool = False  # a broadcast row: it can wait for the chat's second to pass


class CannotListen(Exception):
    """The web server's address is taken or not ours; the message is the one line shown."""


class Adapter(Protocol):
    # Declared: it can replace a sent message's text and buttons (else edits go as described
    # on Reply: a card edit is dropped, a redrawn picker comes anew).
    can_edit: bool
    # A menu of its own for the chat or account; photos both ways; how long after the person
    # last wrote it may answer freely (None: always; WeChat: 48 hours, then notifications).
    has_menus: bool
    has_photos: bool
    reply_window: dt.timedelta | None
    # How long one chat must wait between two messages (Telegram: a second); zero for none.
    # A broadcast copy is held until it has passed rather than sent to be refused.
    chat_interval: dt.timedelta

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]: ...

    async def answer_button(self, query_id: str) -> None: ...

    async def send(
        self,
        chat_id: str,
        reply: Reply,
        done: int,
        went: Callable[[int], Awaitable[None]],
    ) -> str | None:
        """Send the reply's parts after the first ``done``; ``went(n)`` once n parts went.

        Returns the platform's reference of the message that carries the buttons, if it has
        its own (else the outbox row is the message's reference)."""
        ...

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool:
        """Replace an earlier message's text and buttons; False when it cannot be edited
        (too old, gone): the caller then sends nothing, or the reply anew."""
        ...


class Runtime:
    def __init__(self, app: App) -> None:
        self.app = app
        self.config = Config(
            app.settings.locale,
            app.settings.timezone,
            web_url=app.settings.public_url or app.settings.web_address,
            fetch_file=self.fetch_file,
        )
        self.adapters: dict[str, Adapter] = {}
        self.inbox_waiting = asyncio.Event()
        self.outbox_waiting = asyncio.Event()
        self.reminders_waiting = asyncio.Event()
        self._inbox_lock = asyncio.Lock()
        self._outbox_lock = asyncio.Lock()
        self._reminders_lock = asyncio.Lock()
        # After a 429 or while the platform is unreachable, no send to that platform before
        # this moment: every other chat would bang into the same wall.
        self._held_until: dict[str, dt.datetime] = {}
        # When each chat last got a message: a 429 within CHAT_WINDOW of it is that chat's.
        self._last_sent: dict[tuple[str, str], dt.datetime] = {}
        # The chats whose last message was a broadcast copy (not part of a conversation).
        self._last_was_broadcast: set[tuple[str, str]] = set()
        self._unreachable: dict[str, Outage] = {}
        # Each sweep's database trouble, logged once per outage.
        self._sweep_outages: dict[str, Outage] = {}
        # How the sweeps wait after a failure; tests put one that moves their clock.
        self.pause: Pause = pause_until(app.stopping)
        # Whether an update can be handled in the transaction that stores it (take_update).
        self.one_writer = one_writer(app.engine)

    async def fetch_file(self, platform: str, reference: str) -> bytes:
        """The bytes of a file a person sent, from the adapter of their platform."""
        fetch = getattr(self.adapters.get(platform), "fetch_file", None)
        if fetch is None:
            raise FileUnavailable(platform)
        try:
            content: bytes = await fetch(reference)
        except FileUnavailable:
            raise
        except Exception as error:  # the platform's own errors: the file cannot be had now
            raise FileUnavailable(type(error).__name__) from error
        if len(content) > MAX_FILE:
            raise FileUnavailable("too large")
        return content

    # --- the inbox ------------------------------------------------------------------------------

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
            self.inbox_waiting.set()
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
                self.inbox_waiting.set()
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
        self.outbox_waiting.set()
        return True

    async def handle_inbox(self) -> int:
        """Handle every waiting update, each chat's in order; return how many.

        With several writers (PostgreSQL) up to INBOX_WORKERS chats at once: the claim gives
        each worker the oldest update of a chat nobody holds, so a chat's updates still go
        one at a time, in order, and a slow one holds only its own chat. With one writer
        (SQLite) one at a time: they would only queue for its lock.
        """
        async with self._inbox_lock:
            crew = Crew(1 if self.one_writer else INBOX_WORKERS)
            handled = await crew.run(self._handle_waiting)
        if handled:
            self.outbox_waiting.set()
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
                    self.outbox_waiting.set()
                    continue
                # One of the batch failed (a bug): each alone, so only that one is recorded.
                alone = -done
            if await watched(lambda: self._handle_one(crew)) is None:
                break
            alone = max(alone - 1, 0)
            handled += 1
            self.outbox_waiting.set()  # its answers go while the next is handled
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
        adapter = self.adapters.get(row.platform)
        if adapter is None:
            return None
        incoming, query_id = adapter.parse(row.payload)
        update_routed(incoming)
        if incoming is not None:
            await self.queue(session, await handle(session, incoming, self.config))
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

    # --- rule reminders ------------------------------------------------------------------------

    async def fire_reminders(self) -> int:
        """Fire every due rule reminder, a batch per transaction with what they send; what
        a batch queued goes out while the next batch fires."""
        fired = 0
        async with self._reminders_lock:
            while batch := await self._fire_batch():
                fired += batch
                self.outbox_waiting.set()
        return fired

    async def _fire_batch(self) -> int:
        """Claim up to REMINDER_BATCH due reminders (other processes skip them) and fire each
        in its own savepoint: one that no longer applies or fails alone is recorded alone."""
        async with self.app.sessions.begin() as session:
            rows = await claim_due_reminders(session, REMINDER_BATCH)
            for row in rows:
                row.attempts += 1
                try:
                    async with session.begin_nested():
                        await self.queue(session, await fire(session, row, self.config))
                    row.status = ReminderStatus.SENT
                    row.sent_at = now(session)
                except StoreError as refused:
                    # Somebody moved the wish at the same moment: the reminder no longer applies.
                    row.status = ReminderStatus.CANCELLED
                    row.last_error = refused.key[:500]
                except Exception as error:
                    if database_blinked(error):
                        # The database, not the reminder: nothing is committed, the rows stay
                        # due and the sweep tries again after a wait (never counted against them).
                        raise
                    # A bug: try again later, then give up with a record.
                    log.exception("reminder %s failed", row.id)
                    back_off(row, now(session), type(error).__name__)
        return len(rows)

    async def plan_daily(self) -> None:
        """The admins' digests (and on its weekday the heads' prompt), once whatever the processes."""
        rules = self.app.settings.rules
        async with self.app.sessions.begin() as session:
            today = now(session).astimezone(self.app.settings.timezone).date()
            await plan_for_role(session, Role.ADMIN, "digest", today)
            await plan_retention(session, today)
            await plan_behind_reminders(session, self.app.settings.timezone)
            if today.weekday() == rules.head_prompt_weekday:
                await plan_for_role(session, Role.BUILDING_HEAD, "head_prompt", today)
            if today.day == 1:
                # Each member's points statement of the month just ended (flows/standing.py).
                await plan_for_role(session, Role.MEMBER, "points_statement", today)
        self.reminders_waiting.set()

    # --- the outbox -----------------------------------------------------------------------------

    async def send_outbox(self) -> int:
        """Send every due message, one row per transaction, so each goes out once; then tell
        broadcast senders how theirs goes, and send that too."""
        async with self._outbox_lock:
            sent = await self._send_due()
            if await self.report_broadcasts():
                sent += await self._send_due()
        return sent

    async def _send_due(self) -> int:
        """Claim, send outside any transaction, mark: no lock is held while the network is.

        Up to SEND_BATCH rows (of as many chats: a chat's next row waits behind its claimed
        one) are claimed in one transaction and sent side by side; their outcomes are
        written in the transaction that claims the next batch, or alone when nothing more
        goes now. Once the platform says wait, the batch's rest is not sent: released, each
        first in its chat's line.
        """
        sent = 0
        for platform, adapter in self.adapters.items():
            outcomes: list[Write] = []
            while self._may_send(platform):
                batch = await self._claim(platform, outcomes)
                if not batch:
                    outcomes = []
                    break
                outcomes, tried = await self._send_batch(platform, adapter, batch)
                sent += tried
            if outcomes:
                await self._record(_all(outcomes))
        return sent

    async def _send_batch(
        self, platform: str, adapter: Adapter, batch: list[Claimed]
    ) -> tuple[list[Write], int]:
        """The first row alone (it finds out whether the platform takes messages now), then
        the rest side by side, each of its own chat: over a real network a round trip each
        at once, not one after the other. Once the platform says wait, what was not yet tried
        waits too. A failure to record (the database) is raised once the others' outcomes are
        written."""
        outcomes: list[Write] = []
        failure: BaseException | None = None
        tried = 0
        for group in (batch[:1], batch[1:]):
            if not self._may_send(platform):
                outcomes.extend(self._not_sent(platform, claimed) for claimed in group)
                continue
            results = await asyncio.gather(
                *(self._deliver(platform, adapter, claimed) for claimed in group),
                return_exceptions=True,
            )
            tried += len(group)
            for outcome in results:
                if isinstance(outcome, BaseException):
                    failure = failure or outcome
                else:
                    outcomes.append(outcome)
        if failure is not None:
            await self._record(_all(outcomes))
            raise failure
        return outcomes, tried

    def _not_sent(self, platform: str, claimed: Claimed) -> Write:
        """A claimed row not tried, as the platform said wait: it goes when the wait is over."""
        row_id, claim = claimed.row_id, claimed.claim
        until = self._held_until.get(platform)

        async def waits(session: AsyncSession) -> None:
            await release_claim(session, row_id, claim, "held", counts=False, until=until)

        return waits

    def _may_send(self, platform: str) -> bool:
        until = self._held_until.get(platform)
        return (until is None or self.app.clock.now() >= until) and self.app.may_still_send()

    async def report_broadcasts(self) -> int:
        """The half-way news and the final report of broadcasts, each once whatever the processes."""
        async with self.app.sessions.begin() as session:
            news = await broadcast_news(session, self.config)
            await self.queue(session, news)
        return len(news)

    async def _claim(self, platform: str, outcomes: list[Write]) -> list[Claimed]:
        """Write the last sends' outcomes (if any) and claim up to SEND_BATCH due rows."""
        lease = dt.timedelta(seconds=self.app.settings.send_lease_seconds)
        batch: list[Claimed] = []

        async def claim(session: AsyncSession) -> None:
            batch.clear()
            await _all(outcomes)(session)
            rows, expired = await claim_messages(session, platform, lease, SEND_BATCH)
            for old in expired:
                # The office's record: the row itself (status failed, last_error expired).
                log.warning(
                    "outbox row %s (%s) dropped: %s", old.id, message_kind(old), old.last_error
                )
            for row in rows:
                batch.append(await claimed(session, row))

        async def claimed(session: AsyncSession, row: Reminder) -> Claimed:
            assert row.claimed_until is not None
            reply = Reply.from_json(row.payload)
            edit_ref = reply.edit_message
            if reply.edit_card and edit_ref is None:
                edit_ref = await card_message(session, platform, row.chat_id or "", reply.edit_card)
            if edit_ref is not None and row.payload.get("edits_ref") != edit_ref:
                # Kept with the row, so the web chat knows which of its lines this replaces.
                row.payload = {**row.payload, "edits_ref": edit_ref}
            return Claimed(
                row.id,
                row.chat_id or "",
                row.claimed_until,
                reply,
                row.parts_sent,
                edit_ref,
                row.broadcast_id is not None,
            )

        if not outcomes:
            async with self.app.sessions.begin() as session:
                await claim(session)
        else:
            await self._record(claim)  # the outcomes must not be lost to an outage
        return batch

    async def _deliver(self, platform: str, adapter: Adapter, claimed: Claimed) -> Write:
        """Send a claimed row, in no transaction; return how to write what happened."""
        row_id, claim = claimed.row_id, claimed.claim

        async def went(parts: int) -> None:
            await self._record(lambda session: mark_parts_sent(session, row_id, claim, parts))

        paced = self._paced(platform, claimed)
        if paced is not None:
            return paced
        outage = self._unreachable.setdefault(platform, Outage(f"Sending to {platform}", log))
        reply = claimed.reply
        message_ref: str | None = claimed.edit_ref
        try:
            edited = False
            if reply.edit_card or reply.edit_message:
                edited = (
                    adapter.can_edit
                    and claimed.edit_ref is not None
                    and await adapter.edit(claimed.chat, claimed.edit_ref, reply)
                )
            if not edited and (reply.edit_message or not reply.edit_card):
                # A new message; or a redrawn picker whose message can no longer be edited.
                message_ref = await adapter.send(claimed.chat, reply, claimed.done, went)
                message_ref = message_ref or str(row_id)
            # A card edit that cannot be made sends nothing: the old card just stays.
        except Undeliverable as refused:
            outage.ended()
            why, blocked = str(refused), refused.blocked

            async def ended(session: AsyncSession) -> None:
                await mark_refused(session, row_id, claim, why, blocked=blocked)

            return ended
        except RetryLater as wait:
            # Telegram asked us to slow down: not the message's fault; its chat waits.
            moment = self.app.clock.now()
            until = moment + dt.timedelta(seconds=wait.seconds)
            last = self._last_sent.get((platform, claimed.chat))
            if last is not None and moment - last < CHAT_WINDOW:
                # This chat had a message within the second: the per-chat limit. Only this
                # chat waits; everyone else's answers and the broadcast go on.
                asyncio.get_running_loop().call_later(wait.seconds, self.outbox_waiting.set)
            else:  # the bot's own limit: every chat would bang into it
                self._hold(platform, until, wait.seconds)

            async def slowed(session: AsyncSession) -> None:
                # Held until then, first in its chat's line: the chat's newer rows wait.
                await release_claim(session, row_id, claim, "RetryAfter", counts=False, until=until)

            return slowed
        except Exception as error:  # the platform is unreachable: the row waits, first in line
            seconds = outage.failed(error)
            self._hold(platform, self.app.clock.now() + dt.timedelta(seconds=seconds), seconds)
            reason = type(error).__name__

            async def waits(session: AsyncSession) -> None:
                await release_claim(session, row_id, claim, reason)

            return waits
        outage.ended()
        self._sent_to(platform, claimed.chat, claimed.broadcast)

        card = None
        if reply.card and message_ref is not None:
            card = (platform, claimed.chat, reply.card, message_ref)
        return Went(row_id, claim, card)

    async def _record(self, write: Write) -> None:
        """Write what went: a "sent" lost to a database outage would send the row again once
        its claim lapses, so this waits out the outage (growing waits, logged once)."""
        outage = self._sweep_outages.setdefault("record", Outage("Recording a send", log))
        while True:
            try:
                async with self.app.sessions.begin() as session:
                    await write(session)
            except DBAPIError as error:
                if not database_blinked(error) or self.app.stopping.is_set():
                    raise
                await self.pause(outage.failed(error))
                continue
            outage.ended()
            return

    def _paced(self, platform: str, claimed: Claimed) -> Write | None:
        """Telegram's one message a second per chat, kept where a broadcast is involved: a
        broadcast row for a chat that had a message within the second (its answer just went),
        and an answer right after the chat's broadcast copy, wait for exactly the rest of the
        second, first in the chat's line, instead of going to be refused (a 429 whose
        retry_after is rounded up to a whole second, after a round trip). Answers after
        answers are never paced: Telegram lets a conversation's few messages through at once.
        """
        adapter = self.adapters.get(platform)
        interval = adapter.chat_interval if adapter is not None else CHAT_WINDOW
        key = (platform, claimed.chat)
        last = self._last_sent.get(key)
        moment = self.app.clock.now()
        if last is None or moment - last >= interval:
            return None
        if not claimed.broadcast and key not in self._last_was_broadcast:
            return None
        until = last + interval
        wait = (until - moment).total_seconds()
        asyncio.get_running_loop().call_later(wait, self.outbox_waiting.set)
        row_id, claim = claimed.row_id, claimed.claim

        async def later(session: AsyncSession) -> None:
            await release_claim(session, row_id, claim, "paced", counts=False, until=until)

        return later

    def _sent_to(self, platform: str, chat: str, broadcast: bool) -> None:
        """When this chat last got a message, and whether a broadcast copy: to pace the
        chat's next message, and to tell its own limit from the bot's."""
        moment = self.app.clock.now()
        if len(self._last_sent) > 10_000:
            self._last_sent = {k: v for k, v in self._last_sent.items() if moment - v < CHAT_WINDOW}
            self._last_was_broadcast &= self._last_sent.keys()
        key = (platform, chat)
        self._last_sent[key] = moment
        if broadcast:
            self._last_was_broadcast.add(key)
        else:
            self._last_was_broadcast.discard(key)

    def _hold(self, platform: str, until: dt.datetime, seconds: float) -> None:
        """No send to the platform before ``until``; wake the sweep then (nothing else will)."""
        self._held_until[platform] = until
        asyncio.get_running_loop().call_later(seconds, self.outbox_waiting.set)

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until the app stops: the web server, the sweeps, and each configured platform
        (bot/channels.py: Telegram polling or its webhook, WeChat's callback).

        The web address is taken first; what waited in Telegram is answered next; only then
        is the web side imported and served (its import is a good part of the start)."""
        settings = self.app.settings
        try:
            sockets = bind(settings.web_host, settings.web_port)
        except OSError as e:
            raise CannotListen(
                f"cannot listen on {settings.web_address} ({e.strerror or e}); "
                "set WISHBOT_WEB_PORT to a free port"
            ) from None
        channels = configured(
            self.app, self.keep_updates, self.inbox_waiting.set, take=self.take_update
        )
        try:
            for channel in channels:
                await channel.start()
                self.adapters[channel.platform] = channel
                # What handlers need to know of it (Telegram's username for t.me links...).
                self.config = channel.configure(self.config)
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        # What waited in a polled platform while the bot was down, fetched at once (no long
        # poll), and done with before its listening loop asks again.
        for channel in channels:
            catch_up: Callable[[], Awaitable[int]] | None = getattr(channel, "catch_up", None)
            if catch_up is not None:
                with contextlib.suppress(Exception):  # its listening loop tells of an outage
                    await catch_up()
        first = asyncio.create_task(self._first_round())
        await asyncio.wait({first}, timeout=FIRST_ROUND_SECONDS)
        from aiohttp import web

        from bot.web.server import init_app

        web_app = init_app(self.app, self)
        for channel in channels:
            web_app.add_routes(channel.web_routes())
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        log.info("The web chat and the dashboard answer at %s", settings.web_address)
        tasks = [
            first,
            asyncio.create_task(self._sweep(self.inbox_waiting, self.handle_inbox)),
            asyncio.create_task(self._sweep(self.outbox_waiting, self.send_outbox)),
            asyncio.create_task(self._sweep(self.reminders_waiting, self.fire_reminders)),
            *(asyncio.create_task(channel.listen(self.app.stopping)) for channel in channels),
        ]
        scheduler = self._scheduler()
        scheduler.start()
        self.inbox_waiting.set()
        self.outbox_waiting.set()
        logging.getLogger("wishbot").info("Small Wishes is running; press Ctrl+C to stop.")
        await self.app.stopping.wait()
        # Every loop ends between two units of work: cancelling one mid-query could leave a
        # transaction (and SQLite's connection thread) hanging.
        scheduler.shutdown(wait=False)
        await asyncio.gather(*tasks)
        await self.sweep_once(self.send_outbox)  # what the last updates answered, till flush_until
        await runner.cleanup()
        for channel in channels:
            await channel.stop()

    async def _first_round(self) -> None:
        """What waited while the bot was down, handled and answered before the web side starts;
        a long backlog goes on here beside the sweeps (their locks keep them apart)."""
        await self.sweep_once(self.handle_inbox)
        await self.sweep_once(self.send_outbox)

    def _scheduler(self) -> AsyncIOScheduler:
        """APScheduler only wakes the sweeps; all work is rows in the database."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from bot.backup import schedule_backups

        settings = self.app.settings
        scheduler = AsyncIOScheduler(timezone=settings.timezone)

        def wake() -> None:
            for event in (self.inbox_waiting, self.outbox_waiting, self.reminders_waiting):
                event.set()

        scheduler.add_job(wake, "interval", seconds=settings.sweep_seconds, id="sweep")
        # Due reminders go out within about a second: an idle look is one indexed query.
        scheduler.add_job(
            self.reminders_waiting.set,
            "interval",
            seconds=min(REMINDER_WAKE_SECONDS, settings.sweep_seconds),
            id="reminders",
        )
        digest = dt.time.fromisoformat(settings.rules.digest_time)
        scheduler.add_job(
            self.plan_daily, "cron", hour=digest.hour, minute=digest.minute, id="daily"
        )
        schedule_backups(scheduler, settings, self.app.clock.now)
        return scheduler

    async def _sweep(self, waiting: asyncio.Event, work: Any) -> None:
        stopping = self.app.stopping
        while not stopping.is_set():
            await first_of(waiting, stopping)
            if stopping.is_set():
                return
            waiting.clear()
            await self.sweep_once(work)

    async def sweep_once(self, work: Callable[[], Awaitable[int]]) -> None:
        """One round of a sweep; no error ends the loop. A failure (the database away) is
        logged once per outage, and the next round waits a growing while, then goes again."""
        name = getattr(work, "__name__", "sweep")
        outage = self._sweep_outages.setdefault(name, Outage(f"The {name} sweep", log))
        try:
            done = await work()
        except Exception as error:  # the loop must survive a database outage or a bug
            await self.pause(outage.failed(error))
            # Go round again after the wait: a wake during the outage may have been missed.
            for event in (self.inbox_waiting, self.outbox_waiting, self.reminders_waiting):
                event.set()
            return
        outage.ended()
        swept(name, done, self.app.clock.now())

"""The outbox side: due rows claimed a batch at a time, sent outside any transaction, and what
happened written after; a platform that says wait is held, and broadcasts are paced per chat.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outage import Outage, database_blinked
from bot.sending import RetryLater, Undeliverable
from handlers.broadcast_report import broadcast_news
from handlers.messages import Reply
from models.cards import card_message, remember_card
from models.outbox import (
    claim_messages,
    mark_all_sent,
    mark_parts_sent,
    mark_refused,
    message_kind,
    release_claim,
)
from models.reminders import Reminder

if TYPE_CHECKING:
    from bot.runtime import Adapter, Runtime

log = logging.getLogger("wishbot.runtime")

# Telegram lets a chat have about one message a second: a 429 this soon after the chat's
# last message is that chat's limit, not the bot's.
CHAT_WINDOW = dt.timedelta(seconds=1)
# Outbox rows claimed per transaction (an answer waits at most for this many sends).
SEND_BATCH = 10
# Broadcast rows among them: at Telegram's 30 a second ten take a third of a second, and an
# answer written meanwhile waits for the batch; three take a tenth.
BROADCAST_BATCH = 3

Write = Callable[[AsyncSession], Awaitable[object]]


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


class OutboxSide:
    """The runtime's sending: what it knows of each platform's and chat's limits is its own."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.app = runtime.app
        self._lock = asyncio.Lock()
        # After a 429 or while the platform is unreachable, no send to that platform before
        # this moment: every other chat would bang into the same wall.
        self._held_until: dict[str, dt.datetime] = {}
        # When each chat last got a message, and whether it was a broadcast copy (not part
        # of a conversation): a 429 within CHAT_WINDOW of it is that chat's.
        self._last_sent: dict[tuple[str, str], tuple[dt.datetime, bool]] = {}
        self._unreachable: dict[str, Outage] = {}
        # A database outage while recording sends, logged once.
        self._recording = Outage("Recording a send", log)

    async def send_outbox(self) -> int:
        """Send every due message, one row per transaction, so each goes out once; then tell
        broadcast senders how theirs goes, and send that too."""
        async with self._lock:
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
        for platform, adapter in self.runtime.adapters.items():
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
            news = await broadcast_news(session, self.runtime.config)
            await self.runtime.queue(session, news)
        return len(news)

    async def _claim(self, platform: str, outcomes: list[Write]) -> list[Claimed]:
        """Write the last sends' outcomes (if any) and claim up to SEND_BATCH due rows (of them
        at most BROADCAST_BATCH broadcast rows)."""
        lease = dt.timedelta(seconds=self.app.settings.send_lease_seconds)
        batch: list[Claimed] = []

        async def claim(session: AsyncSession) -> None:
            batch.clear()
            await _all(outcomes)(session)
            rows, expired = await claim_messages(
                session, platform, lease, SEND_BATCH, BROADCAST_BATCH
            )
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
            last, _ = self._last_sent.get((platform, claimed.chat), (None, False))
            if last is not None and moment - last < CHAT_WINDOW:
                # This chat had a message within the second: the per-chat limit. Only this
                # chat waits; everyone else's answers and the broadcast go on.
                asyncio.get_running_loop().call_later(wait.seconds, self.runtime.outbox_waiting.set)
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
        outage = self._recording
        while True:
            try:
                async with self.app.sessions.begin() as session:
                    await write(session)
            except DBAPIError as error:
                if not database_blinked(error) or self.app.stopping.is_set():
                    raise
                await self.runtime.pause(outage.failed(error))
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
        adapter = self.runtime.adapters.get(platform)
        interval = adapter.chat_interval if adapter is not None else CHAT_WINDOW
        key = (platform, claimed.chat)
        last, was_broadcast = self._last_sent.get(key, (None, False))
        moment = self.app.clock.now()
        if last is None or moment - last >= interval:
            return None
        if not claimed.broadcast and not was_broadcast:
            return None
        until = last + interval
        wait = (until - moment).total_seconds()
        asyncio.get_running_loop().call_later(wait, self.runtime.outbox_waiting.set)
        row_id, claim = claimed.row_id, claimed.claim

        async def later(session: AsyncSession) -> None:
            await release_claim(session, row_id, claim, "paced", counts=False, until=until)

        return later

    def _sent_to(self, platform: str, chat: str, broadcast: bool) -> None:
        """When this chat last got a message, and whether a broadcast copy: to pace the
        chat's next message, and to tell its own limit from the bot's."""
        moment = self.app.clock.now()
        if len(self._last_sent) > 10_000:
            self._last_sent = {
                k: v for k, v in self._last_sent.items() if moment - v[0] < CHAT_WINDOW
            }
        self._last_sent[(platform, chat)] = (moment, broadcast)

    def _hold(self, platform: str, until: dt.datetime, seconds: float) -> None:
        """No send to the platform before ``until``; wake the sweep then (nothing else will)."""
        self._held_until[platform] = until
        asyncio.get_running_loop().call_later(seconds, self.runtime.outbox_waiting.set)

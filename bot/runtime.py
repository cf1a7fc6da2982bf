"""The running bot: inbox -> handlers -> outbox, and the adapters that feed and drain them.

Each update is handled in one transaction with its replies queued; sends happen after commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import Any, Protocol

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.web.server import init_app
from handlers.broadcast_report import broadcast_news
from handlers.messages import Incoming, Outgoing, Reply
from handlers.reminders import fire
from handlers.router import handle
from handlers.turn import Config
from models.clock import now
from models.errors import StoreError
from models.inbox import InboxUpdate, claim_next, mark_handled, store_update
from models.outbox import (
    BLOCKED,
    chats_of,
    claim_due,
    mark_unreachable,
    postpone_chat,
    queue_message,
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

log = logging.getLogger("wishbot.runtime")

MAX_ATTEMPTS = 8


async def first_of(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Wait until one of the events is set, or the timeout passes."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


def back_off(row: Reminder, moment: dt.datetime, reason: str) -> None:
    """Try the row again later, twice as late each time; after MAX_ATTEMPTS, give up and say why."""
    row.last_error = reason
    if row.attempts >= MAX_ATTEMPTS:
        row.status = ReminderStatus.FAILED
    else:
        row.due_at = moment + dt.timedelta(seconds=2**row.attempts)


class CannotListen(Exception):
    """The web server's address is taken or not ours; the message is the one line shown."""


class Adapter(Protocol):
    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]: ...

    async def answer_button(self, query_id: str) -> None: ...

    async def send(self, chat_id: str, reply: Reply) -> None: ...


class Runtime:
    def __init__(self, app: App) -> None:
        self.app = app
        self.config = Config(
            app.settings.locale,
            app.settings.timezone,
            web_url=app.settings.public_url or app.settings.web_address,
        )
        self.adapters: dict[str, Adapter] = {}
        self.inbox_waiting = asyncio.Event()
        self.outbox_waiting = asyncio.Event()
        self.reminders_waiting = asyncio.Event()
        self._inbox_lock = asyncio.Lock()
        self._outbox_lock = asyncio.Lock()
        self._reminders_lock = asyncio.Lock()
        # After a 429, no send to that platform before this moment: the limit is the bot's,
        # so every other chat would bang into it too.
        self._held_until: dict[str, dt.datetime] = {}

    # --- the inbox ------------------------------------------------------------------------------

    async def keep_update(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> bool:
        async with self.app.sessions.begin() as session:
            return await store_update(session, platform, update_id, chat_key, payload)

    async def handle_inbox(self) -> int:
        """Handle every waiting update, each chat's in order; return how many."""
        handled = 0
        async with self._inbox_lock:
            while not self.app.stopping.is_set():
                answered = await self._handle_one()
                if answered is None:
                    break
                handled += 1
        if handled:
            self.outbox_waiting.set()
        return handled

    async def _handle_one(self) -> bool | None:
        query: tuple[Adapter, str] | None = None
        row_id: int | None = None
        try:
            async with self.app.sessions.begin() as session:
                row = await claim_next(session)
                if row is None:
                    return None
                row_id, platform = row.id, row.platform
                adapter = self.adapters.get(platform)
                if adapter is not None:
                    incoming, query_id = adapter.parse(row.payload)
                    if incoming is not None:
                        await self.queue(session, await handle(session, incoming, self.config))
                    if query_id:
                        query = (adapter, query_id)
                await mark_handled(session, row)
        except Exception as error:  # a bug must not block the chat: record it and go on
            if row_id is None:
                # Nothing was claimed: the database itself is in trouble. Going round again at
                # once would spin; the sweep logs it and tries at its next wake.
                raise
            log.exception("update %s failed: %s", row_id, type(error).__name__)
            await self._give_up(row_id, type(error).__name__)
        if query is not None:
            await query[0].answer_button(query[1])
        return True

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
                for platform, chat in await chats_of(session, item.person_id):
                    await queue_message(
                        session,
                        platform=platform,
                        chat_id=chat,
                        payload=payload,
                        person_id=item.person_id,
                        due_at=moment if item.urgent else morning,
                    )

    # --- rule reminders ------------------------------------------------------------------------

    async def fire_reminders(self) -> int:
        """Fire every due rule reminder, each in its own transaction with what it sends."""
        fired = 0
        async with self._reminders_lock:
            while await self._fire_one():
                fired += 1
        if fired:
            self.outbox_waiting.set()
        return fired

    async def _fire_one(self) -> bool:
        async with self.app.sessions.begin() as session:
            rows = await claim_due_reminders(session)
            if not rows:
                return False
            row = rows[0]
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
            except Exception as error:  # a bug or a hiccup: try again later, then give up
                log.exception("reminder %s failed", row.id)
                back_off(row, now(session), type(error).__name__)
        return True

    async def plan_daily(self) -> None:
        """The admins' digests (and on its weekday the heads' prompt), once whatever the processes."""
        rules = self.app.settings.rules
        async with self.app.sessions.begin() as session:
            today = now(session).astimezone(self.app.settings.timezone).date()
            await plan_for_role(session, Role.ADMIN, "digest", today)
            await plan_retention(session, today)
            if today.weekday() == rules.head_prompt_weekday:
                await plan_for_role(session, Role.BUILDING_HEAD, "head_prompt", today)
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
        sent = 0
        for platform, adapter in self.adapters.items():
            while self._may_send(platform) and await self._send_one(platform, adapter):
                sent += 1
        return sent

    def _may_send(self, platform: str) -> bool:
        until = self._held_until.get(platform)
        return until is None or self.app.clock.now() >= until

    async def report_broadcasts(self) -> int:
        """The half-way news and the final report of broadcasts, each once whatever the processes."""
        async with self.app.sessions.begin() as session:
            news = await broadcast_news(session, self.config)
            await self.queue(session, news)
        return len(news)

    async def _send_one(self, platform: str, adapter: Adapter) -> bool:
        from bot.telegram import RetryLater, Undeliverable

        async with self.app.sessions.begin() as session:
            rows = await claim_due(session, platform, limit=1)
            if not rows:
                return False
            row = rows[0]
            row.attempts += 1
            try:
                await adapter.send(row.chat_id or "", Reply.from_json(row.payload))
                row.status = ReminderStatus.SENT
                row.sent_at = now(session)
            except Undeliverable as refused:
                row.status = ReminderStatus.FAILED
                row.last_error = (f"{BLOCKED}: " if refused.blocked else "") + str(refused)[:480]
                if refused.blocked and row.target_person_id is not None:
                    await mark_unreachable(session, row.target_person_id)
            except RetryLater as wait:
                row.attempts -= 1  # Telegram asked us to slow down: not the message's fault
                until = now(session) + dt.timedelta(seconds=wait.seconds)
                await postpone_chat(session, platform, row.chat_id or "", until)
                self._held_until[platform] = until
                # Nothing else wakes the sweep when the hold ends.
                asyncio.get_running_loop().call_later(wait.seconds, self.outbox_waiting.set)
            except Exception as error:  # network trouble: back off and try again later
                back_off(row, now(session), type(error).__name__)
        return True

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until the app stops: the web server, the sweeps, and Telegram polling or its webhook."""
        settings = self.app.settings
        telegram = None
        web_app = init_app(self.app, self)
        if settings.telegram_token:
            from bot.telegram import PLATFORM, TelegramAdapter

            async def keep(update_id: int, key: str, payload: dict[str, Any]) -> bool:
                return await self.keep_update(PLATFORM, update_id, key, payload)

            telegram = TelegramAdapter(settings, keep, self.inbox_waiting.set)
            await telegram.start()
            self.adapters[PLATFORM] = telegram
            # Handlers build t.me deep links with it (/invite).
            self.config = dataclasses.replace(self.config, bot_username=telegram.bot.username)
            if settings.public_url:
                web_app.add_routes(telegram.webhook_routes())
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        except OSError as e:
            await runner.cleanup()
            if telegram is not None:
                await telegram.stop()
            raise CannotListen(
                f"cannot listen on {settings.web_address} ({e.strerror or e}); "
                "set WISHBOT_WEB_PORT to a free port"
            ) from None
        log.info("The web chat and the dashboard answer at %s", settings.web_address)
        if telegram is not None and settings.public_url:
            log.info("Webhook listening on %s", settings.web_address)
        tasks = [
            asyncio.create_task(self._sweep(self.inbox_waiting, self.handle_inbox)),
            asyncio.create_task(self._sweep(self.outbox_waiting, self.send_outbox)),
            asyncio.create_task(self._sweep(self.reminders_waiting, self.fire_reminders)),
        ]
        if telegram is not None and not settings.public_url:
            tasks.append(asyncio.create_task(telegram.poll(self.app.stopping)))
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
        await runner.cleanup()
        if telegram is not None:
            await telegram.stop()

    def _scheduler(self) -> AsyncIOScheduler:
        """APScheduler only wakes the sweeps; all work is rows in the database."""
        settings = self.app.settings
        scheduler = AsyncIOScheduler(timezone=settings.timezone)

        def wake() -> None:
            for event in (self.inbox_waiting, self.outbox_waiting, self.reminders_waiting):
                event.set()

        scheduler.add_job(wake, "interval", seconds=settings.sweep_seconds, id="sweep")
        digest = dt.time.fromisoformat(settings.rules.digest_time)
        scheduler.add_job(
            self.plan_daily, "cron", hour=digest.hour, minute=digest.minute, id="daily"
        )
        return scheduler

    async def _sweep(self, waiting: asyncio.Event, work: Any) -> None:
        stopping = self.app.stopping
        while not stopping.is_set():
            await first_of(waiting, stopping)
            if stopping.is_set():
                return
            waiting.clear()
            try:
                await work()
            except Exception as error:  # the loop must survive a database hiccup
                log.warning("sweep failed: %s", type(error).__name__)

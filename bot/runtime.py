"""The running bot: inbox -> handlers -> outbox, and the adapters that feed and drain them.

Each update is handled in one transaction with its replies queued; sends happen after commit,
each outbox row claimed in a short transaction, sent outside any, and marked in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.channels import configured
from bot.inbox_side import InboxSide
from bot.listening import bind
from bot.metrics import swept
from bot.outage import Outage, Pause, pause_until
from bot.outbox_side import OutboxSide
from bot.rule_reminders import REMINDER_WAKE_SECONDS, RuleReminders
from handlers.messages import MAX_FILE, FileUnavailable, Incoming, Outgoing, Reply
from handlers.turn import Config

if TYPE_CHECKING:
    # The web side, the scheduler and backups are imported where they start (in run), so
    # that what waited in Telegram is answered first.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("wishbot.runtime")

# At start the web side waits this long at most for what waited in Telegram to be answered
# (a long backlog is not waited out: the sweeps go on with it).
FIRST_ROUND_SECONDS = 3.0


async def first_of(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Wait until one of the events is set, or the timeout passes."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


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
        # The three rooms of the work: each holds its own lock and state.
        self.inbox = InboxSide(self)
        self.outbox = OutboxSide(self)
        self.reminders = RuleReminders(self)
        # Each sweep's database trouble, logged once per outage.
        self._sweep_outages: dict[str, Outage] = {}
        # How the sweeps wait after a failure; tests put one that moves their clock.
        self.pause: Pause = pause_until(app.stopping)

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

    # --- the inbox (bot/inbox_side.py) ------------------------------------------------------------

    async def keep_update(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> bool:
        return await self.inbox.keep_update(platform, update_id, chat_key, payload)

    async def keep_updates(
        self, platform: str, updates: list[tuple[int, str, dict[str, Any]]]
    ) -> int:
        """Keep a batch of updates in one transaction; how many were new."""
        return await self.inbox.keep_updates(platform, updates)

    async def take_update(
        self, platform: str, update_id: int, chat_key: str, payload: dict[str, Any]
    ) -> None:
        """Keep one update (a webhook's) and, where safe, handle it in the same transaction
        (InboxSide.take_update says when that is, and why)."""
        await self.inbox.take_update(platform, update_id, chat_key, payload)

    async def handle_inbox(self) -> int:
        """Handle every waiting update, each chat's in order; return how many."""
        return await self.inbox.handle_inbox()

    async def queue(self, session: AsyncSession, outgoing: list[Outgoing]) -> None:
        """Write the replies to the outbox; news for others waits out the quiet hours."""
        await self.inbox.queue(session, outgoing)

    # --- rule reminders (bot/rule_reminders.py) -----------------------------------------------

    async def fire_reminders(self) -> int:
        """Fire every due rule reminder, a batch per transaction with what they send."""
        return await self.reminders.fire_reminders()

    async def plan_daily(self) -> None:
        """The admins' digests (and on its weekday the heads' prompt), once whatever the processes."""
        await self.reminders.plan_daily()

    # --- the outbox (bot/outbox_side.py) ----------------------------------------------------------

    async def send_outbox(self) -> int:
        """Send every due message; then tell broadcast senders how theirs goes, and send that."""
        return await self.outbox.send_outbox()

    async def report_broadcasts(self) -> int:
        """The half-way news and the final report of broadcasts, each once whatever the processes."""
        return await self.outbox.report_broadcasts()

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
        for channel in channels:
            settle: Callable[[], Awaitable[None]] | None = getattr(channel, "settle", None)
            if settle is not None:
                await settle()
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

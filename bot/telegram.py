"""The Telegram adapter: PTB turns updates into the neutral type and replies into Bot API calls.

Updates reach the inbox before Telegram is told they arrived; sends go through PTB's rate limiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

# Opt in to PTB's coming timedelta retry_after now (_seconds reads both forms).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    Bot,
    BotCommand,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.bot_api_client import bot_api_request
from bot.metrics import CountedLimiter
from bot.outage import Outage, Pause, pause_until
from bot.photo_store import PhotoStore
from bot.sending import RetryLater as RetryLater
from bot.sending import Undeliverable as Undeliverable
from bot.settings import Settings
from bot.telegram_parts import keyboard, reply_parts
from bot.telegram_text import cut_text
from bot.telegram_updates import PLATFORM as PLATFORM
from bot.telegram_updates import chat_key, to_incoming
from handlers.messages import MAX_FILE, FileUnavailable, Incoming, Reply
from handlers.turn import Config
from models.web_access import PHOTO_LIMIT

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("wishbot.telegram")

WEBHOOK_PATH = "/telegram/webhook"
# Telegram's updates are a few kB; a message's text is at most 4096 characters.
WEBHOOK_MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL_TIMEOUT = 25
# Added to a stored update that had a photo: the store's reference to its fetched bytes.
STORED_PHOTO = "wishbot_photo"
# Added to a stored update that had a document (a resident list): the store's reference to it.
STORED_DOCUMENT = "wishbot_document"
# Ends the reference of a message with a caption (a photo, a file) rather than a text.
CAPTION_MARK = ":caption"

# Keeps updates (update id, chat key, payload) in the inbox in one transaction.
StoreUpdates = Callable[[list[tuple[int, str, dict[str, Any]]]], Awaitable[int]]
# Keep one update (platform, id, chat key, body), handled at once where safe (Runtime.take_update).
TakeUpdate = Callable[[str, int, str, dict[str, Any]], Awaitable[None]]
# Records that the first n parts of a multi-part reply went (so a retry skips them).
PartsSent = Callable[[int], Awaitable[None]]


# A little under the rate, so that the times our calls reach Telegram may wobble by a few ms.
PACE = 0.98


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    assert settings.telegram_token
    base = settings.telegram_base_url
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
    return (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(base)
        .base_file_url(file_base)
        .request(bot_api_request(256))
        .get_updates_request(bot_api_request())
        # PTB's limiter paces us (30/s overall, 20/min per group); a 429 is not retried in
        # place but handed to the outbox, which holds that chat's queue for retry_after.
        # Evenly, one call every 1/(rate x PACE) s, not bursts of 30 at the start of each
        # second: a burst and the next second's burst can meet within one second of
        # Telegram's, and each 429 holds every send for a whole second.
        .rate_limiter(
            CountedLimiter(
                overall_max_rate=1,
                overall_time_period=1 / (settings.telegram_rate * PACE),
                max_retries=0,
            )
        )
        .updater(None)  # our own polling: the offset moves only after the inbox has the updates
        .build()
    )


class TelegramAdapter:
    platform = PLATFORM
    can_edit = True  # editMessageText / editMessageReplyMarkup
    has_menus = True  # a command list per chat
    has_photos = True
    reply_window: dt.timedelta | None = None
    chat_interval = dt.timedelta(seconds=1)  # one message a second per chat

    def __init__(
        self,
        settings: Settings,
        store_updates: StoreUpdates,
        wake: Callable[[], None],
        photos: PhotoStore | None = None,
        take: TakeUpdate | None = None,
    ) -> None:
        self.settings = settings
        # A webhook's update goes here instead, when given: kept, and handled where safe.
        self._take = take
        # Where photos are kept: received ones are fetched into it, stored ones uploaded from it.
        self.photos = photos
        self.application = build_application(settings)
        self._store_updates = store_updates
        self._wake = wake
        self._offset: int | None = None
        # Each outage logged once; the waits between tries grow to a ceiling.
        self.fetching = Outage("Fetching Telegram updates", log)
        self.storing = Outage("Storing Telegram updates in the database", log)
        # How polling waits between tries; tests put one that moves their clock.
        self.pause: Pause | None = None

    @property
    def bot(self) -> Bot:
        bot: Bot = self.application.bot
        return bot

    async def start(self) -> None:
        await self.application.initialize()
        if self.settings.public_url:
            await self.bot.set_webhook(
                self.settings.public_url + WEBHOOK_PATH,
                secret_token=self.settings.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
            log.info("Telegram webhook set.")
        else:
            await self.bot.delete_webhook()
            log.info("Telegram: long polling.")

    async def settle(self) -> None:
        """What may wait until what waited in Telegram is answered (Runtime.run): the command
        list of a chat the bot has no menu for yet (someone new), what anyone may use, in each
        language; three calls to Telegram. A person's own list replaces it once they register."""
        import handlers.flows  # noqa: F401  (registers the commands the menu lists)
        from handlers.i18n import SUPPORTED, Translator
        from handlers.menu import menu_of

        for locale in (None, *SUPPORTED):
            t = Translator(locale or self.settings.locale, self.settings.timezone)
            commands = [BotCommand(n, a) for n, a in menu_of(t, (), registered=False).commands]
            try:
                await self.bot.set_my_commands(
                    commands, language_code=locale.split("_")[0] if locale else None
                )
            except TelegramError as e:  # a menu is a comfort: never a reason not to start
                log.warning("Telegram's command list was not set: %s", type(e).__name__)

    async def stop(self) -> None:
        await self.application.shutdown()

    # --- as a channel (bot/channels.py) ---------------------------------------------------

    def configure(self, config: Config) -> Config:
        # Handlers build t.me deep links with it (/invite).
        return dataclasses.replace(config, bot_username=self.bot.username)

    def web_routes(self) -> list[web.RouteDef]:
        """The webhook's route when Telegram posts to us (a public URL); none when polling."""
        return self.webhook_routes() if self.settings.public_url else []

    async def listen(self, stopping: asyncio.Event) -> None:
        """Long polling; by webhook (a public URL) the web server already listens for it."""
        if self.settings.public_url:
            log.info("Webhook listening on %s", self.settings.web_address)
            return
        await self.poll(stopping)

    async def fetch_file(self, reference: str) -> bytes:
        """The bytes of a file someone sent, from the store: they were fetched from Telegram
        when the update arrived, so handling (inside a transaction) never waits on Telegram."""
        content = await self.photos.document(reference) if self.photos is not None else None
        if content is None:  # too large, or Telegram failed when it arrived: send it again
            raise FileUnavailable("not kept")
        return content

    # --- receiving --------------------------------------------------------------------------

    async def poll(self, stopping: asyncio.Event) -> None:
        """Long polling until stopped; a stop cuts only the waiting, never the storing.

        No error ends it: Telegram or the database failing is logged once per outage and
        tried again after a growing wait; updates not stored are fetched again.
        """
        pause = self.pause or pause_until(stopping)
        while not stopping.is_set():
            fetch = asyncio.ensure_future(self._fetch(POLL_TIMEOUT))
            stop = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                return
            try:
                updates = fetch.result()
            except RetryAfter as e:
                await pause(_seconds(e.retry_after))
                continue
            except Exception as error:  # Telegram unreachable: wait and ask again
                await pause(self.fetching.failed(error))
                continue
            self.fetching.ended()
            try:
                await self._keep(updates)
            except Exception as error:  # the database: these updates are fetched again
                await pause(self.storing.failed(error))
                continue
            self.storing.ended()

    async def catch_up(self) -> int:
        """At start, what waited in Telegram while the bot was down, kept at once (no long
        poll); by webhook, Telegram posts it."""
        return 0 if self.settings.public_url else await self.poll_once(0)

    async def poll_once(self, timeout: int) -> int:  # noqa: ASYNC109 (Telegram's long-poll seconds)
        """One getUpdates. Its updates are in the inbox before the next call confirms them."""
        return await self._keep(await self._fetch(timeout))

    async def _fetch(self, timeout: int) -> tuple[Update, ...]:  # noqa: ASYNC109
        return await self.bot.get_updates(
            offset=self._offset, timeout=timeout, allowed_updates=["message", "callback_query"]
        )

    async def _keep(self, updates: tuple[Update, ...]) -> int:
        """Store a batch of updates in one transaction; the offset moves past them only once
        it is committed, so a batch that could not be stored is fetched again."""
        if not updates:
            return 0
        batch = [(u.update_id, chat_key(data), data) for u in updates for data in [u.to_dict()]]
        for _, _, data in batch:
            await self._fetch_photo(data)
            await self._fetch_document(data)
        await self._store_updates(batch)
        self._offset = updates[-1].update_id + 1
        self._wake()
        return len(updates)

    def webhook_routes(self) -> list[web.RouteDef]:
        from aiohttp import web  # the web side: imported only where it is used

        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def _webhook(self, request: web.Request) -> web.Response:
        from aiohttp import web

        from bot.web.json_body import BadJson, read_json

        if request.headers.get(SECRET_HEADER) != self.settings.webhook_secret:
            return web.Response(status=403)
        try:
            data = await read_json(request, max_bytes=WEBHOOK_MAX_BODY)
            update_id = int(data["update_id"])
            key = chat_key(data)
        except BadJson as refused:
            return web.Response(status=400, text=refused.key.format(**refused.params))
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="The body is not a Telegram update.")
        if not 0 <= update_id < 2**62:  # the inbox keeps it in a BIGINT
            return web.Response(status=400, text="The body is not a Telegram update.")
        await self._fetch_photo(data)
        await self._fetch_document(data)
        # Stored and committed before Telegram hears 200: a crash after this loses nothing.
        try:
            if self._take is not None:
                await self._take(PLATFORM, update_id, key, data)
            else:
                await self._store_updates([(update_id, key, data)])
        except Exception as error:  # the database: not 200, so Telegram delivers it again
            self.storing.failed(error)
            return web.Response(status=503, text="try again")
        self.storing.ended()
        if self._take is None:
            self._wake()
        return web.Response(text="ok")

    async def _fetch_photo(self, data: dict[str, Any]) -> None:
        """A photo's bytes into the store before its update is kept (no transaction waits on
        Telegram); the update then carries the store's reference. A photo that cannot be
        fetched stays a Telegram file id: Telegram still shows it, the web cannot."""
        message = data.get("message")
        if self.photos is None or not isinstance(message, dict) or STORED_PHOTO in data:
            return
        sizes = message.get("photo")
        sender = message.get("from")
        if not sizes or not isinstance(sender, dict):
            return
        # Telegram lists the sizes smallest first: the largest one within the limit.
        fitting = [s for s in sizes if int(s.get("file_size") or 0) <= PHOTO_LIMIT]
        if not fitting:
            return
        size = fitting[-1]
        try:
            file = await self.bot.get_file(size["file_id"])
            if file.file_size is not None and file.file_size > PHOTO_LIMIT:
                return
            content = bytes(await file.download_as_bytearray())
            data[STORED_PHOTO] = await self.photos.keep(
                f"{PLATFORM}:{sender['id']}", content, size["file_id"], size["file_unique_id"]
            )
        except Exception as error:  # Telegram or the store: the photo stays on Telegram
            log.warning("A photo could not be fetched: %s", type(error).__name__)

    async def _fetch_document(self, data: dict[str, Any]) -> None:
        """A sent file's bytes into the store before its update is kept, as for photos; one
        too large, or that Telegram would not give, is asked for again when it is handled."""
        message = data.get("message")
        if self.photos is None or not isinstance(message, dict) or STORED_DOCUMENT in data:
            return
        document = message.get("document")
        sender = message.get("from")
        if not isinstance(document, dict) or not isinstance(sender, dict):
            return
        if int(document.get("file_size") or 0) > MAX_FILE:
            return
        try:
            file = await self.bot.get_file(document["file_id"])
            if file.file_size is not None and file.file_size > MAX_FILE:
                return
            content = bytes(await file.download_as_bytearray())
            data[STORED_DOCUMENT] = await self.photos.keep_document(
                f"{PLATFORM}:{sender['id']}", content
            )
        except Exception as error:  # Telegram or the store: the handler asks for it again
            log.warning("A file could not be fetched: %s", type(error).__name__)

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]:
        """The neutral message, and the callback query to answer if it was a button."""
        kept = payload.get(STORED_PHOTO)
        kept_document = payload.get(STORED_DOCUMENT)
        update = Update.de_json(
            {k: v for k, v in payload.items() if k not in (STORED_PHOTO, STORED_DOCUMENT)},
            self.bot,
        )
        query_id = update.callback_query.id if update.callback_query else None
        incoming = to_incoming(update)
        if incoming is not None and incoming.photo is not None and isinstance(kept, str):
            incoming = dataclasses.replace(incoming, photo=kept)
        if incoming is not None and incoming.document is not None:
            # Only a kept file can be read while handling; a raw file id reads as "send again".
            reference = kept_document if isinstance(kept_document, str) else ""
            incoming = dataclasses.replace(incoming, document=reference)
        return incoming, query_id

    async def answer_button(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as e:  # too old, or answered by another process: harmless
            log.info("callback answer skipped: %s", type(e).__name__)

    # --- sending ------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, done: int, went: PartsSent) -> str | None:
        """Send the parts of a reply after the first ``done``, telling ``went`` after each;
        return the message_id of the last part (the one with the buttons).

        Raises Undeliverable (for good), RetryLater (429) or anything else (try again later).
        """
        parts = reply_parts(self.bot, self.photos, int(chat_id), reply)
        last: object = None
        for index in range(done, len(parts)):
            try:
                last = await parts[index]()
            except RetryAfter as e:
                raise RetryLater(_seconds(e.retry_after)) from None
            except Forbidden as e:
                raise Undeliverable("Forbidden: " + e.message, blocked=True) from None
            except BadRequest as e:
                raise Undeliverable("BadRequest: " + e.message) from None
            if index + 1 < len(parts):
                await went(index + 1)
        message_id = getattr(last, "message_id", None)
        if message_id is None:
            return None
        # A photo or a file has a caption, not a text: an edit then changes only its buttons.
        has_text = getattr(last, "text", None) is not None
        return str(message_id) if has_text else str(message_id) + CAPTION_MARK

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool:
        """editMessageText (the text and the buttons); a message with a caption (a photo, a
        file) loses its buttons only. False when Telegram will not edit it (too old, gone)."""
        number = message_ref.removesuffix(CAPTION_MARK)
        if not number.isdecimal():
            return False
        chat, message_id, markup = int(chat_id), int(number), keyboard(reply)
        try:
            if message_ref.endswith(CAPTION_MARK):
                await self.bot.edit_message_reply_markup(
                    chat_id=chat, message_id=message_id, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(
                    cut_text(reply.text)[0],
                    chat_id=chat,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
        except RetryAfter as e:
            raise RetryLater(_seconds(e.retry_after)) from None
        except Forbidden as e:
            raise Undeliverable("Forbidden: " + e.message, blocked=True) from None
        except BadRequest as e:
            if "not modified" in e.message:
                return True  # it already reads so
            log.info("edit skipped: %s", e.message)
            return False
        return True


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)

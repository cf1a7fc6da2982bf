"""The WeChat adapter: a service account's callbacks into the inbox, replies out as
customer-service messages within the 48-hour window, else as a template notification.

Callbacks are checked (signature, freshness, safe-mode decryption) and kept before WeChat hears
"success"; sending never blocks the loop (aiohttp) and ends in the shared send outcomes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.database import reading
from bot.photo_store import PhotoStore
from bot.sending import RetryLater, Undeliverable
from bot.settings import Settings, WeChatSettings
from bot.wechat_api import ApiRefused, WeChatApi
from bot.wechat_crypto import Refused, decrypted, fields, signed
from bot.wechat_menus import TAGS, comparable, kind_of, menus
from bot.wechat_text import (
    MAX_MENU_HEAD_BYTES,
    MAX_MENU_ITEMS,
    answered_choice,
    choices,
    cut,
    numbered,
    one_line,
    phone_number,
    plain,
    size,
)
from bot.wechat_updates import (
    PLATFORM as PLATFORM,
)
from bot.wechat_updates import (
    PRESSED,
    STORED_PHOTO,
    TYPED_PHONE,
    chat_key,
    to_incoming,
    update_id,
)
from handlers.i18n import Translator, pick_locale
from handlers.messages import Button, Incoming, Reply
from handlers.turn import Config
from models.clock import Clock
from models.directory import person_by_identity
from models.errors import N_
from models.inbox import store_update
from models.invites import building_of_invite
from models.outbox import chats_of, mark_unreachable, queue_message
from models.people import Person
from models.photos import stored_photo_id
from models.reply_window import (
    LastQuestion,
    already_kept,
    chat_locale,
    last_heard,
    last_question,
)
from models.web_access import WEB, make_notice_code, web_identity

log = logging.getLogger("wishbot.wechat")

CALLBACK_PATH = "/wechat"
# A building's QR poster: /wechat/poster/<invite code> leads to WeChat's picture of it.
POSTER_PATH = "/wechat/poster"
SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
# WeChat's messages are a few kB; anything much larger is not from WeChat.
MAX_BODY = 256 * 1024
# A callback older (or newer) than this is a replay; its nonce is remembered as long.
FRESH = dt.timedelta(minutes=5)
# Customer-service messages may go this long after the person last wrote (WeChat: 48 hours);
# a margin, so a message claimed just inside does not reach WeChat just outside.
WINDOW = dt.timedelta(hours=48)
WINDOW_MARGIN = dt.timedelta(minutes=10)
# Errcodes: the person left or blocked the account; the window closed, or its 20 messages
# per message of theirs are used up (news then goes as a notification); slow down.
LEFT = {43004, 43019}
WINDOW_CLOSED = {45015, 45047}
SLOW_DOWN = {45009: 600.0, 45011: 60.0}
BUSY = {-1}
ANSWER_HINT = N_("Tap a choice, or reply with its number.")
NUMBER_HINT = N_("Reply with the number of your choice.")
# How long a callback waits for a photo's bytes (WeChat waits 5 s for its answer).
MEDIA_SECONDS = 3.5
# An image part's stored photo, until it is uploaded.
STORED = "stored"
PHONE_HINT = N_("To share your phone number, type it, for example 13800138000.")


@dataclass(frozen=True)
class ChatState:
    heard: dt.datetime | None
    person_id: int | None
    locale: str


class WeChatAdapter:
    platform = PLATFORM
    can_edit = False  # a sent message stays as it is: card edits are dropped, pickers come anew
    has_menus = True  # the account's menu, and one per kind of work by tag
    has_photos = True
    reply_window: dt.timedelta | None = WINDOW
    chat_interval = dt.timedelta(0)  # counted per message the person sent, not per second

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        assert settings.wechat is not None
        self.settings = settings
        self.account: WeChatSettings = settings.wechat
        self.sessions = sessions
        self.clock = clock
        self.photos = PhotoStore(sessions)
        self.api = WeChatApi(self.account, clock)
        self._wake = wake
        # Nonces of accepted callbacks within FRESH: a second use is a replay.
        self._nonces: dict[str, dt.datetime] = {}
        # Building posters' QR tickets (permanent codes: made once per invite).
        self._tickets: dict[str, str] = {}
        # The tag of each kind of menu (bot/wechat_menus.py), learnt at start.
        self._tag_ids: dict[str, int] = {}

    # --- start and stop ---------------------------------------------------------------------

    async def start(self) -> None:
        """Set the account's menu when it differs from ours (a menu is a comfort: a failure
        is logged, never a reason not to start)."""
        log.info(
            "Serving WeChat: the callback URL is %s%s (%s mode)",
            self.settings.public_address,
            CALLBACK_PATH,
            "safe" if self.account.aes_key else "plain",
        )
        try:
            await self._set_menus()
        except Exception as error:  # a menu is a comfort: never a reason not to start
            log.warning("WeChat's menu was not set: %s", type(error).__name__)

    async def _set_menus(self) -> None:
        """Everyone's menu and one per kind of work (by tag), set only when they differ."""
        tags = await self.api.tags()
        for name in TAGS.values():
            if name not in tags:
                tags[name] = await self.api.create_tag(name)
        self._tag_ids = {kind: tags[name] for kind, name in TAGS.items()}
        everyone, kinds = menus(Translator(self.settings.locale, self.settings.timezone))
        tagged = [
            {**kinds[kind], "matchrule": {"tag_id": str(tag_id)}}
            for kind, tag_id in self._tag_ids.items()
        ]
        current, conditional = await self.api.menus()
        if comparable(current) == comparable(everyone) and sorted(
            map(repr, map(comparable, conditional))
        ) == sorted(map(repr, map(comparable, tagged))):
            return
        await self.api.set_menu(everyone)
        for menu in tagged:
            await self.api.add_conditional_menu(menu)
        log.info("WeChat: the account menus were set.")

    async def stop(self) -> None:
        await self.api.close()

    def configure(self, config: Config) -> Config:
        """Handlers offer building posters' QR codes (/invite) at our poster page."""
        return dataclasses.replace(config, poster_url=self.settings.public_address + POSTER_PATH)

    async def listen(self, stopping: asyncio.Event) -> None:
        return None  # WeChat posts to our callback: nothing to fetch

    async def _retag(self, openid: str, jobs: tuple[Button, ...]) -> None:
        """The person's roles changed: their tag, so WeChat shows them their kind's menu."""
        kind = kind_of(jobs)
        for each, tag_id in self._tag_ids.items():
            try:
                await self.api.tag(openid, tag_id, on=each == kind)
            except ApiRefused as refused:
                raise _outcome(refused) from None

    # --- receiving ----------------------------------------------------------------------------

    def web_routes(self) -> list[web.RouteDef]:
        return [
            web.get(CALLBACK_PATH, self._handshake),
            web.post(CALLBACK_PATH, self._callback),
            web.get(POSTER_PATH + "/{code}", self._poster),
        ]

    async def _poster(self, request: web.Request) -> web.StreamResponse:
        """A building invite's QR code (its scan follows the account and drops the follower
        into the building): made once per code, then shown by WeChat's own page."""
        code = request.match_info["code"][:64]
        async with reading(self.sessions) as session:
            building = await building_of_invite(session, code)
        if building is None:
            raise web.HTTPNotFound()
        ticket = self._tickets.get(code)
        if ticket is None:
            try:
                ticket = await self.api.poster_ticket(code)
            except Exception as error:  # WeChat away or refusing: try again later
                log.warning("A WeChat poster code was not made: %s", type(error).__name__)
                return web.Response(status=503, text="WeChat did not answer; try again later.")
            self._tickets[code] = ticket
        raise web.HTTPFound(SHOW_QR + quote(ticket))

    def _authentic(self, request: web.Request) -> bool:
        """Signed with our token, and fresh: not older than FRESH, its nonce not seen before."""
        query = request.query
        stamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not signed(self.account.token, query.get("signature", ""), stamp, nonce):
            return False
        moment = self.clock.now()
        if not stamp.isdecimal() or len(stamp) > 12 or not nonce or len(nonce) > 64:
            return False
        sent = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        if abs(moment - sent) > FRESH or nonce in self._nonces:
            return False
        if len(self._nonces) > 10_000:
            self._nonces = {n: at for n, at in self._nonces.items() if moment - at < FRESH}
        self._nonces[nonce] = moment
        return True

    async def _handshake(self, request: web.Request) -> web.Response:
        """WeChat's check of the callback URL: echo echostr when the signature is ours."""
        if not self._authentic(request):
            return web.Response(status=403, text="forbidden")
        return web.Response(text=request.query.get("echostr", ""))

    async def _callback(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            return web.Response(status=403, text="forbidden")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > MAX_BODY:
                return web.Response(status=413, text="too large")
        try:
            xml = bytes(body).decode()
            if self.account.aes_key:
                query = request.query
                xml = decrypted(
                    self.account.token,
                    self.account.aes_key,
                    self.account.app_id,
                    xml,
                    query.get("msg_signature", ""),
                    query.get("timestamp", ""),
                    query.get("nonce", ""),
                )
            message = fields(xml)
        except (Refused, UnicodeDecodeError):
            return web.Response(status=400, text="not a WeChat message")
        try:
            kept = await self._keep(message)
        except Exception as error:  # the database: not "success", so WeChat sends it again
            log.warning("A WeChat message was not kept: %s", type(error).__name__)
            return web.Response(status=503, text="try again")
        if kept:
            self._wake()
        # Replies go through the outbox; WeChat only needs to hear it arrived.
        return web.Response(text="success")

    async def _keep(self, message: dict[str, str]) -> bool:
        """Keep a message in the inbox (once, whatever WeChat's retries); an unfollow marks
        the person unreachable here instead (nothing to answer)."""
        openid = message["FromUserName"]
        if message["MsgType"] == "event" and message.get("Event", "").lower() == "unsubscribe":
            await self._unfollowed(openid)
            return False
        if to_incoming(message) is None:
            # Nothing to answer (a link opened from the menu, a location report): not kept,
            # and it does not open the reply window either.
            return False
        ident = update_id(message)
        async with reading(self.sessions) as session:
            if await already_kept(session, PLATFORM, ident):
                return False  # WeChat's retry: handled once
            asked = (
                await last_question(session, PLATFORM, openid)
                if message["MsgType"] == "text"
                else LastQuestion([])
            )
        payload: dict[str, Any] = dict(message)
        text = message.get("Content", "")
        index = answered_choice(text, message.get("bizmsgmenuid"), len(asked.choices))
        if index is not None:
            payload[PRESSED] = asked.choices[index][1]
            payload["label"] = asked.choices[index][0]
        elif asked.asks_phone and phone_number(text):
            # WeChat cannot share a contact: a number typed for the phone question is one.
            payload[TYPED_PHONE] = phone_number(text)
        if message["MsgType"] == "image" and message.get("MediaId"):
            await self._fetch_photo(openid, message["MediaId"], payload)
        async with self.sessions.begin() as session:
            return await store_update(session, PLATFORM, ident, chat_key(openid), payload)

    async def _fetch_photo(self, openid: str, media_id: str, payload: dict[str, Any]) -> None:
        """The photo's bytes into the store before the message is kept (no transaction waits
        on WeChat, whose media lasts three days): the message then carries the reference."""
        try:
            # WeChat waits 5 seconds for "success", then sends the message again.
            async with asyncio.timeout(MEDIA_SECONDS):
                content = await self.api.media(media_id)
            payload[STORED_PHOTO] = await self.photos.keep_sent(chat_key(openid), content)
        except Exception as error:  # WeChat or the store: the person is asked to send it again
            log.warning("A WeChat photo could not be fetched: %s", type(error).__name__)

    async def _unfollowed(self, openid: str) -> None:
        """Unfollowing: WeChat will take no message to them; if WeChat was their only way,
        broadcasts and reminders skip them until they write again (anywhere)."""
        async with self.sessions.begin() as session:
            person = await person_by_identity(session, PLATFORM, openid)
            if person is None:
                return
            if {platform for platform, _ in await chats_of(session, person.id)} == {PLATFORM}:
                await mark_unreachable(session, person.id)

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]:
        return to_incoming(payload), None

    async def answer_button(self, query_id: str) -> None:
        return None

    # --- sending ------------------------------------------------------------------------------

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool:
        return False

    async def send(
        self, chat_id: str, reply: Reply, done: int, went: Callable[[int], Awaitable[None]]
    ) -> str | None:
        """Within the window, customer-service messages (``went`` after each part); outside
        it, or when WeChat says it closed, one template notification with a sign-in link.

        Raises Undeliverable (for good), RetryLater (slow down) or anything else (try later).
        """
        if reply.menu is not None:
            await self._retag(chat_id, reply.menu.jobs)
            if not reply.text:
                return None
        state = await self._chat_state(chat_id)
        t = Translator(state.locale, self.settings.timezone)
        moment = self.clock.now()
        if state.heard is not None and moment - state.heard < WINDOW - WINDOW_MARGIN:
            parts = await self._parts(chat_id, reply, t)
            try:
                for index in range(done, len(parts)):
                    part = await self._uploaded(parts[index])
                    if part is not None:
                        await self.api.send_custom(part)
                    if index + 1 < len(parts):
                        await went(index + 1)
                return None
            except ApiRefused as refused:
                if refused.errcode not in WINDOW_CLOSED:
                    raise _outcome(refused) from None
        await self._notify(chat_id, reply, state, t, done, went)
        return None

    async def _chat_state(self, openid: str) -> ChatState:
        async with reading(self.sessions) as session:
            heard = await last_heard(session, PLATFORM, chat_key(openid))
            person = await person_by_identity(session, PLATFORM, openid)
            chosen = await chat_locale(session, PLATFORM, openid)
        locale = pick_locale(
            person.locale if person is not None else None, chosen, default=self.settings.locale
        )
        return ChatState(heard, person.id if person is not None else None, locale)

    async def _parts(self, openid: str, reply: Reply, t: Translator) -> list[dict[str, Any]]:
        """The customer-service messages one reply takes, in order."""
        parts: list[dict[str, Any]] = []
        if reply.photo is not None and stored_photo_id(reply.photo) is not None:
            # Uploaded when its turn comes (a retry after it went does not upload it again).
            parts.append({"touser": openid, "msgtype": "image", "image": {STORED: reply.photo}})
        text = plain(reply.text)
        if reply.document is not None:
            text += "\n" + plain(
                t(
                    "WeChat cannot carry files: ask for it again in the web chat: {url}",
                    url=self._web_url(),
                )
            )
        if reply.ask_phone:
            text += "\n\n" + plain(t(PHONE_HINT))
        buttons = choices(reply.buttons)
        if len(buttons) > MAX_MENU_ITEMS:
            lines = "\n".join(numbered(buttons))
            text = f"{text}\n\n{lines}\n{plain(t(NUMBER_HINT))}"
            buttons = []
        pieces = [p for p in cut(text) if p.strip()] if text.strip() else []
        head = ""
        if buttons and pieces and size(pieces[-1]) <= MAX_MENU_HEAD_BYTES:
            head = pieces.pop()
        parts += [_text(openid, piece) for piece in pieces]
        if buttons:
            items = [
                {"id": str(n), "content": label} for n, label in enumerate(numbered(buttons), 1)
            ]
            menu = {
                "head_content": head or "⬇",
                "list": items,
                "tail_content": plain(t(ANSWER_HINT)),
            }
            parts.append({"touser": openid, "msgtype": "msgmenu", "msgmenu": menu})
        return parts

    async def _uploaded(self, part: dict[str, Any]) -> dict[str, Any] | None:
        """The part with its stored photo uploaded; None when the photo is gone (erased)."""
        reference = part.get("image", {}).get(STORED)
        if reference is None:
            return part
        photo = await self.photos.read(reference)
        if photo is None:
            return None
        media_id = await self.api.upload_image(photo.content, photo.content_type)
        return {**part, "image": {"media_id": media_id}}

    def _web_url(self) -> str:
        return self.settings.public_address + "/chat"

    async def _notify(
        self,
        openid: str,
        reply: Reply,
        state: ChatState,
        t: Translator,
        done: int,
        went: Callable[[int], Awaitable[None]],
    ) -> None:
        """The news in one line, linking into the web chat with a one-time sign-in; the web
        chat gets the whole message (its buttons too) first, so the link leads to it. Two
        parts: a retry after the first sends only the notification."""
        template = self.account.news_template
        if template is None:
            raise Undeliverable("outside WeChat's 48-hour window, and no news template is set")
        url = self._web_url()
        if state.person_id is not None:
            async with self.sessions.begin() as session:
                person = await session.get(Person, state.person_id)
                if person is not None:
                    code = await make_notice_code(session, person)
                    url = f"{self.settings.public_address}/in/{code}"
                    if done == 0:
                        await queue_message(
                            session,
                            platform=WEB,
                            chat_id=await web_identity(session, person),
                            payload=reply.to_json(),
                            person_id=person.id,
                        )
            if done == 0:
                await went(1)
        message = {
            "touser": openid,
            "template_id": template,
            "url": url,
            "data": {
                "first": {"value": plain(t("News from Small Wishes"))},
                "keyword1": {"value": one_line(reply.text) or plain(t("News from Small Wishes"))},
                "keyword2": {"value": plain(t.when(self.clock.now()))},
                "remark": {"value": plain(t("Tap here to read it and answer in the web chat."))},
            },
        }
        try:
            await self.api.send_template(message)
        except ApiRefused as refused:
            raise _outcome(refused) from None


def _text(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def _outcome(refused: ApiRefused) -> Exception:
    """An errcode as the shared outcomes: for good, slow down, or (anything else) try later."""
    code = refused.errcode
    if code in LEFT:
        return Undeliverable(str(refused), blocked=True)
    if code in SLOW_DOWN:
        return RetryLater(SLOW_DOWN[code])
    if code in BUSY:
        return refused  # WeChat is busy: the row waits, as in an outage
    return Undeliverable(str(refused))

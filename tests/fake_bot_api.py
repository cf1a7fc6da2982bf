"""A local fake Telegram Bot API server for end-to-end tests of the real python-telegram-bot.

It records every call, scripts users who send updates, and enforces the Bot API rules that matter;
it can hold a call in flight (hold_next) and play faults: 5xx, a hang, a cut connection, a failure
on the n-th call, a long outage (fail_next, fail_nth, outage; see Fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

JSON = dict[str, Any]
Clock = Callable[[], float]
T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456

#: Form / multipart fields that always stay strings (everything else is JSON-decoded if it can be).
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "file_id",
        "action",
        "language_code",
        "ip_address",
        "inline_message_id",
        "business_connection_id",
        "photo",
        "document",
        "sticker",
        "message_effect_id",
        "emoji",
    }
)
#: Fields that carry JSON even inside a JSON body (Telegram accepts them as JSON strings).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
#: Methods that count against flood limits.
RATE_LIMITED = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ATTR_RE = re.compile(r"""([A-Za-z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """A Telegram-style error answer: status code, description, optional parameters."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        violation: bool = True,
        parameters: JSON | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters


def _chat_number(chat_id: object) -> int | None:
    """A request's chat_id as a number (PTB sends what it was given: a number or its text)."""
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return None


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Call:
    """One request the bot made; ``status``/``response`` are filled in once it was answered."""

    method: str
    params: JSON
    time: float
    status: int | None = None
    response: JSON | None = None
    #: The tag of the base URL the client used (see ``FakeBotApi.base_url_for``), if any.
    client: str | None = None
    #: The client hung up while the request was held: it was never carried out nor answered.
    abandoned: bool = False
    #: The fault played instead of an answer (a status, "hang" or "drop"), if any.
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class Hold:
    """A request kept waiting by ``FakeBotApi.hold_next``: provably in flight until released.

    ``arrived`` is set when the request is in (``call`` is then set), ``done`` when it was
    released or abandoned. If its client hangs up first, ``client_gone`` is set and the call
    is abandoned: never carried out nor answered, as if it had not reached Telegram (releasing
    it afterwards changes nothing).
    """

    def __init__(self, method: str, chat_id: int | None = None) -> None:
        self.method = method
        self.chat_id = chat_id  # only a request to this chat, if given
        self.call: Call | None = None
        self.arrived = asyncio.Event()
        self.client_gone = asyncio.Event()
        self.done = asyncio.Event()
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()


class Fault:
    """A trouble the server plays instead of answering: see ``FakeBotApi.fail_next``/``outage``.

    ``status`` (5xx, 429...) answers as Telegram does ({"ok": false, "error_code": ...});
    ``HANG`` keeps the request until the client gives up (a timeout; never carried out);
    ``DROP`` cuts the connection without an answer (a network error; never carried out).
    """

    HANG = -1
    DROP = -2

    def __init__(
        self,
        kind: int = 502,
        *,
        methods: Iterable[str] | None = None,
        times: int | None = None,
        nth: int | None = None,
        until: float | None = None,
    ) -> None:
        self.kind = kind
        self.methods = frozenset(methods) if methods is not None else None
        self.remaining = times  # None: until ended (or ``until`` passes on the server clock)
        self.nth = nth  # fail only the nth matching call (1-based) counted from now
        self.until = until
        self.seen = 0
        self.played = 0
        self.ended = False

    def end(self) -> None:
        """The trouble is over: calls are answered normally again."""
        self.ended = True

    def matches(self, method: str, clock: float) -> bool:
        """Live and about this method: the call counts towards ``nth``."""
        if self.ended or (self.until is not None and clock >= self.until):
            return False
        return self.methods is None or method in self.methods

    def due(self) -> bool:
        """Whether this fault plays on the call just counted."""
        return self.nth is None or self.seen == self.nth

    def play(self) -> None:
        self.played += 1
        if self.nth is not None:
            self.ended = True
        elif self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.ended = True


@dataclass(frozen=True)
class Violation:
    """A request that broke a Bot API rule (and got an error answer)."""

    method: str
    description: str
    params: JSON = field(compare=False, default_factory=dict)


@dataclass
class Limits:
    """Flood limits; ``None`` switches one off. Only successful sends count."""

    per_chat_per_second: float | None = 1
    global_per_second: float | None = 30


@dataclass
class SentMessage:
    """A bot message as the user currently sees it (edits applied)."""

    chat_id: int
    message_id: int
    text: str | None
    caption: str | None
    buttons: list[list[tuple[str, str | None]]]
    keyboard: list[list[str]] | None
    photo: str | None
    document: str | None
    document_name: str | None
    parse_mode: str | None
    edited: bool
    deleted: bool
    raw: JSON

    @property
    def button_data(self) -> list[str]:
        return [data for row in self.buttons for _, data in row if data is not None]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Message:
    json: JSON
    from_bot: bool
    params: JSON = field(default_factory=dict)
    keyboard: list[list[str]] | None = None
    deleted: bool = False


@dataclass
class _Chat:
    json: JSON
    messages: dict[int, _Message] = field(default_factory=dict)
    next_message_id: int = 1


class HtmlError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into plain text and entities, as the Bot API does.

    Raises HtmlError with a Telegram-like message for unsupported or unbalanced tags.
    """
    out: list[str] = []
    offset = 0  # UTF-16 offset of the plain text produced so far
    stack: list[tuple[str, int, JSON]] = []
    entity: JSON
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "<":
            byte_offset = len(source[:i].encode())
            end = source.find(">", i)
            if end < 0:
                raise HtmlError(f"Can't find end of the tag starting at byte offset {byte_offset}")
            inner = source[i + 1 : end]
            i = end + 1
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise HtmlError(f"Unexpected end tag at byte offset {byte_offset}")
                open_name, start, entity = stack.pop()
                if name != open_name:
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {byte_offset}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if offset > start and entity:
                    entities.append({**entity, "offset": start, "length": offset - start})
                continue
            parts = inner.split(None, 1)
            name = parts[0].lower() if parts else ""
            if name not in HTML_TAGS or inner.endswith("/"):
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            attrs = {
                m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                for m in ATTR_RE.finditer(parts[1] if len(parts) > 1 else "")
            }
            entity = {"type": HTML_TAGS[name]}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HtmlError('Tag "span" must have class "tg-spoiler"')
            if name == "a":
                if "href" in attrs:
                    entity["url"] = attrs["href"]
                else:
                    entity = {}
            if name == "blockquote" and "expandable" in attrs:
                entity["type"] = "expandable_blockquote"
            if name == "code" and stack and stack[-1][0] == "pre":
                language = attrs.get("class", "")
                if language.startswith("language-"):
                    stack[-1][2]["language"] = language.removeprefix("language-")
            stack.append((name, offset, entity))
            continue
        if ch == "&":
            match = ENTITY_RE.match(source, i)
            if match:
                ref = match.group(1)
                char: str | None
                if ref.startswith(("#x", "#X")):
                    char = chr(int(ref[2:], 16))
                elif ref.startswith("#"):
                    char = chr(int(ref[1:]))
                else:
                    char = NAMED_ENTITIES.get(ref)
                if char is not None:
                    out.append(char)
                    offset += utf16_len(char)
                    i = match.end()
                    continue
        if ch == ">":
            byte_offset = len(source[:i].encode())
            raise HtmlError(f'Unexpected ">" at byte offset {byte_offset}')
        out.append(ch)
        offset += utf16_len(ch)
        i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


class FakeUser:
    """A scripted Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        server: FakeBotApi,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code

    @property
    def chat_id(self) -> int:
        return self.id

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    # -- what the user does ------------------------------------------------------------------

    def send(self, text: str) -> int:
        """Send a text message; a leading "/word" gets a bot_command entity. Returns message_id."""
        extra: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return self._send_message(extra)

    def send_photo(
        self, file_id: str | None = None, caption: str | None = None, content: bytes | None = None
    ) -> int:
        """Send a photo (three sizes, each ``content``); the largest has ``file_id`` if given."""
        sizes = self.server._make_photo_sizes(content or FAKE_JPEG, largest_file_id=file_id)
        extra: JSON = {"photo": sizes}
        if caption is not None:
            extra["caption"] = caption
        return self._send_message(extra)

    def send_document(
        self, content: bytes = b"hello", file_name: str = "file.txt", mime_type: str = "text/plain"
    ) -> int:
        stored = self.server._store_file(content, "documents", file_name, mime_type)
        return self._send_message({"document": self.server._document_json(stored)})

    def send_sticker(self, emoji: str = "👍") -> int:
        stored = self.server._store_file(b"RIFF-fake-webp", "stickers", "sticker.webp", None)
        sticker: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.content),
        }
        return self._send_message({"sticker": sticker})

    def send_contact(self, phone: str, *, own: bool = True) -> int:
        """Share a contact; ``own=True`` (the default) shares the user's own number."""
        contact: JSON = {"phone_number": phone, "first_name": self.first_name}
        if own:
            contact["user_id"] = self.id
        return self._send_message({"contact": contact})

    def send_location(self, latitude: float, longitude: float) -> int:
        return self._send_message({"location": {"latitude": latitude, "longitude": longitude}})

    def press(self, callback_data: str, message_id: int | None = None) -> str:
        """Press an inline button that the bot really showed; returns the callback query id.

        Without ``message_id`` the latest bot message in this chat having that button is used.
        Raises LookupError if no such button is on screen.
        """
        chat = self.server._chat(self.id)
        if message_id is not None:
            if message_id not in chat.messages:
                raise LookupError(f"no message {message_id} in chat {self.id}")
            candidates = [chat.messages[message_id]]
        else:
            candidates = [chat.messages[key] for key in sorted(chat.messages, reverse=True)]
        for message in candidates:
            if message.from_bot and not message.deleted and callback_data in _button_data(message):
                return self.server._callback_query(self, message, callback_data)
        raise LookupError(f"no bot message in chat {self.id} has a button {callback_data!r}")

    def press_forged(self, data: str, message_id: int | None = None) -> str:
        """Send a callback query with arbitrary data (as a modified client could)."""
        chat = self.server._chat(self.id)
        bot_messages = [m for m in chat.messages.values() if m.from_bot]
        if message_id is not None:
            bot_messages = [m for m in bot_messages if m.json["message_id"] == message_id]
        if not bot_messages:
            raise LookupError(f"no bot message to press on in chat {self.id}")
        message = max(bot_messages, key=lambda m: int(m.json["message_id"]))
        return self.server._callback_query(self, message, data)

    # -- what the user sees ------------------------------------------------------------------

    def messages(self) -> list[SentMessage]:
        return self.server.sent_to(self.id)

    def last_message(self) -> SentMessage | None:
        return self.server.last_message(self.id)

    def _send_message(self, extra: JSON) -> int:
        message = self.server._new_message(self.id, from_json=self.to_json(), extra=extra)
        self.server.add_update({"message": message})
        return int(message["message_id"])


def _button_data(message: _Message) -> list[str]:
    markup = message.json.get("reply_markup") or {}
    return [
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


class FakeBotApi:
    """A fake Bot API server. Use as ``async with FakeBotApi() as server:``.

    Webhook delivery is explicit: after ``setWebhook``, queued updates are POSTed only when the
    test awaits ``server.deliver_webhook()``; getUpdates answers 409 while a webhook is set.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        limits: Limits | None = None,
        bot_username: str = "small_wishes_test_bot",
        bot_first_name: str = "Small Wishes",
    ) -> None:
        self.token = token
        self.clock = clock
        self.wall_clock = wall_clock
        self.limits = limits
        self.blocked: set[int] = set()
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else BOT_ID,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.users: dict[int, FakeUser] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self.webhook_attempts: list[tuple[JSON, int | None]] = []
        self.updates: list[JSON] = []  # queued, not yet confirmed
        self.issued_callbacks: dict[str, int] = {}  # callback query id -> user id
        self.answered_callbacks: set[str] = set()
        self._chats: dict[int, _Chat] = {}
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._sent: dict[object, deque[float]] = {}
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._holds: dict[str, Hold] = {}  # by method, until the request arrives
        self._all_holds: list[Hold] = []
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.port = 0

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    def base_url_for(self, client: str) -> str:
        """The same API under a tagged prefix: calls through it have ``call.client == client``.

        Lets a test tell several bot processes apart; the file URL is the prefix + "/file/bot".
        """
        return f"{self.root_url}/client/{client}/bot"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/client/{client}/bot{token}/{method}", self._handle)
        app.router.add_get("/client/{client}/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self) -> None:
        self._closing = False
        # Handler cancellation lets a held request see its client hang up; every other request
        # is shielded from it (see _handle), so it is carried out whether or not anyone listens.
        self._runner = web.AppRunner(
            self.make_app(), shutdown_timeout=1.0, access_log=None, handler_cancellation=True
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        for hold in self._all_holds:
            hold.release()
        self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- scripting -----------------------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """A scripted user (created once per id); its private chat becomes known to the bot."""
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        user = FakeUser(self, user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        self._chats[user_id] = _Chat(user.chat_json())
        return user

    def add_chat(self, chat: JSON) -> None:
        """Make a chat (e.g. a group: {"id": -100, "type": "group", "title": ...}) known."""
        self._chats.setdefault(int(chat["id"]), _Chat(dict(chat)))

    def add_update(self, update: JSON) -> int:
        """Queue a raw update (update_id is assigned unless given). Returns the update_id."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        for value in update.values():
            if isinstance(value, dict) and isinstance(value.get("chat"), dict):
                self.add_chat(value["chat"])
        self.updates.append(update)
        self._notify()
        return int(update["update_id"])

    def pending_updates(self) -> list[JSON]:
        return list(self.updates)

    def hold_next(self, method: str, chat_id: int | None = None) -> Hold:
        """Keep the next ``method`` request (to ``chat_id``, if given) un-answered (and not
        carried out) until released."""
        if method in self._holds:
            raise RuntimeError(f"a {method} request is already held")
        hold = Hold(method, chat_id)
        self._holds[method] = hold
        self._all_holds.append(hold)
        return hold

    # -- faults ------------------------------------------------------------------------------
    #
    # A fault applies to calls made after it is added; the first live fault that matches a call
    # plays instead of the answer, and the call is not carried out (nothing is sent).

    def fail_next(self, method: str, times: int = 1, kind: int = 502) -> Fault:
        """The next ``times`` calls of ``method`` fail with ``kind`` (a status, HANG or DROP)."""
        return self._add_fault(Fault(kind, methods=[method], times=times))

    def fail_nth(self, method: str, nth: int, kind: int = 502) -> Fault:
        """Only the ``nth`` call of ``method`` from now (1 = the next one) fails."""
        return self._add_fault(Fault(kind, methods=[method], nth=nth))

    def outage(
        self, kind: int = 502, *, methods: Iterable[str] | None = None, until: float | None = None
    ) -> Fault:
        """Every call (of ``methods``, default all) fails until ``fault.end()`` or, if given,
        until the server clock reaches ``until``."""
        return self._add_fault(Fault(kind, methods=methods, until=until))

    def _add_fault(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def _fault_for(self, method: str) -> Fault | None:
        moment = self.clock()
        chosen: Fault | None = None
        for fault in self._faults:
            if fault.matches(method, moment):
                fault.seen += 1  # every live fault counts the call, whichever plays
                if chosen is None and fault.due():
                    chosen = fault
        if chosen is not None:
            chosen.play()
        return chosen

    async def _play(self, fault: Fault, request: web.Request, call: Call) -> web.StreamResponse:
        if fault.kind == Fault.HANG:
            call.fault = "hang"
            hang = Hold(call.method)
            self._all_holds.append(hang)
            await self._held(hang, call)  # until the client hangs up (or the server stops)
            raise ConnectionResetError("the fake server hung")
        if fault.kind == Fault.DROP:
            call.fault = "drop"
            if request.transport is not None:
                request.transport.abort()
            self._notify()
            raise ConnectionResetError("the fake server dropped the connection")
        call.fault = str(fault.kind)
        description = {
            429: "Too Many Requests: retry after 1",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }.get(fault.kind, "Error")
        body: JSON = {"ok": False, "error_code": fault.kind, "description": description}
        if fault.kind == 429:
            body["parameters"] = {"retry_after": 1}
        call.status, call.response = fault.kind, body
        self._notify()
        return web.json_response(body, status=fault.kind)

    def unanswered_callbacks(self) -> list[str]:
        return [qid for qid in self.issued_callbacks if qid not in self.answered_callbacks]

    # -- inspection ----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, in their current (edited) state."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [
            _sent_message(chat_id, message)
            for _, message in sorted(chat.messages.items())
            if message.from_bot and (include_deleted or not message.deleted)
        ]

    def last_message(self, chat_id: int) -> SentMessage | None:
        sent = self.sent_to(chat_id)
        return sent[-1] if sent else None

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 10,  # noqa: ASYNC109 - the documented test-helper signature
        *,
        since: int = 0,
        answered: bool = True,
    ) -> Call:
        """Wait for the first call (index >= ``since``) matching ``predicate``, and return it.

        By default only answered calls count (so ``call.status``/``call.response`` are set);
        ``answered=False`` also sees calls still in flight, e.g. a long-polling getUpdates.
        Use ``since=len(server.calls)`` to ignore calls made before an action.
        """

        def find() -> Call | None:
            for call in itertools.islice(self.calls, since, None):
                if (call.status is not None or not answered) and predicate(call):
                    return call
            return None

        try:
            return await self._wait(find, timeout)
        except TimeoutError:
            recent = [f"{c.method}({c.status})" for c in self.calls[-10:]]
            raise TimeoutError(
                f"no matching call within {timeout}s; last calls: {recent}"
            ) from None

    async def wait_until(
        self,
        probe: Callable[[], T | None],
        timeout: float = 10,  # noqa: ASYNC109 - as wait_for
    ) -> T:
        """Wait until ``probe()`` (re-checked after every call, answer and update) is not None.

        For conditions over many calls (counts); keep the probe cheap, e.g. incremental.
        """
        return await self._wait(probe, timeout)

    async def _wait(self, probe: Callable[[], T | None], seconds: float | None) -> T:
        """Wait (on the change event, set per call and per update) until probe() is not None."""
        async with asyncio.timeout(seconds):
            while True:
                event = self._changed
                found = probe()
                if found is not None:
                    return found
                await event.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- webhook -------------------------------------------------------------------------------

    async def deliver_webhook(self, attempts: int = 3, request_seconds: float = 10) -> int:
        """POST the queued updates, in order, to the webhook; returns how many were accepted.

        Each update is tried up to ``attempts`` times (non-200 or connection error means retry);
        if it still fails, delivery stops there and getWebhookInfo reports the last error.
        """
        if self.webhook_url is None:
            raise RuntimeError("no webhook is set")
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=request_seconds))
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        delivered = 0
        while self.updates and self.webhook_url is not None:
            update = self.updates[0]
            for _ in range(attempts):
                status: int | None = None
                try:
                    async with self._session.post(
                        self.webhook_url, data=json.dumps(update), headers=headers
                    ) as response:
                        status = response.status
                        await response.read()
                except (ClientError, TimeoutError) as exc:
                    self.webhook_last_error = (int(self.wall_clock()), f"Connection error: {exc}")
                self.webhook_attempts.append((update, status))
                if status == 200:
                    break
                if status is not None:
                    self.webhook_last_error = (
                        int(self.wall_clock()),
                        f"Wrong response from the webhook: {status}",
                    )
            else:
                return delivered
            self.updates.pop(0)
            delivered += 1
        return delivered

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content)
        return web.Response(status=404, text="Not Found")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        raw_method = request.match_info["method"]
        method = _METHOD_NAMES.get(raw_method.lower(), raw_method)
        try:
            params = await _read_params(request)
        except ValueError as error:
            params = {"_unparsable_body": str(error)}
        call = Call(method, params, self.clock(), client=request.match_info.get("client"))
        self.calls.append(call)
        self._notify()
        fault = self._fault_for(method)
        if fault is not None:
            return await self._play(fault, request, call)
        hold = self._holds.get(method)
        if hold is not None and hold.chat_id in (None, _chat_number(params.get("chat_id"))):
            del self._holds[method]
            await self._held(hold, call)
        return await asyncio.shield(self._answer(method, params, call))

    async def _answer(self, method: str, params: JSON, call: Call) -> web.StreamResponse:
        handler = _HANDLERS.get(method)
        try:
            if "_unparsable_body" in params:
                raise bad_request("can't parse request body")
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(self, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status = error.code
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            if error.violation:
                self.violations.append(Violation(method, error.description, params))
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status)

    async def _held(self, hold: Hold, call: Call) -> None:
        """Wait for the release; a client hanging up first cancels this, abandoning the call."""
        hold.call = call
        hold.arrived.set()
        try:
            await hold._released.wait()
        except asyncio.CancelledError:
            hold.client_gone.set()
            call.abandoned = True
            raise
        finally:
            hold.done.set()
            self._notify()

    # -- helpers used by the methods -------------------------------------------------------------

    def _chat(self, chat_id: object) -> _Chat:
        if isinstance(chat_id, int) and chat_id in self._chats:
            return self._chats[chat_id]
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                username = chat.json.get("username")
                if chat_id.lstrip("-").isdigit() and int(chat_id) == chat.json["id"]:
                    return chat
                if username and chat_id == f"@{username}":
                    return chat
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        raise bad_request("chat not found")

    def _target_chat(self, params: JSON) -> _Chat:
        chat = self._chat(params.get("chat_id"))
        chat_id = int(chat.json["id"])
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        return chat

    def _check_rate(self, method: str, chat_id: int) -> None:
        limits = self.limits
        if limits is None or method not in RATE_LIMITED:
            return
        now = self.clock()
        retry = 0.0
        windows: list[tuple[object, float | None]] = [
            (chat_id, limits.per_chat_per_second),
            ("*", limits.global_per_second),
        ]
        for key, per_second in windows:
            if per_second is None:
                continue
            sent = self._sent.setdefault(key, deque())
            while sent and sent[0] <= now - 1:
                sent.popleft()
            if len(sent) >= per_second:
                retry = max(retry, sent[0] + 1 - now)
        if retry > 0:
            seconds = max(1, math.ceil(retry))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {seconds}",
                violation=False,
                parameters={"retry_after": seconds},
            )
        for key, per_second in windows:
            if per_second is not None:
                self._sent[key].append(now)

    def _new_message(self, chat_id: int, *, from_json: JSON, extra: JSON) -> JSON:
        chat = self._chat(chat_id)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JSON = {
            "message_id": message_id,
            "from": from_json,
            "chat": dict(chat.json),
            "date": int(self.wall_clock()),
            **extra,
        }
        chat.messages[message_id] = _Message(message, from_bot=from_json.get("is_bot") is True)
        return message

    def _callback_query(self, user: FakeUser, message: _Message, data: str) -> str:
        query_id = str(4_000_000_000_000 + next(self._ids))
        self.issued_callbacks[query_id] = user.id
        self.add_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_json(),
                    "message": message.json,
                    "chat_instance": f"ci-{user.id}",
                    "data": data,
                }
            }
        )
        return query_id

    def _store_file(
        self, content: bytes, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._ids)
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        elif folder == "photos":
            suffix = ".jpg"
        stored = StoredFile(
            file_id=f"FILE-{folder}-{number}",
            file_unique_id=f"U{number}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _make_photo_sizes(self, content: bytes, largest_file_id: str | None = None) -> list[JSON]:
        sizes: list[JSON] = []
        for side in (90, 320, 800):
            stored = self._store_file(content, "photos", None, "image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": side,
                    "height": side,
                    "file_size": len(content),
                }
            )
        if largest_file_id is not None:
            biggest = self.files.pop(sizes[-1]["file_id"])
            biggest.file_id = largest_file_id
            self.files[largest_file_id] = biggest
            sizes[-1]["file_id"] = largest_file_id
        return sizes

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _input_file(self, value: object, folder: str) -> tuple[StoredFile | None, str | None]:
        """A file parameter: an upload, a known file_id, or an HTTP URL."""
        if isinstance(value, UploadedFile):
            return self._store_file(value.content, folder, value.filename, value.content_type), None
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value], None
            if value.startswith(("http://", "https://")):
                return None, value
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _find_message(self, params: JSON, action: str) -> _Message:
        chat = self._target_chat(params)
        message = chat.messages.get(_as_int(params.get("message_id")) or 0)
        if message is None or message.deleted:
            raise bad_request(f"message to {action} not found")
        if not message.from_bot and action == "edit":
            raise bad_request("message can't be edited")
        return message


@dataclass
class UploadedFile:
    filename: str | None
    content_type: str | None
    content: bytes


async def _read_params(request: web.Request) -> JSON:
    params: JSON = {}
    for key, text in request.query.items():
        params[key] = _decode_field(key, text)
    content_type = request.content_type
    if content_type == "application/json":
        body = await request.read()
        if body:
            loaded = json.loads(body)
            if isinstance(loaded, dict):
                for key, item in loaded.items():
                    is_json_string = key in JSON_FIELDS and isinstance(item, str)
                    params[key] = _decode_field(key, item) if is_json_string else item
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, part in form.items():
            if isinstance(part, web.FileField):
                params[key] = UploadedFile(part.filename, part.content_type, part.file.read())
            else:
                params[key] = _decode_field(key, str(part))
    return params


def _decode_field(key: str, value: str) -> object:
    if key in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _sent_message(chat_id: int, message: _Message) -> SentMessage:
    data = message.json
    markup = data.get("reply_markup") or {}
    buttons = [
        [(str(button.get("text", "")), button.get("callback_data")) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]
    photo = data.get("photo")
    document = data.get("document")
    return SentMessage(
        chat_id=chat_id,
        message_id=int(data["message_id"]),
        text=data.get("text"),
        caption=data.get("caption"),
        buttons=buttons,
        keyboard=message.keyboard,
        photo=photo[-1]["file_id"] if photo else None,
        document=document["file_id"] if document else None,
        document_name=document.get("file_name") if document else None,
        parse_mode=message.params.get("parse_mode"),
        edited="edit_date" in data,
        deleted=message.deleted,
        raw=data,
    )


# -- rule checks -----------------------------------------------------------------------------------


def _formatted(
    text: object, parse_mode: object, *, limit: int, what: str, empty_ok: bool = False
) -> tuple[str, list[JSON]]:
    """Apply parse_mode and check the length; returns the plain text and its entities."""
    if text is None or text == "":
        if empty_ok:
            return "", []
        raise bad_request("message text is empty")
    if not isinstance(text, str):
        text = str(text)
    entities: list[JSON] = []
    plain = text
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        try:
            plain, entities = parse_html(text)
        except HtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif parse_mode not in (None, "", "Markdown", "MarkdownV2"):
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if not plain.strip() and not empty_ok:
        raise bad_request("message text is empty")
    if len(plain) > limit:
        too_long = "message is too long" if what == "text" else "message caption is too long"
        raise bad_request(too_long)
    return plain, entities


def _check_markup(markup: object) -> tuple[JSON | None, list[list[str]] | None]:
    """Validate reply_markup; returns (inline markup to echo, reply-keyboard texts)."""
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                    raise bad_request("can't parse inline keyboard button: text is empty")
                actions = [key for key in BUTTON_ACTIONS if key in button]
                if len(actions) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "exactly one of the optional fields must be used"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not str(button["url"]).startswith(
                    ("http://", "https://", "tg://")
                ):
                    raise bad_request(
                        f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                    )
        return {"inline_keyboard": rows}, None
    if "keyboard" in markup:
        rows = markup["keyboard"]
        texts: list[list[str]] = []
        for row in rows:
            texts.append([])
            for button in row:
                label = button if isinstance(button, str) else button.get("text", "")
                if not str(label).strip():
                    raise bad_request("keyboard button text is empty")
                texts[-1].append(str(label))
        return None, texts
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return None, None
    raise bad_request("can't parse reply keyboard markup JSON object")


# -- the methods ---------------------------------------------------------------------------------


async def _get_me(server: FakeBotApi, params: JSON) -> object:
    return {
        **server.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def _get_updates(server: FakeBotApi, params: JSON) -> object:
    if server.webhook_url is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = _as_int(params.get("offset")) or 0
    limit = _as_int(params.get("limit")) or 100
    limit = min(max(limit, 1), 100)
    raw_timeout = params.get("timeout", 0)
    timeout = float(raw_timeout) if isinstance(raw_timeout, int | float | str) else 0.0
    if offset > 0:
        server.updates = [u for u in server.updates if u["update_id"] >= offset]
    elif offset < 0:
        server.updates = server.updates[offset:]
    server._poll_generation += 1
    generation = server._poll_generation
    server._notify()  # an older long poll is terminated, as Telegram does
    if not server.updates and timeout > 0 and not server._closing:

        def ready() -> bool | None:
            return (
                bool(server.updates)
                or server._closing
                or generation != server._poll_generation
                or None
            )

        with contextlib.suppress(TimeoutError):
            await server._wait(ready, timeout)
        if generation != server._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
                violation=False,
            )
    return server.updates[:limit]


async def _set_webhook(server: FakeBotApi, params: JSON) -> object:
    url = params.get("url") or ""
    if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
        raise bad_request("bad webhook: Webhook URL is invalid")  # http is allowed here, locally
    secret = params.get("secret_token")
    if secret is not None and not (isinstance(secret, str) and SECRET_RE.match(secret)):
        raise bad_request("secret token contains unallowed characters")
    if params.get("drop_pending_updates") is True:
        server.updates.clear()
    server.webhook_url = url or None
    server.webhook_secret = secret if url else None
    server._notify()
    return True


async def _delete_webhook(server: FakeBotApi, params: JSON) -> object:
    if params.get("drop_pending_updates") is True:
        server.updates.clear()
    server.webhook_url = None
    server.webhook_secret = None
    return True


async def _get_webhook_info(server: FakeBotApi, params: JSON) -> object:
    info: JSON = {
        "url": server.webhook_url or "",
        "has_custom_certificate": False,
        "pending_update_count": len(server.updates),
    }
    if server.webhook_url and server.webhook_last_error:
        info["last_error_date"], info["last_error_message"] = server.webhook_last_error
    if server.webhook_url:
        info["max_connections"] = 40
    return info


async def _send_message(server: FakeBotApi, params: JSON) -> object:
    chat = server._target_chat(params)
    text, entities = _formatted(
        params.get("text"), params.get("parse_mode"), limit=4096, what="text"
    )
    if entities == [] and isinstance(params.get("entities"), list):
        entities = list(params["entities"])
    inline, keyboard = _check_markup(params.get("reply_markup"))
    server._check_rate("sendMessage", int(chat.json["id"]))
    extra: JSON = {"text": text}
    if entities:
        extra["entities"] = entities
    if inline:
        extra["reply_markup"] = inline
    message = server._new_message(int(chat.json["id"]), from_json=server.bot_user, extra=extra)
    stored = chat.messages[message["message_id"]]
    stored.params, stored.keyboard = params, keyboard
    return message


async def _send_media(server: FakeBotApi, params: JSON, kind: str) -> object:
    method = "sendPhoto" if kind == "photo" else "sendDocument"
    chat = server._target_chat(params)
    caption, entities = _formatted(
        params.get("caption"), params.get("parse_mode"), limit=1024, what="caption", empty_ok=True
    )
    inline, keyboard = _check_markup(params.get("reply_markup"))
    stored_file, url = server._input_file(
        params.get(kind), "photos" if kind == "photo" else "documents"
    )
    server._check_rate(method, int(chat.json["id"]))
    extra: JSON = {}
    if kind == "photo":
        content = stored_file.content if stored_file else FAKE_JPEG
        reused = params.get(kind) if isinstance(params.get(kind), str) and stored_file else None
        extra["photo"] = server._make_photo_sizes(content, largest_file_id=reused)
    else:
        if stored_file is None:
            name = (url or "file").rsplit("/", 1)[-1] or "file"
            stored_file = server._store_file(b"downloaded", "documents", name, None)
        extra["document"] = server._document_json(stored_file)
    if caption:
        extra["caption"] = caption
        if entities:
            extra["caption_entities"] = entities
    if inline:
        extra["reply_markup"] = inline
    message = server._new_message(int(chat.json["id"]), from_json=server.bot_user, extra=extra)
    stored = chat.messages[message["message_id"]]
    stored.params, stored.keyboard = _printable(params), keyboard
    return message


async def _send_photo(server: FakeBotApi, params: JSON) -> object:
    return await _send_media(server, params, "photo")


async def _send_document(server: FakeBotApi, params: JSON) -> object:
    return await _send_media(server, params, "document")


def _printable(params: JSON) -> JSON:
    return {
        key: (f"<upload {value.filename}>" if isinstance(value, UploadedFile) else value)
        for key, value in params.items()
    }


async def _edit_message_text(server: FakeBotApi, params: JSON) -> object:
    if params.get("inline_message_id"):
        _formatted(params.get("text"), params.get("parse_mode"), limit=4096, what="text")
        _check_markup(params.get("reply_markup"))
        return True
    message = server._find_message(params, "edit")
    text, entities = _formatted(
        params.get("text"), params.get("parse_mode"), limit=4096, what="text"
    )
    inline, _ = _check_markup(params.get("reply_markup"))
    if "text" not in message.json:
        raise bad_request("there is no text in the message to edit")
    if (
        message.json["text"] == text
        and message.json.get("entities", []) == entities
        and message.json.get("reply_markup") == inline
    ):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    server._check_rate("editMessageText", int(message.json["chat"]["id"]))
    message.json["text"] = text
    _set_optional(message.json, "entities", entities)
    _set_optional(message.json, "reply_markup", inline)
    message.json["edit_date"] = int(server.wall_clock())
    message.params = params
    return message.json


async def _edit_message_reply_markup(server: FakeBotApi, params: JSON) -> object:
    if params.get("inline_message_id"):
        _check_markup(params.get("reply_markup"))
        return True
    message = server._find_message(params, "edit")
    inline, _ = _check_markup(params.get("reply_markup"))
    if message.json.get("reply_markup") == inline:
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    server._check_rate("editMessageReplyMarkup", int(message.json["chat"]["id"]))
    _set_optional(message.json, "reply_markup", inline)
    message.json["edit_date"] = int(server.wall_clock())
    return message.json


def _set_optional(target: JSON, key: str, value: object) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


async def _delete_message(server: FakeBotApi, params: JSON) -> object:
    message = server._find_message(params, "delete")
    message.deleted = True
    return True


async def _answer_callback_query(server: FakeBotApi, params: JSON) -> object:
    query_id = str(params.get("callback_query_id", ""))
    if query_id not in server.issued_callbacks or query_id in server.answered_callbacks:
        raise ApiError(400, QUERY_TOO_OLD)
    text = params.get("text")
    if isinstance(text, str) and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    server.answered_callbacks.add(query_id)
    return True


async def _get_file(server: FakeBotApi, params: JSON) -> object:
    stored = server.files.get(str(params.get("file_id", "")))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": stored.file_path,
    }


def _command_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


async def _set_my_commands(server: FakeBotApi, params: JSON) -> object:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be a list of at most 100 BotCommand")
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        if not isinstance(name, str) or not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    server.commands[_command_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def _get_my_commands(server: FakeBotApi, params: JSON) -> object:
    return server.commands.get(_command_key(params), [])


async def _delete_my_commands(server: FakeBotApi, params: JSON) -> object:
    server.commands.pop(_command_key(params), None)
    return True


async def _send_chat_action(server: FakeBotApi, params: JSON) -> object:
    server._target_chat(params)
    if params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def _true(server: FakeBotApi, params: JSON) -> object:
    return True


Handler = Callable[[FakeBotApi, JSON], Any]

_HANDLERS: Mapping[str, Handler] = {
    "getMe": _get_me,
    "getUpdates": _get_updates,
    "setWebhook": _set_webhook,
    "deleteWebhook": _delete_webhook,
    "getWebhookInfo": _get_webhook_info,
    "sendMessage": _send_message,
    "editMessageText": _edit_message_text,
    "editMessageReplyMarkup": _edit_message_reply_markup,
    "answerCallbackQuery": _answer_callback_query,
    "sendPhoto": _send_photo,
    "sendDocument": _send_document,
    "deleteMessage": _delete_message,
    "getFile": _get_file,
    "setMyCommands": _set_my_commands,
    "getMyCommands": _get_my_commands,
    "deleteMyCommands": _delete_my_commands,
    "sendChatAction": _send_chat_action,
    "close": _true,
    "logOut": _true,
}
_METHOD_NAMES = {name.lower(): name for name in _HANDLERS}


def known_methods() -> Iterable[str]:
    return sorted(_HANDLERS)

"""The web chat: the same conversations as on Telegram, through the same inbox and outbox.

A post is kept in the inbox and handled at once; the bot's replies are outbox rows for "web".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import handlers.flows  # noqa: F401  (registers the commands the menu lists)
from bot.database import reading
from bot.runtime import Runtime
from bot.web.json_body import BadJson, read_json
from bot.web.pages import problem, render
from bot.web.qr import qr_svg
from bot.web.server import VIEWER, T, Viewer, site_of
from handlers.menu import main_jobs
from handlers.messages import FileUnavailable, Incoming, Reply, Sender
from handlers.router import refusal_text
from models.errors import N_, StoreError
from models.photos import stored_photo_id
from models.text import MAX_ID, bounded_id
from models.web_access import (
    WEB,
    ChatLine,
    chat_document,
    chat_key,
    chat_lines,
    keep_document,
    keep_photo,
    last_bot_line,
    web_document,
    web_photo,
)

routes = web.RouteTableDef()
# Browsers pick a random id per message, so a retried post is kept once.
MAX_UPDATE_ID = 2**52
MAX_TEXT = 4000
MAX_BODY = 64 * 1024
# The small HTML subset handlers write (b, i, code); anything else is shown as text.
ALLOWED_TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")


class WebChat:
    """The adapter: the inbox payload is already ours; sending is keeping the row as sent."""

    can_edit = True  # the browser replaces the line (chat.js)
    has_menus = True  # the button bar
    has_photos = True
    reply_window: dt.timedelta | None = None
    chat_interval = dt.timedelta(0)  # a browser takes every line at once

    def __init__(self, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessions = sessions  # where files sent from the web are kept

    def parse(self, payload: dict[str, Any]) -> tuple[Incoming | None, str | None]:
        sender = Sender(WEB, payload["user"], payload.get("name", ""), payload.get("lang"))
        chat = payload["user"]
        if payload.get("button"):
            pressed = str(payload.get("message") or "")
            return Incoming(
                sender,
                chat,
                button=payload["button"],
                pressed_message=pressed if pressed.isdecimal() else None,
            ), None
        if payload.get("photo"):
            return Incoming(sender, chat, photo=payload["photo"], text=payload.get("text")), None
        if payload.get("document"):
            document = (payload["document"], payload.get("document_name") or "")
            return Incoming(sender, chat, document=document[0], document_name=document[1]), None
        if payload.get("phone"):
            return Incoming(sender, chat, phone=payload["phone"]), None
        text = payload.get("text") or ""
        if text.startswith("/") and len(text) > 1:
            name, *args = text[1:].split()
            return Incoming(sender, chat, text=text, command=name.lower(), args=tuple(args)), None
        return Incoming(sender, chat, text=text), None

    async def answer_button(self, query_id: str) -> None:
        return None

    async def fetch_file(self, reference: str) -> bytes:
        """A file sent from the web chat is in the store already."""
        if self.sessions is None:
            raise FileUnavailable("no store")
        async with reading(self.sessions) as session:
            content = await web_document(session, reference)
        if content is None:
            raise FileUnavailable("not found")
        return content

    async def send(
        self, chat_id: str, reply: Reply, done: int, went: Callable[[int], Awaitable[None]]
    ) -> str | None:
        # One part whatever the reply. The browser reads sent rows of its chat: marking the row sent is the delivery.
        return None  # a web message is known by its outbox row

    async def edit(self, chat_id: str, message_ref: str, reply: Reply) -> bool:
        # The row, once sent, tells the browser to redraw its line ``message_ref`` (edits_ref).
        return True


def attach(runtime: Runtime) -> None:
    runtime.adapters.setdefault(WEB, WebChat(runtime.app.sessions))


def safe_html(text: str) -> str:
    """Handlers escape every value; still, only the subset's own tags may pass as tags."""
    parts: list[str] = []
    last = 0
    for match in ALLOWED_TAG.finditer(text):
        parts.append(text[last : match.start()].replace("<", "&lt;").replace(">", "&gt;"))
        parts.append(match.group(0))
        last = match.end()
    parts.append(text[last:].replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


def photo_ref_sig(secret: bytes, file_id: int) -> str:
    return hmac.new(secret, f"photo:{file_id}".encode(), hashlib.sha256).hexdigest()[:20]


def photo_url(request: web.Request, ref: str | None) -> str | None:
    """A stored photo (sent on the web, or fetched from Telegram when it arrived); a Telegram
    file id the store never got (fetching failed) cannot be shown here."""
    file_id = stored_photo_id(ref)
    if file_id is None:
        return None
    # Signed, so a photo opens only for who was shown it, not by counting ids.
    return f"/files/{file_id}/{photo_ref_sig(site_of(request).secret, file_id)}"


def line_json(request: web.Request, line: ChatLine) -> dict[str, Any]:
    payload = line.payload
    if line.mine:
        return {
            "id": f"in{line.row_id}",
            "mine": True,
            "text": payload.get("label")
            or payload.get("text")
            or (f"📎 {payload.get('document_name') or ''}" if payload.get("document") else ""),
            "photo": photo_url(request, payload.get("photo")),
        }
    menu = payload.get("menu")
    if menu and not payload.get("text"):
        # Not a message: the person's main jobs changed; the page redraws its button bar.
        return {"id": f"out{line.row_id}", "mine": False, "menu": {"jobs": menu["jobs"]}}
    document = payload.get("document")
    edits = payload.get("edits_ref")
    return {
        "id": f"out{line.row_id}",
        # This line replaces an earlier one (its buttons are spent); the browser redraws it.
        "replaces": f"out{edits}" if edits else None,
        "mine": False,
        "html": safe_html(payload.get("text", "")),
        "buttons": payload.get("buttons", []),
        "photo": photo_url(request, payload.get("photo")),
        "document": {"name": document["filename"], "url": f"/chat/file/{line.row_id}"}
        if document
        else None,
        "ask_phone": payload.get("ask_phone"),
        # A collection code, drawn here as a QR code the partner can scan (our own SVG).
        "qr": qr_svg(payload["qr"], title=payload["qr"], scale=6) if payload.get("qr") else None,
    }


def _viewer(request: web.Request) -> Viewer:
    viewer: Viewer | None = request[VIEWER]
    if viewer is None:
        raise web.HTTPFound("/")
    return viewer


async def _lines(request: web.Request, viewer: Viewer, after_in: int, after_out: int) -> Any:
    site = site_of(request)
    async with reading(site.app.sessions) as session:
        lines = await chat_lines(session, viewer.external_id, after_in, after_out)
    return {
        "messages": [
            line_json(request, line)
            for line in lines
            # A card edit for a card this chat never got: nothing to show.
            if line.mine or not line.payload.get("edit_card") or line.payload.get("edits_ref")
        ]
    }


def _cursor(value: str | None) -> int:
    """Where the browser is in its chat; a number past any id means "nothing newer"."""
    if not value or not value.isdigit():
        return 0
    number = bounded_id(value)
    return MAX_ID if number is None else number


@routes.get("/chat/messages")
async def messages(request: web.Request) -> web.Response:
    viewer: Viewer | None = request[VIEWER]
    if viewer is None:
        return web.json_response({"signed_out": True}, status=401)
    query = request.query
    return web.json_response(
        await _lines(request, viewer, _cursor(query.get("in")), _cursor(query.get("out")))
    )


def _update_id(sent: dict[str, Any]) -> int | None:
    """The browser's own id for the message (a retry repeats it), when it is a sane one."""
    try:
        update_id = int(str(sent.get("id")))
    except ValueError:
        return None
    return update_id if 0 < update_id < MAX_UPDATE_ID else None


@routes.post("/chat/say")
async def say(request: web.Request) -> web.Response:
    """Keep what the person sent, handle it now and answer with what came back."""
    viewer: Viewer | None = request[VIEWER]
    t = request[T]
    if viewer is None:
        return web.json_response({"signed_out": True}, status=401)
    site = site_of(request)
    payload: dict[str, Any] = {"user": viewer.external_id, "name": viewer.name, "lang": t.locale}
    if request.content_type == "multipart/form-data":
        form = await request.post()
        sent: dict[str, Any] = {k: form.get(k) for k in ("id", "text", "in", "out")}
        upload = form.get("photo")
        sent_file = form.get("document")
        if not isinstance(upload, web.FileField) and not isinstance(sent_file, web.FileField):
            return web.json_response({"error": t(N_("Please choose a photo."))}, status=400)
        if _update_id(sent) is None:  # checked before the file is kept: nothing half-stored
            return web.json_response(
                {"error": t(N_("That message could not be read."))}, status=400
            )
        try:
            async with site.app.sessions.begin() as session:
                if isinstance(sent_file, web.FileField):
                    payload["document"] = await keep_document(
                        session, viewer.external_id, sent_file.file.read()
                    )
                    payload["document_name"] = str(sent_file.filename or "")[:200]
                elif isinstance(upload, web.FileField):
                    payload["photo"] = await keep_photo(
                        session, viewer.external_id, upload.content_type, upload.file.read()
                    )
        except StoreError as refused:
            return web.json_response({"error": refusal_text(t, refused)}, status=400)
        if sent.get("text"):
            payload["text"] = str(sent["text"])[:MAX_TEXT]
    else:
        try:
            sent = await read_json(request, max_bytes=MAX_BODY)
        except BadJson as refused:
            return web.json_response({"error": t(refused.key, **refused.params)}, status=400)
        if not isinstance(sent, dict):
            return web.json_response(
                {"error": t(N_("That message could not be read."))}, status=400
            )
        for key in ("text", "button", "label", "phone"):
            value = sent.get(key)
            if isinstance(value, str) and value.strip():
                payload[key] = value[:MAX_TEXT]
        pressed = sent.get("message")
        if isinstance(pressed, str) and pressed.isdecimal() and len(pressed) < 10:
            payload["message"] = pressed  # the line whose button was pressed
        if not any(k in payload for k in ("text", "button", "phone")):
            return web.json_response({"error": t(N_("Please type a message."))}, status=400)
    update_id = _update_id(sent)
    if update_id is None:
        return web.json_response({"error": t(N_("That message could not be read."))}, status=400)
    runtime = site.runtime
    async with reading(site.app.sessions) as session:
        payload["after_out"] = await last_bot_line(session, viewer.external_id)
    await runtime.keep_update(WEB, update_id, chat_key(viewer.external_id), payload)
    # Handled now, so the answer comes back in this response; the sweeps would get to it too.
    await runtime.handle_inbox()
    await runtime.send_outbox()
    return web.json_response(
        await _lines(request, viewer, _cursor(str(sent.get("in"))), _cursor(str(sent.get("out"))))
    )


@routes.get("/chat/file/{row_id:\\d{1,9}}")
async def document(request: web.Request) -> web.StreamResponse:
    viewer = _viewer(request)
    site = site_of(request)
    async with reading(site.app.sessions) as session:
        found = await chat_document(session, viewer.external_id, int(request.match_info["row_id"]))
    if found is None:
        return problem(request, 404, N_("There is no such file."))
    filename, content = found
    return web.Response(
        body=content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get("/files/{file_id:\\d{1,9}}/{sig}")
async def photo(request: web.Request) -> web.StreamResponse:
    _viewer(request)
    site = site_of(request)
    file_id = int(request.match_info["file_id"])
    if not hmac.compare_digest(photo_ref_sig(site.secret, file_id), request.match_info["sig"]):
        return problem(request, 404, N_("There is no such file."))
    async with reading(site.app.sessions) as session:
        row = await web_photo(session, file_id)
    if row is None:
        return problem(request, 404, N_("There is no such file."))
    return web.Response(body=row.content, content_type=row.content_type)


@routes.get("/chat")
async def chat_page(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    # The person's main jobs, one tap away; a role given later redraws them (a "menu" line).
    jobs = main_jobs(request[T], viewer.roles, registered=viewer.person is not None)
    return render(request, "chat.html", office=viewer.office, jobs=jobs)

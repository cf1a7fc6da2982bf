"""The dashboard's buttons and commands, said or pressed in the viewer's own web chat where they
run as when typed (POST /admin/act), and the way back to the wish page they were pressed on."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from aiohttp import web

from bot.database import reading
from bot.web.office_door import office_of
from bot.web.pages import problem
from bot.web.server import T, Viewer, site_of
from handlers.i18n import Translator
from models.errors import N_
from models.web_access import WEB, chat_key, last_bot_line

routes = web.RouteTableDef()
# What the dashboard's buttons may press in the chat: the admin commands' own buttons.
ACTIONS = {"verify", "assign", "escalate", "resolve", "approve", "merge"}
# Of those, the ones done in one press: the wish page stays open for them.
INSTANT = {"verify", "merge"}
COMMANDS = {
    "/broadcast",
    "/pending",
    "/approve",
    "/stats",
    "/grant",
    "/webcode",
    "/erase",
    "/import",
    "/places",
    "/revoke",
}


def back_query(raw: str | None) -> str:
    """The dashboard's filters a wish page was opened from (to go back to), re-encoded: only
    the names the dashboard knows, each value short."""
    known = {"community", "status", "category", "grid", "building", "from", "to"}
    known |= {"view", "q", "sort", "order"}
    kept = [(k, v[:100]) for k, v in parse_qsl(raw or "") if k in known]
    return urlencode(kept[:20])


def wish_address(code: str, back: str, said: int | None = None) -> str:
    query = {"back": back} if back else {}
    if said is not None:
        query["said"] = str(said)
    return f"/admin/wish/{quote(code)}" + (f"?{urlencode(query)}" if query else "")


async def through_chat(request: web.Request, viewer: Viewer, payload: dict[str, Any]) -> int:
    """Say or press something in the viewer's own web chat, where the command runs as it would
    when typed; returns where the chat was before, so the answer can be shown."""
    site = site_of(request)
    t: Translator = request[T]
    payload.update(user=viewer.external_id, name=viewer.name, lang=t.locale)
    async with reading(site.app.sessions) as session:
        before = await last_bot_line(session, viewer.external_id)
    payload["after_out"] = before
    await site.runtime.keep_update(
        WEB, secrets.randbelow(2**52 - 1) + 1, chat_key(viewer.external_id), payload
    )
    await site.runtime.handle_inbox()
    await site.runtime.send_outbox()
    return before


@routes.post("/admin/act")
async def act(request: web.Request) -> web.StreamResponse:
    """Press a command's button (or send a command) in the viewer's own web chat, where the
    conversation goes on: the dashboard does what the slash commands do, through them."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer, _ = office
    form = await request.post()
    data = str(form.get("press", ""))
    label = str(form.get("label", ""))[:100]
    parts = data.split(":")
    payload: dict[str, Any]
    if data in COMMANDS:
        payload = {"text": data}
    elif len(parts) >= 2 and parts[0] == "a" and parts[1] in ACTIONS:
        payload = {"button": data, "label": label or data}
    else:
        return problem(request, 400, N_("That action is not one the dashboard offers."))
    said = await through_chat(request, viewer, payload)
    code = str(form.get("wish", ""))
    if len(parts) >= 2 and parts[1] in INSTANT and code:
        # Done in one press (no question follows): back to the wish, with the chat's answer.
        back = back_query(str(form.get("back", "")))
        raise web.HTTPSeeOther(wish_address(code[:20], back, said))
    raise web.HTTPFound("/chat")

"""How the Open311 endpoints answer: XML or JSON as the address asks, every refusal as a GeoReport
error in the client's language, CORS for the allowed origins, and a parameter or API key read."""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.georeport_format import XML, answer, chosen_format, error_answer
from bot.web.server import T, site_of
from handlers.i18n import Translator
from handlers.router import refusal_text
from models.errors import N_, NotAllowed, NotFound, StoreError
from models.open311_requests import MAX_REQUESTS, key_owner
from models.people import Person
from models.reported_places import MAX_ADDRESS
from models.text import kept_text
from models.wish_asking import MAX_LONG_DESCRIPTION

ROOT = "/open311"
BASE = ROOT + "/v2"
MAX_FIELD = 200
# Longer fields: GeoReport allows a description of 4,000 characters; an id list may name 1000.
FIELD_LIMITS = {
    "description": MAX_LONG_DESCRIPTION,
    "service_request_id": MAX_REQUESTS * 12,
    "address_string": MAX_ADDRESS,
    "media_url": 500,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """An answer GeoReport calls an error: its HTTP status and a message key with values."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


def plain(text: str) -> str:
    # t() escapes values for the chat's HTML subset; a client wants the text itself.
    return html.unescape(text)


def _status_of(refused: StoreError) -> int:
    if isinstance(refused, NotAllowed):
        return 403
    if isinstance(refused, NotFound):
        return 404
    return 400  # bad input, or a wish that moved at the same moment: the client may retry


def _format_of(request: web.Request) -> str:
    # An address with no format of ours is answered in XML, the specification's own.
    typed = request.match_info.get("format", request.path.rpartition(".")[2])
    return chosen_format(typed) or XML


def reply(request: web.Request, root: str, body: Any, status: int = 200) -> web.Response:
    return answer(_format_of(request), root, body, status)


def cors(request: web.Request, response: web.StreamResponse) -> None:
    """Browser pages of the origins the settings name may read (GET) what they receive."""
    allowed = site_of(request).app.settings.open311_cors_origins
    origin = request.headers.get("Origin")
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"


def api(handler: Handler) -> Handler:
    """XML or JSON as the extension says; every refusal, ours or the store's, as a GeoReport
    error in that format and the client's language. A refusal raised inside a transaction
    has already rolled it back."""

    @functools.wraps(handler)
    async def respond(request: web.Request) -> web.StreamResponse:
        t: Translator = request[T]
        chosen = _format_of(request)
        response: web.StreamResponse
        try:
            typed = request.match_info.get("format")
            if typed is not None and chosen_format(typed) is None:
                raise Refusal(
                    400, N_("Ask for .xml or .json; .{format} is not served here."), format=typed
                )
            response = await handler(request)
        except Refusal as refusal:
            text = plain(t(refusal.key, **refusal.params))
            response = error_answer(chosen, refusal.status, text)
        except StoreError as refused:
            response = error_answer(chosen, _status_of(refused), plain(refusal_text(t, refused)))
        if request.method in ("GET", "HEAD"):
            cors(request, response)
        return response

    return respond


def parameter(values: Mapping[str, Any], name: str) -> str | None:
    """One parameter as text; None when absent or empty (GeoReport: an empty argument is
    as if it was not sent). Anything but text or a number is refused."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refusal(400, N_("{name} must be text."), name=name)
    text = kept_text(str(value)).strip()  # NUL or a lone surrogate: the store's refusal
    limit = FIELD_LIMITS.get(name, MAX_FIELD)
    if len(text) > limit:
        raise Refusal(400, N_("That text is too long (at most {limit} characters)."), limit=limit)
    return text or None


async def acting_owner(session: AsyncSession, key: str | None) -> Person | None:
    """Whom the key acts as; None without a key (the public view). A key that is not known
    or was revoked is refused with 403, as GeoReport says."""
    if key is None:
        return None
    found = await key_owner(session, key)
    if found.revoked:
        raise Refusal(403, N_("This API key was revoked. Ask the community office for a new one."))
    if found.person is None:
        raise Refusal(403, N_("This API key is not known."))
    return found.person


def wish_id_of(typed: str) -> int | None:
    """A wish code as the chat reads it ('W-000123', 'w123', '123'); None if it is not one."""
    digits = typed.strip().upper().removeprefix("W-").removeprefix("W")
    return int(digits) if digits.isdecimal() and len(digits) <= 9 else None


def clients_base(request: web.Request) -> str:
    """Where clients reach us: the public URL setting, else the address they called."""
    public = site_of(request).app.settings.public_url
    return public or str(request.url.origin())

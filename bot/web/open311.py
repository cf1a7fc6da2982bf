"""Open311 GeoReport v2 in XML and JSON: other systems list services, file and read wishes.

Without a key a client reads the public view; a key acts as its owner and sees what they may.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import html
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
from bot.web.georeport_format import JSON_TYPE, XML, XML_TYPE, answer, chosen_format, error_answer
from bot.web.json_body import BadJson, read_json
from bot.web.server import T, site_of
from handlers.flows.common import category_name, status_name
from handlers.flows.verification import tell_heads_about
from handlers.i18n import Translator
from handlers.router import refusal_text
from handlers.turn import Speaker
from models.clock import now
from models.errors import N_, NotAllowed, NotFound, StoreError
from models.open311_requests import (
    MAX_REQUESTS,
    RequestFilter,
    RequestView,
    active_categories,
    active_category,
    home_building,
    key_owner,
    open311_status,
    public_requests,
    resident_in_care,
    visible_request,
    visible_requests,
)
from models.people import Person
from models.photos import stored_photo_id
from models.reported_places import (
    MAX_ADDRESS,
    checked_media_url,
    checked_point,
    keep_reported_place,
)
from models.text import kept_text
from models.web_access import web_photo
from models.wish_life import MAX_LONG_DESCRIPTION, MAX_REQUIRED, submit_wish
from models.wishes import Category, WishStatus

routes = web.RouteTableDef()
ROOT = "/open311"
BASE = ROOT + "/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint last changed in a way a client would notice (discovery's changeset).
CHANGESET = "2026-11-30T00:00:00Z"
# GeoReport's default window when a search names no dates.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_FIELD = 200
# Longer fields: GeoReport allows a description of 4,000 characters; an id list may name 1000.
FIELD_LIMITS = {
    "description": MAX_LONG_DESCRIPTION,
    "service_request_id": MAX_REQUESTS * 12,
    "address_string": MAX_ADDRESS,
    "media_url": 500,
}
STATUS_CHOICES = frozenset({"open", "closed"})
REQUIRED_COUNT = "required_count"

SERVICE_GROUP = N_("Neighbourhood help")
SERVICE_DESCRIPTIONS = {
    "repair": N_("Small repairs at home or in the building: a light, a tap, a door."),
    "errand": N_("Shopping, fetching medicine, carrying things for a neighbour."),
    "companionship": N_("A visit, a walk or a chat with someone who is often alone."),
    "paperwork": N_("Help to read, fill in or hand in a form."),
    "cleaning": N_("Cleaning a shared space, or for someone who cannot."),
    "other": N_("Any other small help a neighbour can give."),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """An answer GeoReport calls an error: its HTTP status and a message key with values."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


def _plain(text: str) -> str:
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


def _reply(request: web.Request, root: str, body: Any, status: int = 200) -> web.Response:
    return answer(_format_of(request), root, body, status)


def _cors(request: web.Request, response: web.StreamResponse) -> None:
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
            text = _plain(t(refusal.key, **refusal.params))
            response = error_answer(chosen, refusal.status, text)
        except StoreError as refused:
            response = error_answer(chosen, _status_of(refused), _plain(refusal_text(t, refused)))
        if request.method in ("GET", "HEAD"):
            _cors(request, response)
        return response

    return respond


def _field(values: Mapping[str, Any], name: str) -> str | None:
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


async def _key_owner(session: AsyncSession, key: str | None) -> Person | None:
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


def _when(moment: dt.datetime | None, request: web.Request) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(site_of(request).config.timezone).isoformat(timespec="seconds")


def _service_name(t: Translator, code: str) -> str:
    # The chat's names open with an emoji for its buttons; another system wants words.
    name = category_name(t, code)
    trimmed = name.lstrip(" ")
    while trimmed and not trimmed[0].isalnum():
        trimmed = trimmed[1:].lstrip(" ")
    return trimmed or name


def _wish_id(typed: str) -> int | None:
    """A wish code as the chat reads it ('W-000123', 'w123', '123'); None if it is not one."""
    digits = typed.strip().upper().removeprefix("W-").removeprefix("W")
    return int(digits) if digits.isdecimal() and len(digits) <= 9 else None


def _public_base(request: web.Request) -> str:
    """Where clients reach us: the public URL setting, else the address they called."""
    public = site_of(request).app.settings.public_url
    return public or str(request.url.origin())


# --- discovery --------------------------------------------------------------------------------


@routes.get(ROOT + "/discovery.{format}")
@routes.get(BASE + "/discovery.{format}")
@api
async def discovery(request: web.Request) -> web.StreamResponse:
    t: Translator = request[T]
    body = {
        "changeset": CHANGESET,
        "contact": t.raw(N_("The community office: ask in the chat or at the office.")),
        "key_service": t.raw(
            N_(
                "Reading needs no key: without one you see the public view (no names, units "
                "or notes). To file requests, or to see what a person may see, ask the "
                "community office for an API key: an admin makes one on the dashboard's "
                "API keys page, and it acts as the person it is made for."
            )
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": _public_base(request) + BASE,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [XML_TYPE, JSON_TYPE],
            }
        ],
    }
    return _reply(request, "discovery", body)


# --- services ---------------------------------------------------------------------------------


def _service(t: Translator, category: Category) -> dict[str, Any]:
    name = _service_name(t, category.code)
    described = SERVICE_DESCRIPTIONS.get(category.code)
    return {
        "service_code": category.code,
        "service_name": name,
        "description": t.raw(described) if described else name,
        # Every service asks one optional thing: how many helpers (the definition says so).
        "metadata": True,
        "type": "realtime",
        "keywords": f"{category.code}, {name}",
        "group": t.raw(SERVICE_GROUP),
    }


@routes.get(BASE + "/services.{format}")
@api
async def services(request: web.Request) -> web.StreamResponse:
    t: Translator = request[T]
    async with reading(site_of(request).app.sessions) as session:
        found = await active_categories(session)
    return _reply(request, "services", [_service(t, category) for category in found])


@routes.get(BASE + "/services/{code}.{format}")
@api
async def service_definition(request: web.Request) -> web.StreamResponse:
    t: Translator = request[T]
    code = kept_text(request.match_info["code"])
    async with reading(site_of(request).app.sessions) as session:
        found = await active_category(session, code)
    if found is None:
        raise Refusal(404, N_("There is no service {code}. services.xml lists them."), code=code)
    helpers = {
        "variable": True,
        "code": REQUIRED_COUNT,
        "datatype": "number",
        "required": False,
        "datatype_description": t.raw(N_("A whole number from 1 to 20.")),
        "order": 1,
        "description": t.raw(N_("How many helpers are needed (1 when not sent).")),
        "values": [],
    }
    return _reply(
        request, "service_definition", {"service_code": found.code, "attributes": [helpers]}
    )


# --- reading requests -------------------------------------------------------------------------


def _media_sig(request: web.Request, file_id: int) -> str:
    secret = site_of(request).secret
    return hmac.new(secret, f"open311-media:{file_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _media_url(request: web.Request, view: RequestView) -> str | None:
    """The wish's own photo as an address anyone holding it can download (signed, so ids
    cannot be counted); else the photo address a client sent; None for the public view."""
    file_id = stored_photo_id(view.photo)
    if file_id is not None:
        return f"{_public_base(request)}{BASE}/media/{file_id}/{_media_sig(request, file_id)}"
    return view.media_url


def _request(request: web.Request, view: RequestView) -> dict[str, Any]:
    t: Translator = request[T]
    wish = view.wish
    address = (
        _plain(t("{building}, unit {unit}", building=view.building, unit=view.unit))
        if view.unit
        else view.building
    )
    if view.address_string:
        address = _plain(t("{address} ({written})", address=address, written=view.address_string))
    return {
        "service_request_id": wish.code,
        "status": open311_status(wish.status),
        "status_notes": view.note or status_name(t, wish.status.value),
        "service_name": _service_name(t, wish.category),
        "service_code": wish.category,
        "description": wish.description,
        "agency_responsible": view.community,
        "service_notice": None,
        "requested_datetime": _when(wish.created_at, request),
        "updated_datetime": _when(wish.updated_at, request),
        "expected_datetime": _when(wish.preferred_time, request),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": view.point.latitude if view.point else None,
        "long": view.point.longitude if view.point else None,
        "media_url": _media_url(request, view),
    }


def _moment(request: web.Request, name: str) -> dt.datetime | None:
    typed = _field(request.query, name)
    if typed is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(typed)
    except ValueError:
        raise Refusal(
            400,
            N_("{name} is not a date and time: use ISO 8601, like 2026-11-23T09:00:00+08:00."),
            name=name,
        ) from None
    if moment.tzinfo is None:  # a local time, as the community's office reads it
        moment = moment.replace(tzinfo=site_of(request).config.timezone)
    return moment


def _list(request: web.Request, name: str) -> list[str] | None:
    typed = _field(request.query, name)
    if typed is None:
        return None
    return [part.strip() for part in typed.split(",") if part.strip()]


def _whole(request: web.Request, name: str, highest: int) -> int | None:
    typed = _field(request.query, name)
    if typed is None:
        return None
    if not typed.isdecimal() or not 1 <= int(typed[:7]) <= highest:
        raise Refusal(
            400,
            N_("{name} must be a whole number from 1 to {highest}."),
            name=name,
            highest=highest,
        )
    return int(typed)


def _page(request: web.Request) -> tuple[int, int]:
    """How many requests to answer (page_size, or max_requests) and how many to pass over."""
    size = _whole(request, "page_size", MAX_REQUESTS) or _whole(
        request, "max_requests", MAX_REQUESTS
    )
    limit = size or MAX_REQUESTS
    page = _whole(request, "page", 1_000_000) or 1
    return limit, (page - 1) * limit


async def _search(request: web.Request, session: AsyncSession) -> RequestFilter:
    limit, offset = _page(request)
    typed_ids = _list(request, "service_request_id")
    if typed_ids:
        # GeoReport: asking for requests by id overrides every other filter.
        ids = []
        for typed in typed_ids[:MAX_REQUESTS]:
            wish_id = _wish_id(typed)
            if wish_id is None:
                raise Refusal(
                    400, N_("{code} is not a wish code (they look like W-000123)."), code=typed
                )
            ids.append(wish_id)
        return RequestFilter(wish_ids=ids, limit=limit, offset=offset)
    codes = _list(request, "service_code")
    for code in codes or ():
        # Inactive categories still name older wishes, so they may be searched for.
        if await session.get(Category, code) is None:
            raise Refusal(
                400, N_("There is no service {code}. services.xml lists them."), code=code
            )
    start, end = _moment(request, "start_date"), _moment(request, "end_date")
    if start is not None and end is not None and start > end:
        raise Refusal(400, N_("start_date is after end_date."))
    if start is None and end is None:
        start = now(session) - DEFAULT_WINDOW
    statuses = _list(request, "status")
    wanted = STATUS_CHOICES if statuses is None else frozenset(s.lower() for s in statuses)
    if not wanted or wanted - STATUS_CHOICES:
        raise Refusal(400, N_("status is open or closed (or both, separated by a comma)."))
    return RequestFilter(
        categories=codes or None,
        start=start,
        end=end,
        statuses=wanted,
        limit=limit,
        offset=offset,
    )


@routes.get(BASE + "/requests.{format}")
@api
async def requests(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await _key_owner(session, _field(request.query, "api_key"))
        filters = await _search(request, session)
        if owner is None:
            found = await public_requests(session, filters)
        else:
            found = await visible_requests(session, owner, filters)
        body = [_request(request, view) for view in found]
    return _reply(request, "service_requests", body)


@routes.get(BASE + "/requests/{id}.{format}")
@api
async def one_request(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await _key_owner(session, _field(request.query, "api_key"))
        wish_id = _wish_id(request.match_info["id"])
        # Hidden or missing: the same answer, so a client cannot learn what exists elsewhere.
        view = None
        if wish_id is not None and owner is None:
            found = await public_requests(session, RequestFilter(wish_ids=[wish_id], limit=1))
            view = found[0] if found else None
        elif wish_id is not None and owner is not None:
            view = await visible_request(session, owner, wish_id)
        if view is None:
            raise Refusal(404, N_("There is no such wish."))
        body = [_request(request, view)]
    return _reply(request, "service_requests", body)


@routes.get(BASE + "/media/{file_id:\\d{1,9}}/{sig}")
async def media(request: web.Request) -> web.StreamResponse:
    """A wish's photo, by the signed address a request's media_url gave."""
    site = site_of(request)
    file_id = int(request.match_info["file_id"])
    row = None
    if hmac.compare_digest(_media_sig(request, file_id), request.match_info["sig"]):
        async with reading(site.app.sessions) as session:
            row = await web_photo(session, file_id)
    if row is None:
        t: Translator = request[T]
        return error_answer(XML, 404, _plain(t(N_("There is no such file."))))
    response = web.Response(body=row.content, content_type=row.content_type)
    _cors(request, response)
    return response


# --- filing a request -------------------------------------------------------------------------


async def _posted(request: web.Request) -> dict[str, Any]:
    """The posted fields, form-encoded or JSON; the query may carry the key as well."""
    fields: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await read_json(request)
        except BadJson as refused:
            raise Refusal(400, refused.key, **refused.params) from None
        if not isinstance(body, dict):
            raise Refusal(400, N_("The body is not valid JSON."))
        attributes = body.pop("attribute", None)
        fields.update(body)
        if isinstance(attributes, dict):  # {"attribute": {"required_count": 2}}
            fields.update({f"attribute[{k}]": v for k, v in attributes.items()})
    else:
        form = await request.post()
        fields.update({name: value for name, value in form.items() if isinstance(value, str)})
    return fields


def _degrees(fields: Mapping[str, Any], name: str) -> float | None:
    typed = _field(fields, name)
    if typed is None:
        return None
    try:
        return float(typed)
    except ValueError:
        raise Refusal(400, N_("{name} must be a number of degrees."), name=name) from None


def _required_count(fields: Mapping[str, Any]) -> int:
    name = f"attribute[{REQUIRED_COUNT}]"
    typed = _field(fields, name)
    if typed is None:
        return 1
    if not typed.isdecimal() or not 1 <= int(typed[:7]) <= MAX_REQUIRED:
        raise Refusal(
            400,
            N_("{name} is how many helpers are needed: a whole number from 1 to {highest}."),
            name=name,
            highest=MAX_REQUIRED,
        )
    return int(typed)


async def _requester(session: AsyncSession, owner: Person, account: str | None) -> Person:
    """Whom the wish is for: the key's owner, or a resident in their care (account_id)."""
    if account and account != str(owner.id):
        person_id = int(account) if account.isdecimal() and len(account) <= 12 else None
        found = None if person_id is None else await resident_in_care(session, owner, person_id)
        if found is None:
            raise Refusal(
                400,
                N_("There is no resident {account} among the people you look after."),
                account=account,
            )
        return found
    return owner


@routes.post(BASE + "/requests.{format}")
@api
async def file_request(request: web.Request) -> web.StreamResponse:
    t: Translator = request[T]
    site = site_of(request)
    fields = await _posted(request)
    # Checked before anything is written: a point, a photo address, a number of helpers.
    point = checked_point(_degrees(fields, "lat"), _degrees(fields, "long"))
    media_url = checked_media_url(_field(fields, "media_url"))
    required_count = _required_count(fields)
    address_string = _field(fields, "address_string")
    # Everything runs in one transaction: a refusal anywhere leaves the store as it was.
    async with site.app.sessions.begin() as session:
        owner = await _key_owner(session, _field(fields, "api_key"))
        if owner is None:
            raise Refusal(
                403, N_("Filing a request needs an API key: ask the community office for one.")
            )
        code = _field(fields, "service_code")
        if code is None:
            raise Refusal(400, N_("Please send a service_code: services.xml lists them."))
        if await active_category(session, code) is None:
            raise Refusal(
                404, N_("There is no service {code}. services.xml lists them."), code=code
            )
        requester = await _requester(session, owner, _field(fields, "account_id"))
        if requester.id == owner.id:
            building_id = await home_building(session, owner)
            if building_id is None:
                raise Refusal(
                    403,
                    N_(
                        "This key's owner is not a resident, so it cannot ask for help for "
                        "itself; to ask on a resident's behalf, send their account_id."
                    ),
                )
        else:
            assert requester.building_id is not None
            building_id = requester.building_id
        wish = await submit_wish(
            session,
            owner,
            building_id=building_id,
            category=code,
            description=_field(fields, "description") or "",
            requester=requester,
            required_count=required_count,
            description_limit=MAX_LONG_DESCRIPTION,
        )
        await keep_reported_place(
            session, wish.id, address_string=address_string, point=point, media_url=media_url
        )
        speaker = Speaker(session=session, config=site.config, person=owner)
        await tell_heads_about(speaker, wish)
        await site.runtime.queue(session, speaker.replies)
        if wish.status == WishStatus.SUBMITTED:
            notice = t("Received as {code}; the building head will check it soon.", code=wish.code)
        else:
            notice = t("Received as {code}; it is open for helpers now.", code=wish.code)
        body = [
            {"service_request_id": wish.code, "service_notice": _plain(notice), "account_id": None}
        ]
    site.runtime.outbox_waiting.set()
    return _reply(request, "service_requests", body, 201)


@routes.route("OPTIONS", ROOT + "/{rest:.*}")
async def preflight(request: web.Request) -> web.StreamResponse:
    """A browser asking first whether its page may read: yes for GET, to the origins allowed."""
    response = web.Response(status=204)
    _cors(request, response)
    response.headers["Access-Control-Allow-Methods"] = "GET"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@routes.route("*", ROOT + "/{rest:.*}")
@api
async def elsewhere(request: web.Request) -> web.StreamResponse:
    # Under /open311/ even a wrong address is answered in GeoReport's way, not with a page.
    raise Refusal(404, N_("There is no such page."))

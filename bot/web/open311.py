"""Open311 GeoReport v2, JSON only: a city's hotline lists services, files and reads wishes.

Each API key acts as the person who owns it: it sees and files only what they may in the chat.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
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
    resident_in_care,
    visible_request,
    visible_requests,
)
from models.people import Person
from models.text import kept_text
from models.wish_life import submit_wish
from models.wishes import Category, WishStatus

routes = web.RouteTableDef()
BASE = "/open311/v2"
# GeoReport's default window when a search names no dates.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_FIELD = 200
# Longer fields: the store limits a description itself; an id list may name 1000 wishes.
FIELD_LIMITS = {"description": None, "service_request_id": MAX_REQUESTS * 12}
STATUS_CHOICES = frozenset({"open", "closed"})

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
    # t() escapes values for the chat's HTML subset; a JSON client wants the text itself.
    return html.unescape(text)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False)
    )


def _error(status: int, description: str) -> web.Response:
    return _json([{"code": status, "description": description}], status)


def _status_of(refused: StoreError) -> int:
    if isinstance(refused, NotAllowed):
        return 403
    if isinstance(refused, NotFound):
        return 404
    return 400  # bad input, or a wish that moved at the same moment: the client may retry


def api(handler: Handler) -> Handler:
    """JSON only; every refusal, ours or the store's, as a GeoReport error in the client's
    language. A refusal raised inside a transaction has already rolled it back."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        t: Translator = request[T]
        try:
            chosen = request.match_info.get("format", "json")
            if chosen.lower() != "json":
                raise Refusal(
                    400,
                    N_("Only JSON is served here: ask for .json instead of .{format}."),
                    format=chosen,
                )
            return await handler(request)
        except Refusal as refusal:
            return _error(refusal.status, _plain(t(refusal.key, **refusal.params)))
        except StoreError as refused:
            return _error(_status_of(refused), _plain(refusal_text(t, refused)))

    return answer


def _field(values: Mapping[str, Any], name: str) -> str | None:
    """One parameter as text, None when absent; anything but text or a number is refused."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refusal(400, N_("{name} must be text."), name=name)
    text = kept_text(str(value)).strip()  # NUL or a lone surrogate: the store's refusal
    limit = FIELD_LIMITS.get(name, MAX_FIELD)
    if limit is not None and len(text) > limit:
        raise Refusal(400, N_("That text is too long (at most {limit} characters)."), limit=limit)
    return text


async def _owner(session: AsyncSession, key: str | None) -> Person:
    if not key:
        raise Refusal(401, N_("An API key is needed: send it as api_key."))
    found = await key_owner(session, key)
    if found.revoked:
        raise Refusal(403, N_("This API key was revoked. Ask the community office for a new one."))
    if found.person is None:
        raise Refusal(401, N_("This API key is not known."))
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


# --- services ---------------------------------------------------------------------------------


def _service(t: Translator, category: Category) -> dict[str, Any]:
    name = _service_name(t, category.code)
    described = SERVICE_DESCRIPTIONS.get(category.code)
    return {
        "service_code": category.code,
        "service_name": name,
        "description": t.raw(described) if described else name,
        "metadata": False,
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
    return _json([_service(t, category) for category in found])


@routes.get(BASE + "/services/{code}.{format}")
@api
async def service_definition(request: web.Request) -> web.StreamResponse:
    code = kept_text(request.match_info["code"])
    async with reading(site_of(request).app.sessions) as session:
        found = await active_category(session, code)
    if found is None:
        raise Refusal(404, N_("There is no service {code}. services.json lists them."), code=code)
    # A wish needs only its description; nothing else is asked per service.
    return _json({"service_code": found.code, "attributes": []})


# --- reading requests -------------------------------------------------------------------------


def _request(request: web.Request, view: RequestView) -> dict[str, Any]:
    t: Translator = request[T]
    wish = view.wish
    address = (
        _plain(t("{building}, unit {unit}", building=view.building, unit=view.unit))
        if view.unit
        else view.building
    )
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
        # Wishes know their building, not a point on a map.
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _moment(request: web.Request, name: str) -> dt.datetime | None:
    typed = _field(request.query, name)
    if not typed:
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


async def _search(request: web.Request, session: AsyncSession) -> RequestFilter:
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
        return RequestFilter(wish_ids=ids)
    codes = _list(request, "service_code")
    for code in codes or ():
        # Inactive categories still name older wishes, so they may be searched for.
        if await session.get(Category, code) is None:
            raise Refusal(
                400, N_("There is no service {code}. services.json lists them."), code=code
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
    return RequestFilter(categories=codes or None, start=start, end=end, statuses=wanted)


@routes.get(BASE + "/requests.{format}")
@api
async def requests(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await _owner(session, _field(request.query, "api_key"))
        found = await visible_requests(session, owner, await _search(request, session))
        body = [_request(request, view) for view in found]
    return _json(body)


@routes.get(BASE + "/requests/{id}.{format}")
@api
async def one_request(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await _owner(session, _field(request.query, "api_key"))
        wish_id = _wish_id(request.match_info["id"])
        # Hidden or missing: the same answer, so a client cannot learn what exists elsewhere.
        view = None if wish_id is None else await visible_request(session, owner, wish_id)
        if view is None:
            raise Refusal(404, N_("There is no such wish."))
        body = [_request(request, view)]
    return _json(body)


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
        fields.update(body)
    else:
        form = await request.post()
        fields.update({name: value for name, value in form.items() if isinstance(value, str)})
    return fields


def _check_location(fields: Mapping[str, Any]) -> None:
    """A wish belongs to the resident's building; a point, if sent, must still be a point."""
    for name, limit in (("lat", 90.0), ("long", 180.0)):
        typed = _field(fields, name)
        if not typed:
            continue
        try:
            value = float(typed)
        except ValueError:
            value = float("nan")
        if not -limit <= value <= limit:
            raise Refusal(400, N_("{name} must be a number of degrees."), name=name)


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
    # Everything runs in one transaction: a refusal anywhere leaves the store as it was.
    async with site.app.sessions.begin() as session:
        owner = await _owner(session, _field(fields, "api_key"))
        code = _field(fields, "service_code")
        if not code:
            raise Refusal(400, N_("Please send a service_code: services.json lists them."))
        if await active_category(session, code) is None:
            raise Refusal(
                400, N_("There is no service {code}. services.json lists them."), code=code
            )
        _check_location(fields)
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
    return _json(body, 201)


@routes.route("*", "/open311/{rest:.*}")
@api
async def elsewhere(request: web.Request) -> web.StreamResponse:
    # Under /open311/ even a wrong address is answered in GeoReport's way, not with a page.
    raise Refusal(404, N_("There is no such page."))

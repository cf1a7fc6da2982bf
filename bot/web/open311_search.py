"""A GeoReport search read from the address (ids, services, dates, status, page), and each wish
found answered as a service request, with its photo at a signed address."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.open311_wire import BASE, Refusal, clients_base, parameter, plain, wish_id_of
from bot.web.server import T, site_of
from handlers.flows.common import category_name, status_name
from handlers.i18n import Translator
from models.clock import now
from models.errors import N_
from models.open311_requests import MAX_REQUESTS, RequestFilter, RequestView, open311_status
from models.photos import stored_photo_id
from models.wishes import Category

# GeoReport's default window when a search names no dates.
DEFAULT_WINDOW = dt.timedelta(days=90)
STATUS_CHOICES = frozenset({"open", "closed"})


def _when(moment: dt.datetime | None, request: web.Request) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(site_of(request).config.timezone).isoformat(timespec="seconds")


def service_name(t: Translator, code: str) -> str:
    # The chat's names open with an emoji for its buttons; another system wants words.
    name = category_name(t, code)
    trimmed = name.lstrip(" ")
    while trimmed and not trimmed[0].isalnum():
        trimmed = trimmed[1:].lstrip(" ")
    return trimmed or name


def media_sig(request: web.Request, file_id: int) -> str:
    secret = site_of(request).secret
    return hmac.new(secret, f"open311-media:{file_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _media_url(request: web.Request, view: RequestView) -> str | None:
    """The wish's own photo as an address anyone holding it can download (signed, so ids
    cannot be counted); else the photo address a client sent; None for the public view."""
    file_id = stored_photo_id(view.photo)
    if file_id is not None:
        return f"{clients_base(request)}{BASE}/media/{file_id}/{media_sig(request, file_id)}"
    return view.media_url


def service_request(request: web.Request, view: RequestView) -> dict[str, Any]:
    t: Translator = request[T]
    wish = view.wish
    address = (
        plain(t("{building}, unit {unit}", building=view.building, unit=view.unit))
        if view.unit
        else view.building
    )
    if view.address_string:
        address = plain(t("{address} ({written})", address=address, written=view.address_string))
    return {
        "service_request_id": wish.code,
        "status": open311_status(wish.status),
        "status_notes": view.note or status_name(t, wish.status.value),
        "service_name": service_name(t, wish.category),
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
    typed = parameter(request.query, name)
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
    typed = parameter(request.query, name)
    if typed is None:
        return None
    return [part.strip() for part in typed.split(",") if part.strip()]


def _whole(request: web.Request, name: str, highest: int) -> int | None:
    typed = parameter(request.query, name)
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


async def search_filter(request: web.Request, session: AsyncSession) -> RequestFilter:
    limit, offset = _page(request)
    typed_ids = _list(request, "service_request_id")
    if typed_ids:
        # GeoReport: asking for requests by id overrides every other filter.
        ids = []
        for typed in typed_ids[:MAX_REQUESTS]:
            wish_id = wish_id_of(typed)
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

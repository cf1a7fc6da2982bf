"""Open311 GeoReport v2 in XML and JSON: other systems list services, file and read wishes.

Without a key a client reads the public view; a key acts as its owner and sees what they may.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from bot.database import reading
from bot.web.georeport_format import JSON_TYPE, XML, XML_TYPE, error_answer
from bot.web.open311_posted import REQUIRED_COUNT, degrees, helpers_needed, posted, requester_of
from bot.web.open311_search import media_sig, search_filter, service_name, service_request
from bot.web.open311_wire import (
    BASE,
    ROOT,
    Refusal,
    acting_owner,
    api,
    clients_base,
    cors,
    parameter,
    plain,
    reply,
    wish_id_of,
)
from bot.web.server import T, site_of
from handlers.flows.verification import tell_heads_about
from handlers.i18n import Translator
from handlers.turn import Speaker
from models.errors import N_
from models.open311_requests import (
    RequestFilter,
    active_categories,
    active_category,
    home_building,
    public_requests,
    visible_request,
    visible_requests,
)
from models.reported_places import checked_media_url, checked_point, keep_reported_place
from models.text import kept_text
from models.web_access import web_photo
from models.wish_asking import MAX_LONG_DESCRIPTION, submit_wish
from models.wishes import Category, WishStatus

routes = web.RouteTableDef()
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint last changed in a way a client would notice (discovery's changeset).
CHANGESET = "2026-11-30T00:00:00Z"

SERVICE_GROUP = N_("Neighbourhood help")
SERVICE_DESCRIPTIONS = {
    "repair": N_("Small repairs at home or in the building: a light, a tap, a door."),
    "errand": N_("Shopping, fetching medicine, carrying things for a neighbour."),
    "companionship": N_("A visit, a walk or a chat with someone who is often alone."),
    "paperwork": N_("Help to read, fill in or hand in a form."),
    "cleaning": N_("Cleaning a shared space, or for someone who cannot."),
    "other": N_("Any other small help a neighbour can give."),
}


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
                "url": clients_base(request) + BASE,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [XML_TYPE, JSON_TYPE],
            }
        ],
    }
    return reply(request, "discovery", body)


# --- services ---------------------------------------------------------------------------------


def _service(t: Translator, category: Category) -> dict[str, Any]:
    name = service_name(t, category.code)
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
    return reply(request, "services", [_service(t, category) for category in found])


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
    return reply(
        request, "service_definition", {"service_code": found.code, "attributes": [helpers]}
    )


# --- reading requests -------------------------------------------------------------------------


@routes.get(BASE + "/requests.{format}")
@api
async def requests(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await acting_owner(session, parameter(request.query, "api_key"))
        filters = await search_filter(request, session)
        if owner is None:
            found = await public_requests(session, filters)
        else:
            found = await visible_requests(session, owner, filters)
        body = [service_request(request, view) for view in found]
    return reply(request, "service_requests", body)


@routes.get(BASE + "/requests/{id}.{format}")
@api
async def one_request(request: web.Request) -> web.StreamResponse:
    async with reading(site_of(request).app.sessions) as session:
        owner = await acting_owner(session, parameter(request.query, "api_key"))
        wish_id = wish_id_of(request.match_info["id"])
        # Hidden or missing: the same answer, so a client cannot learn what exists elsewhere.
        view = None
        if wish_id is not None and owner is None:
            found = await public_requests(session, RequestFilter(wish_ids=[wish_id], limit=1))
            view = found[0] if found else None
        elif wish_id is not None and owner is not None:
            view = await visible_request(session, owner, wish_id)
        if view is None:
            raise Refusal(404, N_("There is no such wish."))
        body = [service_request(request, view)]
    return reply(request, "service_requests", body)


@routes.get(BASE + "/media/{file_id:\\d{1,9}}/{sig}")
async def media(request: web.Request) -> web.StreamResponse:
    """A wish's photo, by the signed address a request's media_url gave."""
    site = site_of(request)
    file_id = int(request.match_info["file_id"])
    row = None
    if hmac.compare_digest(media_sig(request, file_id), request.match_info["sig"]):
        async with reading(site.app.sessions) as session:
            row = await web_photo(session, file_id)
    if row is None:
        t: Translator = request[T]
        return error_answer(XML, 404, plain(t(N_("There is no such file."))))
    response = web.Response(body=row.content, content_type=row.content_type)
    cors(request, response)
    return response


# --- filing a request -------------------------------------------------------------------------


@routes.post(BASE + "/requests.{format}")
@api
async def file_request(request: web.Request) -> web.StreamResponse:
    t: Translator = request[T]
    site = site_of(request)
    fields = await posted(request)
    # Checked before anything is written: a point, a photo address, a number of helpers.
    point = checked_point(degrees(fields, "lat"), degrees(fields, "long"))
    media_url = checked_media_url(parameter(fields, "media_url"))
    required_count = helpers_needed(fields)
    address_string = parameter(fields, "address_string")
    # Everything runs in one transaction: a refusal anywhere leaves the store as it was.
    async with site.app.sessions.begin() as session:
        owner = await acting_owner(session, parameter(fields, "api_key"))
        if owner is None:
            raise Refusal(
                403, N_("Filing a request needs an API key: ask the community office for one.")
            )
        code = parameter(fields, "service_code")
        if code is None:
            raise Refusal(400, N_("Please send a service_code: services.xml lists them."))
        if await active_category(session, code) is None:
            raise Refusal(
                404, N_("There is no service {code}. services.xml lists them."), code=code
            )
        requester = await requester_of(session, owner, parameter(fields, "account_id"))
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
            description=parameter(fields, "description") or "",
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
            {"service_request_id": wish.code, "service_notice": plain(notice), "account_id": None}
        ]
    site.runtime.outbox_waiting.set()
    return reply(request, "service_requests", body, 201)


@routes.route("OPTIONS", ROOT + "/{rest:.*}")
async def preflight(request: web.Request) -> web.StreamResponse:
    """A browser asking first whether its page may read: yes for GET, to the origins allowed."""
    response = web.Response(status=204)
    cors(request, response)
    response.headers["Access-Control-Allow-Methods"] = "GET"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@routes.route("*", ROOT + "/{rest:.*}")
@api
async def elsewhere(request: web.Request) -> web.StreamResponse:
    # Under /open311/ even a wrong address is answered in GeoReport's way, not with a page.
    raise Refusal(404, N_("There is no such page."))

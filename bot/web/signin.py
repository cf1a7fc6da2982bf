"""Signing in without passwords: a one-time code (from /web or the office), a guest who
registers in the chat, the demo's people for a newcomer; and logging out."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import update

from bot.database import reading
from bot.demo import DEMO_ROLES, demo_only, demo_person, empty_store, seed_demo
from bot.web.chat import chat_page
from bot.web.pages import problem, render
from bot.web.server import (
    LANG_COOKIE,
    SESSION_COOKIE,
    VIEWER,
    T,
    client_address,
    set_session_cookie,
    site_of,
)
from handlers.i18n import SUPPORTED, Translator
from handlers.router import ROLE_NAMES, refusal_text
from models.errors import N_, StoreError, checked_text
from models.people import Person, Role
from models.reach import OFFICE_ROLES
from models.web_access import (
    end_web_session,
    normal_code,
    open_web_session,
    redeem_sign_in_code,
    shown_code,
    web_identity,
)

routes = web.RouteTableDef()


def _role_label(t: Translator, role: Role) -> str:
    """The role as the chat names it, as the start of a button."""
    name = t.raw(ROLE_NAMES[role.value])
    return name[:1].upper() + name[1:]


async def _sign_in_page(
    request: web.Request, *, code: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    site = site_of(request)
    t = request[T]
    async with reading(site.app.sessions) as session:
        empty = await empty_store(session)
        demo = await demo_only(session)
    return render(
        request,
        "signin.html",
        status=status,
        code=code,
        error=Markup(error) if error else None,
        empty=empty,
        demo_roles=[(role.value, _role_label(t, role), DEMO_ROLES[role]) for role in DEMO_ROLES]
        if demo
        else [],
    )


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    if request[VIEWER] is not None:
        return await chat_page(request)  # the web chat lives at the start page
    return await _sign_in_page(request)


@routes.get("/in/{code}")
async def sign_in_link(request: web.Request) -> web.StreamResponse:
    # A link only fills the form: phones and SMS apps open links to preview them, and a
    # preview must not spend the one-time code.
    code = normal_code(request.match_info["code"])
    return await _sign_in_page(request, code=shown_code(code) if len(code) == 8 else code)


@routes.post("/signin")
async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    typed = str(form.get("code", ""))
    site = site_of(request)
    t = request[T]
    address = client_address(request)
    if not site.wrong_codes.allowed(address):
        return problem(
            request, 429, N_("Too many wrong codes. Please wait ten minutes, then try again.")
        )
    try:
        async with site.app.sessions.begin() as session:
            _, token = await redeem_sign_in_code(session, typed)
    except StoreError as refused:
        site.wrong_codes.record(address)
        return await _sign_in_page(
            request, code=typed[:20], error=refusal_text(t, refused), status=400
        )
    response = web.HTTPFound("/chat")
    set_session_cookie(response, site, token)
    raise response


@routes.post("/guest")
async def guest(request: web.Request) -> web.StreamResponse:
    """Someone new: they chat as a guest until the registration conversation makes them a person."""
    form = await request.post()
    t = request[T]
    try:
        name = checked_text(
            str(form.get("name", "")), required=True, what=N_("your name"), limit=100
        )
    except StoreError as refused:
        return await _sign_in_page(request, error=refusal_text(t, refused), status=400)
    site = site_of(request)
    address = client_address(request)
    if not site.new_guests.allowed(address):
        return problem(
            request, 429, N_("Too many new chats from here. Please try again in an hour.")
        )
    site.new_guests.record(address)
    async with site.app.sessions.begin() as session:
        token = await open_web_session(session, name=name or "")
    response = web.HTTPFound("/chat")
    set_session_cookie(response, site, token)
    raise response


@routes.post("/logout")
async def log_out(request: web.Request) -> web.StreamResponse:
    viewer = request[VIEWER]
    site = site_of(request)
    if viewer is not None:
        async with site.app.sessions.begin() as session:
            await end_web_session(session, viewer.token)
    response = web.HTTPFound("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.post("/demo/load")
async def load_demo(request: web.Request) -> web.StreamResponse:
    site = site_of(request)
    async with site.app.sessions.begin() as session:
        if not await empty_store(session):
            return problem(request, 409, N_("The demo can be loaded only into an empty database."))
        await seed_demo(session)
        # The database was empty, so everyone in it is the demo's: they speak the newcomer's
        # language, news included.
        await session.execute(update(Person).values(locale=request[T].locale))
    raise web.HTTPFound("/")


@routes.post("/demo/as")
async def demo_as(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    site = site_of(request)
    t = request[T]
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return problem(request, 400, N_("There is no such role in the demo."))
    async with site.app.sessions.begin() as session:
        person = await demo_person(session, role)
        if person is None:
            return problem(
                request,
                403,
                N_("Trying the demo's people works only while the demo is the only community."),
            )
        # The newcomer reads the demo in the language of the page they came from.
        person.locale = t.locale
        token = await open_web_session(session, await web_identity(session, person))
    response = web.HTTPFound("/admin" if role in OFFICE_ROLES else "/chat")
    set_session_cookie(response, site, token)
    raise response


@routes.get("/lang/{locale}")
async def language(request: web.Request) -> web.StreamResponse:
    locale = request.match_info["locale"]
    if locale not in SUPPORTED:
        return problem(request, 404, N_("There is no such page."))
    back = request.query.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = web.HTTPFound(back)
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", path="/")
    viewer = request[VIEWER]
    if viewer is not None and viewer.person is not None:
        site = site_of(request)
        async with site.app.sessions.begin() as session:
            person = await session.get(Person, viewer.person.id)
            if person is not None:
                person.locale = locale
    raise response

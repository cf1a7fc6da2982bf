"""init_app: the one aiohttp application for the web chat, dashboard, public page and API.

The command line and the tests both make it here; the signing key is read in cleanup_ctx.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app import App
from bot.database import reading
from bot.demo import demo_identity, demo_only
from bot.web.attempts import Attempts
from handlers.i18n import SUPPORTED, Translator, pick_locale
from handlers.turn import Config
from models.directory import person_by_identity
from models.errors import N_
from models.people import Person, Role
from models.reach import OFFICE_ROLES, grants_of
from models.web_access import WEB, WebSession, session_by_token, site_secret

if TYPE_CHECKING:
    from bot.runtime import Runtime

SESSION_COOKIE = "sw_session"
CSRF_COOKIE = "sw_csrf"
LANG_COOKIE = "sw_lang"
# Posts from other systems carry an API key, Telegram's secret or WeChat's signature instead
# of a form token.
NO_CSRF = ("/open311/", "/telegram/", "/wechat")
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class Viewer:
    """Who is at this browser: a guest (no person yet) or a person with their roles."""

    token: str
    external_id: str
    name: str
    person: Person | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def office(self) -> bool:
        """May open the dashboard (its pages still limit what they show to the scope)."""
        return bool(self.roles & set(OFFICE_ROLES))


@dataclass
class Site:
    app: App
    runtime: Runtime
    secret: bytes = b""
    # Wrong sign-in codes and new guest chats, per address (bot/web/attempts.py).
    wrong_codes: Attempts = field(init=False)
    new_guests: Attempts = field(init=False)

    def __post_init__(self) -> None:
        self.wrong_codes = Attempts(self.app.clock, 10, dt.timedelta(minutes=10))
        self.new_guests = Attempts(self.app.clock, 20, dt.timedelta(hours=1))

    @property
    def config(self) -> Config:
        # Read each time: the runtime learns the bot's username only once Telegram answers.
        return self.runtime.config

    def sign(self, value: str) -> str:
        mac = hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{value}.{mac}"

    def unsign(self, signed: str) -> str | None:
        value = signed.rpartition(".")[0]
        return value if value and hmac.compare_digest(self.sign(value), signed) else None


SITE = web.AppKey("site", Site)
# What the middleware learns about each request, for the handlers.
VIEWER: web.RequestKey[Viewer | None] = web.RequestKey("viewer")
T = web.RequestKey("t", Translator)
CSRF = web.RequestKey("csrf", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def site_of(request: web.Request) -> Site:
    return request.app[SITE]


def client_address(request: web.Request) -> str:
    """Who is asking: behind the HTTPS proxy a public URL implies, the address that proxy saw
    (the last X-Forwarded-For entry, the one it added); otherwise the connection's own."""
    if site_of(request).app.settings.public_url:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.remote or "?"


def set_session_cookie(response: web.StreamResponse, site: Site, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        site.sign(token),
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        path="/",
        # Behind HTTPS (a public URL), the cookie never travels in clear text.
        secure=(site.app.settings.public_url or "").startswith("https://"),
    )


async def _load_viewer(site: Site, request: web.Request) -> Viewer | None:
    raw = request.cookies.get(SESSION_COOKIE)
    token = site.unsign(raw) if raw else None
    if token is None:
        return None
    async with reading(site.app.sessions) as session:
        row: WebSession | None = await session_by_token(session, token)
        if row is None:
            return None
        if demo_identity(row.external_id) and not await demo_only(session):
            return None  # a real person joined the demo: nobody may be its people any more
        person = await person_by_identity(session, WEB, row.external_id)
        roles = (
            frozenset(g.role for g in await grants_of(session, person)) if person else frozenset()
        )
        return Viewer(token, row.external_id, person.name if person else row.name, person, roles)


@web.middleware
async def viewer_and_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is here, in which language, and whether a form really comes from our own page."""
    from bot.web.pages import problem

    site = site_of(request)
    viewer = await _load_viewer(site, request)
    request[VIEWER] = viewer
    chosen = request.cookies.get(LANG_COOKIE)
    locale = (
        viewer.person.locale
        if viewer and viewer.person and viewer.person.locale in SUPPORTED
        else pick_locale(
            chosen,
            request.headers.get("Accept-Language", "").split(",")[0],
            default=site.config.default_locale,
        )
    )
    if chosen in SUPPORTED:
        locale = chosen
    request[T] = Translator(locale, site.config.timezone)
    csrf = request.cookies.get(CSRF_COOKIE)
    fresh = csrf is None or site.unsign(csrf) is None
    if fresh:
        csrf = site.sign(secrets.token_urlsafe(16))
    assert csrf is not None
    request[CSRF] = csrf
    if request.method == "POST" and not request.path.startswith(NO_CSRF):
        sent = request.headers.get("X-CSRF-Token")
        if sent is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sent = str((await request.post()).get("csrf", ""))
        if fresh or not sent or not hmac.compare_digest(sent, csrf):
            return problem(
                request,
                403,
                N_("This form has expired. Please go back, reload the page and try again."),
            )
    response = await handler(request)
    if fresh:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="Strict", path="/")
    # The sign-in link carries a code: no other site may see it, nor frame our pages.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    return response


@web.middleware
async def clear_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown pages and wrong methods get a page in the viewer's language, not a stack trace."""
    from bot.web.pages import problem

    try:
        return await handler(request)
    except web.HTTPNotFound:
        return problem(request, 404, N_("There is no such page."))
    except web.HTTPMethodNotAllowed:
        return problem(request, 405, N_("There is no such page."))


def init_app(app: App, runtime: Runtime) -> web.Application:
    """The whole web side; Telegram's webhook route is added by the runtime when it uses one."""
    from bot.web import (
        api_key_pages,
        chat,
        dashboard,
        health,
        office_chat,
        open311,
        public,
        rewards_pages,
        signin,
        slips,
        supply_side,
        wish_pages,
    )

    site = Site(app, runtime)
    web_app = web.Application(
        middlewares=[viewer_and_csrf, clear_errors], client_max_size=6 * 1024 * 1024
    )
    web_app[SITE] = site
    chat.attach(runtime)

    async def signing_key(_: web.Application) -> AsyncIterator[None]:
        async with app.sessions.begin() as session:
            site.secret = (await site_secret(session, "cookies")).encode()
        yield

    web_app.cleanup_ctx.append(signing_key)
    web_app.add_routes(signin.routes)
    web_app.add_routes(chat.routes)
    web_app.add_routes(dashboard.routes)
    web_app.add_routes(wish_pages.routes)
    web_app.add_routes(office_chat.routes)
    web_app.add_routes(api_key_pages.routes)
    web_app.add_routes(public.routes)
    web_app.add_routes(open311.routes)
    web_app.add_routes(supply_side.routes)
    web_app.add_routes(slips.routes)
    web_app.add_routes(health.routes)
    web_app.add_routes(rewards_pages.routes)
    web_app.router.add_static("/static/", STATIC, name="static")
    return web_app

"""Who may use the office's pages and how they act there: the office check, an id given in a
form or an address, and a store operation done as the viewer in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
from bot.web.pages import problem
from bot.web.server import VIEWER, T, Viewer, site_of
from handlers.router import refusal_text
from models.errors import N_, StoreError
from models.office_scope import OfficeScope, office_scope
from models.people import Person
from models.text import bounded_id


def given_id(raw: str | None) -> int | None:
    return bounded_id(raw) if raw else None


async def office_of(request: web.Request) -> tuple[Viewer, OfficeScope] | web.Response:
    viewer: Viewer | None = request[VIEWER]
    if viewer is None:
        raise web.HTTPFound("/")
    if viewer.person is None or not viewer.office:
        return problem(request, 403, N_("The dashboard is for the community office."))
    async with reading(site_of(request).app.sessions) as session:
        scope = await office_scope(session, viewer.person)
    if scope.empty:
        return problem(request, 403, N_("The dashboard is for the community office."))
    return viewer, scope


async def as_viewer(
    request: web.Request, viewer: Viewer, act: Callable[[AsyncSession, Person], Awaitable[Any]]
) -> tuple[Any, str | None]:
    """Do a store operation as the viewer in one transaction: its result, or why it was refused."""
    assert viewer.person is not None
    try:
        async with site_of(request).app.sessions.begin() as session:
            actor = await session.get(Person, viewer.person.id)
            assert actor is not None
            return await act(session, actor), None
    except StoreError as refused:
        return None, refusal_text(request[T], refused)

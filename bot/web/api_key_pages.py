"""The office's API keys for other systems (Open311) at /admin/api: the keys the viewer made, a
new one shown once (only its hash is kept), and revoking one."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.database import reading
from bot.web.office_door import as_viewer, office_of
from bot.web.pages import render
from bot.web.server import Viewer, site_of
from models.web_access import clients_made_by, make_api_client, revoke_api_client

routes = web.RouteTableDef()


async def _api_page(
    request: web.Request, viewer: Viewer, *, key: str | None = None, error: str | None = None
) -> web.Response:
    assert viewer.person is not None
    async with reading(site_of(request).app.sessions) as session:
        clients = await clients_made_by(session, viewer.person)
    return render(
        request,
        "api_keys.html",
        status=400 if error else 200,
        clients=clients,
        new_key=key,
        error=Markup(error) if error else None,
        base=str(request.url.origin()),
    )


@routes.get("/admin/api")
async def api_keys(request: web.Request) -> web.Response:
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    return await _api_page(request, office[0])


@routes.post("/admin/api")
async def make_api_key(request: web.Request) -> web.Response:
    """A new key, shown once: only its hash is kept."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    name = str((await request.post()).get("name", ""))
    made, error = await as_viewer(
        request, viewer, lambda session, actor: make_api_client(session, actor, name)
    )
    if error is not None:
        return await _api_page(request, viewer, error=error)
    return await _api_page(request, viewer, key=made[1])


@routes.post("/admin/api/{client_id:\\d{1,9}}/revoke")
async def revoke_api_key(request: web.Request) -> web.StreamResponse:
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    client_id = int(request.match_info["client_id"])
    _, error = await as_viewer(
        request, viewer, lambda session, actor: revoke_api_client(session, actor, client_id)
    )
    if error is not None:
        return await _api_page(request, viewer, error=error)
    raise web.HTTPFound("/admin/api")

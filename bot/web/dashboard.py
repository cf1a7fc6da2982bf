"""The office dashboard at /admin: the demand, supply and service lists side by side with their
filters and charts, the office contact, and each list's export as CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from bot.database import reading
from bot.lists_export import sheet_file
from bot.web.dashboard_charts import charts_of
from bot.web.desk_filters import BadFilter, Filters, parse_filters
from bot.web.office_door import as_viewer, given_id, office_of
from bot.web.pages import problem, render
from bot.web.server import T, site_of
from bot.web.supply_side import supply_side
from handlers.flows.common import category_name, status_name
from handlers.i18n import Translator
from handlers.sheet_words import URGENCY_NAMES, plain, sheet_in_words
from handlers.turn import action_button
from models.desk import (
    VIEWS,
    demand_desk,
    office_contact,
    residents_for_slips,
    set_office_contact,
)
from models.errors import N_
from models.office_scope import OfficeScope, members_waiting
from models.people import Role
from models.reach import grants_of
from models.service_lists import Sheet, demand_list, service_list, supply_list
from models.wishes import Category, WishStatus

routes = web.RouteTableDef()
LISTS = ("demand", "supply", "service")
# Demand columns: Code, Created, Building, Unit, Category, Urgency, Status, ...
D_CODE, D_CATEGORY, D_URGENCY, D_STATUS = 0, 4, 5, 6
# Service columns: Wish, Category, Building, ...
S_WISH, S_CATEGORY = 0, 1
EXPORTED_ROWS = 100_000
SLIP_PEOPLE = 2000
SHOWN_ROWS = 200


async def filtered_sheets(
    request: web.Request, scope: OfficeScope, filters: Filters
) -> dict[str, Sheet]:
    """The three lists of one community, narrowed by the filters and to the viewer's buildings,
    with headers, statuses and categories in the viewer's language."""
    t: Translator = request[T]
    tz = site_of(request).config.timezone
    # Narrowed in SQL to the viewer's reach and the chosen grid or building, by id.
    buildings = scope.reach.buildings(
        community_id=filters.community_id, grid_id=filters.grid_id, building_id=filters.building_id
    )
    async with reading(site_of(request).app.sessions) as session:
        args = (session, filters.community_id, filters.start, filters.end, tz)
        demand, supply, service = (
            await demand_list(*args, buildings=buildings, with_requester=True),
            await supply_list(*args, buildings=buildings),
            await service_list(*args, buildings=buildings),
        )
    demand_rows = [
        row
        for row in demand.rows
        if (not filters.status or row[D_STATUS] == filters.status)
        and (not filters.category or row[D_CATEGORY] == filters.category)
    ]
    codes = {row[D_CODE] for row in demand_rows}
    service_rows = [
        row
        for row in service.rows
        if (not filters.category or row[S_CATEGORY] == filters.category)
        and (not filters.status or row[S_WISH] in codes)
    ]
    # A grid worker sees the members too: they dispatch to them.
    supply_rows = [
        row for row in supply.rows if not filters.category or filters.category in str(row[2] or "")
    ]

    return {
        "demand": sheet_in_words(t, "demand", replace(demand, rows=demand_rows)),
        "supply": sheet_in_words(t, "supply", replace(supply, rows=supply_rows)),
        "service": sheet_in_words(t, "service", replace(service, rows=service_rows)),
    }


def cell(t: Translator, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return t.when(value)
    return str(value)


async def _categories(request: web.Request) -> list[str]:
    async with reading(site_of(request).app.sessions) as session:
        return list((await session.scalars(select(Category.code).order_by(Category.code))).all())


@routes.get("/admin")
async def dashboard(request: web.Request) -> web.Response:
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer, scope = office
    t: Translator = request[T]
    categories = await _categories(request)
    error = None
    status = 200
    try:
        filters = parse_filters(request.query, scope, set(categories))
    except BadFilter as bad:
        error = Markup(t(bad.message, **{k: t.raw(v) for k, v in bad.params.items()}))
        status = 400
        filters = Filters(scope.communities[0].id)
    sheets = await filtered_sheets(request, scope, filters)
    assert viewer.person is not None
    async with reading(site_of(request).app.sessions) as session:
        waiting = (
            await members_waiting(session, filters.community_id)
            if Role.ADMIN in viewer.roles
            else []
        )
        residents = await residents_for_slips(
            session, scope.reach, filters.community_id, SLIP_PEOPLE
        )
        contact = await office_contact(session, filters.community_id)
        desk = await demand_desk(
            session,
            scope.reach,
            await grants_of(session, viewer.person),
            filters.desk(),
            site_of(request).config.timezone,
            SHOWN_ROWS,
        )
    charts = await charts_of(request, scope, filters)
    return render(
        request,
        "dashboard.html",
        status=status,
        error=error,
        scope=scope,
        filters=filters,
        categories=[(c, category_name(t, c)) for c in categories],
        statuses=[(s.value, status_name(t, s.value)) for s in WishStatus],
        sheets=sheets,
        desk=desk,
        residents=residents,
        contact=contact or "",
        may_set_contact=Role.ADMIN in viewer.roles or Role.STREET_ADMIN in viewer.roles,
        views=[(name, t.raw(label), desk.counts[name]) for name, label in VIEWS.items()],
        columns=_demand_columns(t),
        category_of=lambda v: plain(category_name(t, v)),
        status_of=lambda v: status_name(t, v),
        urgency_of=lambda v: t.raw(str(URGENCY_NAMES.get(v, v))),
        back=filters.query(),
        shown_rows=SHOWN_ROWS,
        cell=lambda v: cell(t, v),
        waiting=waiting,
        approve=lambda person_id: action_button("", "approve", person_id).data,
        charts=charts,
        may_broadcast=Role.ADMIN in viewer.roles,
        body_class="dashboard",
        supply_side=await supply_side(request, filters.community_id),
    )


def _demand_columns(t: Translator) -> list[tuple[str | None, str]]:
    """The demand table's columns: the sort key (None: not sortable) and the heading."""
    return [
        ("code", t.raw(N_("Code"))),
        ("created", t.raw(N_("Created"))),
        ("building", t.raw(N_("Building"))),
        ("unit", t.raw(N_("Unit"))),
        ("requester", t.raw(N_("Requester"))),
        ("category", t.raw(N_("Category"))),
        ("status", t.raw(N_("Status"))),
        (None, t.raw(N_("Helpers"))),
        (None, t.raw(N_("Description"))),
    ]


@routes.get("/admin/export/{name}.{fmt}")
async def export(request: web.Request) -> web.StreamResponse:
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    scope = office[1]
    name, fmt = request.match_info["name"], request.match_info["fmt"]
    if name not in LISTS or fmt not in ("csv", "xlsx"):
        return problem(request, 404, N_("There is no such list."))
    try:
        filters = parse_filters(request.query, scope, set(await _categories(request)))
    except BadFilter as bad:
        t: Translator = request[T]
        return problem(request, 400, bad.message, **{k: t.raw(v) for k, v in bad.params.items()})
    sheet = (await filtered_sheets(request, scope, filters))[name]
    if name == "demand" and (filters.view != "all" or filters.search):
        # The view and the search chosen on the page narrow the file too, in the page's order.
        viewer = office[0]
        assert viewer.person is not None
        async with reading(site_of(request).app.sessions) as session:
            shown = await demand_desk(
                session,
                scope.reach,
                await grants_of(session, viewer.person),
                filters.desk(),
                site_of(request).config.timezone,
                EXPORTED_ROWS,
            )
        order = {row.code: i for i, row in enumerate(shown.rows)}
        kept = sorted(
            (r for r in sheet.rows if r[D_CODE] in order), key=lambda r: order[str(r[D_CODE])]
        )
        sheet = replace(sheet, rows=kept)
    content = sheet_file(sheet, fmt)
    today = site_of(request).app.clock.now().astimezone(site_of(request).config.timezone).date()
    filename = f"{name}-{today.isoformat()}.{fmt}"
    kinds = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    return web.Response(
        body=content,
        headers={
            "Content-Type": kinds[fmt],
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@routes.post("/admin/contact")
async def contact_here(request: web.Request) -> web.StreamResponse:
    """The community's office contact, shown on its noticeboard and on sign-in slips."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    form = await request.post()
    community_id = given_id(str(form.get("community", "")))
    text = str(form.get("contact", ""))
    if community_id is None:
        return problem(request, 400, N_("That community is not one you work for."))
    _, error = await as_viewer(
        request,
        viewer,
        lambda session, actor: set_office_contact(session, actor, community_id, text),
    )
    if error is not None:
        return problem(request, 403, error)
    raise web.HTTPSeeOther(f"/admin?community={community_id}")

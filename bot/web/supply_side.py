"""The dashboard's supply side: the organisations and resources of the community, this year's
commitments, each as a table with XLSX and CSV downloads, and each organisation's yearly report.

Only for the office, only within its scope (models/office_scope.py, models/reach.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.database import reading
from bot.lists_export import sheet_file
from bot.web.office_door import office_of
from bot.web.pages import problem
from bot.web.server import T, site_of
from handlers.i18n import Translator
from handlers.org_report_file import report_file_name, report_xlsx
from handlers.sheet_words import sheet_in_words
from models.clock import now
from models.errors import N_
from models.office_scope import OfficeScope
from models.org_report import year_report
from models.organisations import Organisation, organisations_of_communities
from models.service_lists import Sheet, commitment_list, resource_list
from models.text import bounded_id

routes = web.RouteTableDef()
SUPPLY_LISTS = {"resources": resource_list, "commitments": commitment_list}
KINDS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class SupplySide:
    year: int
    sheets: dict[str, Sheet]
    organisations: list[Organisation]


async def supply_side(request: web.Request, community_id: int) -> SupplySide:
    """The section's content for one community the viewer's scope holds."""
    t: Translator = request[T]
    site = site_of(request)
    tz = site.config.timezone
    async with reading(site.app.sessions) as session:
        year = now(session).astimezone(tz).year
        sheets = {}
        for name, query in SUPPLY_LISTS.items():
            sheets[name] = sheet_in_words(
                t, name, await query(session, community_id, None, None, tz)
            )
        organisations = await organisations_of_communities(session, [community_id])
    return SupplySide(year, sheets, organisations)


async def _office(request: web.Request) -> OfficeScope | web.Response:
    office = await office_of(request)
    return office if isinstance(office, web.Response) else office[1]


def _community(request: web.Request, scope: OfficeScope) -> int | None:
    wanted = bounded_id(request.query.get("community", ""))
    if wanted is None:
        return scope.communities[0].id
    return wanted if scope.community(wanted) is not None else None


def _file(content: bytes, filename: str, fmt: str) -> web.Response:
    return web.Response(
        body=content,
        headers={
            "Content-Type": KINDS[fmt],
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@routes.get("/admin/supply/{name}.{fmt}")
async def supply_export(request: web.Request) -> web.StreamResponse:
    scope = await _office(request)
    if isinstance(scope, web.Response):
        return scope
    name, fmt = request.match_info["name"], request.match_info["fmt"]
    community_id = _community(request, scope)
    if name not in SUPPLY_LISTS or fmt not in KINDS or community_id is None:
        return problem(request, 404, N_("There is no such list."))
    side = await supply_side(request, community_id)
    sheet = side.sheets[name]
    return _file(sheet_file(sheet, fmt), f"{name}-{community_id}-{side.year}.{fmt}", fmt)


@routes.get("/admin/org/{organisation_id}/report.xlsx")
async def organisation_report(request: web.Request) -> web.StreamResponse:
    scope = await _office(request)
    if isinstance(scope, web.Response):
        return scope
    t: Translator = request[T]
    site = site_of(request)
    organisation_id = bounded_id(request.match_info["organisation_id"])
    year_text = request.query.get("year", "")
    async with reading(site.app.sessions) as session:
        found = (
            await session.get(Organisation, organisation_id)
            if organisation_id is not None
            else None
        )
        # Another community's organisation is no more there than one that does not exist.
        if found is None or scope.community(found.community_id) is None:
            return problem(request, 404, N_("There is no such organisation."))
        year = now(session).astimezone(site.config.timezone).year
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
            year = int(year_text)
        report = await year_report(session, found, year, site.config.timezone)
    return _file(report_xlsx(report, t), report_file_name(report, found.id), "xlsx")

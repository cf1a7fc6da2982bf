"""The office dashboard at /admin: the demand, supply and service lists side by side with
filters, charts, a wish's page with its history, exports, and the same actions as the commands."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
from bot.lists_export import sheet_file
from bot.web.charts import (
    GREEN,
    coverage_chart,
    duration_histogram,
    points_chart,
    wishes_per_week_chart,
)
from bot.web.pages import problem, render
from bot.web.server import VIEWER, T, Viewer, site_of
from bot.web.supply_side import supply_side
from handlers.flows.admin import role_name, wish_actions
from handlers.flows.common import category_name, status_name
from handlers.flows.suggested import candidate_words
from handlers.i18n import LANGUAGE_NAMES, Translator
from handlers.router import refusal_text
from handlers.sheet_words import URGENCY_NAMES, plain, sheet_in_words
from handlers.turn import action_button
from models.dashboard_figures import (
    BUCKET_KEYS,
    coverage_by_building,
    points_by_member,
    time_to_accept_and_close,
    wishes_per_week,
)
from models.desk import (
    MAX_SEARCH,
    OFFICE_LEVEL,
    SORTS,
    VIEWS,
    DeskQuery,
    HistoryLine,
    add_note,
    demand_desk,
    history,
    is_overdue,
    notes_of,
    office_contact,
    residents_for_slips,
    set_office_contact,
    set_required,
    set_urgency,
)
from models.dispatch import CandidateKind, rank_for_wish
from models.duplicates import same_as_for_page
from models.errors import N_, InvalidInput, StoreError
from models.office_scope import (
    OfficeScope,
    WishPage,
    members_waiting,
    office_scope,
    wish_for_office,
)
from models.office_work import level_over_wish
from models.people import Person, Role
from models.permissions import LADDER, TOP_LEVEL
from models.reach import grants_of
from models.reported_places import reported_place
from models.service_lists import Sheet, demand_list, service_list, supply_list
from models.text import MAX_ID, bounded_id
from models.web_access import (
    WEB,
    chat_key,
    chat_lines,
    clients_made_by,
    last_bot_line,
    make_api_client,
    revoke_api_client,
)
from models.wish_life import MAX_NOTE, MAX_REQUIRED, get_wish
from models.wishes import Category, WishStatus

routes = web.RouteTableDef()
LISTS = ("demand", "supply", "service")
# Demand columns: Code, Created, Building, Unit, Category, Urgency, Status, ...
D_CODE, D_CATEGORY, D_URGENCY, D_STATUS = 0, 4, 5, 6
# Service columns: Wish, Category, Building, ...
S_WISH, S_CATEGORY = 0, 1
# What the dashboard's buttons may press in the chat: the admin commands' own buttons.
ACTIONS = {"verify", "assign", "escalate", "resolve", "approve", "merge"}
# Of those, the ones done in one press: the wish page stays open for them.
INSTANT = {"verify", "merge"}
SUGGESTED = 10
EXPORTED_ROWS = 100_000
SLIP_PEOPLE = 2000
COMMANDS = {
    "/broadcast",
    "/pending",
    "/approve",
    "/stats",
    "/grant",
    "/webcode",
    "/erase",
    "/import",
    "/places",
    "/revoke",
}
SHOWN_ROWS = 200
BUCKET_NAMES = {
    "<1h": N_("under 1 hour"),
    "1-4h": N_("1-4 hours"),
    "4-12h": N_("4-12 hours"),
    "12-24h": N_("12-24 hours"),
    "1-3d": N_("1-3 days"),
    ">3d": N_("over 3 days"),
}


@dataclass(frozen=True)
class Filters:
    community_id: int
    status: str = ""
    category: str = ""
    grid_id: int | None = None
    building_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    # The demand list's saved view, search and order (kept in the address too).
    view: str = "all"
    search: str = ""
    sort: str = "created"
    descending: bool = True

    def query(self, **changes: Any) -> str:
        values = {
            "community": self.community_id,
            "status": self.status,
            "category": self.category,
            "grid": self.grid_id or "",
            "building": self.building_id or "",
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "view": "" if self.view == "all" else self.view,
            "q": self.search,
            "sort": "" if self.sort == "created" else self.sort,
            "order": "" if self.descending else "asc",
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def desk(self) -> DeskQuery:
        return DeskQuery(
            self.community_id,
            self.grid_id,
            self.building_id,
            self.status,
            self.category,
            self.start,
            self.end,
            self.view,
            self.search,
            self.sort,
            self.descending,
        )


class BadFilter(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _int(raw: str | None) -> int | None:
    return bounded_id(raw) if raw else None


def _date(raw: str | None, what: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(N_("{what} is not a date like 2026-11-23."), what=what) from None


def parse_filters(query: Any, scope: OfficeScope, categories: set[str]) -> Filters:
    community_id = _int(query.get("community")) or scope.communities[0].id
    if scope.community(community_id) is None:
        raise BadFilter(N_("That community is not one you work for."))
    status = query.get("status", "")
    if status and status not in {s.value for s in WishStatus}:
        raise BadFilter(N_("There is no such status."))
    category = query.get("category", "")
    if category and category not in categories:
        raise BadFilter(N_("There is no such category."))
    grid_id = _int(query.get("grid"))
    if grid_id is not None and grid_id not in {g.id for g in scope.grids_of(community_id)}:
        raise BadFilter(N_("That grid is not one you work for."))
    building_id = _int(query.get("building"))
    if building_id is not None and building_id not in {
        b.id for b in scope.buildings_of(community_id)
    }:
        raise BadFilter(N_("That building is not one you work for."))
    start = _date(query.get("from"), "from")
    end = _date(query.get("to"), "to")
    if start and end and start > end:
        raise BadFilter(N_("The first day comes after the last day."))
    view = query.get("view", "") or "all"
    if view not in VIEWS:
        raise BadFilter(N_("There is no such view."))
    sort = query.get("sort", "") or "created"
    if sort not in SORTS:
        raise BadFilter(N_("The list cannot be sorted by that."))
    search = " ".join(str(query.get("q", "")).split())[:MAX_SEARCH]
    descending = query.get("order", "") != "asc"
    return Filters(
        community_id,
        status,
        category,
        grid_id,
        building_id,
        start,
        end,
        view,
        search,
        sort,
        descending,
    )


async def _office(request: web.Request) -> tuple[Viewer, OfficeScope] | web.Response:
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
    office = await _office(request)
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
    charts = await _charts(request, scope, filters)
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


async def _charts(request: web.Request, scope: OfficeScope, filters: Filters) -> list[Markup]:
    """The dashboard's pictures for the chosen community: server-drawn SVG (bot/web/charts.py)."""
    t: Translator = request[T]
    site = site_of(request)
    tz = site.config.timezone
    today = site.app.clock.now().astimezone(tz).date()
    ids = [filters.community_id]
    # Only the buildings the viewer looks after (a grid worker's charts show their grid),
    # narrowed to the chosen grid or building as the lists are.
    mine = scope.building_ids(filters.community_id, filters.grid_id, filters.building_id)
    async with reading(site.app.sessions) as session:
        weeks = await wishes_per_week(session, ids, tz, today, building_ids=mine)
        durations = await time_to_accept_and_close(session, ids, building_ids=mine)
        points = await points_by_member(session, ids, building_ids=mine)
        coverage = [
            replace(c, buildings=tuple(b for b in c.buildings if b.building_id in mine))
            for c in await coverage_by_building(session, ids)
        ]
    statuses = {s.value: status_name(t, s.value) for s in WishStatus}
    buckets = {key: t.raw(BUCKET_NAMES[key]) for key in BUCKET_KEYS}
    nothing = t.raw(N_("Nothing to show yet."))

    def median(hours: float | None) -> str:
        if hours is None:
            return ""
        if hours < 1:
            return t.raw(N_("Median: under an hour"))
        return t.raw(N_("Median: {hours} hours")).format(hours=t.number(round(hours, 1)))

    svgs = [
        wishes_per_week_chart(
            weeks,
            title=t.raw(N_("Wishes per week, by status")),
            status_names=statuses,
            empty_text=nothing,
        ),
        duration_histogram(
            durations.accept,
            title=t.raw(N_("Time until a helper took the wish")),
            bucket_names=buckets,
            empty_text=nothing,
            caption=median(durations.accept.median_hours),
        ),
        duration_histogram(
            durations.close,
            title=t.raw(N_("Time until the wish was closed")),
            bucket_names=buckets,
            empty_text=nothing,
            caption=median(durations.close.median_hours),
            colour=GREEN,
        ),
        points_chart(points, title=t.raw(N_("Points earned, by member")), empty_text=nothing),
        coverage_chart(
            coverage,
            title=t.raw(N_("Households answered, by building")),
            empty_text=t.raw(N_("No information collection is running.")),
        ),
    ]
    return [Markup(svg) for svg in svgs]


@routes.get("/admin/export/{name}.{fmt}")
async def export(request: web.Request) -> web.StreamResponse:
    office = await _office(request)
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


def back_query(raw: str | None) -> str:
    """The dashboard's filters a wish page was opened from (to go back to), re-encoded: only
    the names the dashboard knows, each value short."""
    known = {"community", "status", "category", "grid", "building", "from", "to"}
    known |= {"view", "q", "sort", "order"}
    kept = [(k, v[:100]) for k, v in parse_qsl(raw or "") if k in known]
    return urlencode(kept[:20])


def wish_address(code: str, back: str, said: int | None = None) -> str:
    query = {"back": back} if back else {}
    if said is not None:
        query["said"] = str(said)
    return f"/admin/wish/{quote(code)}" + (f"?{urlencode(query)}" if query else "")


@routes.get("/admin/wish/{code}")
async def wish_page(request: web.Request) -> web.Response:
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    said = request.query.get("said", "")
    return await _wish_view(
        request,
        *office,
        request.match_info["code"],
        back_query(request.query.get("back")),
        said=int(said) if said.isdigit() and len(said) < 16 else None,
    )


async def _wish_view(
    request: web.Request,
    viewer: Viewer,
    scope: OfficeScope,
    code: str,
    back: str,
    *,
    said: int | None = None,
    error: str | None = None,
) -> web.Response:
    """A wish as a ticket: what it is and what happened on the left; who asked, how to reach
    them and what the office can do, in place, on the right."""
    from bot.web.chat import photo_url, safe_html

    t: Translator = request[T]
    site = site_of(request)
    assert viewer.person is not None
    async with reading(site.app.sessions) as session:
        page = await wish_for_office(session, scope, code)
        if page is None:
            return problem(request, 404, N_("There is no such wish among those you look after."))
        wish = page.wish
        grants = await grants_of(session, viewer.person)
        held = await level_over_wish(session, grants, wish)
        lines = await history(session, wish)
        notes = await notes_of(session, wish.id)
        overdue = await is_overdue(session, wish)
        # What an Open311 client typed about the place: the office's to see (page is scoped).
        reported = await reported_place(session, wish.id)
        # The dispatch ranking with its reasons: members to choose, resources beside them.
        candidates = (
            await rank_for_wish(
                session, scope.reach, wish.id, SUGGESTED, timezone=site_of(request).config.timezone
            )
            if wish.status == WishStatus.OPEN and held >= OFFICE_LEVEL
            else []
        )
        same = (
            [other for other, _ in await same_as_for_page(session, scope.reach, wish.id)]
            if wish.status in (WishStatus.SUBMITTED, WishStatus.OPEN) and held >= OFFICE_LEVEL
            else []
        )
        needed = min(wish.escalation_level or TOP_LEVEL, TOP_LEVEL)
        may_answer = wish.status == WishStatus.ESCALATED and held >= needed
        submitted_by = (
            await session.get(Person, wish.submitted_by_id)
            if wish.submitted_by_id != wish.requester_id
            else None
        )
        answers = (
            [
                safe_html(line.payload.get("text", ""))
                for line in await chat_lines(session, viewer.external_id, MAX_ID, said)
                if not line.mine and line.payload.get("text")
            ]
            if said is not None
            else []
        )
    return render(
        request,
        "wish.html",
        status=400 if error else 200,
        error=Markup(error) if error else None,
        page=page,
        back=back,
        category=plain(category_name(t, wish.category)),
        status_label=status_name(t, wish.status.value),
        status_of=lambda v: status_name(t, v) if v else "",
        urgency_of=lambda v: t.raw(str(URGENCY_NAMES.get(v, v))),
        photos=[url for url in (photo_url(request, p) for p in wish.photos) if url],
        reported=reported,
        history=[event_words(t, line) for line in lines],
        notes=notes,
        overdue=overdue,
        ranked=[
            (c.id, Markup(candidate_words(t, c)))
            for c in candidates
            if c.kind == CandidateKind.MEMBER
        ],
        resources=[
            Markup(candidate_words(t, c)) for c in candidates if c.kind == CandidateKind.RESOURCE
        ],
        # "Probably the same as W-…" and a Merge that presses the chat's own merge button.
        same=[
            (
                Markup(t("🔗 Probably the same as {codes}.", codes=other.code)),
                t.raw(N_("🔗 Merge into {code}")).format(code=other.code),
                action_button("", "merge", wish.id, other.id).data,
            )
            for other in same
        ],
        may_answer=may_answer,
        may_change=held >= OFFICE_LEVEL,
        submitted_by=submitted_by.name if submitted_by and submitted_by.erased_at is None else None,
        language=LANGUAGE_NAMES.get(page.requester.locale or "", ""),
        answers=[Markup(a) for a in answers],
        max_required=MAX_REQUIRED,
        # The same buttons as /pending in the chat, but for those done in the ticket itself.
        actions=[
            (label, action_button(label, name, wish.id).data)
            for label, name in wish_actions(t, wish.status)
            if name not in ("assign", "resolve")
        ],
        instant=INSTANT,
        body_class="dashboard",
    )


EVENT_WORDS = {
    "submit": N_("{actor} asked for help"),
    "verify": N_("{actor} verified it"),
    "reject": N_("{actor} rejected it"),
    "accept": N_("{actor} took it"),
    "assign": N_("{actor} assigned it to {whom}"),
    "release": N_("{actor} gave it back"),
    "report_done": N_("{actor} reported it done"),
    "confirm": N_("{actor} confirmed it was done"),
    "auto_confirm": N_("confirmed by itself: nobody answered in time"),
    "dispute": N_("{actor} said it is not done"),
    "cancel": N_("{actor} cancelled it"),
    "escalate": N_("{actor} passed it up to the {whom}"),
    "resolve": N_("{actor} answered it"),
    "still_on_it": N_("{actor} is still on it"),
    "auto_release": N_("given back by itself: the helper did not answer"),
    "auto_escalate": N_("passed up to the {whom}: nobody took it in time"),
    "climb": N_("passed up to the {whom}: nobody answered in time"),
    "mark_urgent": N_("{actor} marked it urgent"),
    "urgency": N_("{actor} set the urgency to {whom}"),
    "helpers": N_("{actor} set the helpers needed to {whom}"),
}


@dataclass(frozen=True)
class EventWords:
    at: dt.datetime
    what: str
    from_status: str | None
    to_status: str
    note: str | None


def event_words(t: Translator, line: HistoryLine) -> EventWords:
    """One line of a wish's history in words: who did what, and to whom."""
    actor = line.actor or t.raw(N_("the bot"))
    whom = ""
    note = line.note
    if line.action == "assign":
        whom, note = line.note or "", None
    elif line.rung is not None:
        whom = role_name(t, LADDER[line.rung - 1])
    elif line.action == "urgency":
        whom, note = t.raw(str(URGENCY_NAMES.get(line.note or "", line.note or ""))), None
    elif line.action == "helpers":
        whom, note = t.number(int(line.note or 0)), None
    template = EVENT_WORDS.get(line.action)
    what = t.raw(template).format(actor=actor, whom=whom) if template else actor
    return EventWords(line.at, what, line.from_status, line.to_status, note)


async def _through_chat(request: web.Request, viewer: Viewer, payload: dict[str, Any]) -> int:
    """Say or press something in the viewer's own web chat, where the command runs as it would
    when typed; returns where the chat was before, so the answer can be shown."""
    site = site_of(request)
    t: Translator = request[T]
    payload.update(user=viewer.external_id, name=viewer.name, lang=t.locale)
    async with reading(site.app.sessions) as session:
        before = await last_bot_line(session, viewer.external_id)
    payload["after_out"] = before
    await site.runtime.keep_update(
        WEB, secrets.randbelow(2**52 - 1) + 1, chat_key(viewer.external_id), payload
    )
    await site.runtime.handle_inbox()
    await site.runtime.send_outbox()
    return before


async def _ticket(
    request: web.Request,
) -> tuple[Viewer, OfficeScope, WishPage, str, Any] | web.Response:
    """The viewer, the wish (within their scope) and the form of a POST on a wish page."""
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    viewer, scope = office
    async with reading(site_of(request).app.sessions) as session:
        page = await wish_for_office(session, scope, request.match_info["code"])
    if page is None:
        return problem(request, 404, N_("There is no such wish among those you look after."))
    form = await request.post()
    return viewer, scope, page, back_query(str(form.get("back", ""))), form


@routes.post("/admin/wish/{code}/assign")
async def assign_here(request: web.Request) -> web.StreamResponse:
    """Assign from the ranked list: the chat's own assignment, which tells the member and the
    requester; the office stays on the wish's page."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    member_id = _int(str(form.get("member", "")))
    if member_id is None:
        t: Translator = request[T]
        return await _wish_view(
            request,
            viewer,
            scope,
            page.wish.code or "",
            back,
            error=t.raw(N_("Please choose a member.")),
        )
    press = action_button("", "assign_to", page.wish.id, member_id).data
    t = request[T]
    label = f"{t.raw(N_('Assign'))} · {page.wish.code}"
    said = await _through_chat(request, viewer, {"button": press, "label": label})
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back, said))


@routes.post("/admin/wish/{code}/answer")
async def answer_here(request: web.Request) -> web.StreamResponse:
    """Answer an escalated wish (the chat's /resolve, which tells the requester)."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    text = " ".join(str(form.get("answer", "")).split())[:MAX_NOTE]
    if not text:
        t: Translator = request[T]
        return await _wish_view(
            request,
            viewer,
            scope,
            page.wish.code or "",
            back,
            error=t.raw(N_("Please write the answer.")),
        )
    said = await _through_chat(request, viewer, {"text": f"/resolve {page.wish.code} {text}"})
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back, said))


@routes.post("/admin/wish/{code}/note")
async def note_here(request: web.Request) -> web.StreamResponse:
    """An internal note: kept for the office, sent to nobody."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    text = str(form.get("note", ""))
    _, error = await _as_viewer(
        request, viewer, lambda session, actor: add_note(session, actor, page.wish.id, text)
    )
    if error is not None:
        return await _wish_view(request, viewer, scope, page.wish.code or "", back, error=error)
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back))


@routes.post("/admin/wish/{code}/change")
async def change_here(request: web.Request) -> web.StreamResponse:
    """Change the urgency and the helpers needed, each only when it differs."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    urgency = str(form.get("urgency", page.wish.urgency.value))
    raw = str(form.get("required", page.wish.required_count)).strip()
    wish_id = page.wish.id

    async def change(session: AsyncSession, actor: Person) -> None:
        if not raw.isdigit() or len(raw) > 3:
            raise InvalidInput(
                N_("Helpers needed is a number from 1 to {most}."), most=str(MAX_REQUIRED)
            )
        await set_urgency(session, actor, wish_id, urgency)
        wish = await get_wish(session, wish_id)
        if int(raw) != wish.required_count:
            await set_required(session, actor, wish_id, int(raw))

    _, error = await _as_viewer(request, viewer, change)
    if error is not None:
        return await _wish_view(request, viewer, scope, page.wish.code or "", back, error=error)
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back))


@routes.post("/admin/contact")
async def contact_here(request: web.Request) -> web.StreamResponse:
    """The community's office contact, shown on its noticeboard and on sign-in slips."""
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    form = await request.post()
    community_id = _int(str(form.get("community", "")))
    text = str(form.get("contact", ""))
    if community_id is None:
        return problem(request, 400, N_("That community is not one you work for."))
    _, error = await _as_viewer(
        request,
        viewer,
        lambda session, actor: set_office_contact(session, actor, community_id, text),
    )
    if error is not None:
        return problem(request, 403, error)
    raise web.HTTPSeeOther(f"/admin?community={community_id}")


@routes.post("/admin/act")
async def act(request: web.Request) -> web.StreamResponse:
    """Press a command's button (or send a command) in the viewer's own web chat, where the
    conversation goes on: the dashboard does what the slash commands do, through them."""
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    viewer, _ = office
    form = await request.post()
    data = str(form.get("press", ""))
    label = str(form.get("label", ""))[:100]
    parts = data.split(":")
    payload: dict[str, Any]
    if data in COMMANDS:
        payload = {"text": data}
    elif len(parts) >= 2 and parts[0] == "a" and parts[1] in ACTIONS:
        payload = {"button": data, "label": label or data}
    else:
        return problem(request, 400, N_("That action is not one the dashboard offers."))
    site = site_of(request)
    t: Translator = request[T]
    payload.update(user=viewer.external_id, name=viewer.name, lang=t.locale)
    async with reading(site.app.sessions) as session:
        payload["after_out"] = await last_bot_line(session, viewer.external_id)
    await site.runtime.keep_update(
        WEB, secrets.randbelow(2**52 - 1) + 1, chat_key(viewer.external_id), payload
    )
    await site.runtime.handle_inbox()
    await site.runtime.send_outbox()
    code = str(form.get("wish", ""))
    if len(parts) >= 2 and parts[1] in INSTANT and code:
        # Done in one press (no question follows): back to the wish, with the chat's answer.
        back = back_query(str(form.get("back", "")))
        raise web.HTTPSeeOther(wish_address(code[:20], back, payload["after_out"]))
    raise web.HTTPFound("/chat")


# --- API keys for other systems (Open311) -----------------------------------------------------


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
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    return await _api_page(request, office[0])


async def _as_viewer(
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


@routes.post("/admin/api")
async def make_api_key(request: web.Request) -> web.Response:
    """A new key, shown once: only its hash is kept."""
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    name = str((await request.post()).get("name", ""))
    made, error = await _as_viewer(
        request, viewer, lambda session, actor: make_api_client(session, actor, name)
    )
    if error is not None:
        return await _api_page(request, viewer, error=error)
    return await _api_page(request, viewer, key=made[1])


@routes.post("/admin/api/{client_id:\\d{1,9}}/revoke")
async def revoke_api_key(request: web.Request) -> web.StreamResponse:
    office = await _office(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    client_id = int(request.match_info["client_id"])
    _, error = await _as_viewer(
        request, viewer, lambda session, actor: revoke_api_client(session, actor, client_id)
    )
    if error is not None:
        return await _api_page(request, viewer, error=error)
    raise web.HTTPFound("/admin/api")

"""The public noticeboard: one page per community, open to all with no sign-in, made to print.

It shows a month's fulfilled wishes, the residents' thanks, and the helpers; never who asked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from aiohttp import web
from babel.dates import format_date, format_skeleton
from markupsafe import Markup

from bot.database import reading
from bot.web.pages import problem, render
from bot.web.qr import qr_svg, scalable
from bot.web.server import T, site_of
from handlers.flows.common import category_name
from handlers.i18n import Translator
from models.desk import office_contact
from models.errors import N_
from models.noticeboard import (
    FIRST_YEAR,
    community_board,
    month_span,
    month_start,
    next_month,
    previous_month,
    public_communities,
)

routes = web.RouteTableDef()

# "2026-11"; a single-digit month ("2026-3") is forgiven, anything else is refused.
MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True)
class MonthLink:
    label: str
    query: str  # "?month=2026-10", or "" for the current month


def parse_month(raw: str | None, current: dt.date) -> dt.date | None:
    """The month asked for (first day), the current one when none is; None when it is not a
    month the board can show (malformed, before FIRST_YEAR, or still to come)."""
    if raw is None or not raw.strip():
        return current
    found = MONTH.fullmatch(raw.strip())
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or year < FIRST_YEAR:
        return None
    chosen = dt.date(year, month, 1)
    return chosen if chosen <= current else None


def month_label(t: Translator, month: dt.date) -> str:
    """'November 2026', '2026年11月'."""
    return format_skeleton("yMMMM", month, locale=t.locale)


def _link(t: Translator, month: dt.date, current: dt.date) -> MonthLink:
    query = "" if month == current else f"?month={month:%Y-%m}"
    return MonthLink(month_label(t, month), query)


LOOPBACK = ("localhost", "127.", "[::1]", "::1", "0.0.0.0")


def public_base(request: web.Request) -> str | None:
    """Where people reach this site from outside: the public URL setting; without one, the
    address the page was opened at, unless that is the server's own loopback (useless on
    paper or to a phone's camera)."""
    public = site_of(request).app.settings.public_url
    if public:
        return public.rstrip("/")
    host = request.url.host or ""
    if not host or host.startswith(LOOPBACK):
        return None
    return str(request.url.origin()).rstrip("/")


@routes.get("/c")
@routes.get("/c/")
async def board_index(request: web.Request) -> web.StreamResponse:
    """Every community, each linking to its board."""
    site = site_of(request)
    async with reading(site.app.sessions) as session:
        communities = await public_communities(session)
    streets: dict[str, list[tuple[int, str]]] = {}
    for entry in communities:
        streets.setdefault(entry.street, []).append((entry.id, entry.name))
    return render(request, "public_index.html", streets=streets)


# At most nine digits: a longer id cannot exist, and PostgreSQL would refuse to compare it.
@routes.get(r"/c/{community_id:\d{1,9}}")
async def board_page(request: web.Request) -> web.StreamResponse:
    site = site_of(request)
    t: Translator = request[T]
    timezone = site.config.timezone
    # The app's clock, not the machine's: tests and simulations move it.
    current = month_start(site.app.clock.now(), timezone)
    month = parse_month(request.query.get("month"), current)
    if month is None:
        return problem(request, 400, N_("There is no such month."))
    start, end = month_span(month, timezone)
    async with reading(site.app.sessions) as session:
        board = await community_board(session, int(request.match_info["community_id"]), start, end)
        contact = await office_contact(session, board.community.id) if board else None
    if board is None:
        return problem(request, 404, N_("There is no such page."))
    base = public_base(request)
    earlier = previous_month(month)
    return render(
        request,
        "public.html",
        board=board,
        month=month_label(t, month),
        current=month == current,
        categories=[(code, category_name(t, code), count) for code, count in board.by_category],
        thanks=[
            (
                thanks,
                category_name(t, thanks.category),
                format_date(thanks.closed_at.astimezone(timezone).date(), "medium", t.locale),
            )
            for thanks in board.thanks
        ],
        earlier=_link(t, earlier, current) if earlier.year >= FIRST_YEAR else None,
        later=_link(t, next_month(month), current) if month < current else None,
        this_month=_link(t, current, current) if month != current else None,
        # Printed under the board, so a reader of the paper can find it online: the public
        # address only, never the server's own (a loopback address is no use on paper).
        address=f"{base}/c/{board.community.id}" + _link(t, month, current).query if base else None,
        chat_qr=Markup(scalable(qr_svg(f"{base}/", title=t.raw(N_("Ask for help: the web chat")))))
        if base
        else None,
        chat_address=f"{base}/" if base else None,
        contact=contact,
        printed=format_date(site.app.clock.now().astimezone(timezone).date(), "long", t.locale),
    )

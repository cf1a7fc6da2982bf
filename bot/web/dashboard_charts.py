"""The dashboard's five pictures for the chosen community: the figures read within the viewer's
buildings and drawn as SVG by bot/web/charts.py, with titles and captions in their language."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web
from markupsafe import Markup

from bot.database import reading
from bot.web.charts import (
    GREEN,
    coverage_chart,
    duration_histogram,
    points_chart,
    wishes_per_week_chart,
)
from bot.web.desk_filters import Filters
from bot.web.server import T, site_of
from handlers.flows.common import status_name
from handlers.i18n import Translator
from models.dashboard_figures import (
    BUCKET_KEYS,
    coverage_by_building,
    points_by_member,
    time_to_accept_and_close,
    wishes_per_week,
)
from models.errors import N_
from models.office_scope import OfficeScope
from models.wishes import WishStatus

BUCKET_NAMES = {
    "<1h": N_("under 1 hour"),
    "1-4h": N_("1-4 hours"),
    "4-12h": N_("4-12 hours"),
    "12-24h": N_("12-24 hours"),
    "1-3d": N_("1-3 days"),
    ">3d": N_("over 3 days"),
}


async def charts_of(request: web.Request, scope: OfficeScope, filters: Filters) -> list[Markup]:
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

"""The dashboard's charts as standalone inline SVG strings, built from the figures.

Labels come in translated; every text is escaped; no style attributes, so a strict CSP holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.web.svg_pieces import (
    FONT_SIZE,
    GRID,
    MARGIN,
    SMALL_SIZE,
    TRACK,
    WIDTH,
    count_axis,
    data_attributes,
    empty_frame,
    esc,
    fit,
    frame,
    legend_rows,
    name_lines,
    num,
    rect,
    text_at,
    text_width,
    wrap,
)
from models.dashboard_figures import (
    CampaignCoverage,
    Durations,
    MemberPoints,
    WeekCounts,
)

# Okabe-Ito: told apart with the common colour-vision deficiencies.
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW, GREY)
# Fixed per status, so a status keeps its colour whichever statuses a chart shows.
STATUS_COLOURS = {
    "submitted": ORANGE,
    "open": SKY,
    "accepted": BLUE,
    "done": YELLOW,
    "closed": GREEN,
    "rejected": VERMILLION,
    "cancelled": GREY,
    "escalated": PURPLE,
}
DEFAULT_COVERAGE_VALUE = "{answered}/{households} · {percent}%"
# The most a turned bar label may take (its length along the slant).
LABEL_ROOM = 110.0


# --- vertical bars (stacked or not) ---------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    key: str
    value: int
    colour: str
    tooltip: str


@dataclass(frozen=True)
class _Column:
    label: str
    segments: tuple[_Segment, ...]
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def _column_chart(
    title: str,
    columns: Sequence[_Column],
    *,
    axis_caption: str,
    caption: str,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Vertical bars on a count axis, stacked when a column has several segments."""
    top_value, step = count_axis(max(c.total for c in columns))
    # Room on the left for the widest tick number, no more: the bars get the rest.
    left = MARGIN + text_width(str(top_value), SMALL_SIZE) + 8
    right = float(WIDTH - MARGIN)
    plot_top = 58.0 if axis_caption else 46.0
    plot_height = 170.0
    bottom = plot_top + plot_height
    body: list[str] = []
    if axis_caption:
        text = fit(axis_caption, WIDTH - 2 * MARGIN, SMALL_SIZE)
        body.append(text_at(MARGIN, 40, text, size=SMALL_SIZE, css_class="axis-caption"))
    for tick in range(0, top_value + 1, step):
        y = bottom - plot_height * tick / top_value
        body.append(
            f'<line x1="{num(left)}" x2="{num(right)}" y1="{num(y)}" y2="{num(y)}" '
            f'stroke="{GRID}" stroke-width="{1 if tick == 0 else 0.5}"/>'
        )
        body.append(text_at(left - 6, y + 4, str(tick), size=SMALL_SIZE, anchor="end"))
    slot = (right - left) / len(columns)
    bar = slot * 0.64
    # Every bar keeps its label: too wide for its slot, the labels are turned (half-way,
    # or upright when the bars stand close), and the chart grows to hold them.
    widest = max(text_width(c.label, SMALL_SIZE) for c in columns)
    turned: float | None = None
    label_size = SMALL_SIZE
    if widest + 4 > slot:
        turned = -45.0 if slot * 0.7 >= SMALL_SIZE + 2 else -90.0
        label_size = SMALL_SIZE if turned == -45.0 or slot >= SMALL_SIZE + 1 else 12
    longest = min(LABEL_ROOM, max(text_width(c.label, label_size) for c in columns))
    label_height = 0.0 if turned is None else longest * (0.71 if turned == -45.0 else 1.0)
    for index, column in enumerate(columns):
        x = left + slot * index + (slot - bar) / 2
        y = bottom
        body.append(f'<g class="column"{data_attributes(column.data)}>')
        for segment in column.segments:
            if segment.value <= 0:
                continue
            height = plot_height * segment.value / top_value
            y -= height
            body.append(
                rect(
                    x,
                    y,
                    bar,
                    height,
                    segment.colour,
                    tooltip=segment.tooltip,
                    data={"key": segment.key, "value": str(segment.value)},
                    edge=len(column.segments) > 1,
                )
            )
        if column.total > 0:
            body.append(
                text_at(x + bar / 2, y - 4, str(column.total), size=SMALL_SIZE, anchor="middle")
            )
        if turned is None:
            label = fit(column.label, slot - 2, SMALL_SIZE)
            body.append(text_at(x + bar / 2, bottom + 17, label, size=SMALL_SIZE, anchor="middle"))
        else:
            label = fit(column.label, LABEL_ROOM, label_size)
            centre = x + bar / 2 + label_size / 3
            body.append(
                text_at(
                    centre,
                    bottom + 10,
                    label,
                    size=label_size,
                    anchor="end",
                    rotate=turned,
                    css_class="turned",
                )
            )
        body.append("</g>")
    y = bottom + 42 + label_height
    if legend:
        drawn, y = legend_rows(legend, y)
        body.extend(drawn)
    if caption:
        text = fit(caption, WIDTH - 2 * MARGIN, FONT_SIZE)
        body.append(text_at(MARGIN, y, text, css_class="caption"))
        y += 20
    return frame(title, y - 8, body)


def _short_date(day: dt.date) -> str:
    return f"{day.month}/{day.day}"


def wishes_per_week_chart(
    weeks: Sequence[WeekCounts],
    *,
    title: str,
    status_names: Mapping[str, str],
    empty_text: str,
    axis_caption: str = "",
    week_label: Callable[[dt.date], str] = _short_date,
) -> str:
    """Stacked bars, one per week, a colour per status; the legend names the statuses shown.

    status_names maps a status value ("open") to its translated name; week_label writes a
    week's Monday the way the reader's language does (default "11/23").
    """
    if not weeks or all(w.total == 0 for w in weeks):
        return empty_frame(title, empty_text)
    # Only the statuses that occur: eight swatches for two colours would only be noise.
    keys = dict.fromkeys(key for week in weeks for key in week.counts)
    shown = [key for key in keys if any(w.counts.get(key, 0) for w in weeks)]
    colours = {
        key: STATUS_COLOURS.get(key, PALETTE[i % len(PALETTE)]) for i, key in enumerate(shown)
    }
    columns = [
        _Column(
            label=week_label(week.start),
            segments=tuple(
                _Segment(
                    key,
                    week.counts.get(key, 0),
                    colours[key],
                    f"{week_label(week.start)} · {status_names.get(key, key)}: "
                    f"{week.counts.get(key, 0)}",
                )
                for key in shown
            ),
            data={"week": week.start.isoformat()},
        )
        for week in weeks
    ]
    legend = [(status_names.get(key, key), colours[key]) for key in shown]
    return _column_chart(title, columns, axis_caption=axis_caption, caption="", legend=legend)


def duration_histogram(
    durations: Durations,
    *,
    title: str,
    bucket_names: Mapping[str, str],
    empty_text: str,
    axis_caption: str = "",
    caption: str = "",
    colour: str = BLUE,
) -> str:
    """One bar per waiting-time bucket; caption is for the median, written by the caller.

    bucket_names maps a bucket key ("1-4h", see models.dashboard_figures.BUCKET_KEYS) to its
    translated name.
    """
    if durations.count == 0:
        return empty_frame(title, empty_text)
    columns = [
        _Column(
            label=bucket_names.get(b.key, b.key),
            segments=(
                _Segment(b.key, b.count, colour, f"{bucket_names.get(b.key, b.key)}: {b.count}"),
            ),
            data={"bucket": b.key},
        )
        for b in durations.buckets
    ]
    return _column_chart(title, columns, axis_caption=axis_caption, caption=caption)


# --- horizontal bars -----------------------------------------------------------------------

ROW = 26
LABEL_WIDTH = 112.0
BAR_LEFT = MARGIN + LABEL_WIDTH + 6


def points_chart(members: Sequence[MemberPoints], *, title: str, empty_text: str) -> str:
    """One bar per member, longest for the most points, the number at the end of the bar."""
    if not members or all(m.points <= 0 for m in members):
        return empty_frame(title, empty_text)
    most = max(m.points for m in members)
    room = WIDTH - MARGIN - BAR_LEFT - text_width(str(most), SMALL_SIZE) - 6
    body: list[str] = []
    y = 36.0
    for member in members:
        points = max(member.points, 0)
        width = room * points / most
        # The name whole, over as many lines as it needs (four at most; the tooltip has it).
        lines = wrap(member.name, LABEL_WIDTH, FONT_SIZE)
        height = ROW + (len(lines) - 1) * (FONT_SIZE + 2)
        body.append(f'<g class="row"{data_attributes({"person": str(member.person_id)})}>')
        body.append(f"<title>{esc(member.name)}: {points}</title>")
        body.extend(name_lines(MARGIN, y + 17, lines))
        body.append(
            rect(
                BAR_LEFT,
                y + 4,
                width,
                ROW - 8,
                BLUE,
                tooltip=f"{member.name}: {points}",
                data={"value": str(points)},
            )
        )
        body.append(text_at(BAR_LEFT + width + 6, y + 17, str(points), size=SMALL_SIZE))
        body.append("</g>")
        y += height
    return frame(title, y + 8, body)


def coverage_chart(
    campaigns: Sequence[CampaignCoverage],
    *,
    title: str,
    empty_text: str,
    value_template: str = DEFAULT_COVERAGE_VALUE,
    no_households: str = "—",
) -> str:
    """Per campaign a heading, then per building a 0-100% bar with "answered/households".

    value_template is formatted with answered, households and percent (a translated form of
    DEFAULT_COVERAGE_VALUE); no_households is shown for a building with no known household.
    """
    if not campaigns or all(c.households == 0 for c in campaigns):
        return empty_frame(title, empty_text)
    values = {
        (c.survey_id, b.building_id): (
            value_template.format(answered=b.answered, households=b.households, percent=b.percent)
            if b.percent is not None
            else no_households
        )
        for c in campaigns
        for b in c.buildings
    }
    value_width = max(text_width(v, SMALL_SIZE) for v in values.values())
    track = WIDTH - MARGIN - BAR_LEFT - value_width - 8
    body: list[str] = []
    y = 36.0
    for campaign in campaigns:
        heading = fit(campaign.title, WIDTH - 2 * MARGIN, FONT_SIZE)
        body.append(text_at(MARGIN, y + 17, heading, bold=True, css_class="campaign"))
        y += ROW
        for building in campaign.buildings:
            share = building.answered / building.households if building.households else 0.0
            share = min(max(share, 0.0), 1.0)
            value = values[(campaign.survey_id, building.building_id)]
            lines = wrap(building.name, LABEL_WIDTH, FONT_SIZE)
            body.append(
                f'<g class="row"{data_attributes({"building": str(building.building_id)})}>'
            )
            body.extend(name_lines(MARGIN, y + 17, lines))
            body.append(rect(BAR_LEFT, y + 4, track, ROW - 8, TRACK, css_class="track"))
            body.append(
                rect(
                    BAR_LEFT,
                    y + 4,
                    track * share,
                    ROW - 8,
                    BLUE,
                    tooltip=f"{building.name}: {value}",
                    data={"percent": str(building.percent if building.percent is not None else "")},
                )
            )
            body.append(text_at(WIDTH - MARGIN, y + 17, value, size=SMALL_SIZE, anchor="end"))
            body.append("</g>")
            y += ROW + (len(lines) - 1) * (FONT_SIZE + 2)
        y += 6
    return frame(title, y + 4, body)

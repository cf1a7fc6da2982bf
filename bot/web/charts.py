"""The dashboard's charts as standalone inline SVG strings, built from the figures.

Labels come in translated; every text is escaped; no style attributes, so a strict CSP holds.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.dashboard_figures import (
    CampaignCoverage,
    Durations,
    MemberPoints,
    WeekCounts,
)

# A narrow canvas: scaled to a phone's width (about 360 px) the fonts keep their size.
WIDTH = 360
MARGIN = 8
TITLE_SIZE = 16
FONT_SIZE = 14
SMALL_SIZE = 13
TEXT = "currentColor"  # the page decides, so a dark theme works too
GRID = "#BBBBBB"
TRACK = "#DDDDDD"

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
# Characters well under half an em wide in common sans-serif fonts.
NARROW = frozenset(" .,:;/|-'!()[]ilIjft")
DEFAULT_COVERAGE_VALUE = "{answered}/{households} · {percent}%"
# The most a turned bar label may take (its length along the slant).
LABEL_ROOM = 110.0


# --- drawing pieces -------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _num(value: float) -> str:
    """A coordinate, short: 12, 12.5, 12.25."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _char_width(char: str) -> float:
    if unicodedata.east_asian_width(char) in "WF":
        return 1.0
    # Sized for wide fallback fonts such as DejaVu Sans (digits 0.64 em), so nothing overlaps.
    if char in NARROW:
        return 0.36
    return 0.64 if char.isdigit() else 0.62


def _text_width(text: str, size: float) -> float:
    """A generous estimate, in user units: wide (CJK) characters take a full em."""
    return size * sum(_char_width(c) for c in text)


def _fit(text: str, width: float, size: float) -> str:
    """The text, cut with an ellipsis so that it fits the width (the full text is in a tooltip)."""
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, width: float, size: float, most: int = 4) -> list[str]:
    """The text in lines that fit the width, broken between words (or between characters
    where a word is wider than a line, as in Chinese); past `most` lines the last is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if _text_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and _text_width(line + char, size) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    if len(lines) > most:
        lines = [*lines[: most - 1], _fit(" ".join(lines[most - 1 :]), width, size)]
    return lines or [""]


def _name_lines(x: float, y: float, lines: Sequence[str], size: int = FONT_SIZE) -> list[str]:
    """A name over one or more lines, the first on the baseline y."""
    return [_text(x, y + i * (size + 2), line, size=size) for i, line in enumerate(lines)]


def _data(data: Mapping[str, str] | None) -> str:
    return "".join(f' data-{key}="{_esc(value)}"' for key, value in (data or {}).items())


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = FONT_SIZE,
    anchor: str = "start",
    bold: bool = False,
    css_class: str = "",
    rotate: float | None = None,
) -> str:
    extra = ' font-weight="bold"' if bold else ""
    extra += f' class="{css_class}"' if css_class else ""
    if rotate is not None:
        extra += f' transform="rotate({_num(rotate)} {_num(x)} {_num(y)})"'
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{TEXT}"{extra}>{_esc(text)}</text>'
    )


def _rect(
    x: float,
    y: float,
    width: float,
    height: float,
    colour: str,
    *,
    css_class: str = "bar",
    tooltip: str | None = None,
    data: Mapping[str, str] | None = None,
    edge: bool = False,
) -> str:
    # A thin white edge keeps neighbouring colours of a stack apart.
    stroke = ' stroke="#FFFFFF" stroke-width="0.5"' if edge else ""
    start = (
        f'<rect class="{css_class}" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" '
        f'height="{_num(height)}" fill="{colour}"{stroke}{_data(data)}'
    )
    if tooltip is None:
        return start + "/>"
    return f"{start}><title>{_esc(tooltip)}</title></rect>"


def _svg(title: str, height: float, body: Iterable[str]) -> str:
    """The frame: an accessible name, a viewBox that scales to 100% width, the visible title."""
    heading = _fit(title, WIDTH - 2 * MARGIN, TITLE_SIZE)
    return "".join(
        [
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
            f'viewBox="0 0 {WIDTH} {_num(height)}" preserveAspectRatio="xMidYMin meet" '
            f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
            f"<title>{_esc(title)}</title>",
            _text(MARGIN, 20, heading, size=TITLE_SIZE, bold=True, css_class="heading"),
            *body,
            "</svg>",
        ]
    )


def _empty(title: str, empty_text: str) -> str:
    """Nothing to draw: say so, in the same frame."""
    message = _fit(empty_text, WIDTH - 2 * MARGIN, FONT_SIZE)
    return _svg(title, 80, [_text(WIDTH / 2, 56, message, anchor="middle", css_class="empty")])


def _axis(top: int) -> tuple[int, int]:
    """A round top for a count axis and the step between its ticks (about four of them)."""
    if top <= 0:
        return 1, 1
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return math.ceil(top / step) * step, step


def _legend(items: Sequence[tuple[str, str]], top: float) -> tuple[list[str], float]:
    """A swatch and a name per item, flowing into as many rows as the width needs."""
    parts: list[str] = []
    x, y = float(MARGIN), top
    for name, colour in items:
        label = _fit(name, WIDTH - 2 * MARGIN - 18, FONT_SIZE)
        width = 18 + _text_width(label, FONT_SIZE) + 16
        if x > MARGIN and x + width - 16 > WIDTH - MARGIN:
            x, y = float(MARGIN), y + 20
        parts.append(_rect(x, y - 11, 12, 12, colour, css_class="swatch"))
        parts.append(_text(x + 18, y, label, css_class="legend"))
        x += width
    return parts, y + 20


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
    top_value, step = _axis(max(c.total for c in columns))
    # Room on the left for the widest tick number, no more: the bars get the rest.
    left = MARGIN + _text_width(str(top_value), SMALL_SIZE) + 8
    right = float(WIDTH - MARGIN)
    plot_top = 58.0 if axis_caption else 46.0
    plot_height = 170.0
    bottom = plot_top + plot_height
    body: list[str] = []
    if axis_caption:
        text = _fit(axis_caption, WIDTH - 2 * MARGIN, SMALL_SIZE)
        body.append(_text(MARGIN, 40, text, size=SMALL_SIZE, css_class="axis-caption"))
    for tick in range(0, top_value + 1, step):
        y = bottom - plot_height * tick / top_value
        body.append(
            f'<line x1="{_num(left)}" x2="{_num(right)}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="{1 if tick == 0 else 0.5}"/>'
        )
        body.append(_text(left - 6, y + 4, str(tick), size=SMALL_SIZE, anchor="end"))
    slot = (right - left) / len(columns)
    bar = slot * 0.64
    # Every bar keeps its label: too wide for its slot, the labels are turned (half-way,
    # or upright when the bars stand close), and the chart grows to hold them.
    widest = max(_text_width(c.label, SMALL_SIZE) for c in columns)
    turned: float | None = None
    label_size = SMALL_SIZE
    if widest + 4 > slot:
        turned = -45.0 if slot * 0.7 >= SMALL_SIZE + 2 else -90.0
        label_size = SMALL_SIZE if turned == -45.0 or slot >= SMALL_SIZE + 1 else 12
    longest = min(LABEL_ROOM, max(_text_width(c.label, label_size) for c in columns))
    label_height = 0.0 if turned is None else longest * (0.71 if turned == -45.0 else 1.0)
    for index, column in enumerate(columns):
        x = left + slot * index + (slot - bar) / 2
        y = bottom
        body.append(f'<g class="column"{_data(column.data)}>')
        for segment in column.segments:
            if segment.value <= 0:
                continue
            height = plot_height * segment.value / top_value
            y -= height
            body.append(
                _rect(
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
                _text(x + bar / 2, y - 4, str(column.total), size=SMALL_SIZE, anchor="middle")
            )
        if turned is None:
            label = _fit(column.label, slot - 2, SMALL_SIZE)
            body.append(_text(x + bar / 2, bottom + 17, label, size=SMALL_SIZE, anchor="middle"))
        else:
            label = _fit(column.label, LABEL_ROOM, label_size)
            centre = x + bar / 2 + label_size / 3
            body.append(
                _text(
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
        drawn, y = _legend(legend, y)
        body.extend(drawn)
    if caption:
        text = _fit(caption, WIDTH - 2 * MARGIN, FONT_SIZE)
        body.append(_text(MARGIN, y, text, css_class="caption"))
        y += 20
    return _svg(title, y - 8, body)


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
        return _empty(title, empty_text)
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
        return _empty(title, empty_text)
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
        return _empty(title, empty_text)
    most = max(m.points for m in members)
    room = WIDTH - MARGIN - BAR_LEFT - _text_width(str(most), SMALL_SIZE) - 6
    body: list[str] = []
    y = 36.0
    for member in members:
        points = max(member.points, 0)
        width = room * points / most
        # The name whole, over as many lines as it needs (four at most; the tooltip has it).
        lines = _wrap(member.name, LABEL_WIDTH, FONT_SIZE)
        height = ROW + (len(lines) - 1) * (FONT_SIZE + 2)
        body.append(f'<g class="row"{_data({"person": str(member.person_id)})}>')
        body.append(f"<title>{_esc(member.name)}: {points}</title>")
        body.extend(_name_lines(MARGIN, y + 17, lines))
        body.append(
            _rect(
                BAR_LEFT,
                y + 4,
                width,
                ROW - 8,
                BLUE,
                tooltip=f"{member.name}: {points}",
                data={"value": str(points)},
            )
        )
        body.append(_text(BAR_LEFT + width + 6, y + 17, str(points), size=SMALL_SIZE))
        body.append("</g>")
        y += height
    return _svg(title, y + 8, body)


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
        return _empty(title, empty_text)
    values = {
        (c.survey_id, b.building_id): (
            value_template.format(answered=b.answered, households=b.households, percent=b.percent)
            if b.percent is not None
            else no_households
        )
        for c in campaigns
        for b in c.buildings
    }
    value_width = max(_text_width(v, SMALL_SIZE) for v in values.values())
    track = WIDTH - MARGIN - BAR_LEFT - value_width - 8
    body: list[str] = []
    y = 36.0
    for campaign in campaigns:
        heading = _fit(campaign.title, WIDTH - 2 * MARGIN, FONT_SIZE)
        body.append(_text(MARGIN, y + 17, heading, bold=True, css_class="campaign"))
        y += ROW
        for building in campaign.buildings:
            share = building.answered / building.households if building.households else 0.0
            share = min(max(share, 0.0), 1.0)
            value = values[(campaign.survey_id, building.building_id)]
            lines = _wrap(building.name, LABEL_WIDTH, FONT_SIZE)
            body.append(f'<g class="row"{_data({"building": str(building.building_id)})}>')
            body.extend(_name_lines(MARGIN, y + 17, lines))
            body.append(_rect(BAR_LEFT, y + 4, track, ROW - 8, TRACK, css_class="track"))
            body.append(
                _rect(
                    BAR_LEFT,
                    y + 4,
                    track * share,
                    ROW - 8,
                    BLUE,
                    tooltip=f"{building.name}: {value}",
                    data={"percent": str(building.percent if building.percent is not None else "")},
                )
            )
            body.append(_text(WIDTH - MARGIN, y + 17, value, size=SMALL_SIZE, anchor="end"))
            body.append("</g>")
            y += ROW + (len(lines) - 1) * (FONT_SIZE + 2)
        y += 6
    return _svg(title, y + 4, body)

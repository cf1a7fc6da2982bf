"""The pieces the dashboard's SVG charts are drawn with: the canvas, text measured, cut and
wrapped to fit, escaped text and bars, the titled frame, a count axis's ticks and a legend."""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

# A narrow canvas: scaled to a phone's width (about 360 px) the fonts keep their size.
WIDTH = 360
MARGIN = 8
TITLE_SIZE = 16
FONT_SIZE = 14
SMALL_SIZE = 13
TEXT = "currentColor"  # the page decides, so a dark theme works too
GRID = "#BBBBBB"
TRACK = "#DDDDDD"
# Characters well under half an em wide in common sans-serif fonts.
NARROW = frozenset(" .,:;/|-'!()[]ilIjft")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def num(value: float) -> str:
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


def text_width(text: str, size: float) -> float:
    """A generous estimate, in user units: wide (CJK) characters take a full em."""
    return size * sum(_char_width(c) for c in text)


def fit(text: str, width: float, size: float) -> str:
    """The text, cut with an ellipsis so that it fits the width (the full text is in a tooltip)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, size: float, most: int = 4) -> list[str]:
    """The text in lines that fit the width, broken between words (or between characters
    where a word is wider than a line, as in Chinese); past `most` lines the last is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and text_width(line + char, size) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    if len(lines) > most:
        lines = [*lines[: most - 1], fit(" ".join(lines[most - 1 :]), width, size)]
    return lines or [""]


def name_lines(x: float, y: float, lines: Sequence[str], size: int = FONT_SIZE) -> list[str]:
    """A name over one or more lines, the first on the baseline y."""
    return [text_at(x, y + i * (size + 2), line, size=size) for i, line in enumerate(lines)]


def data_attributes(data: Mapping[str, str] | None) -> str:
    return "".join(f' data-{key}="{esc(value)}"' for key, value in (data or {}).items())


def text_at(
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
        extra += f' transform="rotate({num(rotate)} {num(x)} {num(y)})"'
    return (
        f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{TEXT}"{extra}>{esc(text)}</text>'
    )


def rect(
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
        f'<rect class="{css_class}" x="{num(x)}" y="{num(y)}" width="{num(width)}" '
        f'height="{num(height)}" fill="{colour}"{stroke}{data_attributes(data)}'
    )
    if tooltip is None:
        return start + "/>"
    return f"{start}><title>{esc(tooltip)}</title></rect>"


def frame(title: str, height: float, body: Iterable[str]) -> str:
    """The frame: an accessible name, a viewBox that scales to 100% width, the visible title."""
    heading = fit(title, WIDTH - 2 * MARGIN, TITLE_SIZE)
    return "".join(
        [
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
            f'viewBox="0 0 {WIDTH} {num(height)}" preserveAspectRatio="xMidYMin meet" '
            f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
            f"<title>{esc(title)}</title>",
            text_at(MARGIN, 20, heading, size=TITLE_SIZE, bold=True, css_class="heading"),
            *body,
            "</svg>",
        ]
    )


def empty_frame(title: str, empty_text: str) -> str:
    """Nothing to draw: say so, in the same frame."""
    message = fit(empty_text, WIDTH - 2 * MARGIN, FONT_SIZE)
    return frame(title, 80, [text_at(WIDTH / 2, 56, message, anchor="middle", css_class="empty")])


def count_axis(top: int) -> tuple[int, int]:
    """A round top for a count axis and the step between its ticks (about four of them)."""
    if top <= 0:
        return 1, 1
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return math.ceil(top / step) * step, step


def legend_rows(items: Sequence[tuple[str, str]], top: float) -> tuple[list[str], float]:
    """A swatch and a name per item, flowing into as many rows as the width needs."""
    parts: list[str] = []
    x, y = float(MARGIN), top
    for name, colour in items:
        label = fit(name, WIDTH - 2 * MARGIN - 18, FONT_SIZE)
        width = 18 + text_width(label, FONT_SIZE) + 16
        if x > MARGIN and x + width - 16 > WIDTH - MARGIN:
            x, y = float(MARGIN), y + 20
        parts.append(rect(x, y - 11, 12, 12, colour, css_class="swatch"))
        parts.append(text_at(x + 18, y, label, css_class="legend"))
        x += width
    return parts, y + 20

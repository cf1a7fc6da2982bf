"""How Telegram counts a text (after HTML parsing, in UTF-16 units) and where a long one may
be cut into messages: never inside a tag or an entity, tags closed and reopened at a cut."""

from __future__ import annotations

import html
import re

MAX_TEXT = 4096  # a message's text
MAX_CAPTION = 1024  # a photo's or a file's caption

# A tag, an entity, or one character: the pieces a split never cuts through.
_PIECE = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);|.", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z-]+)")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _width(piece: str) -> int:
    """What a piece counts in Telegram's limits: after HTML parsing, in UTF-16 units."""
    if piece.startswith("<") and len(piece) > 1:
        return 0
    if piece.startswith("&") and len(piece) > 1:
        return _utf16(html.unescape(piece))
    return _utf16(piece)


def visible_length(text: str) -> int:
    """The length Telegram measures (text after entity parsing, in UTF-16 code units)."""
    return sum(_width(piece) for piece in _PIECE.findall(text))


def cut_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long HTML text into messages of at most ``limit`` as Telegram counts them.

    Never inside a tag or an entity; at the last line end when there is one; tags open at a
    cut are closed before it and opened again after it.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    # After the last newline in ``current``: (pieces before it, size before it, open tags).
    line_end: tuple[int, int, list[tuple[str, str]]] | None = None

    def cut(at: int, before: int, tags: list[tuple[str, str]]) -> None:
        nonlocal current, size, line_end
        head, tail = current[:at], current[at:]
        if tail and tail[0] == "\n":
            tail = tail[1:]
            before += 1
        chunks.append("".join(head) + "".join(f"</{name}>" for name, _ in reversed(tags)))
        current = [opening for _, opening in tags] + tail
        size -= before
        line_end = None

    for piece in _PIECE.findall(text):
        width = _width(piece)
        while size + width > limit and current:
            if line_end is not None and line_end[0] > 0:
                cut(*line_end)
            else:
                cut(len(current), size, list(open_tags))
        if piece == "\n":
            line_end = (len(current), size, list(open_tags))
        current.append(piece)
        size += width
        tag = _TAG_NAME.match(piece) if piece.startswith("<") and width == 0 else None
        if tag is not None:
            name = tag.group(1).lower()
            if piece.startswith("</"):
                for index in range(len(open_tags) - 1, -1, -1):
                    if open_tags[index][0] == name:
                        del open_tags[index]
                        break
            elif not piece.endswith("/>"):
                open_tags.append((name, piece))
    chunks.append("".join(current))
    kept = [c for c in chunks if html.unescape(re.sub(r"<[^<>]*>", "", c)).strip()]
    return kept or [text[:limit] or "…"]

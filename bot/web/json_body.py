"""Reading a JSON body safely: every JSON endpoint (web chat, Open311, Telegram's webhook) uses it.

Size and nesting are bounded before parsing, so a hostile body is a clear 400, never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from models.errors import N_

MAX_DEPTH = 32
MAX_BYTES = 256 * 1024
# A JSON string (skipped whole, brackets in it do not count) or one bracket.
TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class BadJson(ValueError):
    """Why a body was refused: a message key (an English msgid) and its values."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def nesting(text: str) -> int:
    """How deep the brackets of a JSON text go (strings not counted)."""
    depth = deepest = 0
    for match in TOKENS.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body; BadJson when it is too large, too deep or not JSON."""
    if len(raw) > max_bytes:
        raise BadJson(N_("The body is too large (at most {size} kB)."), size=max_bytes // 1024)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson(N_("The body is not valid JSON.")) from None
    if nesting(text) > max_depth:
        raise BadJson(
            N_("The body is nested too deeply (at most {depth} levels)."), depth=max_depth
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadJson(N_("The body is not valid JSON.")) from None


async def read_json(
    request: web.Request, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """The request's JSON body, bounded (see parse_json)."""
    too_large = BadJson(N_("The body is too large (at most {size} kB)."), size=max_bytes // 1024)
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    try:
        raw = await request.read()  # itself bounded by the app's client_max_size
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    return parse_json(raw, max_bytes=max_bytes, max_depth=max_depth)

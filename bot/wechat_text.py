"""Replies as WeChat shows them: plain text (no HTML but links), cut within the 2048 bytes of
a customer-service text, and buttons as numbered choices a person taps or answers by number."""

from __future__ import annotations

import html
import re

from handlers.messages import Button

# WeChat's limit is 2048 bytes of UTF-8; a margin for the numbered choices' line ends.
MAX_TEXT_BYTES = 2000
# A menu message carries at most 10 choices; its head is kept short so it shows whole.
MAX_MENU_ITEMS = 10
MAX_MENU_HEAD_BYTES = 1000
MAX_LABEL_BYTES = 200
TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")


def plain(text: str) -> str:
    """The handlers' small HTML subset as plain text (WeChat shows tags as they are)."""
    return html.unescape(TAG.sub("", text))


def size(text: str) -> int:
    return len(text.encode())


def cut(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The text in pieces of at most ``limit`` bytes, cut at line ends where it can be."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while size(line) > limit:
            head = line
            while size(head) > limit:
                head = head[: max(1, len(head) * limit // size(head))]
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def choices(buttons: tuple[tuple[Button, ...], ...]) -> list[Button]:
    """The buttons in reading order: choice n is the n-th of them."""
    return [button for row in buttons for button in row]


def numbered(buttons: list[Button]) -> list[str]:
    """Each choice as the person sees it: "1. Repairs"."""
    return [f"{n}. {plain(b.label)}"[:MAX_LABEL_BYTES] for n, b in enumerate(buttons, 1)]


def answered_choice(text: str, menu_id: str | None, count: int) -> int | None:
    """Which choice (0-based) a text picks: a tapped menu item, or a number typed alone."""
    picked = (menu_id or "").strip() or text.strip().rstrip(".")
    if not picked.isdecimal() or len(picked) > 3:
        return None
    number = int(picked)
    return number - 1 if 1 <= number <= count else None


def one_line(text: str, limit: int = 60) -> str:
    """The news in one line: its first line that says something, cut to ``limit`` characters."""
    for line in plain(text).split("\n"):
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def phone_number(text: str) -> str | None:
    """A typed phone number (7 to 15 digits, with +, spaces, dashes or brackets), else None."""
    kept = text.strip()
    digits = [ch for ch in kept if ch.isdecimal()]
    if not 7 <= len(digits) <= 15 or any(not (ch.isdecimal() or ch in "+-() ") for ch in kept):
        return None
    return kept

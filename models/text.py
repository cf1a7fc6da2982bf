"""What text and numbers from outside the store accepts: the one rule for every entry point.

NUL (PostgreSQL refuses it) and lone surrogates (UTF-8 cannot carry them) are refused with a
clear answer; other control characters but newline and tab are dropped; ids fit an id column.
"""

from __future__ import annotations

import re

from models.errors import N_, InvalidInput

# The largest value an INTEGER column holds on PostgreSQL (ids are INTEGER there).
MAX_ID = 2**31 - 1
REFUSED = re.compile("[\x00\ud800-\udfff]")
DROPPED = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")
UNKEEPABLE = N_(
    "That message has a character I cannot keep (an invisible NUL or half of an emoji). "
    "Please type it again."
)


def kept_text(value: str) -> str:
    """The text as the store keeps it; refused when it holds NUL or a lone surrogate."""
    if REFUSED.search(value):
        raise InvalidInput(UNKEEPABLE)
    return DROPPED.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def quiet_text(value: str) -> str:
    """The same cleaning without the refusal, for what a platform names (a person's name)."""
    return DROPPED.sub("", REFUSED.sub("", value.replace("\r\n", "\n").replace("\r", "\n")))


def bounded_id(raw: str) -> int | None:
    """A number typed or carried by a button, when it can be an id; None otherwise."""
    if not raw.isdecimal() or len(raw) > len(str(MAX_ID)):
        return None
    number = int(raw)
    return number if number <= MAX_ID else None


def is_unbounded_number(raw: str) -> bool:
    """Digits that no id column could hold: a forged or corrupted value."""
    return raw.isdecimal() and bounded_id(raw) is None

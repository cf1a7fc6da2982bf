"""Typed errors the store raises; each carries a message key and its parameters.

The key is the English message (a gettext msgid): handlers translate, then format.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


class StoreError(Exception):
    """Refused: nothing was changed. The caller rolls back its transaction."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key.format(**params) if params else key)
        self.key = key
        self.params = params


class NotFound(StoreError):
    pass


class NotAllowed(StoreError):
    """The actor may not do this (wrong person, wrong role or out of scope)."""


class IllegalTransition(StoreError):
    """The wish is not in a state where this can happen."""


class InvalidInput(StoreError):
    pass


class Conflict(StoreError):
    """Somebody else changed the same thing at the same moment; try again."""


class NotEnoughPoints(StoreError):
    pass


def checked_text(value: str | None, *, required: bool, what: str, limit: int) -> str | None:
    """Free text from a person, trimmed; refused when missing (if required), too long, or
    holding what the store cannot keep (models/text.py)."""
    from models.text import kept_text

    cleaned = kept_text(value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(N_("Please add {what}."), what=what)
        return None
    if len(cleaned) > limit:
        raise InvalidInput(N_("That text is too long (at most {limit} characters)."), limit=limit)
    return cleaned

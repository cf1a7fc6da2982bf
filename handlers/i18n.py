"""Translations (gettext catalogues under locales/, read through Babel) and locale formatting.

Translate, then format: t("Wish {code} was accepted", code=...) escapes every value it puts in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gettext
import hashlib
import html
import os
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from models.errors import N_

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("zh_Hans", "en")
LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English"}
# The product's one name, in every greeting and page: "Small Wishes", 微心愿 in Chinese.
PRODUCT = N_("Small Wishes")
# Unambiguous in both languages: "3 Dec 2026, 13:48" and "2026年12月3日 13:48".
WHEN_PATTERNS = {"en": "d MMM y, HH:mm", "zh_Hans": "y年M月d日 HH:mm"}


def pick_locale(*hints: str | None, default: str = "zh_Hans") -> str:
    """The first supported locale among the hints ('zh-hans', 'zh', 'en-GB', 'en' ...)."""
    for hint in hints:
        if not hint:
            continue
        lowered = hint.replace("-", "_").lower()
        if lowered.startswith("zh"):
            return "zh_Hans"
        if lowered.startswith("en"):
            return "en"
    return default


@cache
def catalogue(locale: str) -> gettext.GNUTranslations:
    """The locale's .po file, compiled. The compiled form is kept beside it under a name made of
    the .po's own hash (as Python keeps byte-code): no stale one can ever be read, and a start
    reads it instead of compiling again (a good part of the start) where the folder is writable."""
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    source = (folder / "messages.po").read_bytes()
    kept = folder / f"messages-{hashlib.sha256(source).hexdigest()[:16]}.mo"
    with contextlib.suppress(Exception):  # none kept yet (or unreadable): compile
        return gettext.GNUTranslations(BytesIO(kept.read_bytes()))
    buffer = BytesIO()
    write_mo(buffer, read_po(BytesIO(source), locale=locale))
    compiled = buffer.getvalue()
    with contextlib.suppress(OSError):  # a read-only install compiles at every start
        for old in folder.glob("messages-*.mo"):
            old.unlink()
        written = folder / f"{kept.name}.{os.getpid()}.tmp"
        written.write_bytes(compiled)
        written.replace(kept)  # whole or not at all
    return gettext.GNUTranslations(BytesIO(compiled))


class Translator:
    def __init__(self, locale: str, timezone: ZoneInfo) -> None:
        self.locale = locale if locale in SUPPORTED else SUPPORTED[0]
        self.timezone = timezone
        self._catalogue = catalogue(self.locale)
        self._babel = Locale.parse(self.locale)

    def __call__(self, message: str, /, **params: Any) -> str:
        """Translate, then fill in the values, each escaped for the HTML subset."""
        text = self._catalogue.gettext(message)
        return text.format(**{k: _escaped(v) for k, v in params.items()}) if params else text

    def plural(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = self._catalogue.ngettext(singular, plural, n)
        return text.format(n=n, **{k: _escaped(v) for k, v in params.items()})

    def raw(self, message: str) -> str:
        """Translated, unformatted: for labels with no values."""
        return self._catalogue.gettext(message)

    def when(self, moment: dt.datetime | None) -> str:
        """A moment in the community's time zone, the month named and the clock at 24 hours."""
        if moment is None:
            return "-"
        return format_datetime(
            moment.astimezone(self.timezone),
            WHEN_PATTERNS[self.locale],
            tzinfo=self.timezone,
            locale=self._babel,
        )

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self._babel)


@cache
def translator(locale: str, timezone: ZoneInfo) -> Translator:
    """One Translator per language and time zone for the process (its Babel locale too)."""
    return Translator(locale, timezone)


def _escaped(value: Any) -> str:
    if isinstance(value, Markup):
        return str(value)
    return html.escape(str(value), quote=False)


class Markup(str):
    """Text already safe for the HTML subset (built from escaped parts)."""


def escape(value: Any) -> str:
    return html.escape(str(value), quote=False)

"""The office's lists in the reader's words: translated headings, statuses, categories (without
the chat's emoji), skills and approval, plus a plain category-code column for filters.

One place for the dashboard's downloads and the chat's /export, so the two files never differ.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from handlers.flows.common import category_name, status_name
from handlers.i18n import Translator
from handlers.supply_words import supply_values
from models.errors import N_
from models.service_lists import Cell, Row, Sheet

# What a category's name starts with in the chat (an emoji and a space): not in lists and files.
DECORATION = re.compile(r"^[^\w(]+")
URGENCY_NAMES = {"normal": N_("normal"), "urgent": N_("urgent")}
APPROVAL_NAMES = {"yes": N_("approved"), "no": N_("waiting for approval")}
# The lists whose rows name a wish's category: they get the plain code as a last column.
WITH_CATEGORY_CODE = ("demand", "service")


def plain(name: str) -> str:
    """A name without the emoji the chat puts before it."""
    return DECORATION.sub("", name).strip() or name


def _column(sheet: Sheet, heading: str) -> int | None:
    return sheet.header.index(heading) if heading in sheet.header else None


def sheet_in_words(t: Translator, name: str, sheet: Sheet) -> Sheet:
    """The sheet (headings still msgids) with its headings and coded values in t's language."""
    sheet = supply_values(t, name, sheet)
    words: dict[int | None, Any] = {
        _column(sheet, N_("Category")): lambda v: plain(category_name(t, str(v))),
        _column(sheet, N_("Status")): lambda v: status_name(t, str(v)),
        _column(sheet, N_("Urgency")): lambda v: t.raw(URGENCY_NAMES.get(str(v), str(v))),
    }
    if name == "supply":
        words[_column(sheet, N_("Skills"))] = lambda v: ", ".join(
            plain(category_name(t, c)) for c in str(v).split(", ")
        )
        words[_column(sheet, N_("Approved"))] = lambda v: t.raw(APPROVAL_NAMES.get(str(v), str(v)))
    words.pop(None, None)
    code_at = _column(sheet, N_("Category")) if name in WITH_CATEGORY_CODE else None

    def in_words(row: Row) -> Row:
        cells: list[Cell] = [
            words[i](value) if i in words and value not in (None, "") else value
            for i, value in enumerate(row)
        ]
        if code_at is not None:
            cells.append(row[code_at])
        return tuple(cells)

    header = tuple(t.raw(h) for h in sheet.header)
    if code_at is not None:
        header += (t.raw(N_("Category code")),)
    return replace(
        sheet, title=t.raw(sheet.title), header=header, rows=[in_words(r) for r in sheet.rows]
    )

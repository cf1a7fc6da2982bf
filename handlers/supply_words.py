"""The supply side's lists (organisations and resources, commitments) in the reader's words:
kinds, categories, days, places and units translated (sheet_in_words uses it for every list).
"""

from __future__ import annotations

from dataclasses import replace

from handlers.flows.common import category_name
from handlers.flows.organisations import KIND_NAMES, UNIT_NAMES, WEEKDAY_NAMES, WHERE_NAMES
from handlers.i18n import Translator
from models.commitments import CommitmentUnit
from models.errors import N_
from models.organisations import OrganisationKind
from models.resources import ResourceWhere
from models.service_lists import Cell, Row, Sheet

# Column numbers of the two lists (models/service_lists.py).
R_KIND, R_CATEGORIES, R_WEEKDAYS, R_WHERE = 1, 6, 8, 10
C_UNIT, C_ON_TRACK = 3, 7
YES_NO = {"yes": N_("yes"), "no": N_("no")}


def _kind(t: Translator, value: Cell) -> Cell:
    if value == "member":
        return t.raw(N_("member"))
    try:
        return t.raw(KIND_NAMES[OrganisationKind(str(value))])
    except ValueError:
        return value


def _categories(t: Translator, value: Cell) -> Cell:
    codes = [c for c in str(value or "").split(", ") if c]
    return ", ".join(category_name(t, c) for c in codes)


def _weekdays(t: Translator, value: Cell) -> Cell:
    days = [int(d) for d in str(value or "").split(",") if d.isdigit() and int(d) < 7]
    return ", ".join(t.raw(WEEKDAY_NAMES[d]) for d in days)


def _where(t: Translator, value: Cell) -> Cell:
    try:
        return t.raw(WHERE_NAMES[ResourceWhere(str(value))]) if value else value
    except ValueError:
        return value


def _unit(t: Translator, value: Cell) -> Cell:
    try:
        return t.raw(UNIT_NAMES[CommitmentUnit(str(value))])
    except ValueError:
        return value


def supply_values(t: Translator, name: str, sheet: Sheet) -> Sheet:
    """The sheet with its codes said in the reader's language (other lists are unchanged);
    handlers/sheet_words.py applies it to every list, headings and all."""
    columns = {
        "resources": {
            R_KIND: _kind,
            R_CATEGORIES: _categories,
            R_WEEKDAYS: _weekdays,
            R_WHERE: _where,
        },
        "commitments": {
            C_UNIT: _unit,
            C_ON_TRACK: lambda t, v: t.raw(YES_NO.get(str(v), str(v))),
        },
    }.get(name)
    if columns is None:
        return sheet

    def said(row: Row) -> Row:
        return tuple(columns[i](t, v) if i in columns else v for i, v in enumerate(row))

    return replace(sheet, rows=[said(r) for r in sheet.rows])

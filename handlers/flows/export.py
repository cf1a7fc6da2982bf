"""/export: the office's lists (demand, supply, service, points...) as XLSX spreadsheets.

One file per community the caller works for, holding only the buildings they reach.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from io import BytesIO

from handlers.flows.admin import FLOW
from handlers.flows.common import rows
from handlers.messages import Document
from handlers.router import command
from handlers.sheet_words import sheet_in_words
from handlers.turn import Step, Turn, add_steps
from models.clock import now
from models.errors import N_
from models.office_work import communities_reached
from models.people import Role
from models.service_lists import LISTS, Cell, Sheet

EXPORT_LIST = "export_list"

LIST_LABELS = {
    "demand": N_("📋 Demand: the wishes"),
    "supply": N_("🤝 Supply: the members"),
    "service": N_("✅ Service: who did what"),
    "points": N_("⭐ Points: the ledger"),
    "resources": N_("🏫 Supply: organisations and resources"),
    "commitments": N_("🎯 Commitments this year"),
}


@command("export", N_("the four lists as spreadsheets"), Role.GRID_WORKER, Role.ADMIN)
async def export(turn: Turn) -> None:
    await turn.start(FLOW, EXPORT_LIST)


async def ask_export_list(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(LIST_LABELS[name]), name) for name in LISTS]
    turn.say(t("Which list?"), [*rows(buttons, 1), turn.nav(back=False)])


async def answer_export_list(turn: Turn) -> None:
    name = turn.value or ""
    query = LISTS.get(name)
    if query is None:
        turn.say(turn.t("Please choose a list with the buttons."))
        return
    t = turn.t
    turn.end()
    day = now(turn.session).astimezone(turn.config.timezone).date().isoformat()
    # Each community the caller works for, narrowed to their reach: a grid worker's lists
    # hold their grid's wishes only.
    reach = turn.reach(Role.GRID_WORKER, Role.ADMIN)
    for community in await communities_reached(turn.session, reach):
        community_id = community.id
        sheet = await query(
            turn.session,
            community_id,
            None,
            None,
            turn.config.timezone,
            buildings=reach.buildings(community_id=community_id),
        )
        sheet = sheet_in_words(t, name, sheet)
        content = await asyncio.to_thread(xlsx_bytes, sheet, sheet.title, sheet.header)
        turn.say(
            t.plural(
                "The {list} list of {community}: one row.",
                "The {list} list of {community}: {n} rows.",
                len(sheet.rows),
                list=sheet.title,
                community=community.name,
            ),
            document=Document(f"{name}-{community_id}-{day}.xlsx", content),
        )


XLSX_TIME = "yyyy-mm-dd hh:mm"


def xlsx_bytes(sheet: Sheet, title: str, header: Sequence[str]) -> bytes:
    """The sheet as an XLSX file in memory; text stays text, even when it starts with '='."""
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet"
    for column, name in enumerate(header, start=1):
        ws.cell(row=1, column=column, value=name)
    for row_number, row in enumerate(sheet.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = ws.cell(row=row_number, column=column, value=_cell(value))
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, dt.datetime):
                cell.number_format = XLSX_TIME
    ws.freeze_panes = "A2"
    # A filter button on every heading: Excel's own sorting and filtering, ready.
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{len(sheet.rows) + 1}"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Cell) -> str | int | dt.datetime | None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # local wall-clock time: Excel has no time zones
    if isinstance(value, str):
        cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        return cleaned
    return value


add_steps(FLOW, {EXPORT_LIST: Step(ask_export_list, answer_export_list)})

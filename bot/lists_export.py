"""Export one of the four lists of a community as a CSV or XLSX file.

The file is written next to its place and renamed into it, so a failure leaves no half file.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import logging
import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Community
from models.errors import N_, InvalidInput, NotFound
from models.service_lists import LISTS, Cell, Sheet

log = logging.getLogger(__name__)

FILE_FORMATS = ("csv", "xlsx")
CSV_TIME = "%Y-%m-%d %H:%M"
XLSX_TIME = "yyyy-mm-dd hh:mm"
MIN_WIDTH = 6
MAX_WIDTH = 50
# A text cell starting with one of these is a formula to a spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def export_list(
    session: AsyncSession,
    list_name: str,
    *,
    community: str,
    start: dt.date | None,
    end: dt.date | None,
    file_format: str,
    output: Path,
    timezone: ZoneInfo,
) -> int:
    """Write the list to output; return how many data rows it has (the header not counted)."""
    query = LISTS.get(list_name)
    if query is None:
        raise InvalidInput(
            N_("There is no list named {name} (choose one of {names})."),
            name=list_name,
            names=", ".join(LISTS),
        )
    if file_format not in FILE_FORMATS:
        raise InvalidInput(
            N_("Lists are exported as csv or xlsx, not {format}."), format=file_format
        )
    if start is not None and end is not None and start > end:
        raise InvalidInput(
            N_("The first day {start} is after the last day {end}."),
            start=start.isoformat(),
            end=end.isoformat(),
        )
    community_id = await _community_id(session, community)
    sheet = await query(session, community_id, start, end, timezone)
    writer = _write_csv if file_format == "csv" else _write_xlsx
    await asyncio.to_thread(_write_atomically, output, sheet, writer)
    log.info(
        "Exported the %s list of community %d (%d rows, %s).",
        list_name,
        community_id,
        len(sheet.rows),
        file_format,
    )
    return len(sheet.rows)


async def _community_id(session: AsyncSession, name: str) -> int:
    wanted = " ".join(name.split())
    found = (await session.scalars(select(Community.id).where(Community.name == wanted))).all()
    if not found:
        raise NotFound(N_("There is no community named {name}."), name=name)
    if len(found) > 1:
        raise InvalidInput(
            N_("There are {count} communities named {name}, on different streets."),
            count=len(found),
            name=name,
        )
    return found[0]


def _write_atomically(output: Path, sheet: Sheet, writer: Callable[[Path, Sheet], None]) -> None:
    # The temporary file is created 0600: the lists name people.
    try:
        fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as e:
        # Name the file the person asked for, not our temporary one.
        raise OSError(e.errno, e.strerror, str(output)) from None
    os.close(fd)
    temporary = Path(name)
    try:
        writer(temporary, sheet)
        try:
            os.replace(temporary, output)
        except OSError as e:
            raise OSError(e.errno, e.strerror, str(output)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(CSV_TIME)
    if isinstance(value, str):
        # Quote what a spreadsheet would run as a formula (a resident wrote it, not us).
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def _write_csv(path: Path, sheet: Sheet) -> None:
    # utf-8-sig: the BOM tells Excel the file is UTF-8, so Chinese text opens right.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(sheet.header)
        for row in sheet.rows:
            out.writerow([_csv_text(value) for value in row])


def _xlsx_value(value: Cell) -> str | int | dt.datetime | None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, dt.datetime):
        # Excel has no time zones: local wall-clock time, as the office reads it.
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        return cleaned
    return value


def _display_width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return len(XLSX_TIME)
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _write_xlsx(path: Path, sheet: Sheet) -> None:
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet.title
    bold = Font(bold=True)
    widths = [_display_width(name) for name in sheet.header]
    for column, name in enumerate(sheet.header, start=1):
        ws.cell(row=1, column=column, value=name).font = bold
    for row_number, row in enumerate(sheet.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = ws.cell(row=row_number, column=column, value=_xlsx_value(value))
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "="
            elif isinstance(value, dt.datetime):
                cell.number_format = XLSX_TIME
            widths[column - 1] = max(widths[column - 1], _display_width(value))
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )
    ws.freeze_panes = "A2"
    # A filter button on every heading: Excel's own sorting and filtering, ready.
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(sheet.header)))}{len(sheet.rows) + 1}"
    book.save(path)


def sheet_file(sheet: Sheet, file_format: str) -> bytes:
    """The sheet as the bytes of a CSV or XLSX file (for a download from the dashboard)."""
    writer = _write_csv if file_format == "csv" else _write_xlsx
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"list.{file_format}"
        writer(path, sheet)
        return path.read_bytes()

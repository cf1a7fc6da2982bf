"""An organisation's yearly report as an XLSX file: a summary sheet and one row per service,
in the reader's language; the chat sends it and the dashboard serves it.
"""

from __future__ import annotations

from io import BytesIO

from handlers.flows.common import category_name
from handlers.i18n import Translator
from models.errors import N_
from models.org_report import YearReport

XLSX_TIME = "yyyy-mm-dd hh:mm"


def report_file_name(report: YearReport, organisation_id: int) -> str:
    return f"organisation-{organisation_id}-{report.year}.xlsx"


def report_xlsx(report: YearReport, t: Translator) -> bytes:
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare file.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: str) -> str:
        return str(ILLEGAL_CHARACTERS_RE.sub("", value))

    book = Workbook()
    summary = book.active
    summary.title = clean(t.raw(N_("Summary")))[:31]
    average = report.average_rating
    totals: list[tuple[str, str | int | float]] = [
        (N_("Organisation"), clean(report.organisation)),
        (N_("Year"), report.year),
        (N_("Services"), report.services),
        (N_("Hours"), report.hours),
        (N_("Average rating"), average if average is not None else "-"),
        (N_("People who served"), len(report.people)),
    ]
    for label, value in totals:
        summary.append([clean(t.raw(label)), value])
    services = book.create_sheet(clean(t.raw(N_("Services")))[:31])
    services.append(
        [
            clean(t.raw(h))
            for h in (
                N_("Closed"),
                N_("Wish"),
                N_("Category"),
                N_("Who served"),
                N_("Hours"),
                N_("Rating"),
                N_("Points"),
            )
        ]
    )
    for served in report.rows:
        services.append(
            [
                served.closed_at.replace(tzinfo=None),
                served.code,
                clean(category_name(t, served.category)),
                clean(served.person),
                served.hours,
                served.rating,
                served.points,
            ]
        )
        services.cell(row=services.max_row, column=1).number_format = XLSX_TIME
        for column in (2, 4):
            services.cell(row=services.max_row, column=column).data_type = "s"
    services.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()

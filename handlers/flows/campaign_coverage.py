"""/coverage: how far the campaigns are, per grid and building; the answers as an XLSX file.

/campaign_export and 📊 Export XLSX (admins) send one sheet of every unit's answers.
"""

from __future__ import annotations

import asyncio
from io import BytesIO

from handlers.flows.common import button_number
from handlers.i18n import Translator
from handlers.messages import Document
from handlers.router import action, command
from handlers.turn import Turn
from models.campaign_results import Coverage, coverage, export_rows
from models.campaign_units import open_surveys_for
from models.clock import now
from models.errors import N_
from models.people import Role
from models.surveys import Survey, UnitStatus

STATUS_NAMES = {
    UnitStatus.WAITING: N_("waiting"),
    UnitStatus.SKIPPED: N_("skipped"),
    UnitStatus.DONE: N_("done"),
}


def coverage_text(t: Translator, survey: Survey, share: Coverage) -> str:
    def line(name: str, done: int, total: int, percent: int) -> str:
        return t(
            "{name}: {done}/{total} ({percent} %)",
            name=name,
            done=done,
            total=total,
            percent=percent,
        )

    parts = [
        t(
            "<b>{title}</b> — until {deadline}: {done}/{total} ({percent} %)",
            title=survey.title,
            deadline=t.when(survey.deadline),
            done=share.done,
            total=share.total,
            percent=share.percent,
        ),
        t.raw("Grids:"),
        *(line(g.name, g.done, g.total, g.percent) for g in share.grids),
        t.raw("Buildings:"),
        *(line(b.name, b.done, b.total, b.percent) for b in share.buildings),
    ]
    return "\n".join(parts)


@command(
    "coverage",
    N_("how far the campaigns are, per grid and building"),
    Role.BUILDING_HEAD,
    Role.GRID_WORKER,
    Role.ADMIN,
)
async def coverage_command(turn: Turn) -> None:
    communities = await turn.reach(Role.ADMIN, Role.GRID_WORKER).community_ids(turn.session)
    surveys = await open_surveys_for(turn.session, turn.scopes(Role.BUILDING_HEAD), communities)
    if not surveys:
        turn.say(turn.t("There is no campaign running."))
        return
    for found in surveys:
        share = await coverage(turn.session, found.id)
        buttons = (
            [(turn.action(turn.t.raw("📊 Export XLSX"), "campaign_export", found.id),)]
            if found.community_id in turn.scopes(Role.ADMIN)
            else []
        )
        turn.say(coverage_text(turn.t, found, share), buttons)


@command("campaign_export", N_("the campaign answers as a spreadsheet"), Role.ADMIN)
async def campaign_export_command(turn: Turn) -> None:
    surveys = await open_surveys_for(turn.session, (), turn.scopes(Role.ADMIN))
    if not surveys:
        turn.say(turn.t("There is no campaign running."))
        return
    for found in surveys:
        await _export(turn, found.id)


@action("campaign_export")
async def campaign_export_action(turn: Turn, args: list[str]) -> None:
    await _export(turn, button_number(args))


async def _export(turn: Turn, survey_id: int) -> None:
    assert turn.person is not None
    t = turn.t
    export = await export_rows(turn.session, turn.person, survey_id)
    header = [t.raw(N_("building")), t.raw(N_("unit")), t.raw(N_("status")), *export.questions]
    body = [(b, u, t.raw(STATUS_NAMES[UnitStatus(s)]), *values) for b, u, s, *values in export.rows]
    content = await asyncio.to_thread(xlsx_bytes, export.title, header, body)
    day = now(turn.session).astimezone(turn.config.timezone).date().isoformat()
    turn.say(
        t.plural(
            "{title}: one unit.",
            "{title}: {n} units.",
            len(body),
            title=export.title,
        ),
        document=Document(f"campaign-{survey_id}-{day}.xlsx", content),
    )


def xlsx_bytes(title: str, header: list[str], body: list[tuple[str, ...]]) -> bytes:
    """One sheet, text kept as text (even when it starts with '=')."""
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    sheet.title = ILLEGAL_CHARACTERS_RE.sub("", title).replace("/", " ")[:31] or "Campaign"
    for row_number, row in enumerate([header, *body], start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(
                row=row_number, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", value)
            )
            cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""The four exported lists: the right rows, only the community's own, whole days, both formats.

The command line is run for real, in a subprocess, against a fresh migrated database.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot.lists_export
from bot.app import build_app
from bot.lists_export import export_list
from bot.settings import load_settings
from models.clock import ManualClock
from models.errors import InvalidInput, NotFound
from models.points_ledger import adjust_points
from models.service_lists import (
    Cell,
    ListQuery,
    Sheet,
    demand_list,
    points_ledger,
    service_list,
    supply_list,
)
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import cancel_wish, confirm_wish
from models.wish_taking import accept_wish, report_done
from tests.conftest import START
from tests.databases import fresh_database
from tests.town import Town, build_town

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parent.parent
ERRAND_TEXT = "帮忙买菜：米和油 (carry rice and oil upstairs)"


def local(day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    """A moment in November 2026, Shanghai time."""
    return dt.datetime(2026, 11, day, hour, minute, second, micro, tzinfo=SHANGHAI)


@dataclass
class Story:
    repair: str  # Alice's, N1: Fixer, closed 23rd 12:00 with 5 stars
    errand: str  # Bob's, N2: Walker and Runner, closed 24th 18:00 with 4 stars
    open: str  # Carol's, S1: verified, nobody took it yet
    cancelled: str  # Alice's, cancelled
    late: str  # Bob's, submitted on the 26th
    maple: str  # Dora's, in the other community: closed, never in Sunflower's lists


async def tell_story(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> Story:
    async with sessions.begin() as s:
        clock.set(local(23, 9))
        repair = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Corridor light"
        )
        await verify_wish(s, town.head_n1, repair.id)
        await accept_wish(s, town.fixer, repair.id)
        clock.set(local(23, 11))
        await report_done(s, town.fixer, repair.id, "new bulb")
        clock.set(local(23, 12))
        await confirm_wish(s, town.alice, repair.id, 5, "bright again")

        clock.set(local(23, 13))
        maple = await submit_wish(
            s, town.dora, building_id=town.m1.id, category="repair", description="Tap drips"
        )
        await verify_wish(s, town.maple_admin, maple.id)
        await accept_wish(s, town.maple_member, maple.id)
        await report_done(s, town.maple_member, maple.id)
        clock.set(local(23, 14))
        await confirm_wish(s, town.dora, maple.id, 5)

        clock.set(local(24, 9))
        errand = await submit_wish(
            s,
            town.bob,
            building_id=town.n2.id,
            category="errand",
            description=ERRAND_TEXT,
            required_count=2,
        )
        await verify_wish(s, town.head_n2, errand.id)
        await accept_wish(s, town.walker, errand.id)
        await accept_wish(s, town.runner, errand.id)
        clock.set(local(24, 10))
        opened = await submit_wish(
            s,
            town.carol,
            building_id=town.s1.id,
            category="companionship",
            description="A chat on Sunday",
            preferred_time=local(29, 15),
        )
        await verify_wish(s, town.head_s1, opened.id)
        clock.set(local(24, 11))
        cancelled = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="paperwork", description="Form"
        )
        await cancel_wish(s, town.alice, cancelled.id, "my son helped")
        clock.set(local(24, 17))
        await report_done(s, town.walker, errand.id)
        clock.set(local(24, 18))
        await confirm_wish(s, town.bob, errand.id, 4)

        clock.set(local(25, 9))
        await adjust_points(s, town.admin, town.runner, 7, "Helped at the fair")
        clock.set(local(26, 9))
        late = await submit_wish(
            s, town.bob, building_id=town.n2.id, category="other", description="Late one"
        )
        codes = [w.code for w in (repair, errand, opened, cancelled, late, maple)]
    assert all(codes)
    return Story(*[str(c) for c in codes])


@pytest.fixture
async def story(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> Story:
    return await tell_story(sessions, town, clock)


async def sheet_of(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    query: ListQuery,
    start: dt.date | None = None,
    end: dt.date | None = None,
    timezone: ZoneInfo = SHANGHAI,
) -> Sheet:
    async with sessions() as s:
        sheet = await query(s, town.sunflower.id, start, end, timezone)
    assert isinstance(sheet, Sheet)
    assert all(len(row) == len(sheet.header) for row in sheet.rows)
    return sheet


def column(sheet: Sheet, name: str) -> list[object]:
    i = sheet.header.index(name)
    return [row[i] for row in sheet.rows]


def record(sheet: Sheet, key: str, value: object) -> dict[str, Cell]:
    matches = [dict(zip(sheet.header, row, strict=True)) for row in sheet.rows]
    found = [m for m in matches if m[key] == value]
    assert len(found) == 1, found
    return found[0]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def nov(day: int) -> dt.date:
    return dt.date(2026, 11, day)


# --- the lists themselves ---------------------------------------------------------------


async def test_demand_list_has_the_communitys_wishes_in_order(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    sheet = await sheet_of(sessions, town, demand_list)
    assert column(sheet, "Code") == [
        story.repair,
        story.errand,
        story.open,
        story.cancelled,
        story.late,
    ]
    errand = record(sheet, "Code", story.errand)
    assert errand["Created"] == local(24, 9)
    assert errand["Building"] == "N2"
    assert errand["Unit"] == "202"
    assert errand["Category"] == "errand"
    assert errand["Status"] == "closed"
    assert (errand["Helpers needed"], errand["Helpers taken"]) == (2, 2)
    assert errand["Description"] == ERRAND_TEXT
    assert record(sheet, "Code", story.open)["Preferred time"] == local(29, 15)
    assert record(sheet, "Code", story.open)["Status"] == "open"
    assert record(sheet, "Code", story.cancelled)["Status"] == "cancelled"


async def test_demand_list_names_no_requester(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    sheet = await sheet_of(sessions, town, demand_list)
    cells = {str(value) for row in sheet.rows for value in row}
    for person in (town.alice, town.bob, town.carol):
        assert person.name not in cells
    assert not any("name" in h.lower() or "phone" in h.lower() for h in sheet.header)


async def test_another_community_never_appears(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    for query in (demand_list, supply_list, service_list, points_ledger):
        sheet = await sheet_of(sessions, town, query)
        cells = {str(value) for row in sheet.rows for value in row}
        assert story.maple not in cells
        assert town.maple_member.name not in cells
        assert "M1" not in cells
    # And Maple's own lists show its wish and nothing of Sunflower's.
    async with sessions() as s:
        maple = await demand_list(s, town.maple.id, None, None, SHANGHAI)
    assert [row[0] for row in maple.rows] == [story.maple]


async def test_the_range_holds_the_whole_first_and_last_day(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    moments = {
        "before": local(22, 23, 59, 59, 999_999),
        "first": local(23, 0, 0),
        "last": local(24, 23, 59, 59, 999_999),
        "after": local(25, 0, 0),
    }
    codes = {}
    for label, moment in moments.items():
        clock.set(moment)
        async with sessions.begin() as s:
            wish = await submit_wish(
                s, town.alice, building_id=town.n1.id, category="other", description=label
            )
            codes[label] = wish.code

    async def shown(
        start: dt.date | None, end: dt.date | None, timezone: ZoneInfo = SHANGHAI
    ) -> list[str]:
        sheet = await sheet_of(sessions, town, demand_list, start, end, timezone)
        return [str(d) for d in column(sheet, "Description")]

    assert await shown(nov(23), nov(24)) == ["first", "last"]
    assert await shown(nov(23), nov(23)) == ["first"]
    assert await shown(nov(24), None) == ["last", "after"]
    assert await shown(None, nov(22)) == ["before"]
    assert await shown(None, None) == ["before", "first", "last", "after"]
    # The days are local days: in UTC, Shanghai's first minute of the 23rd is the 22nd.
    assert await shown(nov(22), nov(22), ZoneInfo("UTC")) == ["before", "first"]
    # Times are shown in the zone asked for.
    sheet = await sheet_of(sessions, town, demand_list, nov(23), nov(23))
    assert column(sheet, "Created") == [local(23)]
    created = column(sheet, "Created")[0]
    assert isinstance(created, dt.datetime)
    assert created.utcoffset() == dt.timedelta(hours=8)


async def test_supply_list_has_every_member_with_their_work(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    sheet = await sheet_of(sessions, town, supply_list)
    assert column(sheet, "Name") == ["Fixer", "Newbie", "Runner", "Walker"]
    fixer = record(sheet, "Name", "Fixer")
    assert fixer["Skills"] == "errand, repair"
    assert fixer["Approved"] == "yes"
    assert fixer["Balance"] == 15  # 10 for the repair, 5 for five stars
    assert fixer["Wishes closed"] == 1
    assert record(sheet, "Name", "Newbie")["Approved"] == "no"
    assert record(sheet, "Name", "Newbie")["Wishes closed"] == 0
    assert record(sheet, "Name", "Runner")["Balance"] == 12  # 5 for the errand, 7 adjusted

    on_24th = await sheet_of(sessions, town, supply_list, nov(24), nov(24))
    assert column(on_24th, "Name") == ["Fixer", "Newbie", "Runner", "Walker"]
    assert column(on_24th, "Wishes closed") == [0, 0, 1, 1]


async def test_service_list_says_who_did_what(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    sheet = await sheet_of(sessions, town, service_list)
    assert [(r[0], r[3]) for r in sheet.rows] == [
        (story.repair, "Fixer"),
        (story.errand, "Walker"),
        (story.errand, "Runner"),
    ]
    repair = record(sheet, "Wish", story.repair)
    assert repair["Category"] == "repair"
    assert repair["Building"] == "N1"
    assert repair["Accepted"] == local(23, 9)
    assert repair["Done"] == local(23, 11)
    assert repair["Closed"] == local(23, 12)
    assert repair["Rating"] == 5
    assert repair["Points"] == 15
    assert column(sheet, "Done")[1:] == [local(24, 17)] * 2
    assert column(sheet, "Points")[1:] == [5, 5]

    on_24th = await sheet_of(sessions, town, service_list, nov(24), nov(24))
    assert column(on_24th, "Member") == ["Walker", "Runner"]
    assert (await sheet_of(sessions, town, service_list, nov(25), None)).rows == []


async def test_points_ledger_and_service_list_agree(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story
) -> None:
    ledger = await sheet_of(sessions, town, points_ledger)
    assert [(r[1], r[2], r[3], r[4]) for r in ledger.rows] == [
        ("Fixer", 15, "award", story.repair),
        ("Walker", 5, "award", story.errand),
        ("Runner", 5, "award", story.errand),
        ("Runner", 7, "adjustment", ""),
    ]
    assert ledger.rows[0][0] == local(23, 12)
    assert record(ledger, "Kind", "adjustment")["Note"] == "Helped at the fair"

    service = await sheet_of(sessions, town, service_list)
    for row in service.rows:
        code, member, points = row[0], row[3], row[8]
        paid = sum(int(str(r[2])) for r in ledger.rows if r[1] == member and r[4] == code)
        assert paid == points
    awarded = sum(int(str(r[2])) for r in ledger.rows if r[3] == "award")
    assert sum(int(str(p)) for p in column(service, "Points")) == awarded

    only_25th = await sheet_of(sessions, town, points_ledger, nov(25), nov(25))
    assert [(r[1], r[2]) for r in only_25th.rows] == [("Runner", 7)]


# --- the files ----------------------------------------------------------------------------


async def export(
    sessions: async_sessionmaker[AsyncSession],
    list_name: str,
    output: Path,
    *,
    file_format: str,
    community: str = "Sunflower",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> int:
    async with sessions() as s:
        return await export_list(
            s,
            list_name,
            community=community,
            start=start,
            end=end,
            file_format=file_format,
            output=output,
            timezone=SHANGHAI,
        )


async def test_xlsx_opens_with_the_rows(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story, tmp_path: Path
) -> None:
    output = tmp_path / "demand.xlsx"
    assert await export(sessions, "demand", output, file_format="xlsx") == 5
    ws = openpyxl.load_workbook(output).active
    assert ws.title == "Demand"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Code", "Created", "Building"]
    assert all(c.font.bold for c in ws[1])
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == 5
    errand = next(r for r in rows if r[0] == story.errand)
    assert errand[1] == dt.datetime(2026, 11, 24, 9, 0)  # local wall-clock, no tzinfo
    assert errand[2] == "N2"
    assert errand[-1] == ERRAND_TEXT
    assert ws.column_dimensions["K"].width > ws.column_dimensions["A"].width
    assert files_in(tmp_path) == [output.name]


async def test_csv_reads_back_with_header_and_rows(
    sessions: async_sessionmaker[AsyncSession], town: Town, story: Story, tmp_path: Path
) -> None:
    output = tmp_path / "service.csv"
    assert await export(sessions, "service", output, file_format="csv", start=nov(24)) == 2
    assert output.read_bytes().startswith(b"\xef\xbb\xbf")
    with output.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "Wish",
        "Category",
        "Building",
        "Member",
        "Accepted",
        "Done",
        "Closed",
        "Rating",
        "Points",
    ]
    times = ["2026-11-24 09:00", "2026-11-24 17:00", "2026-11-24 18:00"]
    assert rows[1:] == [
        [story.errand, "errand", "N2", member, *times, "4", "5"] for member in ("Walker", "Runner")
    ]

    demand = tmp_path / "demand.csv"
    await export(sessions, "demand", demand, file_format="csv")
    with demand.open(encoding="utf-8-sig", newline="") as f:
        described = [row[-1] for row in csv.reader(f)]
    assert ERRAND_TEXT in described


async def test_a_residents_text_is_never_a_formula(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    async with sessions.begin() as s:
        await submit_wish(
            s,
            town.alice,
            building_id=town.n1.id,
            category="other",
            description='=HYPERLINK("http://example.com")\x07!',
        )
    await export(sessions, "demand", tmp_path / "d.csv", file_format="csv")
    with (tmp_path / "d.csv").open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f))[1][-1].startswith("'=HYPERLINK")
    await export(sessions, "demand", tmp_path / "d.xlsx", file_format="xlsx")
    cell = openpyxl.load_workbook(tmp_path / "d.xlsx").active["K2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://example.com")!'  # the control character is gone


async def test_wrong_requests_are_refused(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    output = tmp_path / "x.csv"
    with pytest.raises(NotFound, match="no community named Nowhere"):
        await export(sessions, "demand", output, file_format="csv", community="Nowhere")
    with pytest.raises(InvalidInput):
        await export(sessions, "wishes", output, file_format="csv")
    with pytest.raises(InvalidInput):
        await export(sessions, "demand", output, file_format="pdf")
    with pytest.raises(InvalidInput):
        await export(sessions, "demand", output, file_format="csv", start=nov(24), end=nov(23))
    assert files_in(tmp_path) == []


async def test_a_missing_folder_is_named_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    output = tmp_path / "no such folder" / "demand.xlsx"
    with pytest.raises(FileNotFoundError) as raised:
        await export(sessions, "demand", output, file_format="xlsx")
    assert raised.value.filename == str(output)
    assert files_in(tmp_path) == []


async def test_a_failed_write_leaves_the_old_file_alone(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    story: Story,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = tmp_path / "demand.csv"
    output.write_text("last week's list\n")

    def breaks_halfway(path: Path, sheet: Sheet) -> None:
        path.write_text("Code,Created\n" + str(sheet.rows[0][0]))
        raise RuntimeError("disk full")

    monkeypatch.setattr(bot.lists_export, "_write_csv", breaks_halfway)
    with pytest.raises(RuntimeError):
        await export(sessions, "demand", output, file_format="csv")
    assert output.read_text() == "last week's list\n"
    assert files_in(tmp_path) == [output.name]


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
async def cli_database(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(tmp_path) as url:
        yield url


def wishbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(cli_database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = cli_database
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    migrated = wishbot(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.fixture
async def cli_town(cli_env: dict[str, str]) -> dict[str, str]:
    """The test town in the command line's database, with one wish closed on the 23rd."""
    clock = ManualClock(START)
    app = build_app(
        load_settings({"WISHBOT_DATABASE_URL": cli_env["WISHBOT_DATABASE_URL"]}), clock=clock
    )
    try:
        async with app.sessions.begin() as s:
            town = await build_town(s)
            wish = await submit_wish(
                s, town.alice, building_id=town.n1.id, category="repair", description="灯坏了"
            )
            await verify_wish(s, town.head_n1, wish.id)
            await accept_wish(s, town.fixer, wish.id)
            await report_done(s, town.fixer, wish.id)
            await confirm_wish(s, town.alice, wish.id, 5)
    finally:
        await app.close()
    return cli_env


# A record of the logging set-up in bot/cli.py, e.g. "2026-11-23 09:00:00,123 INFO alembic...".
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def one_line_error(result: subprocess.CompletedProcess[str], *, alone: bool = False) -> str:
    """The failure is told in one line, without a traceback; alone: and nothing else."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    if not alone:
        lines = [line for line in lines if not LOG_RECORD.match(line)]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_refuses_a_reversed_range(cli_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = wishbot(
        cli_env,
        "export",
        "demand",
        "--community",
        "Sunflower",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-23",
        "--output",
        str(output),
    )
    assert "2026-11-24" in one_line_error(result)
    assert not output.exists()


def test_cli_refuses_a_malformed_date_without_a_traceback(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    output = tmp_path / "out.csv"
    args = ["export", "demand", "--community", "Sunflower", "--output", str(output)]
    result = wishbot(cli_env, *args, "--from", "2026-13-01")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "'2026-13-01' is not a date" in result.stderr.strip().splitlines()[-1]
    assert not output.exists()


def test_cli_refuses_a_malformed_date_in_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    args = ["export", "demand", "--community", "Sunflower", "--output", str(output)]
    one_line_error(wishbot(cli_env, *args, "--to", "23/11/2026"), alone=True)


def test_cli_names_an_unknown_community(cli_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "out.xlsx"
    result = wishbot(
        cli_env, "export", "supply", "--community", "Atlantis", "--output", str(output)
    )
    assert "Atlantis" in one_line_error(result)
    assert not output.exists()


def test_cli_says_nothing_but_the_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "out.xlsx"
    args = ["export", "demand", "--community", "Atlantis", "--output", str(output)]
    one_line_error(wishbot(cli_env, *args), alone=True)


def test_cli_names_a_missing_folder(cli_town: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "missing" / "out.xlsx"
    result = wishbot(
        cli_town, "export", "demand", "--community", "Sunflower", "--output", str(output)
    )
    assert str(output) in one_line_error(result)


def test_cli_writes_the_file(cli_town: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "service.csv"
    result = wishbot(
        cli_town,
        "export",
        "service",
        "--community",
        "Sunflower",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
        "--format",
        "csv",
        "--output",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 1 rows" in result.stdout
    with output.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "Wish" and rows[1][3] == "Fixer" and rows[1][-1] == "15"

    xlsx = tmp_path / "demand.xlsx"
    result = wishbot(
        cli_town, "export", "demand", "--community", "Sunflower", "--output", str(xlsx)
    )
    assert result.returncode == 0, result.stderr
    ws = openpyxl.load_workbook(xlsx).active
    assert ws.max_row == 2
    assert ws["K2"].value == "灯坏了"

"""`wishbot import`: the office's CSV becomes people, buildings and resident grants.

A bad file is refused whole (the database stays as it was), both in-process and on the command line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.roster_import import MAX_ROWS, import_roster
from bot.settings import load_settings
from models.community import Building, Community, Grid, Street
from models.errors import InvalidInput
from models.people import Person, Role, RoleGrant
from models.schema import Base
from tests.databases import fresh_database
from tests.snapshot import snapshot
from tests.town import Town

ROOT = Path(__file__).resolve().parents[1]
# The lines logging.basicConfig writes (bot/cli.py); everything else on stderr is for people.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO) ")

GOOD = (
    "building,unit,name,phone\n"
    "N1,102,Erin,13800138000\n"
    "N9,1-101,Frank,+86 21-5555 0000\n"
    "N9,1-102,Grace,\n"
    "N10,3,Heidi,\n"
)


async def run_import(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    community: str = "Sunflower",
    street: str | None = None,
    grid: str | None = None,
) -> str:
    """As the command line does: one transaction, rolled back when the import raises."""
    async with sessions.begin() as session:
        return await import_roster(session, path, community=community, street=street, grid=grid)


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def people_of(
    sessions: async_sessionmaker[AsyncSession], building_names: list[str]
) -> dict[str, tuple[str, str | None, str | None, bool, list[Role]]]:
    """name -> (building, unit, phone, phone consent, roles on that building)."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Person, Building.name)
                .join(Building, Person.building_id == Building.id)
                .where(Building.name.in_(building_names))
            )
        ).all()
        found = {}
        for person, building in rows:
            roles = (
                await session.scalars(
                    select(RoleGrant.role).where(
                        RoleGrant.person_id == person.id,
                        RoleGrant.scope_id == person.building_id,
                    )
                )
            ).all()
            found[person.name] = (
                building,
                person.unit,
                person.phone,
                person.phone_consent,
                sorted(roles),
            )
        return found


async def count(sessions: async_sessionmaker[AsyncSession], model: type[Base]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- good files -----------------------------------------------------------------------------


async def test_a_good_file_imports_people_buildings_and_grants(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    people_before = await count(sessions, Person)
    summary = await run_import(sessions, write(tmp_path, GOOD))

    assert summary == "Imported 4 residents into 3 buildings (2 new) of Sunflower."
    assert await count(sessions, Person) == people_before + 4
    found = await people_of(sessions, ["N1", "N9", "N10"])
    r = [Role.RESIDENT]
    assert found["Erin"] == ("N1", "102", "13800138000", False, r)
    assert found["Frank"] == ("N9", "1-101", "+86 21-5555 0000", False, r)
    assert found["Grace"] == ("N9", "1-102", None, False, r)
    assert found["Heidi"] == ("N10", "3", None, False, r)
    async with sessions() as session:
        # New buildings go to the community's first grid; N1 was not made twice.
        grids = dict((await session.execute(select(Building.name, Building.grid_id))).all())
        assert grids["N9"] == grids["N10"] == town.north.id
        assert (
            await session.scalar(
                select(func.count()).select_from(Building).where(Building.name == "N1")
            )
            == 1
        )


async def test_running_the_same_file_again_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD)
    await run_import(sessions, path)
    before = await snapshot(sessions)

    summary = await run_import(sessions, path)

    assert summary == "Nothing new to import: all 4 rows of the file are already in Sunflower."
    assert await snapshot(sessions) == before


async def test_someone_already_there_is_not_duplicated(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    # Alice lives in N1 unit 101 already; extra spaces do not make her someone else.
    path = write(tmp_path, "building,unit,name\nN1 , 101, Alice\nN1,105,Ivan\nN1,105,Ivan\n")

    summary = await run_import(sessions, path)

    assert summary == (
        "Imported 1 resident into 1 building (0 new) of Sunflower. "
        "2 rows were already there and skipped."
    )
    async with sessions() as session:
        names = (
            await session.scalars(select(Person.name).where(Person.building_id == town.n1.id))
        ).all()
    assert sorted(names) == ["Alice", "Ivan"]


async def test_a_known_person_without_the_role_gets_it(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(RoleGrant).where(RoleGrant.person_id == town.bob.id))
    path = write(tmp_path, "building,unit,name\nN2,202,Bob\n")

    summary = await run_import(sessions, path)

    assert "1 person already known got the resident role" in summary
    assert (await people_of(sessions, ["N2"]))["Bob"][4] == [Role.RESIDENT]


async def test_chinese_headers_in_a_gb18030_file(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    text = "楼栋,门牌,姓名,电话\n3号楼,2单元-301,王芳,139 1234 5678\n3号楼,2单元-302,李雷,\n"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the fallback is what reads it
    path = tmp_path / "名单.csv"
    path.write_bytes(data)

    summary = await run_import(sessions, path, grid="South")

    assert summary == "Imported 2 residents into 1 building (1 new) of Sunflower."
    found = await people_of(sessions, ["3号楼"])
    assert found == {
        "王芳": ("3号楼", "2单元-301", "139 1234 5678", False, [Role.RESIDENT]),
        "李雷": ("3号楼", "2单元-302", None, False, [Role.RESIDENT]),
    }
    async with sessions() as session:
        building = await session.scalar(select(Building).where(Building.name == "3号楼"))
        assert building is not None and building.grid_id == town.south.id


@pytest.mark.parametrize("unit_header", ["单元", "单元/门牌"])
async def test_chinese_headers_in_utf8(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path, unit_header: str
) -> None:
    path = write(tmp_path, f"姓名,{unit_header},楼栋\n张伟,1-101,S1\n")

    await run_import(sessions, path)

    assert (await people_of(sessions, ["S1"]))["张伟"][:2] == ("S1", "1-101")


async def test_a_utf8_file_with_a_bom_and_loose_headers(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    path = write(
        tmp_path, " Building , UNIT,Name ,PHONE\r\nN2,7,Judy,110\r\n,,,\r\n\r\n", "utf-8-sig"
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    summary = await run_import(sessions, path)

    assert summary == "Imported 1 resident into 1 building (0 new) of Sunflower."
    assert (await people_of(sessions, ["N2"]))["Judy"] == ("N2", "7", "110", False, [Role.RESIDENT])


async def test_a_named_grid_is_made_when_missing(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    summary = await run_import(sessions, write(tmp_path, GOOD), grid="East")

    assert summary.startswith("Created grid East. Imported 4 residents into 3 buildings (2 new)")
    async with sessions() as session:
        east = await session.scalar(
            select(Grid).where(Grid.name == "East", Grid.community_id == town.sunflower.id)
        )
        assert east is not None
        new = (
            await session.scalars(select(Building.name).where(Building.grid_id == east.id))
        ).all()
    assert sorted(new) == ["N10", "N9"]


async def test_a_new_community_on_a_new_street(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    summary = await run_import(
        sessions, write(tmp_path, GOOD), community="Lotus", street="East Road"
    )

    assert summary == (
        "Created street East Road, community Lotus, grid Main. "
        "Imported 4 residents into 3 buildings (3 new) of Lotus."
    )
    async with sessions() as session:
        community = await session.scalar(select(Community).where(Community.name == "Lotus"))
        assert community is not None and community.street.name == "East Road"
        grids = (await session.scalars(select(Grid.name))).all()
        assert grids == ["Main"]
    assert await count(sessions, Person) == 4
    assert await count(sessions, RoleGrant) == 4


async def test_a_new_community_on_a_known_street(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    summary = await run_import(
        sessions, write(tmp_path, GOOD), community="Lotus", street="Riverside Street"
    )

    assert summary.startswith("Created community Lotus, grid Main.")
    assert await count(sessions, Street) == 1


async def test_names_and_phones_are_never_logged(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await run_import(sessions, write(tmp_path, GOOD))
        with pytest.raises(InvalidInput):
            await run_import(
                sessions, write(tmp_path, "building,unit,name,phone\nN1,1,Erin,12ab\n")
            )
    # Our own code logs nothing personal. (aiosqlite's DEBUG log echoes every SQL parameter,
    # so a driver log at DEBUG is no place for a roster; the command line logs at INFO.)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiosqlite"))
    for secret in ("Erin", "Frank", "13800138000", "5555", "12ab"):
        assert secret not in ours


# --- bad files: refused whole -----------------------------------------------------------------

BAD_FILES: list[tuple[str, bytes, str]] = [
    (
        "missing column",
        b"building,name,phone\nN1,Erin,\n",
        "The header has no column for: unit (it needs",
    ),
    (
        "two missing",
        "电话,姓名\n1,王芳\n".encode(),
        "The header has no column for: building, unit (",
    ),
    ("empty file", b"", "The file is empty."),
    ("only blank lines", b"\n \n\r\n", "The file is empty."),
    ("header only", b"building,unit,name\n", "The file has a header but no residents."),
    ("empty name", b"building,unit,name\nN1,1,Erin\nN1,2,Frank\nN1,3, \n", "Line 4 has no name."),
    ("empty building", b"building,unit,name\nN1,1,Erin\n,2,Frank\n", "Line 3 has no building."),
    ("empty unit", b"building,unit,name\nN1,,Erin\n", "Line 2 has no unit."),
    ("short row", b"building,unit,name\nN1,1\n", "Line 2 has no name."),
    (
        "phone with letters",
        b"building,unit,name,phone\nN1,1,Erin,138\nN1,2,Frank,call me\n",
        "Line 3: the phone may hold only digits",
    ),
    (
        "phone too long",
        b"building,unit,name,phone\nN1,1,Erin,1234567890 1234567890\n",
        "Line 2: the phone may hold only digits, +, - and spaces, at most 20 characters.",
    ),
    (
        "phone from a spreadsheet",
        b"building,unit,name,phone\nN1,1,Erin,1.38E+10\n",
        "Line 2: the phone",
    ),
    (
        "unquoted comma",
        b"building,unit,name\nN1,1,Smith, Erin\n",
        "Line 2 has more cells than the header",
    ),
    (
        "column twice",
        "building,单元,门牌,name\nN1,1,2,Erin\n".encode(),
        "names the unit column twice",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"), [(d, m) for _, d, m in BAD_FILES], ids=[i for i, _, _ in BAD_FILES]
)
async def test_a_bad_file_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    tmp_path: Path,
    data: bytes,
    message: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    before = await snapshot(sessions)

    with pytest.raises(InvalidInput) as raised:
        # A new community too: the refusal must undo it along with everything else.
        await run_import(sessions, path, community="Lotus", street="New Street")

    assert message in str(raised.value)
    assert await snapshot(sessions) == before


async def test_too_many_rows(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    rows = "".join(f"N1,{i},Person {i}\n" for i in range(MAX_ROWS + 1))
    path = write(tmp_path, "building,unit,name\n" + rows)
    before = await snapshot(sessions)

    with pytest.raises(InvalidInput, match="more than 10000 rows"):
        await run_import(sessions, path)

    assert await snapshot(sessions) == before


async def test_an_unknown_community_without_a_street(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    before = await snapshot(sessions)

    with pytest.raises(InvalidInput, match="no community named Lotus; give --street"):
        await run_import(sessions, write(tmp_path, GOOD), community="Lotus")

    assert await snapshot(sessions) == before


async def test_a_building_in_two_grids_must_be_told_apart(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        session.add(Building(grid_id=town.south.id, name="N1"))
    path = write(tmp_path, "building,unit,name\nN2,9,Erin\nN1,1,Frank\n")
    before = await snapshot(sessions)

    with pytest.raises(InvalidInput, match="N1 is in more than one grid"):
        await run_import(sessions, path)
    assert await snapshot(sessions) == before

    await run_import(sessions, path, grid="South")
    found = await people_of(sessions, ["N1"])
    async with sessions() as session:
        frank = await session.scalar(select(Person).where(Person.name == "Frank"))
        assert frank is not None and frank.building_id is not None
        building = await session.get(Building, frank.building_id)
    assert building is not None and building.grid_id == town.south.id
    assert "Frank" in found


async def test_a_missing_file(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_import(sessions, tmp_path / "nowhere.csv", street="Somewhere")


# --- the real command line --------------------------------------------------------------------


async def run_cli(url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def messages(stderr: str) -> list[str]:
    """What stderr says to people: the lines that are not the log's INFO chatter."""
    return [line for line in stderr.splitlines() if not LOG_LINE.match(line)]


async def people_in(url: str) -> list[str]:
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
    try:
        async with app.sessions() as session:
            return sorted((await session.scalars(select(Person.name))).all())
    finally:
        await app.close()


async def test_cli_refuses_a_file_without_a_column_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "building,name,phone\nN1,Erin,138\n")
    async with fresh_database(tmp_path) as url:
        code, out, err = await run_cli(
            url, "import", str(path), "--community", "Lotus", "--street", "East Road"
        )
        assert code != 0
        assert "Traceback" not in err
        assert messages(err) == [
            "wishbot: The header has no column for: unit (it needs building, unit and name)."
        ]
        assert out == ""
        assert await people_in(url) == []


async def test_cli_imports_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    async with fresh_database(tmp_path) as url:
        code, out, err = await run_cli(
            url, "import", str(path), "--community", "Lotus", "--street", "East Road"
        )
        assert code == 0, err
        assert "Imported 4 residents into 3 buildings (3 new) of Lotus." in out
        assert messages(err) == []
        assert await people_in(url) == ["Erin", "Frank", "Grace", "Heidi"]

        code, out, _ = await run_cli(url, "import", str(path), "--community", "Lotus")
        assert code == 0
        assert out.startswith("Nothing new to import")
        assert await people_in(url) == ["Erin", "Frank", "Grace", "Heidi"]


async def test_cli_names_a_missing_file_in_one_line(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        code, _, err = await run_cli(
            url, "import", str(tmp_path / "nowhere.csv"), "--community", "Lotus"
        )
        assert code != 0
        assert "Traceback" not in err
        assert len(messages(err)) == 1 and "nowhere.csv" in messages(err)[0]

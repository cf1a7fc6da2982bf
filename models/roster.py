"""The office's resident list (CSV or XLSX): read, checked, previewed and imported.

The whole file is checked before anything is written; a re-run adds no one twice.
`wishbot import` and the chat's /import both come through here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building, Community, Grid, Street
from models.directory import (
    MAX_NAME,
    add_building,
    add_community,
    add_grid,
    add_person,
    add_street,
    grant_role,
)
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import Person, Role, RoleGrant
from models.reach import communities_run, grants_of

MAX_ROWS = 10_000
MAX_UNIT = 40
MAX_PHONE = 20
DEFAULT_GRID = "Main"
REQUIRED = ("building", "unit", "name")

# Header names, compared trimmed and case-folded, for each field.
HEADERS: dict[str, tuple[str, ...]] = {
    "building": ("building", "楼栋", "楼号", "楼栋号"),
    "unit": ("unit", "单元", "门牌", "单元/门牌", "门牌号", "房号"),
    "name": ("name", "姓名"),
    "phone": ("phone", "电话", "联系电话", "手机", "手机号"),
}
_FIELD_OF_HEADER = {alias.casefold(): f for f, aliases in HEADERS.items() for alias in aliases}
_PHONE = re.compile(r"[0-9+\- ]+")


@dataclass(frozen=True)
class RosterRow:
    line: int
    building: str
    unit: str
    name: str
    phone: str | None


@dataclass
class _Tally:
    imported: int = 0
    already: int = 0
    granted: int = 0
    new_buildings: int = 0
    created: list[str] = field(default_factory=list)


def _clean(value: str) -> str:
    """Collapse inner whitespace as the directory does with names."""
    return " ".join(value.split())


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030 as Chinese Excel saves it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(
            N_("The file is neither UTF-8 nor GB18030 text; save it from the spreadsheet as CSV.")
        ) from None


def _columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        found = _FIELD_OF_HEADER.get(title.strip().casefold())
        if found is None:
            continue
        if found in columns:
            raise InvalidInput(N_("The header names the {column} column twice."), column=found)
        columns[found] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInput(
            N_("The header has no column for: {columns} (it needs building, unit and name)."),
            columns=", ".join(missing),
        )
    return columns


def _row(line: int, cells: Sequence[str], columns: dict[str, int]) -> RosterRow:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    values = {name: _clean(cell(name)) for name in REQUIRED}
    for name in REQUIRED:
        if not values[name]:
            raise InvalidInput(N_("Line {line} has no {column}."), line=line, column=name)
    for name in ("building", "name"):
        if len(values[name]) > MAX_NAME:
            raise InvalidInput(
                N_("Line {line}: the {column} is longer than {limit} characters."),
                line=line,
                column=name,
                limit=MAX_NAME,
            )
    if len(values["unit"]) > MAX_UNIT:
        raise InvalidInput(
            N_("Line {line}: the {column} is longer than {limit} characters."),
            line=line,
            column="unit",
            limit=MAX_UNIT,
        )
    phone = cell("phone").strip() or None
    if phone is not None and (
        len(phone) > MAX_PHONE or not _PHONE.fullmatch(phone) or not any(c.isdigit() for c in phone)
    ):
        raise InvalidInput(
            N_(
                "Line {line}: the phone may hold only digits, +, - and spaces, "
                "at most {limit} characters."
            ),
            line=line,
            limit=MAX_PHONE,
        )
    return RosterRow(line, values["building"], values["unit"], values["name"], phone)


def parse_roster(text: str) -> list[RosterRow]:
    """Every row of the file, checked; raises InvalidInput naming the first problem."""
    if not text.strip():
        raise InvalidInput(N_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[RosterRow] = []
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise InvalidInput(N_("The file is empty."))
        columns = _columns(header)
        width = len(header)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines and the ",,," rows spreadsheets leave at the end
            line = reader.line_num
            if any(c.strip() for c in cells[width:]):
                raise InvalidInput(
                    N_("Line {line} has more cells than the header; is a comma unquoted?"),
                    line=line,
                )
            if len(rows) == MAX_ROWS:
                raise InvalidInput(
                    N_("The file has more than {limit} rows; split it into smaller files."),
                    limit=MAX_ROWS,
                )
            rows.append(_row(line, cells, columns))
    except csv.Error as e:
        raise InvalidInput(
            N_("Line {line} is not valid CSV ({reason})."), line=reader.line_num, reason=str(e)
        ) from None
    if not rows:
        raise InvalidInput(N_("The file has a header but no residents."))
    return rows


XLSX_MAGIC = b"PK\x03\x04"


def read_roster(filename: str, data: bytes) -> list[RosterRow]:
    """The rows of a CSV or XLSX file (told apart by content), checked."""
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return parse_roster(xlsx_text(data))
    return parse_roster(decode(data))


def xlsx_text(data: bytes) -> str:
    """The first sheet of an XLSX file as CSV text, so one parser checks both."""
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise InvalidInput(
            N_("That file could not be read as a spreadsheet; save it as XLSX or CSV.")
        ) from None
    out = io.StringIO()
    writer = csv.writer(out)
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is not None:
        for count, values in enumerate(sheet.iter_rows(values_only=True)):
            if count > MAX_ROWS + 1:
                break  # parse_roster says the file is too long
            writer.writerow(["" if v is None else _xlsx_cell(v) for v in values])
    book.close()
    return out.getvalue()


def _xlsx_cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a unit typed as 101 comes back as 101.0
    return str(value)


async def _find_community(
    session: AsyncSession, name: str, street_name: str | None
) -> tuple[Community | None, Street | None]:
    query = select(Community).where(Community.name == name).order_by(Community.id)
    street = None
    if street_name is not None:
        street = await session.scalar(select(Street).where(Street.name == street_name))
        if street is None:
            return None, None
        query = query.where(Community.street_id == street.id)
    found = (await session.scalars(query)).all()
    if len(found) > 1:
        raise InvalidInput(
            N_("There are {count} communities named {community}; say which with --street."),
            count=len(found),
            community=name,
        )
    return (found[0] if found else None), street


async def _community(
    session: AsyncSession, name: str, street_name: str | None, tally: _Tally
) -> Community:
    community, street = await _find_community(session, name, street_name)
    if community is not None:
        return community
    if street_name is None:
        raise InvalidInput(
            N_("There is no community named {community}; give --street to create it."),
            community=name,
        )
    if street is None:
        street = await add_street(session, street_name)
        tally.created.append(f"street {street.name}")
    community = await add_community(session, street, name)
    tally.created.append(f"community {community.name}")
    return community


class _Places:
    """The buildings of one community, and the grid that new ones go into (made on demand)."""

    def __init__(
        self, session: AsyncSession, community: Community, grid_name: str | None, tally: _Tally
    ) -> None:
        self.session = session
        self.community = community
        self.grid_name = grid_name
        self.tally = tally
        self.grids: list[Grid] = []
        self.buildings: dict[str, list[Building]] = {}
        self._grid: Grid | None = None

    async def load(self) -> None:
        self.grids = list(
            (
                await self.session.scalars(
                    select(Grid).where(Grid.community_id == self.community.id).order_by(Grid.id)
                )
            ).all()
        )
        buildings = await self.session.scalars(
            select(Building)
            .join(Grid, Building.grid_id == Grid.id)
            .where(Grid.community_id == self.community.id)
            .order_by(Building.id)
        )
        for building in buildings:
            self.buildings.setdefault(_clean(building.name), []).append(building)

    def _named_grid(self) -> Grid | None:
        if self.grid_name is None:
            return None
        return next((g for g in self.grids if _clean(g.name) == self.grid_name), None)

    async def _grid_for_new(self) -> Grid:
        if self._grid is None:
            if self.grid_name is not None:
                grid, name = self._named_grid(), self.grid_name
            else:
                grid, name = (self.grids[0] if self.grids else None), DEFAULT_GRID
            if grid is None:
                grid = await add_grid(self.session, self.community, name)
                self.grids.append(grid)
                self.tally.created.append(f"grid {grid.name}")
            self._grid = grid
        return self._grid

    def existing(self, name: str) -> Building | None:
        """The building of that name; raises if several grids have one and none is named."""
        found = self.buildings.get(name, [])
        if len(found) <= 1:
            return found[0] if found else None
        named = self._named_grid()
        in_named = [b for b in found if named is not None and b.grid_id == named.id]
        if len(in_named) == 1:
            return in_named[0]
        raise InvalidInput(
            N_(
                "Building {building} is in more than one grid of {community}; name one with --grid."
            ),
            building=name,
            community=self.community.name,
        )

    async def building(self, name: str) -> Building:
        found = self.existing(name)
        if found is not None:
            return found
        building = await add_building(self.session, await self._grid_for_new(), name)
        self.buildings[name] = [building]
        self.tally.new_buildings += 1
        return building


async def _people_in(
    session: AsyncSession, buildings: Iterable[Building]
) -> dict[tuple[str, int, str], Person]:
    ids = [b.id for b in buildings]
    if not ids:
        return {}
    people = await session.scalars(
        select(Person).where(Person.building_id.in_(ids)).order_by(Person.id)
    )
    known: dict[tuple[str, int, str], Person] = {}
    for person in people:
        assert person.building_id is not None
        known.setdefault(
            (_clean(person.name), person.building_id, _clean(person.unit or "")), person
        )
    return known


async def _residents_of(
    session: AsyncSession, buildings: Iterable[Building]
) -> set[tuple[int, int]]:
    """(person id, building id) of every resident grant on these buildings."""
    ids = [b.id for b in buildings]
    if not ids:
        return set()
    rows = await session.execute(
        select(RoleGrant.person_id, RoleGrant.scope_id).where(
            RoleGrant.role == Role.RESIDENT, RoleGrant.scope_id.in_(ids)
        )
    )
    return {(person_id, building_id) for person_id, building_id in rows}


def _summary(rows: Sequence[RosterRow], tally: _Tally, buildings: int, community: str) -> str:
    def plural(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    parts: list[str] = []
    if tally.created:
        parts.append(f"Created {', '.join(tally.created)}.")
    if tally.imported:
        parts.append(
            f"Imported {plural(tally.imported, 'resident', 'residents')} into "
            f"{plural(buildings, 'building', 'buildings')} ({tally.new_buildings} new) "
            f"of {community}."
        )
    else:
        parts.append(
            f"Nothing new to import: all {plural(len(rows), 'row', 'rows')} of the file "
            f"are already in {community}."
        )
    if tally.imported and tally.already:
        parts.append(f"{plural(tally.already, 'row was', 'rows were')} already there and skipped.")
    if tally.granted:
        parts.append(
            f"{plural(tally.granted, 'person', 'people')} already known got the resident role."
        )
    return " ".join(parts)


async def import_roster_data(
    session: AsyncSession,
    data: bytes,
    *,
    community: str,
    street: str | None,
    grid: str | None,
    filename: str = "",
) -> str:
    """Import the office's roster into a community; return a one-paragraph summary.

    Raises InvalidInput (nothing written yet) for a bad file. Runs inside the caller's
    transaction, which rolls back on any error.
    """
    rows = read_roster(filename, data)
    community_name = _clean(community)
    if not community_name:
        raise InvalidInput(N_("The community needs a name."))
    street_name = _clean(street) if street and street.strip() else None
    grid_name = _clean(grid) if grid and grid.strip() else None
    tally = _Tally()
    place = await _community(session, community_name, street_name, tally)
    used = await _import_rows(session, rows, place, grid_name, tally)
    return _summary(rows, tally, used, place.name)


@dataclass(frozen=True)
class Preview:
    """What importing a file into a community would do (nothing written)."""

    residents: int  # new people
    already: int  # rows already in the community
    buildings: int  # buildings the file names
    new_buildings: int


async def preview_roster(
    session: AsyncSession, rows: Sequence[RosterRow], place: Community
) -> Preview:
    """Count what `import_rows` would write; raises InvalidInput as it would, writes nothing."""
    places = _Places(session, place, None, _Tally())
    await places.load()
    existing = {row.building: places.existing(row.building) for row in rows}
    known = await _people_in(session, [b for b in existing.values() if b is not None])
    seen: set[tuple[str, str, str]] = set()
    already = 0
    for row in rows:
        building = existing[row.building]
        key = (row.name, row.building, row.unit)
        if (building is not None and (row.name, building.id, row.unit) in known) or key in seen:
            already += 1
        seen.add(key)
    return Preview(
        residents=len(rows) - already,
        already=already,
        buildings=len(existing),
        new_buildings=sum(1 for b in existing.values() if b is None),
    )


async def import_rows(
    session: AsyncSession, actor: Person, rows: Sequence[RosterRow], community_id: int
) -> int:
    """An admin imports checked rows into their community; return how many people are new."""
    place = await session.get(Community, community_id)
    if place is None:
        raise NotFound(N_("There is no such place."))
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of that community can import its residents."))
    tally = _Tally()
    await _import_rows(session, rows, place, None, tally)
    return tally.imported


async def _import_rows(
    session: AsyncSession,
    rows: Sequence[RosterRow],
    place: Community,
    grid_name: str | None,
    tally: _Tally,
) -> int:
    places = _Places(session, place, grid_name, tally)
    await places.load()
    # Ambiguous building names fail here, before any building or person is written.
    existing = {b.id: b for row in rows if (b := places.existing(row.building)) is not None}
    known = await _people_in(session, existing.values())
    residents = await _residents_of(session, existing.values())
    used: set[int] = set()
    for row in rows:
        building = await places.building(row.building)
        used.add(building.id)
        key = (row.name, building.id, row.unit)
        person = known.get(key)
        if person is not None:
            tally.already += 1
            if (person.id, building.id) not in residents:
                residents.add((person.id, building.id))
                await grant_role(session, None, person, Role.RESIDENT, building.id)
                tally.granted += 1
            continue
        person = await add_person(
            session,
            row.name,
            building=building,
            unit=row.unit,
            phone=row.phone,
            office_roster=True,  # the office's list is not the person's consent
        )
        await grant_role(session, None, person, Role.RESIDENT, building.id)
        known[key] = person
        residents.add((person.id, building.id))
        tally.imported += 1
    return len(used)

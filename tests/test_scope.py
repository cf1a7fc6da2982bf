"""Scope by id: two buildings of the same name in two grids, a wish in each. Each grid worker
sees only their own in every list, export, chart and API answer; the community admin both."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import init_app
from models.community import Building, Grid
from models.directory import add_building, add_person, grant_role
from models.people import Person, Role
from models.reach import place_of_building, reach
from models.web_access import make_api_client
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish
from tests.chat import World
from tests.town import Town
from tests.web import web_site

SAME_NAME = "1号楼"


@dataclass
class Twins:
    """In each grid of Sunflower a building named 1号楼, with a waiting and a closed wish."""

    north_waiting: Wish
    north_closed: Wish
    south_waiting: Wish
    south_closed: Wish
    north_building: int
    south_building: int

    @property
    def north(self) -> set[str]:
        return {self.north_waiting.code, self.north_closed.code}

    @property
    def south(self) -> set[str]:
        return {self.south_waiting.code, self.south_closed.code}


@pytest.fixture
async def twins(sessions: async_sessionmaker[AsyncSession], town: Town) -> Twins:
    async with sessions.begin() as s:
        found = []
        for grid, name, unit in ((town.north, "Erin", "1-101"), (town.south, "Finn", "1-202")):
            here = await s.get(Grid, grid.id)
            assert here is not None
            building = await add_building(s, here, SAME_NAME)
            resident = await add_person(s, name, building=building, unit=unit)
            await grant_role(s, None, resident, Role.RESIDENT, building.id)
            waiting = await submit_wish(
                s, resident, building_id=building.id, category="repair", description="Leak"
            )
            closed = await submit_wish(
                s, resident, building_id=building.id, category="errand", description="Bread"
            )
            await verify_wish(s, town.admin, closed.id)
            await accept_wish(s, town.fixer, closed.id)
            await report_done(s, town.fixer, closed.id, "Brought it")
            await confirm_wish(s, resident, closed.id, 5, "Thanks")
            found.append((waiting, closed, building.id))
        for person in (town.gw_north, town.gw_south, town.admin):
            office = await s.get(Person, person.id)
            assert office is not None
            office.locale = "en"
    (nw, nc, nb), (sw, sc, sb) = found
    return Twins(nw, nc, sw, sc, nb, sb)


def codes_in(text: str) -> set[str]:
    return set(re.findall(r"W-\d+", text))


def charted(page: str) -> int:
    """How many wishes the first chart (wishes per week) counts."""
    first_chart = page.split("<svg", 2)[1]
    return sum(int(n) for n in re.findall(r'data-key="[a-z]+" data-value="(\d+)"', first_chart))


def points_charted(page: str, person: Person) -> int:
    """The points the points chart gives the person (0 when they are not on it)."""
    found = re.search(
        rf'<g class="row" data-person="{person.id}">.*?data-value="(\d+)"', page, re.S
    )
    return int(found.group(1)) if found else 0


async def test_each_grid_worker_sees_only_their_own_on_the_dashboard_and_its_downloads(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, twins: Twins
) -> None:
    everyone = twins.north | twins.south
    earned: dict[int, int] = {}
    async with web_site(app) as site:
        for person, mine, theirs in (
            (town.gw_north, twins.north, twins.south),
            (town.gw_south, twins.south, twins.north),
        ):
            worker = await site.signed_in(person)
            status, page = await worker.get("/admin")
            assert status == 200
            assert mine <= codes_in(page) and not theirs & codes_in(page)
            # Both wishes of their 1号楼 were asked this week: the chart counts those two.
            assert charted(page) == 2
            # Fixer's points for their grid's closed wish only.
            earned[person.id] = points_charted(page, town.fixer)
            assert earned[person.id] > 0
            for fmt in ("csv", "xlsx"):
                for name in ("demand", "service"):
                    response = await worker.client.get(f"/admin/export/{name}.{fmt}")
                    assert response.status == 200
                    body = await response.read()
                    if fmt == "csv":
                        text = body.decode("utf-8-sig")
                    else:
                        book = load_workbook(io.BytesIO(body))
                        text = repr(list(book.active.iter_rows(values_only=True)))
                    assert codes_in(text) and not theirs & codes_in(text), (name, fmt)
                    assert codes_in(text) <= mine | {c for c in codes_in(text) if c not in everyone}

        street = await site.signed_in(town.street_admin)
        status, page = await street.get(f"/admin?community={town.sunflower.id}")
        assert everyone <= codes_in(page)

        admin = await site.signed_in(town.admin)
        status, page = await admin.get("/admin")
        assert everyone <= codes_in(page)
        assert charted(page) == 4
        assert points_charted(page, town.fixer) == sum(earned.values())
        # The building filter carries the id, and says which grid each 1号楼 is in.
        for building, grid in ((twins.north_building, "North"), (twins.south_building, "South")):
            option = re.search(rf'<option value="{building}"[^>]*>([^<]*)</option>', page)
            assert option is not None and SAME_NAME in option.group(1)
            assert grid in option.group(1)
        response = await admin.client.get(
            f"/admin/export/demand.csv?building={twins.north_building}"
        )
        text = (await response.read()).decode("utf-8-sig")
        assert codes_in(text) == twins.north
        # A building that is not in the chosen grid: nothing, not the building's rows.
        status, page = await admin.get(
            f"/admin?grid={town.north.id}&building={twins.south_building}"
        )
        assert status == 200 and not everyone & codes_in(page)
        status, page = await admin.get(f"/admin?building={twins.south_building}")
        assert twins.south <= codes_in(page) and not twins.north & codes_in(page)
        assert charted(page) == 2


async def test_a_building_of_another_grid_in_the_filter_shows_nothing_of_it(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, twins: Twins
) -> None:
    async with web_site(app) as site:
        worker = await site.signed_in(town.gw_north)
        status, page = await worker.get(f"/admin?building={twins.south_building}")
        assert status == 400 and "not one you work for" in page
        assert not twins.south & codes_in(page)
        response = await worker.client.get(
            f"/admin/export/demand.csv?building={twins.south_building}"
        )
        assert response.status == 400
        assert not twins.south & codes_in(await response.text())


async def test_the_chat_commands_of_each_grid_worker_show_only_their_own(
    sessions: async_sessionmaker[AsyncSession], town: Town, twins: Twins
) -> None:
    world = World(sessions)
    for person, waiting, closed in (
        (town.gw_north, twins.north_waiting, twins.north_closed),
        (town.gw_south, twins.south_waiting, twins.south_closed),
    ):
        chat = await world.as_person(person)
        await chat.send("/pending")
        assert codes_in("\n".join(chat.texts())) == {waiting.code}

        await chat.send("/stats")
        assert "<b>Wishes</b>: 2" in chat.last.text.splitlines()

        expected = {
            "Demand": {waiting.code, closed.code},
            "Service": {closed.code},
            "Points": {closed.code},
        }
        for label, codes in expected.items():
            chat.received.clear()
            await chat.send("/export")
            await chat.press(label)
            documents = [r.document for r in chat.received if r.document is not None]
            assert len(documents) == 1, label
            rows = repr(list(load_workbook(io.BytesIO(documents[0].content)).active.values))
            assert codes_in(rows) == codes, label

    admin = await world.as_person(town.admin)
    await admin.send("/export")
    await admin.press("Demand")
    rows = repr(list(load_workbook(io.BytesIO(admin.last.document.content)).active.values))  # type: ignore[union-attr]
    assert twins.north | twins.south <= codes_in(rows)


async def test_open311_answers_each_grid_worker_with_their_own(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, twins: Twins
) -> None:
    keys = {}
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        # The grid workers live in their grids: that is what lets the admin make them a key.
        for person, home in (
            (town.gw_north, town.n1),
            (town.gw_south, town.s1),
            (town.admin, None),
        ):
            worker = await s.get(Person, person.id)
            assert worker is not None
            worker.building_id = home.id if home else None
            keys[person.id] = (await make_api_client(s, admin, "Hotline", worker))[1]
        street = await s.get(Person, town.street_admin.id)
        assert street is not None
        keys[street.id] = (await make_api_client(s, street, "Street hotline"))[1]
    async with TestClient(TestServer(init_app(app, Runtime(app)))) as client:

        async def listed(person: Person) -> set[str]:
            response = await client.get(
                "/open311/v2/requests.json", params={"api_key": keys[person.id]}
            )
            assert response.status == 200
            return {r["service_request_id"] for r in await response.json()}

        assert await listed(town.gw_north) == twins.north
        assert await listed(town.gw_south) == twins.south
        assert await listed(town.admin) == twins.north | twins.south
        assert await listed(town.street_admin) == twins.north | twins.south


async def test_the_sql_and_the_per_wish_check_agree_for_everyone_in_every_role(
    sessions: async_sessionmaker[AsyncSession], town: Town, twins: Twins
) -> None:
    """Reach.buildings() (lists, exports, charts) and Reach.covers() (one wish's checks) are
    the same rule: for each person and role they pick the same buildings."""
    async with sessions() as s:
        every_building = list(await s.scalars(select(Building.id).order_by(Building.id)))
        places = [await place_of_building(s, b) for b in every_building]
        for person in town.everyone():
            for roles in [(), *((role,) for role in Role)]:
                reached = await reach(s, person, *roles)
                in_sql = set(await s.scalars(reached.buildings()))
                by_check = {p.building_id for p in places if reached.covers(p)}
                assert in_sql == by_check, (person.name, roles)
        north = await reach(s, town.gw_north)
        assert twins.north_building in set(await s.scalars(north.buildings()))
        assert twins.south_building not in set(await s.scalars(north.buildings()))
        # Narrowing to a building outside the reach gives nothing, not that building.
        outside = north.buildings(building_id=twins.south_building)
        assert list(await s.scalars(outside)) == []

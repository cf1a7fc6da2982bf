"""The office's desk without a browser: exports in the viewer's words (with the requester, a
plain category column and a filter button), the views in the files, and what only the office
may write on a wish, refused cleanly for anyone else or at the wrong time."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.community import Community
from models.desk import (
    DeskList,
    DeskQuery,
    WishNote,
    add_note,
    demand_desk,
    office_contact,
    set_office_contact,
    set_required,
    set_urgency,
)
from models.erasure import erase_person
from models.errors import IllegalTransition, InvalidInput, NotAllowed
from models.people import Person
from models.reach import grants_of, reach_of
from models.wish_asking import submit_wish, verify_wish
from models.wish_taking import accept_wish
from models.wishes import Urgency, Wish
from tests.chat import World
from tests.town import Town
from tests.web import web_site


async def test_exports_speak_the_viewers_language_name_the_requester_and_filter(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
        await verify_wish(s, town.head_n1, made.id)
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "zh_Hans"
    async with web_site(app) as site:
        office = await site.signed_in(town.admin)
        await office.get("/lang/zh_Hans")
        response = await office.client.get("/admin/export/demand.xlsx")
        sheet = load_workbook(io.BytesIO(await response.read())).active
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        header = rows[0]
        found = dict(zip(header, rows[1], strict=True))
        assert found["类别"] == "维修"  # no emoji in a file
        assert found["类别代码"] == "repair"  # the plain column, the same in every language
        assert found["求助人"] == town.alice.name
        assert sheet.auto_filter.ref == f"A1:{chr(ord('A') + len(header) - 1)}2"
        response = await office.client.get("/admin/export/supply.csv")
        text = (await response.read()).decode("utf-8-sig")
        fixer = next(line for line in text.splitlines() if line.startswith(town.fixer.name))
        assert "维修" in fixer and "repair" not in fixer and ",已批准," in fixer
        newbie = next(line for line in text.splitlines() if line.startswith(town.newbie.name))
        assert ",待批准," in newbie
        # The page's view narrows the file: nothing waits for verification.
        response = await office.client.get("/admin/export/demand.csv?view=verify")
        assert made.code not in (await response.read()).decode("utf-8-sig")
        response = await office.client.get("/admin/export/demand.csv?view=untaken")
        assert made.code in (await response.read()).decode("utf-8-sig")


async def test_only_the_office_of_the_building_writes_on_a_wish(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
    async with sessions.begin() as s:
        for outsider in (town.gw_south, town.head_n1, town.fixer, town.alice, town.maple_admin):
            with pytest.raises(NotAllowed):
                await add_note(s, outsider, made.id, "A note")
            with pytest.raises(NotAllowed):
                await set_urgency(s, outsider, made.id, "urgent")
        note = await add_note(s, town.gw_north, made.id, "  Call before noon  ")
        assert note.text == "Call before noon"
        with pytest.raises(InvalidInput):
            await add_note(s, town.gw_north, made.id, "   ")
        with pytest.raises(InvalidInput):
            await set_urgency(s, town.admin, made.id, "whenever")
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(WishNote)) == 1
        wish = await s.get(Wish, made.id)
        assert wish is not None and wish.urgency == Urgency.NORMAL


async def test_helpers_needed_changes_only_while_places_are_free(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s,
            town.alice,
            building_id=town.n1.id,
            category="repair",
            description="Move a wardrobe",
            required_count=2,
        )
        await verify_wish(s, town.head_n1, made.id)
        await accept_wish(s, town.fixer, made.id)
    async with sessions.begin() as s:
        for wrong in (0, 1, 21):
            with pytest.raises(InvalidInput):
                await set_required(s, town.admin, made.id, wrong)
        changed = await set_required(s, town.admin, made.id, 3)
        assert changed.required_count == 3
        await accept_wish(s, town.walker, made.id)
        await accept_wish(s, town.runner, made.id)
    async with sessions.begin() as s:
        with pytest.raises(IllegalTransition):
            await set_required(s, town.admin, made.id, 4)
        clock.advance(dt.timedelta(minutes=1))
        urgent = await set_urgency(s, town.admin, made.id, "urgent")
        assert urgent.urgency == Urgency.URGENT


async def test_only_the_communitys_admin_sets_its_office_contact(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        for outsider in (town.gw_north, town.maple_admin, town.head_n1, town.alice):
            with pytest.raises(NotAllowed):
                await set_office_contact(s, outsider, town.sunflower.id, "Call me")
        assert await set_office_contact(s, town.admin, town.sunflower.id, " Room 3 ") == "Room 3"
        assert await set_office_contact(s, town.street_admin, town.maple.id, "Hall") == "Hall"
    async with sessions() as s:
        assert await office_contact(s, town.sunflower.id) == "Room 3"
        assert await office_contact(s, town.maple.id) == "Hall"


async def test_a_quick_answer_reads_under_an_hour_not_zero_hours(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
        await verify_wish(s, town.head_n1, made.id)
    clock.advance(dt.timedelta(minutes=20))
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, made.id)
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "en"
    async with web_site(app) as site:
        office = await site.signed_in(town.admin)
        status, page = await office.get("/admin")
        assert status == 200
        assert "Median: under an hour" in page and "0 hours" not in page


async def test_the_chats_export_speaks_the_same_words_as_the_dashboards(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
        await verify_wish(s, town.head_n1, made.id)
    admin = await World(sessions).as_person(town.admin)
    await admin.send("/export")
    await admin.press("Demand")
    assert admin.last.document is not None
    sheet = load_workbook(io.BytesIO(admin.last.document.content)).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    found = dict(zip(rows[0], rows[1], strict=True))
    assert (found["Category"], found["Category code"]) == ("Repairs", "repair")
    assert found["Status"] == "looking for a helper"
    assert sheet.auto_filter.ref == f"A1:{chr(ord('A') + len(rows[0]) - 1)}2"
    await admin.send("/export")
    await admin.press("Supply")
    assert admin.last.document is not None
    supply = load_workbook(io.BytesIO(admin.last.document.content)).active
    fixer = next(r for r in supply.iter_rows(values_only=True) if r[0] == town.fixer.name)
    assert "Repairs" in str(fixer[2]) and "repair" not in str(fixer[2])
    assert fixer[4] == "approved"


async def test_a_blanked_wish_loses_its_internal_notes_too(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
        await add_note(s, town.admin, made.id, "Alice is deaf: knock hard")
    async with sessions.begin() as s:
        await erase_person(s, town.admin, town.alice.id)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(WishNote)) == 0


async def _desk(
    sessions: async_sessionmaker[AsyncSession], who: Person, community: int, **query: Any
) -> DeskList:
    async with sessions() as s:
        grants = await grants_of(s, who.id)
        return await demand_desk(
            s, reach_of(grants), grants, DeskQuery(community, **query), ZoneInfo("UTC"), 100
        )


async def test_overdue_follows_the_communitys_own_rules_and_the_clock(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        sunflower = await s.get(Community, town.sunflower.id)
        assert sunflower is not None
        sunflower.rules = {"open_hours": 2}  # this community nudges after two hours
        made = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Bulb"
        )
        await verify_wish(s, town.head_n1, made.id)
    assert (await _desk(sessions, town.admin, town.sunflower.id, view="overdue")).rows == []
    clock.advance(dt.timedelta(hours=1, minutes=59))
    assert (await _desk(sessions, town.admin, town.sunflower.id, view="overdue")).rows == []
    clock.advance(dt.timedelta(minutes=2))
    late = await _desk(sessions, town.admin, town.sunflower.id, view="overdue")
    assert [r.code for r in late.rows] == [made.code] and late.rows[0].overdue
    assert late.counts["overdue"] == 1
    # Someone takes it: it is under way again, on time.
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, made.id)
    assert (await _desk(sessions, town.admin, town.sunflower.id, view="overdue")).rows == []


async def test_the_desk_and_its_search_stay_inside_the_scope(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        north = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Lamp"
        )
        south = await submit_wish(
            s, town.carol, building_id=town.s1.id, category="repair", description="Lamp"
        )
    mine = await _desk(sessions, town.gw_south, town.sunflower.id, search="lamp")
    assert [r.code for r in mine.rows] == [south.code] and mine.counts["all"] == 1
    searched = await _desk(sessions, town.gw_south, town.sunflower.id, search=town.alice.name)
    assert searched.rows == []
    everyone = await _desk(sessions, town.admin, town.sunflower.id, search="lamp")
    assert {r.code for r in everyone.rows} == {north.code, south.code}
    assert {r.requester for r in everyone.rows} == {town.alice.name, town.carol.name}
    # A percent sign is a character to look for, not "anything".
    assert (await _desk(sessions, town.admin, town.sunflower.id, search="%")).rows == []

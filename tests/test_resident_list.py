"""/import on Telegram: the office's resident list sent as a file, checked whole, summed up,
stored only on Import; a bad file is refused with the line at fault and nothing stored.
"""

from __future__ import annotations

from io import BytesIO

from aiohttp import FormData
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.community import Building
from models.directory import link_identity
from models.invites import setup_code
from models.people import Person, RoleGrant
from tests.chat import World
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site

GOOD = "building,unit,name,phone\nN1,105,Wang Fang,13800000000\nN9,1,Li Lei,\nN9,2,Han Mei,\n"
BAD = "building,unit,name\nN1,106,Zhao Yun\nN1,,Nobody\n"


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as s:
        people = await s.scalar(select(func.count()).select_from(Person))
        grants = await s.scalar(select(func.count()).select_from(RoleGrant))
        buildings = await s.scalar(select(func.count()).select_from(Building))
    return int(people or 0), int(grants or 0), int(buildings or 0)


async def _english_admin(sessions: async_sessionmaker[AsyncSession], town: Town, uid: str) -> None:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "en"
        await link_identity(s, admin, "telegram", uid)


async def test_an_admin_imports_the_resident_list_by_sending_a_csv_file(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english_admin(sessions, town, "4201")
    before = await _counts(sessions)
    async with telegram_bot(_url(app), app.clock) as bot:
        admin = bot.user(4201, "Admin")
        await admin.send("/import")
        assert "Send me the office's list of residents as a file" in admin.text()
        await admin.send_document(GOOD.encode(), "residents.csv")
        summary = admin.text()
        assert "3 new residents" in summary and "in 2 buildings (1 of them new)" in summary
        assert await _counts(sessions) == before  # nothing stored before Import
        await admin.press("Import")
        assert "Done: 3 new residents in Sunflower" in admin.text()
        assert bot.server.violations == []
    async with sessions() as s:
        wang = await s.scalar(select(Person).where(Person.name == "Wang Fang"))
        assert wang is not None and wang.unit == "105" and wang.building_id == town.n1.id
        n9 = await s.scalar(select(Building).where(Building.name == "N9"))
        assert n9 is not None
        assert (await s.get(type(n9), n9.id)) is not None
    people, grants, buildings = await _counts(sessions)
    assert (people, grants, buildings) == (before[0] + 3, before[1] + 3, before[2] + 1)


async def test_a_bad_file_is_refused_with_its_line_and_nothing_is_stored(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english_admin(sessions, town, "4202")
    before = await _counts(sessions)
    async with telegram_bot(_url(app), app.clock) as bot:
        admin = bot.user(4202, "Admin")
        await admin.send("/import")
        await admin.send_document(BAD.encode(), "residents.csv")
        assert "Line 3 has no unit." in admin.text()
        assert "Nothing was stored" in admin.text()
        # Still waiting for a file: the corrected one goes through.
        await admin.send_document(BAD.replace("N1,,Nobody", "N1,107,Nobody").encode(), "r.csv")
        assert "2 new residents" in admin.text()
        await admin.press("Cancel")
    assert await _counts(sessions) == before


async def test_an_xlsx_list_through_the_neutral_chat_and_a_resident_cannot_import(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["楼栋", "单元", "姓名"])
    sheet.append(["S1", 301, "Zhou Ping"])
    buffer = BytesIO()
    book.save(buffer)
    files = {"f1": buffer.getvalue()}

    async def fetch(platform: str, reference: str) -> bytes:
        return files[reference]

    from dataclasses import replace

    from tests.chat import CONFIG

    world = World(sessions, config=replace(CONFIG, fetch_file=fetch))
    admin = world.chat("Admin")
    carol = world.chat("Carol")
    async with sessions.begin() as s:
        await link_identity(s, town.admin, "test", admin.user_id)
        await link_identity(s, town.carol, "test", carol.user_id)
    await carol.send("/import")
    assert "not for you" in carol.last.text
    await admin.send("/import")
    await admin.deliver(document="f1", document_name="list.xlsx")
    assert "1 new resident" in admin.last.text
    await admin.press("Import")
    async with sessions() as s:
        zhou = await s.scalar(select(Person).where(Person.name == "Zhou Ping"))
        assert zhou is not None and zhou.unit == "301" and zhou.building_id == town.s1.id


async def test_set_up_ends_by_asking_for_the_list_as_a_file_not_a_shell_command(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as s:
        code = await setup_code(s)
    assert code
    async with telegram_bot(_url(app), app.clock) as bot:
        office = bot.user(4301, "Office Zhou")
        await office.send(f"/start {code}")
        await office.send("Riverside Street")
        await office.send("Lotus")
        await office.send("North")
        await office.send("1, 2")
        everything = " ".join(m.text or "" for m in office.inbox())
        assert "Lotus is ready" in everything and "wishbot import" not in everything
        assert "Send me the office's list of residents as a file" in office.text()
        assert office.button("Skip for now")
        await office.send_document(
            "楼栋,单元,姓名\n1,101,Wang Fang\n3,301,Li Lei\n".encode(), "名单.csv"
        )
        assert "2 new residents" in office.text() and "1 of them new" in office.text()
        await office.press("Import")
        assert "Done: 2 new residents in Lotus" in office.text()
    async with sessions() as s:
        names = set((await s.scalars(select(Person.name).where(Person.unit.is_not(None)))).all())
        assert names == {"Wang Fang", "Li Lei"}


async def test_set_up_can_skip_the_list(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        code = await setup_code(s)
    assert code
    world = World(sessions)
    office = world.chat("Office Li")
    await office.send(f"/start {code}")
    for answer in ("Riverside Street", "Lotus", "North", "1, 2"):
        await office.send(answer)
    await office.press("Skip for now")
    assert office.last.text == "Fine. Send /import when you have the list."
    await office.send("/help")
    assert "/import" in office.last.text and "/places" in office.last.text


async def test_the_web_chat_takes_the_list_as_a_file_too(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "en"
    async with web_site(app) as site:
        office = await site.signed_in(town.admin)
        await office.say("/import")
        assert "Send me the office's list of residents as a file" in office.text()
        form = FormData()
        form.add_field("id", "777001")
        form.add_field("document", GOOD.encode(), filename="residents.csv", content_type="text/csv")
        response = await office.client.post(
            "/chat/say", data=form, headers={"X-CSRF-Token": office.csrf()}
        )
        answer = await response.json()
        assert response.status == 200, answer
        office.lines.extend(answer["messages"])
        assert any(m["mine"] and "residents.csv" in m["text"] for m in answer["messages"])
        assert "3 new residents" in office.text()
        await office.press("Import")
        assert "Done: 3 new residents in Sunflower" in office.text()
    async with sessions() as s:
        assert await s.scalar(select(Person).where(Person.name == "Han Mei")) is not None


async def test_the_file_is_kept_when_it_arrives_so_handling_never_waits_on_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    """The list is fetched before its update is stored; handling (inside a transaction)
    reads it from the store, so Telegram failing after it arrived changes nothing."""
    await _english_admin(sessions, town, "4201")
    async with telegram_bot(_url(app), app.clock) as bot:
        admin = bot.user(4201, "Admin")
        await admin.send("/import")
        admin.user.send_document(GOOD.encode(), "residents.csv", "text/csv")
        while await bot.telegram.poll_once(timeout=0):
            pass
        fetched = len(bot.server.calls_of("getFile"))
        assert fetched == 1  # at arrival, before the update was kept
        bot.server.outage(502, methods=["getFile"])  # Telegram's files away from now on
        await bot.runtime.handle_inbox()
        await bot.runtime.send_outbox()
        assert "3 new residents" in admin.text()
        assert len(bot.server.calls_of("getFile")) == fetched  # handling asked Telegram nothing

"""What the bot promises about personal data: /forget and the office's /erase erase a person
and leave every count and sum as it was; finished wishes lose their details after the
community's rule; a phone from the office's roster is never shown until the person agrees.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, build_app
from bot.migrate import migrate
from bot.roster_import import import_roster
from bot.settings import load_settings
from handlers.reminders import fire
from models.clock import ManualClock
from models.community import Community
from models.dashboard_figures import points_by_member, time_to_accept_and_close, wishes_per_week
from models.directory import link_identity
from models.erasure import ERASED_NAME, erase_person
from models.errors import NotAllowed
from models.inbox import InboxUpdate, store_update
from models.noticeboard import community_board, month_span
from models.outbox import queue_message
from models.people import Identity, Person
from models.points import PointsEntry
from models.points_ledger import balance
from models.privacy import export_person
from models.reminders import Reminder, ReminderStatus
from models.retention import forget_old_wishes, plan_retention
from models.schema import Base
from models.service_lists import demand_list, service_list
from models.web_access import keep_photo, make_sign_in_code
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish, WishStatus
from tests.chat import CONFIG, World
from tests.databases import fresh_database
from tests.snapshot import STORE, snapshot
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site
from tests.wishes import wish_in

S = WishStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13912345678"
TEXT = "Please fix the squeaky balcony door of flat Zebra-7"
THANKS = "Marvellous work, thank you Quokka"
NOTE = "Oiled the hinges at Zebra-7"
DAY = dt.timedelta(days=1)


async def _closed_wish(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    requester: Person,
    text: str = TEXT,
    photo: str | None = None,
) -> Wish:
    """A wish asked, verified, done by a member and confirmed with five stars and thanks."""
    maple = requester.id == town.dora.id
    head = (
        town.maple_admin if maple else town.head_n1 if requester.id == town.alice.id else town.admin
    )
    member = town.maple_member if maple else town.fixer
    async with sessions.begin() as s:
        wish = await submit_wish(
            s,
            requester,
            building_id=requester.building_id or town.n1.id,
            category="repair",
            description=text,
            photos=[photo] if photo else [],
        )
        await verify_wish(s, head, wish.id)
        await accept_wish(s, member, wish.id)
        await report_done(s, member, wish.id, NOTE)
        await confirm_wish(s, requester, wish.id, 5, THANKS)
        return wish


async def _figures(sessions: async_sessionmaker[AsyncSession], town: Town) -> dict[str, Any]:
    """The month's statistics as the dashboard, the noticeboard and the lists count them."""
    ids = [town.sunflower.id]
    async with sessions() as s:
        start, end = month_span(dt.date(2026, 11, 1), SHANGHAI)
        board = await community_board(s, town.sunflower.id, start, end)
        assert board is not None
        service = await service_list(s, town.sunflower.id, None, None, SHANGHAI)
        return {
            "weeks": await wishes_per_week(s, ids, SHANGHAI, dt.date(2026, 11, 30)),
            "durations": await time_to_accept_and_close(s, ids),
            "points": [(m.person_id, m.points) for m in await points_by_member(s, ids)],
            "by_category": board.by_category,
            "helpers": [(h.person_id, h.wishes, h.points) for h in board.helpers],
            "teams": board.teams,
            "service_rows": len(service.rows),
            "ledger_sum": await s.scalar(select(func.sum(PointsEntry.amount))),
            "ledger_rows": await s.scalar(select(func.count()).select_from(PointsEntry)),
            "fixer": await balance(s, town.fixer.id),
            "wishes": sorted(
                (w.id, w.status, w.category, w.created_at, w.closed_at, w.rating)
                for w in (await s.scalars(select(Wish))).all()
            ),
        }


async def _everything(sessions: async_sessionmaker[AsyncSession]) -> str:
    """Every value of every row of every table, as one text to search."""
    parts: list[str] = []
    async with sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    parts.append(str(value))
    return "\n".join(parts)


async def test_forget_erases_a_resident_and_keeps_every_count_and_sum(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await s.execute(
            update(Person)
            .where(Person.id == town.alice.id)
            .values(phone=PHONE, phone_consent=True, unit="Zebra-7")
        )
        photo = await keep_photo(s, "alice-tablet", "image/png", b"\x89PNG Zebra-7 photo")
        await link_identity(s, town.alice, "web", "alice-tablet")
        await make_sign_in_code(s, town.head_n1, town.alice)
    closed = await _closed_wish(sessions, town, town.alice, photo=photo)
    world = World(sessions)
    alice = await world.as_person(town.alice)
    await alice.send("/mydata")
    assert TEXT in alice.last.document.content.decode()  # type: ignore[union-attr]
    before = await _figures(sessions, town)
    secrets = ("Alice", PHONE, "Zebra-7", TEXT, THANKS, NOTE, "Zebra-7 photo")
    everything = await _everything(sessions)
    assert all(secret in everything for secret in secrets)

    # The way back: nothing changes.
    await alice.send("/forget")
    assert "cannot be undone" in alice.last.text
    kept = await snapshot(sessions, STORE)
    await alice.press("No, keep my data")
    assert "Nothing changed" in alice.last.text
    await alice.send("/forget")
    await alice.press("Cancel")
    assert await snapshot(sessions, STORE) == kept

    await alice.send("/forget")
    await alice.press("Yes, erase me")
    assert "everything about you is erased" in alice.last.text

    after = await _figures(sessions, town)
    assert after == before
    everything = await _everything(sessions)
    for secret in secrets:
        assert secret not in everything, secret
    async with sessions() as s:
        person = await s.get(Person, town.alice.id)
        assert person is not None
        assert (person.name, person.phone, person.unit) == (ERASED_NAME, None, None)
        assert person.erased_at is not None
        assert await s.scalar(select(Identity.id).where(Identity.person_id == person.id)) is None
        wish = await s.get(Wish, closed.id)
        assert wish is not None and wish.status == S.CLOSED and wish.description == ""
        exported = json.dumps(await export_person(s, person), ensure_ascii=False)
        demand = await demand_list(s, town.sunflower.id, None, None, SHANGHAI)
        service = await service_list(s, town.sunflower.id, None, None, SHANGHAI)
    for shown in (exported, repr(demand.rows), repr(service.rows)):
        for secret in secrets:
            assert secret not in shown

    # The bot no longer knows the chat: it is a stranger now.
    await alice.send("/my")
    assert "/start" in alice.last.text


async def test_forget_cancels_waiting_wishes_and_a_member_keeps_their_points(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _closed_wish(sessions, town, town.alice)
    waiting = await wish_in(sessions, town, S.OPEN)
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    before = await _figures(sessions, town)
    await fixer.send("/forget")
    await fixer.press("Yes, erase me")
    after = await _figures(sessions, town)
    assert after == before  # Fixer's points stay, attributed to the anonymous person
    assert "Fixer" not in await _everything(sessions)

    alice = await world.as_person(town.alice)
    await alice.send("/forget")
    await alice.press("Yes, erase me")
    async with sessions() as s:
        wish = await s.get(Wish, waiting.id)
        assert wish is not None and wish.status == S.CANCELLED and wish.description == ""


async def test_the_office_erases_a_person_in_its_community_only(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _closed_wish(sessions, town, town.bob, text="Bob's leaking tap at N2")
    world = World(sessions)
    admin = await world.as_person(town.admin)
    grid = await world.as_person(town.gw_north)
    await grid.send("/erase")
    assert "not for you" in grid.last.text

    before = await _figures(sessions, town)
    await admin.send("/erase")
    assert "Dora" not in str(admin.last.buttons)  # Maple's resident is not the admin's
    await admin.press("Bob")
    assert "Erase Bob?" in admin.last.text
    await admin.press("Back")
    await admin.press("Bob")
    await admin.press("Yes, erase")
    assert "Bob is erased" in admin.last.text
    assert await _figures(sessions, town) == before
    everything = await _everything(sessions)
    assert "Bob" not in everything and "leaking tap" not in everything

    unchanged = await snapshot(sessions)
    async with sessions.begin() as s:
        maple_admin = await s.get(Person, town.maple_admin.id)
        assert maple_admin is not None
        with pytest.raises(NotAllowed):
            await erase_person(s, maple_admin, town.carol.id)
    assert await snapshot(sessions) == unchanged


async def _run_retention(sessions: async_sessionmaker[AsyncSession], day: dt.date) -> None:
    """As the scheduler does: the daily plan adds the run, the sweep fires it."""
    async with sessions.begin() as s:
        await plan_retention(s, day)
        await plan_retention(s, day)  # a second process planning the same day adds nothing
        due = (
            await s.scalars(
                select(Reminder).where(
                    Reminder.kind == "retention", Reminder.status == ReminderStatus.PENDING
                )
            )
        ).all()
        assert len(due) == 1
        await fire(s, due[0], CONFIG)
        due[0].status = ReminderStatus.SENT


async def test_closed_wishes_lose_their_details_after_the_communitys_rule(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    start = clock.now()
    old = await _closed_wish(sessions, town, town.alice, text="Old wish about the Zebra door")
    clock.set(start + 2 * DAY)
    recent = await _closed_wish(sessions, town, town.alice, text="Recent wish about the Yak")
    maple = await _closed_wish(sessions, town, town.dora, text="Maple wish about the Emu")
    async with sessions.begin() as s:
        await s.execute(
            update(Community)
            .where(Community.id == town.maple.id)
            .values(rules={"keep_closed_days": 30})
        )
    before = await _figures(sessions, town)

    clock.set(start + 181 * DAY)  # the old one closed 181 days ago, the recent one 179
    await _run_retention(sessions, clock.now().date())
    async with sessions() as s:
        got = {w.id: w for w in (await s.scalars(select(Wish))).all()}
    assert got[old.id].description == "" and got[old.id].rating_comment is None
    assert got[old.id].status == S.CLOSED and got[old.id].rating == 5
    assert got[recent.id].description == "Recent wish about the Yak"
    assert got[recent.id].rating_comment == THANKS
    assert got[maple.id].description == ""  # Maple keeps them 30 days
    assert await _figures(sessions, town) == before

    clock.set(start + 183 * DAY)
    async with sessions.begin() as s:
        assert await forget_old_wishes(s, clock.now()) == 1
        assert await forget_old_wishes(s, clock.now()) == 0


ROSTER = "building,unit,name,phone\nN1,8-808,Erin,13700000001\n"


async def test_a_roster_phone_is_shown_to_helpers_only_after_the_person_agrees_in_chat(
    sessions: async_sessionmaker[AsyncSession], town: Town, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    async with sessions.begin() as s:
        await import_roster(s, path, community="Sunflower", street=None, grid=None)
        erin_person = await s.scalar(select(Person).where(Person.name == "Erin"))
        assert erin_person is not None
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    erin = await world.as_person(erin_person)

    async def take_a_wish() -> str:
        async with sessions.begin() as s:
            person = await s.get(Person, erin_person.id)
            assert person is not None
            wish = await submit_wish(
                s, person, building_id=town.n1.id, category="repair", description="Light"
            )
            await verify_wish(s, town.head_n1, wish.id)
        await fixer.deliver(button=f"a:accept:{wish.id}")
        return fixer.last.text

    shown = await take_a_wish()
    assert "13700000001" not in shown
    assert "put you in touch with Erin" in shown

    await erin.send("/phone")
    assert "helpers do not see it" in erin.last.text
    await erin.press("Yes, share this number")
    assert "will see your phone" in erin.last.text
    assert "Phone (shared with consent): 13700000001" in await take_a_wish()

    await erin.send("/phone")
    await erin.press("Stop sharing")
    assert "13700000001" not in await take_a_wish()
    async with sessions() as s:
        person = await s.get(Person, erin_person.id)
        assert person is not None and person.phone is None


async def test_forget_on_telegram_leaves_nothing_of_her_in_the_inbox_or_the_outbox(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, town.head_n1, "telegram", "3801")
        await link_identity(s, town.fixer, "telegram", "3802")
    url = app.settings.database_url.render_as_string(hide_password=False)
    async with telegram_bot(url, clock) as bot:
        xenia = bot.user(3800, "Xenia")
        head = bot.user(3801, "Head")
        fixer = bot.user(3802, "Fixer")
        await xenia.send("/start")
        await xenia.press("English")
        await xenia.press("I live here")
        await xenia.press("Sunflower")
        await xenia.press("N1")
        await xenia.send("Zebra-7")
        await xenia.press("No, thanks")
        await xenia.send("/wish")
        await xenia.press("Repairs")
        await xenia.send(TEXT)
        await xenia.send_photo("photo-of-the-door")
        await xenia.press("Within a day")
        await xenia.press("Send")
        await head.press("Verify")
        await fixer.send("/tasks")
        await fixer.press("I'll do it")
        assert "Xenia" in fixer.text() and TEXT in fixer.text()
        await fixer.press("Message the resident")
        await fixer.send("Coming at six")
        await xenia.press("Message the helper")
        await xenia.send("Thanks, the bell is broken, knock")
        before = await _figures(sessions, town)
        secrets = ("Xenia", "Zebra-7", TEXT, "photo-of-the-door", "bell is broken")
        everything = await _everything(sessions)
        assert all(secret in everything for secret in secrets)

        await xenia.send("/forget")
        await xenia.press("Yes, erase me")
        assert "everything about you is erased" in xenia.text()
        assert await _figures(sessions, town) == before
        everything = await _everything(sessions)
        for secret in secrets:
            assert secret not in everything, secret

        # She is a stranger now, and the helper's relay button reaches nobody.
        await xenia.send("/my")
        assert "/start" in xenia.text()
        await fixer.press("Message the resident")
        assert "can be reached through the bot any more" in fixer.text()
        assert bot.server.violations == []


async def test_chat_messages_lose_their_text_after_the_rule(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    start = clock.now()

    async def messages(text: str) -> tuple[int, int, int]:
        async with sessions.begin() as s:
            sent = await queue_message(s, platform="test", chat_id="1", payload={"text": text})
            sent.status = ReminderStatus.SENT
            waiting = await queue_message(
                s, platform="test", chat_id="1", payload={"text": text}, due_at=start + 400 * DAY
            )
            await store_update(s, "test", sent.id, "test:1", {"text": text})
            got = await s.scalar(select(InboxUpdate).where(InboxUpdate.update_id == sent.id))
            assert got is not None
            got.handled_at = clock.now()
            return sent.id, waiting.id, got.id

    old = await messages("Old message from Zebra-7")
    clock.set(start + 2 * DAY)
    recent = await messages("Recent message from Yak")
    clock.set(start + 181 * DAY)
    await _run_retention(sessions, clock.now().date())
    async with sessions() as s:

        async def payload(model: Any, row_id: int) -> Any:
            row = await s.get(model, row_id)
            return row.payload

        assert await payload(Reminder, old[0]) == {}
        assert await payload(Reminder, old[1]) == {"text": "Old message from Zebra-7"}  # not sent
        assert await payload(InboxUpdate, old[2]) == {}
        assert await payload(Reminder, recent[0]) == {"text": "Recent message from Yak"}
        assert await payload(InboxUpdate, recent[2]) == {"text": "Recent message from Yak"}


async def test_the_office_erases_a_person_from_the_dashboard(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        for person in (town.admin, town.gw_north):
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = "en"
    async with web_site(app) as site:
        grid = await site.signed_in(town.gw_north)
        _, page = await grid.get("/admin")
        assert "Erase a person" not in page  # grid workers do not erase
        admin = await site.signed_in(town.admin)
        _, page = await admin.get("/admin")
        assert "Erase a person&#39;s data" in page or "Erase a person's data" in page
        response = await admin.post("/admin/act", {"press": "/erase"})
        assert response.headers["Location"] == "/chat"
        await admin.say("/help")  # read the chat
        await admin.press("Carol")
        assert "Erase Carol?" in admin.text()
        await admin.press("Yes, erase")
        assert "Carol is erased" in admin.text()
    async with sessions() as s:
        carol = await s.get(Person, town.carol.id)
        assert carol is not None and carol.name == ERASED_NAME and carol.erased_at is not None


async def test_the_migration_takes_back_consent_the_roster_gave(tmp_path: Path) -> None:
    """Before 0006 a roster import marked its phones as consent; nobody without a chat agreed."""
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0005")
            moment = dt.datetime(2026, 11, 1)
            async with app.engine.begin() as conn:
                for name in ("From the roster", "Agreed in chat"):
                    await conn.execute(
                        text(
                            "INSERT INTO people (name, phone, phone_consent, points_balance, "
                            "unreachable, created_at) VALUES (:n, '13700000009', true, 0, false, :at)"
                        ),
                        {"n": name, "at": moment},
                    )
                await conn.execute(
                    text(
                        "INSERT INTO identities (person_id, platform, external_id) "
                        "SELECT id, 'telegram', '42' FROM people WHERE name = 'Agreed in chat'"
                    )
                )
            await migrate(app.engine)
            async with app.engine.connect() as conn:
                rows = dict(
                    (await conn.execute(text("SELECT name, phone_consent FROM people"))).all()
                )
            assert {k: bool(v) for k, v in rows.items()} == {
                "From the roster": False,
                "Agreed in chat": True,
            }
        finally:
            await app.close()

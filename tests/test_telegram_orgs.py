"""An organisation's whole story over Telegram, through the real PTB against the fake Bot API.

An admin registers a school; its contact joins by link and brings two staff, approving them;
a wish needing two helpers is verified; the contact takes both places and names the two; one
reports it done, the resident confirms; both earn points, the school's total is their sum,
and the school's yearly report opens with openpyxl with both rows.
"""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.organisations import Organisation
from models.people import MemberProfile, Person
from models.team_claims import organisation_points
from models.wishes import Wish, WishStatus
from tests.telegram_bot import Person as TelegramPerson
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _code(text: str, prefix: str) -> str:
    found = re.search(r"/start (" + prefix + r"-[\w-]+)", text)
    assert found, text
    return found.group(1)


async def _joins(bot: TelegramBot, person: TelegramPerson, code: str) -> None:
    await person.send(f"/start {code}")
    await person.press("English")
    await person.press("Errands")
    await person.press("Done")


async def test_an_organisation_takes_a_wish_for_two_on_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        for person, user_id in ((town.admin, 3601), (town.head_n1, 3602), (town.alice, 3603)):
            await link_identity(s, person, "telegram", str(user_id))
    async with telegram_bot(_url(app), clock) as bot:
        admin = bot.user(3601, "Admin")
        head = bot.user(3602, "Head")
        alice = bot.user(3603, "Alice")
        li = bot.user(3610, "Li")
        wang = bot.user(3611, "Wang")
        zhao = bot.user(3612, "Zhao")

        # The admin registers the school; the contact's link comes back.
        await admin.send("/org")
        await admin.press("Register an organisation")
        await admin.send("Sunflower Primary School")
        await admin.press("school")
        await admin.send("Ms Li")
        await admin.send("13800000000")
        contact_code = _code(admin.text(), "oc")

        # The contact joins by it, and /org gives the staff's link (and the phone stays hidden).
        await _joins(bot, li, contact_code)
        assert "contact of Sunflower Primary School" in li.text()
        await li.send("/org")
        shown = "\n".join(m.text or "" for m in li.inbox()[-3:])
        assert "13800000000" not in shown
        staff_code = _code(shown, "o")
        # The contact's link works once.
        await zhao.send(f"/start {contact_code}")
        assert "not valid" in zhao.text()

        for staff in (wang, zhao):
            await _joins(bot, staff, staff_code)
            assert "contact will approve you" in staff.text()
            assert staff.user.first_name in li.text()
            await li.press("Approve")
            assert "approved" in li.text()

        # A wish for two: the head verifies it and says so.
        await alice.send("/wish")
        await alice.press("Errands")
        await alice.send("Carry a wardrobe to the third floor")
        await alice.press("Skip")
        await alice.press("Any time")
        await alice.press("Send")
        await head.press("Needs several helpers")
        await head.press("2")
        assert "needs 2 helpers" in head.inbox()[-2].text  # type: ignore[operator]

        # The contact takes both places for the school and names who goes.
        await li.send("/org")
        await li.press("take all 2 places")
        await li.press("Wang")
        await li.press("Zhao")
        assert "Every place" in li.text()
        assert "sends you" in wang.text() and "sends you" in zhao.text()

        await wang.press("Report done")
        await wang.send("Carried it up together")
        await wang.press("Skip")
        await alice.press("It's done")
        await alice.press("⭐⭐⭐⭐⭐")
        await alice.press("Skip")

        # Points reach both; the school's numbers add them up.
        await zhao.send("/points")
        assert "point" in zhao.text()
        await li.send("/org")
        async with sessions() as s:
            wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
            assert wish is not None and wish.status == WishStatus.CLOSED
            school = await s.scalar(select(Organisation))
            assert school is not None
            balances = []
            for name in ("Wang", "Zhao"):
                person = await s.scalar(select(Person).where(Person.name == name))
                assert person is not None and person.points_balance > 0
                profile = await s.get(MemberProfile, person.id)
                assert profile is not None and profile.organisation_id == school.id
                balances.append(person.points_balance)
            total = await organisation_points(s, school.id)
            assert total == sum(balances)
        assert f"points: {total}" in "\n".join(m.text or "" for m in li.inbox()[-3:])

        # The yearly report, in the chat, opens with openpyxl and names both.
        await li.press("Yearly report")
        sent = li.last
        assert sent.document_name is not None and sent.document_name.endswith(".xlsx")
        content = bot.server.files[sent.document].content  # type: ignore[index]
        book = load_workbook(io.BytesIO(content))
        services = book.worksheets[1]
        rows = list(services.iter_rows(min_row=2, values_only=True))
        assert sorted(r[3] for r in rows) == ["Wang", "Zhao"]
        assert {r[1] for r in rows} == {wish.code}
        summary = dict(book.worksheets[0].iter_rows(values_only=True))
        assert summary["Services"] == 1 and summary["People who served"] == 2
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []

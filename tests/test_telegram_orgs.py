"""An organisation's whole story over Telegram, through the real PTB against the fake Bot API.

An admin registers a school; its contact joins by link and brings two staff, approving them;
a wish needing two helpers is verified and /assign shows the school's members first, with the
school's offer among their reasons; the contact takes both places and names the two; one
reports it done, the resident confirms; both earn points, the school's total is their sum,
and the school's yearly report opens with openpyxl with both rows.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.organisations import Organisation
from models.people import MemberProfile, Person
from models.resources import ResourceWhere, add_resource
from models.team_claims import organisation_points
from models.wishes import Wish, WishStatus
from tests.telegram_bot import Person as TelegramPerson
from tests.telegram_bot import telegram_bot
from tests.town import Town

# What each person presses, and a word of what they should read, in each language.
WORDS = {
    "en": {
        "language": "English",
        "errands": "Errands",
        "done": "Done",
        "register": "Register an organisation",
        "school": "school",
        "approve": "Approve",
        "several": "Needs several helpers",
        "skip": "Skip",
        "any_time": "Any time",
        "send": "Send",
        "take_both": "take all 2 places",
        "report_done": "Report done",
        "its_done": "It's done",
        "report": "Yearly report",
        "you_are_contact": "contact of Sunflower Primary School",
        "not_valid": "not valid",
        "will_approve": "contact will approve you",
        "approved": "approved",
        "needs_two": "needs 2 helpers",
        "every_place": "Every place",
        "sends_you": "sends you",
        "points": "point",
        "total": "points: {total}",
        "services": "Services",
        "people": "People who served",
        "offers": "Sunflower Primary School offers: Moving help",
        "resources": "Resources that cover it:",
    },
    "zh": {
        "language": "中文",
        "errands": "跑腿",
        "done": "完成",
        "register": "登记结对组织",
        "school": "学校",
        "approve": "通过",
        "several": "需要多位志愿者",
        "skip": "跳过",
        "any_time": "随时都行",
        "send": "发送",
        "take_both": "认领全部 2 个名额",
        "report_done": "报告完成",
        "its_done": "已经办好了",
        "report": "年度报告",
        "you_are_contact": "的联系人",
        "not_valid": "无效",
        "will_approve": "联系人会尽快审核您",
        "approved": "审核通过",
        "needs_two": "需要 2 位志愿者",
        "every_place": "每个名额都已指定人员",
        "sends_you": "派您去",
        "points": "积分",
        "total": "积分：{total}",
        "services": "服务",
        "people": "参与服务人数",
        "offers": "Sunflower Primary School 提供：Moving help",
        "resources": "可以提供的资源：",
    },
}


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _code(text: str, prefix: str) -> str:
    found = re.search(r"/start (" + prefix + r"-[\w-]+)", text)
    assert found, text
    return found.group(1)


async def _joins(person: TelegramPerson, code: str, w: dict[str, str]) -> None:
    await person.send(f"/start {code}")
    await person.press(w["language"])
    await person.press(w["errands"])
    await person.press(w["done"])


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_organisation_takes_a_wish_for_two_on_telegram(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    language: str,
) -> None:
    w = WORDS[language]
    locale = "zh_Hans" if language == "zh" else "en"
    async with sessions.begin() as s:
        for person, user_id in ((town.admin, 3601), (town.head_n1, 3602), (town.alice, 3603)):
            await link_identity(s, person, "telegram", str(user_id))
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = locale
    async with telegram_bot(_url(app), clock, locale=locale) as bot:
        code = "zh-hans" if language == "zh" else "en"
        admin = bot.user(3601, "Admin")
        head = bot.user(3602, "Head")
        alice = bot.user(3603, "Alice")
        li = bot.user(3610, "Li", code)
        wang = bot.user(3611, "Wang", code)
        zhao = bot.user(3612, "Zhao", code)

        # The admin registers the school; the contact's link comes back.
        await admin.send("/org")
        await admin.press(w["register"])
        await admin.send("Sunflower Primary School")
        await admin.press(w["school"])
        await admin.send("Ms Li")
        await admin.send("13800000000")
        contact_code = _code(admin.text(), "oc")

        # The contact joins by it, and /org gives the staff's link (and the phone stays hidden).
        await _joins(li, contact_code, w)
        assert w["you_are_contact"] in li.text()
        await li.send("/org")
        shown = "\n".join(m.text or "" for m in li.inbox()[-3:])
        assert "13800000000" not in shown
        staff_code = _code(shown, "o")
        # The contact's link works once.
        await zhao.send(f"/start {contact_code}")
        assert w["not_valid"] in zhao.text()

        for staff in (wang, zhao):
            await _joins(staff, staff_code, w)
            assert w["will_approve"] in staff.text()
            assert staff.user.first_name in li.text()
            await li.press(w["approve"])
            assert w["approved"] in li.text()

        # The school offers help with errands, door to door on weekdays (its /resource flow is
        # tested in tests/test_flows_organisations.py).
        async with sessions.begin() as s:
            school = await s.scalar(select(Organisation))
            contact = await s.scalar(select(Person).where(Person.name == "Li"))
            assert school is not None and contact is not None
            await add_resource(
                s,
                contact,
                community_id=school.community_id,
                organisation_id=school.id,
                service="Moving help",
                categories=["errand"],
                capacity_per_month=4,
                where=ResourceWhere.DOOR,
                weekdays=[1, 2, 3],
            )

        # A wish for two: the head verifies it and says so.
        await alice.send("/wish")
        await alice.press(w["errands"])
        await alice.send("Carry a wardrobe to the third floor")
        await alice.press(w["skip"])
        await alice.press(w["any_time"])
        await alice.press(w["send"])
        await head.press(w["several"])
        await head.press("2")
        assert w["needs_two"] in head.inbox()[-2].text  # type: ignore[operator]

        # /assign shows the school's members first, with the school's offer among their
        # reasons; the school's resource is listed after the members, with its own reasons.
        async with sessions() as s:
            code_of_wish = await s.scalar(select(Wish.code).order_by(Wish.id.desc()))
        await admin.send(f"/assign {code_of_wish}")
        shown = admin.text()
        ranked = [line for line in shown.splitlines() if re.match(r"^\d\. ", line)]
        # The contact and both staff (ties by id), then the town's own members.
        names = [line.split(" — ")[0] for line in ranked]
        assert names[:3] == ["1. Li", "2. Wang", "3. Zhao"], shown
        for line in ranked[:3]:
            assert w["offers"] + " (+25)" in line, line
        assert all(w["offers"] not in line for line in ranked[3:]) and len(ranked) == 5, shown
        listed = shown.split(w["resources"])[1]
        assert "Sunflower Primary School" in listed and w["offers"] + " (+40)" in listed

        # The contact takes both places for the school and names who goes.
        await li.send("/org")
        await li.press(w["take_both"])
        await li.press("Wang")
        await li.press("Zhao")
        assert w["every_place"] in li.text()
        assert w["sends_you"] in wang.text() and w["sends_you"] in zhao.text()

        await wang.press(w["report_done"])
        await wang.send("Carried it up together")
        await wang.press(w["skip"])
        await alice.press(w["its_done"])
        await alice.press("⭐⭐⭐⭐⭐")
        await alice.press(w["skip"])

        # Points reach both; the school's numbers add them up.
        await zhao.send("/points")
        assert w["points"] in zhao.text()
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
        assert w["total"].format(total=total) in "\n".join(m.text or "" for m in li.inbox()[-3:])

        # The yearly report, in the chat, opens with openpyxl and names both.
        await li.press(w["report"])
        sent = li.last
        assert sent.document_name is not None and sent.document_name.endswith(".xlsx")
        content = bot.server.files[sent.document].content  # type: ignore[index]
        book = load_workbook(io.BytesIO(content))
        services = book.worksheets[1]
        rows = list(services.iter_rows(min_row=2, values_only=True))
        assert sorted(r[3] for r in rows) == ["Wang", "Zhao"]
        assert {r[1] for r in rows} == {wish.code}
        summary = dict(book.worksheets[0].iter_rows(values_only=True))
        assert summary[w["services"]] == 1 and summary[w["people"]] == 2
        if language == "zh":
            # Everyone was spoken to in Chinese.
            for person in (admin, head, alice, li, wang, zhao):
                assert any("\u4e00" <= ch <= "\u9fff" for ch in person.text()), person.text()
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []

"""The office's partners and rewards pages: only their own community, changes only by its
admins, a hand-over and a correction from the page (the person is told), and the monthly
report per partner as an XLSX file with first names only."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.point_rules import point_rules
from models.points_ledger import adjust_points, redeem_reward
from models.redemptions import expire_redemption
from models.reminders import Reminder
from models.rewards import Partner, Redemption, RedemptionStatus, Reward
from models.standings import choose_ranking
from tests.snapshot import snapshot
from tests.town import Town
from tests.web import web_site


async def _told(sessions: async_sessionmaker[AsyncSession], person: Person) -> list[str]:
    async with sessions() as s:
        rows = await s.scalars(
            select(Reminder).where(
                Reminder.target_person_id == person.id, Reminder.platform.is_not(None)
            )
        )
        return [str(r.payload.get("text", "")) for r in rows.all()]


async def test_the_office_keeps_partners_and_rewards_of_its_own_community(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        for person in (town.fixer, town.walker):
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = "en"
            await link_identity(s, found, "telegram", str(7000 + person.id))
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        status, page = await admin.get(f"/admin/rewards?community={town.sunflower.id}")
        assert status == 200 and "Partners and rewards" in page
        response = await admin.post(
            "/admin/rewards/partner",
            {"community": str(town.sunflower.id), "name": "Charity shop", "kind": "shop"},
        )
        assert response.status == 200 and "The partner is registered." in await response.text()
        async with sessions() as s:
            partner = await s.scalar(select(Partner))
        assert partner is not None
        response = await admin.post(
            "/admin/rewards/reward",
            {
                "community": str(town.sunflower.id),
                "partner": str(partner.id),
                "name": "Rice 5kg",
                "cost": "20",
                "stock": "5",
                "valid_until": "2027-01-31",
                "collect_at": "Community hall, Saturdays",
            },
        )
        assert "The reward is in the catalogue." in await response.text()
        bad = await admin.post(
            "/admin/rewards/reward",
            {
                "community": str(town.sunflower.id),
                "partner": str(partner.id),
                "name": "X",
                "cost": "0",
            },
        )
        assert bad.status == 400 and "at least 1 point" in await bad.text()

        # Another community's admin: not their page, and their forms change nothing here.
        kept = ("partners", "rewards", "communities", "points_ledger", "redemptions", "role_grants")
        before = await snapshot(sessions, kept)
        maple = await site.signed_in(town.maple_admin)
        status, _ = await maple.get(f"/admin/rewards?community={town.sunflower.id}")
        assert status == 403
        status, page = await maple.get("/admin/rewards")
        assert status == 200 and "Charity shop" not in page and "Rice 5kg" not in page
        response = await maple.post(
            "/admin/rewards/partner", {"community": str(town.sunflower.id), "name": "Sneaky"}
        )
        assert response.status == 403
        # A grid worker sees the page without the forms, and cannot change anything.
        worker = await site.signed_in(town.gw_north)
        status, page = await worker.get("/admin/rewards")
        assert status == 200 and "Rice 5kg" in page and 'id="new-reward"' not in page
        refused = await worker.post(
            "/admin/rewards/rules", {"community": str(town.sunflower.id), "verify_points": "9"}
        )
        assert refused.status == 400 and "Only an admin" in await refused.text()
        member = await site.signed_in(town.fixer)
        status, _ = await member.get("/admin/rewards")
        assert status == 403
        assert await snapshot(sessions, kept) == before

        # Rules and a correction from the page; the person is told.
        response = await admin.post(
            "/admin/rewards/rules",
            {
                "community": str(town.sunflower.id),
                "verify_points": "3",
                "collect_days": "2",
                "base:repair": "12",
                "levels": "40, 120, 400",
            },
        )
        assert "apply from now on" in await response.text()
        async with sessions() as s:
            rules = await point_rules(s, town.sunflower.id)
        assert (rules.verify_points, rules.collect_days) == (3, 2.0)
        assert rules.base["repair"] == 12 and rules.levels == (0, 40, 120, 400)
        bad = await admin.post(
            "/admin/rewards/rules", {"community": str(town.sunflower.id), "levels": "50, 20, 300"}
        )
        assert bad.status == 400 and "cannot be" in await bad.text()
        response = await admin.post(
            "/admin/rewards/adjust",
            {
                "community": str(town.sunflower.id),
                "person": str(town.fixer.id),
                "amount": "+60",
                "reason": "Autumn fair",
            },
        )
        assert "the person is told" in await response.text()
        assert any("+60: Autumn fair" in text for text in await _told(sessions, town.fixer))

        # Two redemptions: the office hands one over from the page; the other expires.
        async with sessions.begin() as s:
            fixer = await s.get(Person, town.fixer.id)
            assert fixer is not None
            first = await redeem_reward(s, fixer, (await s.scalar(select(Reward))).id)  # type: ignore[union-attr]
            second = await redeem_reward(s, fixer, first.reward_id)
        response = await admin.post(
            "/admin/rewards/handover",
            {"community": str(town.sunflower.id), "code": first.code or ""},
        )
        assert "Handed over." in await response.text()
        assert any("You collected Rice 5kg" in text for text in await _told(sessions, town.fixer))
        again = await admin.post(
            "/admin/rewards/handover",
            {"community": str(town.sunflower.id), "code": first.code or ""},
        )
        assert again.status == 400 and "used already" in await again.text()
        clock.advance(dt.timedelta(days=3))
        async with sessions.begin() as s:
            await expire_redemption(s, second.id)

        response = await admin.client.get(
            f"/admin/rewards/report/{partner.id}.xlsx?community={town.sunflower.id}"
            f"&month={clock.now():%Y-%m}"
        )
        assert response.status == 200
        sheet = load_workbook(io.BytesIO(await response.read())).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:5] == ("Redeemed", "Reward", "Member", "Points", "What became of it")
        assert sorted(r[4] for r in rows[1:]) == ["expired, points back", "handed over"]
        assert {r[2] for r in rows[1:]} == {"Fixer"}
        status, _ = await maple.get(f"/admin/rewards/report/{partner.id}.xlsx")
        assert status == 404  # the partner is not in their community
        async with sessions() as s:
            statuses = (await s.scalars(select(Redemption.status))).all()
        assert sorted(statuses) == sorted([RedemptionStatus.HANDED_OVER, RedemptionStatus.EXPIRED])

        # Rankings on the page: only a member who agreed, by first name.
        async with sessions.begin() as s:
            walker = await s.get(Person, town.walker.id)
            assert walker is not None
            await adjust_points(s, town.admin, walker, 5, "help")
            await choose_ranking(s, walker, True)
        _, page = await admin.get("/admin/rewards")
        board = re.search(r'<section class="sheet" id="rankings">(.*?)</section>', page, re.S)
        assert board is not None
        assert "1. Walker · 5" in board[1] and "Fixer" not in board[1]


async def test_a_reward_photo_uploaded_on_the_page_shows_in_the_members_web_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from aiohttp import FormData

    from bot.web.qr import qr_png
    from models.catalogue import add_partner

    async with sessions.begin() as s:
        partner = await add_partner(s, town.admin, town.sunflower.id, "Bakery")
        fixer = await s.get(Person, town.fixer.id)
        assert fixer is not None
        fixer.locale = "en"
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        await admin.get("/admin/rewards")
        form = FormData()
        for name, value in {
            "csrf": admin.csrf(),
            "community": str(town.sunflower.id),
            "partner": str(partner.id),
            "name": "Bread",
            "cost": "5",
        }.items():
            form.add_field(name, value)
        form.add_field("photo", qr_png("bread"), filename="bread.png", content_type="image/png")
        response = await admin.client.post("/admin/rewards/reward", data=form)
        assert "The reward is in the catalogue." in await response.text()
        async with sessions() as s:
            reward = await s.scalar(select(Reward).where(Reward.name == "Bread"))
        assert reward is not None and (reward.photo or "").startswith("web-file:")

        member = await site.signed_in(town.fixer)
        await member.say("/rewards")
        await member.press("Bread")
        shown = member.lines[-1]
        assert "Bread" in shown["html"] and shown["photo"]
        picture = await member.client.get(shown["photo"])
        assert picture.status == 200 and await picture.read() == qr_png("bread")


async def test_the_rewards_page_ranks_each_organisations_staff_who_agreed(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.organisations import OrganisationKind, register_organisation
    from models.people import MemberProfile

    async with sessions.begin() as s:
        youth = await register_organisation(
            s, town.admin, town.sunflower.id, name="Riverside Youth", kind=OrganisationKind.OTHER
        )
        await register_organisation(
            s, town.admin, town.sunflower.id, name="Quiet Club", kind=OrganisationKind.OTHER
        )
        for member, points, agreed in ((town.walker, 10, True), (town.runner, 30, False)):
            profile = await s.get(MemberProfile, member.id)
            assert profile is not None
            profile.organisation_id = youth.id
            await adjust_points(s, town.admin, member, points, "help")
            await choose_ranking(s, member, agreed)
        await adjust_points(s, town.admin, town.fixer, 40, "help")
        await choose_ranking(s, town.fixer, True)
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        _, page = await admin.get(f"/admin/rewards?community={town.sunflower.id}")
    found = re.findall(r'<div class="organisation-ranking">(.*?)</div>', page, re.S)
    # Only the organisation with someone who agreed; Runner (more points) did not agree.
    assert len(found) == 1, found
    assert "Riverside Youth, this month" in found[0]
    assert "Riverside Youth, all time" in found[0]
    assert found[0].count("Walker · 10") == 2
    assert "Runner" not in found[0] and "Fixer" not in found[0]
    assert "Quiet Club" not in page

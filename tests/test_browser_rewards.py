"""In real headless Chromium: a member redeems a reward in the web chat and the collection code
shows as a QR code the partner can scan (read back from a screenshot); the partner hands it
over on Telegram and the member's web chat hears of it."""

from __future__ import annotations

from playwright.async_api import expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.catalogue import add_partner, add_reward
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.points_ledger import adjust_points
from models.rewards import Redemption
from models.web_access import make_sign_in_code
from tests.browser import DESKTOP, PHONE, chromium, context, screenshot_path
from tests.qr import decode_png
from tests.telegram_bot import telegram_bot
from tests.test_browser import _press, _sign_in, _url
from tests.town import Town
from tests.web import web_site


async def test_a_reward_redeemed_in_the_web_chat_shows_its_qr_code(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        fixer = await s.get(Person, town.fixer.id)
        bob = await s.get(Person, town.bob.id)
        assert fixer is not None and bob is not None
        fixer.locale = bob.locale = "en"
        await link_identity(s, bob, "telegram", "4301")
        partner = await add_partner(s, town.admin, town.sunflower.id, "Charity shop", contact=bob)
        await add_reward(s, town.admin, partner.id, "Rice 5kg", 20, stock=3)
        await adjust_points(s, town.admin, fixer, 30, "autumn fair")
        code = await make_sign_in_code(s, fixer, fixer)
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "en"
        office_code = await make_sign_in_code(s, admin, admin)
    async with (
        telegram_bot(_url(app), clock) as bot,
        web_site(bot.app, bot.runtime) as site,
        chromium() as browser,
    ):
        page = await (await context(browser, PHONE)).new_page()
        await _sign_in(page, site.url, code)
        await page.fill("#text", "/rewards")
        await page.press("#text", "Enter")
        await _press(page, "Rice 5kg")
        await _press(page, "Redeem for 20 points")
        line = page.locator("#lines li.bot", has_text="Your code for Rice 5kg").last
        qr = line.locator(".qr-code svg")
        await expect(qr).to_be_visible()
        async with sessions() as s:
            redemption = await s.scalar(select(Redemption))
        assert redemption is not None and redemption.code
        await expect(line).to_contain_text(redemption.code)
        await page.screenshot(path=screenshot_path("chat-phone-reward-code"), full_page=True)
        assert decode_png(await qr.screenshot()) == [redemption.code]

        # The office sees the code waiting on its rewards page.
        office = await (await context(browser, DESKTOP)).new_page()
        await _sign_in(office, site.url, office_code)
        await office.goto(f"{site.url}/admin")
        await office.get_by_role("link", name="Partners and rewards").click()
        await expect(office.locator("#waiting-codes")).to_contain_text(redemption.code)
        await office.screenshot(path=screenshot_path("rewards-page"), full_page=True)

        partner_chat = bot.user(4301, "Bob")
        await partner_chat.send(f"/handover {redemption.code}")
        assert "Handed over: Rice 5kg" in partner_chat.text()
        await page.reload()
        await expect(
            page.locator("#lines li.bot", has_text="You collected Rice 5kg").last
        ).to_be_visible()
        assert bot.server.violations == []

"""In real headless Chromium: a photo a resident sent on Telegram shows on the web, in the
head's web chat (the verify card) and on the office's wish page, as a loaded picture."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.people import Person
from models.web_access import make_sign_in_code
from models.wishes import Wish
from tests.browser import DESKTOP, PHONE, chromium, context, screenshot_path
from tests.telegram_bot import telegram_bot
from tests.test_photos import url_of, wish_with_photo_on_telegram
from tests.town import Town
from tests.web import web_site

pytestmark = pytest.mark.chromium


async def _codes(sessions: async_sessionmaker[AsyncSession], town: Town) -> tuple[str, str]:
    """Sign-in codes for the building head (their web chat) and the office (the dashboard)."""
    async with sessions.begin() as s:
        head = await s.get(Person, town.head_n1.id)
        admin = await s.get(Person, town.admin.id)
        assert head is not None and admin is not None
        head.locale = admin.locale = "en"
        return await make_sign_in_code(s, head, head), await make_sign_in_code(s, admin, admin)


async def _sign_in(page: Page, base: str, code: str) -> None:
    await page.goto(f"{base}/in/{code}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/(chat|admin)$"))


async def _drawn(picture: Locator) -> int:
    """The picture's width once the browser has loaded and decoded it (0: a broken image)."""
    await expect(picture).to_be_visible()
    await picture.evaluate("img => img.complete || new Promise(r => img.onload = img.onerror = r)")
    width: int = await picture.evaluate("img => img.naturalWidth")
    return width


async def test_a_telegram_photo_shows_in_the_web_chat_and_on_the_wish_page(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    head_code, admin_code = await _codes(sessions, town)
    async with (
        telegram_bot(url_of(app), clock) as bot,
        web_site(bot.app, bot.runtime) as site,
        chromium() as browser,
    ):
        # The head signs in on a phone first, so the new wish's card reaches their web chat.
        head = await (await context(browser, PHONE)).new_page()
        await _sign_in(head, site.url, head_code)
        await wish_with_photo_on_telegram(bot, 3400)
        async with sessions() as s:
            wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None and wish.code

        await head.reload()
        card = head.locator("#lines li.bot", has_text=wish.code).last
        await expect(card).to_contain_text("tap drips")
        assert await _drawn(card.locator("img")) > 0
        await head.screenshot(path=screenshot_path("chat-phone-telegram-photo"), full_page=True)

        office = await (await context(browser, DESKTOP)).new_page()
        await _sign_in(office, site.url, admin_code)
        await office.goto(f"{site.url}/admin/wish/{wish.code}")
        assert await _drawn(office.locator("img.photo").first) > 0
        await office.screenshot(path=screenshot_path("wish-page-telegram-photo"), full_page=True)
        assert bot.server.violations == []

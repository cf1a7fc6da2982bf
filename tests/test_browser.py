"""In real headless Chromium: a resident asks on the web, the office verifies on the dashboard,
a member takes it on Telegram (the fake Bot API), the office sees it move and downloads it."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.web_access import make_sign_in_code
from models.wishes import Wish, WishStatus
from tests.browser import DESKTOP, PHONE, chromium, context, screenshot_path
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site

pytestmark = pytest.mark.chromium


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _prepare(sessions: async_sessionmaker[AsyncSession], town: Town) -> tuple[str, str]:
    """Everyone in English; the member on Telegram; sign-in codes made by the head and office."""
    async with sessions.begin() as s:
        for person in (town.alice, town.admin, town.fixer, town.head_n1):
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = "en"
        fixer = await s.get(Person, town.fixer.id)
        assert fixer is not None
        await link_identity(s, fixer, "telegram", "4102")
        head = await s.get(Person, town.head_n1.id)
        alice = await s.get(Person, town.alice.id)
        admin = await s.get(Person, town.admin.id)
        assert head is not None and alice is not None and admin is not None
        return (
            await make_sign_in_code(s, head, alice),
            await make_sign_in_code(s, admin, admin),
        )


async def _sign_in(page: Page, base: str, code: str) -> None:
    await page.goto(f"{base}/in/{code}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/(chat|admin)$"))


async def _press(page: Page, label: str) -> None:
    # The chat's buttons, not the form's own Send button.
    # Waits until the newest answer offers it: an older message's button would be stale.
    await page.locator("#lines li.bot").last.locator("button", has_text=label).click()


async def test_a_wish_from_the_web_taken_on_telegram_seen_on_the_dashboard(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    alice_code, admin_code = await _prepare(sessions, town)
    async with (
        telegram_bot(_url(app), clock) as bot,
        web_site(bot.app, bot.runtime) as site,
        chromium() as browser,
    ):
        fixer = bot.user(4102, "Fixer")
        # --- the resident, on a phone -------------------------------------------------------
        phone = await context(browser, PHONE)
        alice = await phone.new_page()
        await _sign_in(alice, site.url, alice_code)
        await alice.fill("#text", "/wish")
        await alice.press("#text", "Enter")
        await _press(alice, "Repairs")
        await alice.fill("#text", "The kitchen tap drips all night")
        await alice.press("#text", "Enter")
        await expect(alice.locator("#lines")).to_contain_text("photo")
        # The answered question's buttons are spent; the newest question's are live.
        await expect(alice.locator("#lines li.bot").first.locator("button").first).to_be_disabled()
        await expect(alice.locator("#lines li.bot").last.locator("button").first).to_be_enabled()
        await _press(alice, "Skip")
        await _press(alice, "Any time")
        await _press(alice, "Send")
        await expect(alice.locator("#lines li.bot").last).to_contain_text("was sent")
        async with sessions() as s:
            wish = await s.scalar(select(Wish).where(Wish.requester_id == town.alice.id))
        assert wish is not None and wish.status == WishStatus.SUBMITTED and wish.code
        await expect(alice.locator("#lines")).to_contain_text(wish.code)
        await alice.screenshot(path=screenshot_path("chat-phone"), full_page=True)

        # --- the office, at a desk: sees it waiting, verifies it from the dashboard ----------
        desk = await context(browser, DESKTOP)
        office = await desk.new_page()
        await _sign_in(office, site.url, admin_code)
        await office.goto(f"{site.url}/admin")
        demand = office.locator("#list-demand")
        await expect(demand).to_contain_text(wish.code)
        await expect(demand).to_contain_text("waiting for the building head")
        await office.locator("#list-demand a", has_text=wish.code).click()
        await office.get_by_role("button", name="Verify").click()
        # Done in one press: the office stays on the wish, which says what happened.
        await office.wait_for_url(re.compile(rf"/admin/wish/{wish.code}\?"))
        await expect(office.locator("#said")).to_contain_text("now open for helpers")
        async with sessions() as s:
            status = await s.scalar(select(Wish.status).where(Wish.id == wish.id))
        assert status == WishStatus.OPEN

        # --- the member, on Telegram ---------------------------------------------------------
        await fixer.send("/tasks")
        await fixer.press("I'll do it")
        assert wish.code in " ".join(m.text or "" for m in fixer.inbox())

        # --- the office sees it move ---------------------------------------------------------
        await office.goto(f"{site.url}/admin/wish/{wish.code}")
        await expect(office.locator("#wish .status")).to_have_text("a helper is on it")
        await expect(office.locator("#events li").last).to_contain_text("a helper is on it")
        await expect(office.locator("#wish")).to_contain_text(town.fixer.name)
        await office.goto(f"{site.url}/admin")
        await expect(office.locator("#list-demand")).to_contain_text("a helper is on it")
        await expect(office.locator("#charts svg").first).to_be_visible()
        await office.screenshot(path=screenshot_path("dashboard-desktop"), full_page=True)
        async with office.expect_download() as download_info:
            await office.locator('[data-export="demand-xlsx"]').click()
        download = await download_info.value
        assert download.suggested_filename.endswith(".xlsx")
        content = await download.path()
        book = load_workbook(io.BytesIO(content.read_bytes()))
        rows = {row[0]: row for row in book.active.iter_rows(values_only=True)}
        assert wish.code in rows
        assert rows[wish.code][6] == "a helper is on it"
        assert rows[wish.code][10] == "The kitchen tap drips all night"

        # --- and the resident was told, in the web chat --------------------------------------
        await alice.reload()
        await expect(alice.locator("#lines")).to_contain_text(town.fixer.name)
        await alice.screenshot(path=screenshot_path("chat-phone-told"), full_page=True)

        # The same pages at the other widths, for people to look at.
        wide = await desk.new_page()
        await wide.goto(f"{site.url}/chat")
        await wide.screenshot(path=screenshot_path("chat-desktop-office"), full_page=True)
        small = await context(browser, PHONE)
        office_phone = await small.new_page()
        await _sign_in(office_phone, site.url, await _office_code(sessions, town))
        await office_phone.goto(f"{site.url}/admin")
        await office_phone.screenshot(path=screenshot_path("dashboard-phone"), full_page=True)
        chat_desk = await (await context(browser, DESKTOP)).new_page()
        await _sign_in(chat_desk, site.url, await _resident_code(sessions, town))
        await expect(chat_desk.locator("#lines")).to_contain_text(wish.code)
        await chat_desk.screenshot(path=screenshot_path("chat-desktop"), full_page=True)
        assert bot.server.violations == []


async def _office_code(sessions: async_sessionmaker[AsyncSession], town: Town) -> str:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        return await make_sign_in_code(s, admin, admin)


async def _resident_code(sessions: async_sessionmaker[AsyncSession], town: Town) -> str:
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        admin = await s.get(Person, town.admin.id)
        assert alice is not None and admin is not None
        return await make_sign_in_code(s, admin, alice)


async def test_a_newcomer_loads_the_demo_and_tries_roles_in_chinese(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with web_site(app) as site, chromium() as browser:
        phone = await context(browser, PHONE, locale="zh-CN")
        page = await phone.new_page()
        await page.goto(site.url)
        await page.get_by_role("button", name="载入演示社区").click()
        await page.locator('button[data-role="resident"]').click()
        await page.wait_for_url(re.compile(r"/chat$"))
        await page.fill("#text", "/my")
        await page.press("#text", "Enter")
        await expect(page.locator("#lines li.bot").last).to_contain_text("W-")
        await expect(page.locator("#say button")).to_have_text("发送")
        await page.screenshot(path=screenshot_path("chat-phone-zh-demo"), full_page=True)
        await page.get_by_role("button", name="退出登录").click()
        await page.locator('button[data-role="admin"]').click()
        await page.wait_for_url(re.compile(r"/admin$"))
        await expect(page.locator("h1")).to_contain_text("工作台")
        await expect(page.locator("#list-demand tbody tr")).to_have_count(17)
        await page.screenshot(path=screenshot_path("dashboard-phone-zh-demo"), full_page=True)
        board = await (await context(browser, DESKTOP, locale="zh-CN")).new_page()
        await board.goto(f"{site.url}/c")
        await board.get_by_role("link", name=re.compile("Sunflower")).first.click()
        await expect(board.locator("main")).to_contain_text("谢谢各位邻居")
        await board.emulate_media(media="print")
        await board.screenshot(path=screenshot_path("noticeboard-print-zh"), full_page=True)

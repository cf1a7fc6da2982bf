"""In headless Chromium, at a desk (1366 px) and on a phone (390 px), in English and Chinese:
the dashboard, a wish's page, the chat, the noticeboard and a sign-in slip have no serious or
critical accessibility violations (axe-core), and each is kept as a screenshot."""

from __future__ import annotations

import datetime as dt
import re

from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.desk import add_note
from models.people import Person
from models.wish_asking import submit_wish, verify_wish
from models.wish_escalation import escalate_wish
from models.wishes import Wish, WishStatus
from tests.accessibility import serious_violations
from tests.browser import chromium, context, screenshot_path
from tests.test_browser_desk import PHONE, WIDE, sign_in
from tests.town import Town
from tests.web import web_site

SIZES = {"1366": WIDE, "390": PHONE}
LANGUAGES = {"en": "en-GB", "zh": "zh-CN"}


async def _page(browser: Browser, size: str, language: str) -> Page:
    return await (await context(browser, SIZES[size], locale=LANGUAGES[language])).new_page()


async def _checked(page: Page, name: str, problems: list[str]) -> None:
    problems.extend(f"{name}: {line}" for line in await serious_violations(page))
    await page.screenshot(path=screenshot_path(name), full_page=True)


async def test_every_page_is_accessible_at_both_widths_in_both_languages(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        late = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Stair light"
        )
        await verify_wish(s, town.head_n1, late.id)
        await add_note(s, town.admin, late.id, "Call before noon")
        up = await submit_wish(
            s, town.bob, building_id=town.n2.id, category="errand", description="Lift stuck"
        )
        await verify_wish(s, town.head_n2, up.id)
        await escalate_wish(s, town.head_n2, up.id, "Needs the lift company")
    clock.advance(dt.timedelta(hours=30))
    async with sessions.begin() as s:
        await submit_wish(
            s, town.carol, building_id=town.s1.id, category="repair", description="Door bell"
        )
    problems: list[str] = []
    async with web_site(app) as site, chromium() as browser:
        for language in LANGUAGES:
            async with sessions.begin() as s:
                for who in (town.admin, town.alice):
                    person = await s.get(Person, who.id)
                    assert person is not None
                    person.locale = "zh_Hans" if language == "zh" else "en"
            for size in SIZES:
                tag = f"{size}-{language}"
                office = await _page(browser, size, language)
                locale = "zh_Hans" if language == "zh" else "en"
                await sign_in(office, site.url, sessions, town.admin, locale)
                await office.goto(f"{site.url}/lang/{locale}")
                await office.goto(f"{site.url}/admin")
                await _checked(office, f"dashboard-{tag}", problems)
                await office.goto(f"{site.url}/admin/wish/{late.code}?back=view%3Doverdue")
                await _checked(office, f"wish-{tag}", problems)
                await office.goto(f"{site.url}/admin/wish/{up.code}")
                await _checked(office, f"wish-escalated-{tag}", problems)
                await office.goto(f"{site.url}/c/{town.sunflower.id}")
                await _checked(office, f"noticeboard-{tag}", problems)
                resident = await _page(browser, size, language)
                await sign_in(resident, site.url, sessions, town.alice, locale)
                await resident.fill("#text", "/my")
                await resident.press("#text", "Enter")
                await resident.locator("#lines li.bot").last.wait_for()
                await _checked(resident, f"chat-{tag}", problems)
                await resident.context.close()
                await office.goto(f"{site.url}/admin")
                await office.locator("#slips summary").click()
                await office.locator("#slips select[name=person]").select_option(str(town.alice.id))
                await office.locator("#slips button[type=submit]").click()
                await office.locator("#slip").wait_for()
                await _checked(office, f"slip-{tag}", problems)
                await office.context.close()
    assert problems == [], "\n".join(problems)


async def test_the_check_itself_finds_what_it_should() -> None:
    """The check fails a page with an unlabelled field and grey-on-grey text: an axe that
    did not run, or ran nothing, would pass every page above."""
    async with chromium() as browser:
        page = await (await context(browser, WIDE)).new_page()
        await page.set_content(
            '<html lang="en"><head><title>Bad</title></head><body><main>'
            '<p style="color:#bbb;background:#ccc">faint</p><input type="text">'
            "</main></body></html>"
        )
        found = " ".join(await serious_violations(page))
        assert "color-contrast" in found and "label" in found


async def _tab_to(page: Page, test: str, most: int = 80) -> None:
    """Press Tab until the focused element passes the test (a JS expression on `e`)."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"(e => Boolean({test}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {test}")


async def test_the_desk_works_from_the_keyboard_alone(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        opened = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Stair light"
        )
        await verify_wish(s, town.head_n1, opened.id)
    async with web_site(app) as site, chromium() as browser:
        page = await _page(browser, "1366", "en")
        await sign_in(page, site.url, sessions, town.admin)
        await page.goto(f"{site.url}/admin")
        await _tab_to(page, "e.name === 'q'")
        await page.keyboard.type("stair")
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"q=stair"))
        await _tab_to(page, f"e.textContent === '{opened.code}'")
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(rf"/admin/wish/{opened.code}"))
        await _tab_to(page, "e.id === 'member'")
        await _tab_to(page, "e.type === 'submit'", most=1)
        await page.keyboard.press("Enter")
        await expect(page.locator("#said")).to_contain_text("assigned to")
    async with sessions() as s:
        taken = await s.get(Wish, opened.id)
        assert taken is not None and taken.status == WishStatus.ACCEPTED

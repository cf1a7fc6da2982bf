"""In real headless Chromium at phone width: the web chat's button bar and its scrolling.

A newcomer registers and asks for help with buttons only; after a long chat the newest message
is still fully visible above the button bar and the input.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.people import Person
from models.web_access import make_sign_in_code
from models.wishes import Wish, WishStatus
from tests.browser import PHONE, chromium, context, screenshot_path
from tests.town import Town
from tests.web import web_site

pytestmark = pytest.mark.chromium


async def _press(page: Page, label: str) -> None:
    """A button of the newest answer (an older one would be stale)."""
    await page.locator("#lines li.bot").last.locator("button", has_text=label).click()


async def _bar(page: Page, label: str) -> None:
    """A button of the bar under the chat: the person's main jobs."""
    await page.locator("#jobs button", has_text=label).click()


async def test_a_newcomer_asks_for_help_with_buttons_only(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site, chromium() as browser:
        page = await (await context(browser, PHONE)).new_page()
        await page.goto(site.url)
        await page.fill("#name", "Erin")
        await page.get_by_role("button", name="Start chatting").click()
        await page.wait_for_url(re.compile(r"/chat$"))
        # A guest's bar: Start and Help, nothing that needs a registration.
        await expect(page.locator("#jobs button")).to_have_text(["👋 Start", "❓ Help"])
        await _bar(page, "Start")
        await _press(page, "English")
        await _press(page, "I live here")
        await _press(page, "Sunflower")
        await _press(page, "N1")
        await page.fill("#text", "7-701")  # the unit: an answer, not a command
        await page.press("#text", "Enter")
        await _press(page, "No, thanks")
        await expect(page.locator("#lines li.bot").last).to_contain_text("registered in N1")
        # Registered: the bar now holds a resident's main jobs.
        await expect(page.locator("#jobs")).to_contain_text("Ask for help")
        await page.screenshot(path=screenshot_path("chat-phone-newcomer-menu"), full_page=True)
        await _bar(page, "Ask for help")
        await _press(page, "Repairs")
        await page.fill("#text", "The light on the stairs flickers")
        await page.press("#text", "Enter")
        await _press(page, "Skip")
        await _press(page, "Any time")
        await _press(page, "Send")
        await expect(page.locator("#lines li.bot").last).to_contain_text("was sent")
        # Nothing she sent was a command.
        sent = await page.locator("#lines li.mine").all_inner_texts()
        assert sent and not any(line.strip().startswith("/") for line in sent), sent
        async with sessions() as s:
            erin = await s.scalar(select(Person).where(Person.name == "Erin"))
            assert erin is not None
            wish = await s.scalar(select(Wish).where(Wish.requester_id == erin.id))
        assert wish is not None and wish.status == WishStatus.SUBMITTED
        # Signing in again greets her by name, with her jobs ready.
        await page.reload()
        await expect(page.locator("#greeting")).to_contain_text("Hello, Erin")
        await expect(page.locator("#jobs")).to_contain_text("My wishes")


async def test_the_newest_message_stays_above_the_input_after_a_long_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        alice.locale = "en"
        code = await make_sign_in_code(s, alice, alice)
    async with web_site(app) as site, chromium() as browser:
        page = await (await context(browser, PHONE)).new_page()
        await page.goto(f"{site.url}/in/{code}")
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r"/chat$"))
        for n in range(30):
            await page.fill("#text", f"hello {n}")
            await page.press("#text", "Enter")
            await expect(page.locator("#lines li.bot")).to_have_count(n + 1)
        newest = page.locator("#lines li").last
        await expect(newest).to_contain_text("I didn't understand that")
        box = await newest.bounding_box()
        say = await page.locator("#say").bounding_box()
        bar = await page.locator("#jobs").bounding_box()
        assert box is not None and say is not None and bar is not None
        # Fully on screen, and neither the input nor the bar covers any of it.
        assert box["y"] >= 0, box
        assert box["y"] + box["height"] <= min(say["y"], bar["y"]) + 0.5, (box, say, bar)
        assert say["y"] + say["height"] <= PHONE["height"] + 0.5, say
        await page.screenshot(path=screenshot_path("chat-phone-long"))

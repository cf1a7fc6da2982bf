"""Real headless Chromium (the distribution's package) driven by Playwright, for browser tests.

Playwright downloads no browser here: it starts /usr/bin/chromium with the flags a closed
network needs. Screenshots go to build/screenshots, to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, async_playwright

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError(
            "The browser tests need Chromium: apt-get install chromium (.ci/run does it)."
        )
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=FLAGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def context(browser: Browser, size: dict[str, int], locale: str = "en-GB") -> BrowserContext:
    made = await browser.new_context(viewport=size, locale=locale, accept_downloads=True)  # type: ignore[arg-type]
    made.set_default_timeout(15_000)
    return made


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"

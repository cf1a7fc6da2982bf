"""In headless Chromium, what the office prints: a resident's sign-in slip and the community's
noticeboard, each an A4 PDF page whose QR code reads back as the right link."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.people import Person
from models.web_access import normal_code
from tests.browser import chromium, context, screenshot_path
from tests.qr import decode_png
from tests.test_browser_desk import WIDE, sign_in
from tests.town import Town
from tests.web import web_site

PUBLIC = "http://wishes.example.org"
CONTACT = "Room 3, 010-8888 1234, weekdays 9-17"
# A4 in PDF points (1/72 inch), as Chromium writes it.
A4 = (595, 842)
A6 = (298, 420)


def pdf_pages(pdf: bytes) -> list[tuple[int, int]]:
    """The size of each page of a PDF, in whole points."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(round(float(w)), round(float(h))) for w, h in boxes]


def pdf_first_page_png(pdf: bytes) -> bytes:
    """The PDF's first page drawn at 150 dpi by poppler's pdftoppm."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "150",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
            timeout=60,
        )
        return (Path(folder) / "page.png").read_bytes()


async def printed(page: Page, name: str) -> list[str]:
    """Print the page to an A4 PDF (checked) and read the QR codes of its first page: drawn
    by pdftoppm when it is installed, else the page as printed (print styles, an A4-wide
    window); a picture of it is kept either way."""
    pdf = await page.pdf(format="A4", print_background=True)
    sizes = pdf_pages(pdf)
    assert sizes and all(abs(w - A4[0]) <= 1 and abs(h - A4[1]) <= 1 for w, h in sizes), sizes
    if shutil.which("pdftoppm"):
        png = pdf_first_page_png(pdf)
        screenshot_path(name).write_bytes(png)
        return decode_png(png)
    await page.emulate_media(media="print")
    await page.set_viewport_size({"width": 794, "height": 1123})
    png = await page.screenshot(full_page=True, path=screenshot_path(name))
    await page.emulate_media(media="screen")
    return decode_png(png)


async def test_a_slip_and_the_noticeboard_print_with_codes_that_lead_to_the_right_place(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        alice.locale = "zh_Hans"
    async with web_site(app) as site, chromium() as browser:
        # Without a public address nothing points at the server's own loopback address.
        page = await (await context(browser, WIDE)).new_page()
        await page.goto(f"{site.url}/c/{town.sunflower.id}")
        await expect(page.locator(".board-foot")).not_to_contain_text("127.0.0.1")
        await expect(page.locator("#chat-qr")).to_have_count(0)

        monkeypatch.setattr(app, "settings", dataclasses.replace(app.settings, public_url=PUBLIC))
        await sign_in(page, site.url, sessions, town.admin)
        await page.goto(f"{site.url}/admin")
        await page.locator("#contact summary").click()
        await page.get_by_label("Shown on the noticeboard and on sign-in slips").fill(CONTACT)
        await page.locator("#contact").get_by_role("button", name="Save").click()
        await page.locator("#slips summary").click()
        await page.get_by_label("Resident").select_option(str(town.alice.id))
        await page.get_by_role("button", name="Make the slip").click()
        # In Alice's language, whatever the office reads.
        await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        await expect(page.locator("#slip")).to_contain_text(town.alice.name)
        await expect(page.locator("#slip")).to_contain_text("N1")
        await expect(page.locator("#slip")).to_contain_text(CONTACT)
        await expect(page.locator("#slip")).to_contain_text("您的登录码")
        code = normal_code(await page.locator("#code").inner_text())
        assert await printed(page, "slip-a4-zh") == [f"{PUBLIC}/in/{code}"]
        # The small one, A6, as its own page size says.
        await page.goto(f"{site.url}/admin")
        await page.locator("#slips summary").click()
        await page.locator("#slips select[name=person]").select_option(str(town.alice.id))
        await page.locator("#slips select[name=size]").select_option("a6")
        await page.locator("#slips button[type=submit]").click()
        small = normal_code(await page.locator("#code").inner_text())
        assert small != code
        await expect(page.locator("#slip")).to_have_class(re.compile("slip-a6"))
        pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
        assert pdf_pages(pdf) == [A6]
        if shutil.which("pdftoppm"):
            png = pdf_first_page_png(pdf)
            screenshot_path("slip-a6-zh").write_bytes(png)
            assert decode_png(png) == [f"{PUBLIC}/in/{small}"]

        board = await (await context(browser, WIDE)).new_page()
        await board.goto(f"{site.url}/c/{town.sunflower.id}")
        foot = board.locator(".board-foot")
        await expect(foot).to_contain_text(CONTACT)
        await expect(foot).to_contain_text(PUBLIC)
        await expect(foot).not_to_contain_text("127.0.0.1")
        assert await printed(board, "noticeboard-a4-en") == [f"{PUBLIC}/"]

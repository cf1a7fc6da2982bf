"""In headless Chromium, the office's desk: the demand list fits a 1366 px screen and turns into
cards on a phone; views with counts, sorting and search narrow it; overdue follows the clock."""

from __future__ import annotations

import datetime as dt
import re

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.people import Person
from models.reminders import Reminder
from models.web_access import make_sign_in_code
from models.wish_asking import submit_wish, verify_wish
from models.wish_escalation import escalate_wish
from models.wishes import Urgency, Wish, WishStatus
from tests.browser import chromium, context, screenshot_path
from tests.town import Town
from tests.web import web_site

WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


async def sign_in(
    page: Page,
    base: str,
    sessions: async_sessionmaker[AsyncSession],
    who: Person,
    locale: str = "en",
) -> None:
    async with sessions.begin() as s:
        person = await s.get(Person, who.id)
        assert person is not None
        person.locale = locale
        code = await make_sign_in_code(s, person, person)
    await page.goto(f"{base}/in/{code}")
    await page.locator("form[action='/signin'] button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/(chat|admin)$"))


async def wish(
    sessions: async_sessionmaker[AsyncSession],
    who: Person,
    building: int,
    text: str,
    *,
    verify_by: Person | None = None,
) -> Wish:
    async with sessions.begin() as s:
        made = await submit_wish(s, who, building_id=building, category="repair", description=text)
        if verify_by is not None:
            await verify_wish(s, verify_by, made.id)
        return made


async def codes(page: Page) -> list[str]:
    return await page.locator("#list-demand tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.code)"
    )


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))"
    )
    assert width <= page.viewport_size["width"], wide  # type: ignore[index]
    sheet = page.locator("#list-demand")
    assert await sheet.evaluate("e => e.scrollWidth <= e.clientWidth")


async def test_the_demand_list_fits_sorts_searches_and_knows_what_is_overdue(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    old = await wish(
        sessions,
        town.alice,
        town.n1.id,
        "The stair light on floor 2 has been out for a week",
        verify_by=town.head_n1,
    )
    # Two days on: nobody took the old one (the rules nudge after a day); a new one arrives.
    clock.advance(dt.timedelta(hours=30))
    fresh = await wish(
        sessions, town.bob, town.n2.id, "A bench by the gate is broken", verify_by=town.head_n2
    )
    waiting = await wish(sessions, town.alice, town.n1.id, "Please look at the mailbox lock")
    async with web_site(app) as site, chromium() as browser:
        desk = await (await context(browser, WIDE)).new_page()
        await sign_in(desk, site.url, sessions, town.admin)
        await desk.goto(f"{site.url}/admin")
        demand = desk.locator("#list-demand")
        # Everything the office reads first is on screen, none of it cut off.
        for heading in ("Code", "Status", "Category", "Building", "Unit", "Description"):
            cell = demand.locator("thead th", has_text=heading)
            await expect(cell).to_be_visible()
            box = await cell.bounding_box()
            assert box is not None and box["x"] + box["width"] <= WIDE["width"], heading
        row = demand.locator(f'tr[data-code="{old.code}"]')
        await expect(row.locator("td").last).to_have_text(re.compile("stair light"))
        await expect(row).to_contain_text("looking for a helper")
        await no_sideways_scroll(desk)
        await expect(row).to_have_class(re.compile("overdue"))
        await expect(demand.locator(f'tr[data-code="{fresh.code}"]')).not_to_have_class(
            re.compile("overdue")
        )
        await desk.screenshot(path=screenshot_path("desk-1366-en"), full_page=True)

        # The views, with their counts.
        await expect(desk.locator('[data-view="overdue"] .count')).to_have_text("1")
        await expect(desk.locator('[data-view="verify"] .count')).to_have_text("1")
        await expect(desk.locator('[data-view="untaken"] .count')).to_have_text("2")
        await desk.locator('[data-view="overdue"]').click()
        await desk.wait_for_url(re.compile(r"view=overdue"))
        assert await codes(desk) == [old.code]
        await desk.locator('[data-view="verify"]').click()
        assert await codes(desk) == [waiting.code]
        await desk.locator('[data-view="all"]').click()
        assert set(await codes(desk)) == {old.code, fresh.code, waiting.code}

        # Sorting by a column, both ways; the order stays in the address.
        await demand.locator('[data-sort="code"]').click()
        await desk.wait_for_url(re.compile(r"sort=code"))
        assert await codes(desk) == [waiting.code, fresh.code, old.code]
        await demand.locator('[data-sort="code"]').click()
        await desk.wait_for_url(re.compile(r"order=asc"))
        assert await codes(desk) == [old.code, fresh.code, waiting.code]
        await desk.reload()
        assert await codes(desk) == [old.code, fresh.code, waiting.code]

        # The search box narrows the list (text, then the requester's name).
        await desk.get_by_label("Search").fill("bench")
        await desk.get_by_role("button", name="Show").click()
        await desk.wait_for_url(re.compile(r"q=bench"))
        assert await codes(desk) == [fresh.code]
        await desk.get_by_label("Search").fill(town.alice.name)
        await desk.get_by_role("button", name="Show").click()
        assert await codes(desk) == [old.code, waiting.code]
        # ...and the sort chosen before is still there.
        assert "sort=code" in desk.url and "order=asc" in desk.url

        # On a phone: cards, nothing wider than the screen, the description still there.
        phone = await (await context(browser, PHONE)).new_page()
        await sign_in(phone, site.url, sessions, town.admin)
        await phone.goto(f"{site.url}/admin")
        card = phone.locator(f'#list-demand tr[data-code="{old.code}"]')
        await expect(card.locator("td.text")).to_be_visible()
        await expect(card).to_contain_text("stair light")
        await no_sideways_scroll(phone)
        await phone.screenshot(path=screenshot_path("desk-390-en"), full_page=True)


async def test_the_wish_page_assigns_answers_and_notes_in_place_and_keeps_the_filters(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    opened = await wish(
        sessions, town.alice, town.n1.id, "The stair light is out", verify_by=town.head_n1
    )
    passed_up = await wish(
        sessions, town.bob, town.n2.id, "The lift is stuck again", verify_by=town.head_n2
    )
    async with sessions.begin() as s:
        await escalate_wish(s, town.head_n2, passed_up.id, "Needs the lift company")
    async with web_site(app) as site, chromium() as browser:
        desk = await (await context(browser, WIDE)).new_page()
        await sign_in(desk, site.url, sessions, town.admin)
        listed = f"{site.url}/admin?view=untaken&sort=code&q=stair"
        await desk.goto(listed)
        await desk.locator("#list-demand a", has_text=opened.code).click()
        await desk.wait_for_url(re.compile(rf"/admin/wish/{opened.code}"))
        # The side panel: who asked and where.
        await expect(desk.locator("#requester")).to_contain_text(town.alice.name)
        await expect(desk.locator("#requester")).to_contain_text("N1")
        # Assign from the ranked list: the best fit (a repairer) comes first.
        member = desk.get_by_label("Who should help? The best fits come first.")
        await expect(member.locator("option").first).to_contain_text(town.fixer.name)
        await member.select_option(str(town.fixer.id))
        await desk.locator("#assign").get_by_role("button", name="Assign").click()
        await desk.wait_for_url(re.compile(rf"/admin/wish/{opened.code}\?"))
        await expect(desk.locator("#said")).to_contain_text(f"assigned to {town.fixer.name}")
        await expect(desk.locator("#wish .status")).to_have_text("a helper is on it")
        await expect(desk.locator("#events li").last).to_contain_text(
            f"{town.admin.name} assigned it to {town.fixer.name}"
        )
        # An internal note stays with the office.
        await desk.get_by_label("New note").fill("Fixer has the ladder key")
        await desk.get_by_role("button", name="Add the note").click()
        await expect(desk.locator("#notes li")).to_contain_text("Fixer has the ladder key")
        async with sessions() as s:
            sent = (await s.scalars(select(Reminder.payload))).all()
        assert not any("ladder key" in str(p) for p in sent)
        await desk.screenshot(path=screenshot_path("wish-1366-en"), full_page=True)
        # Back to the list: the view, the order and the search are as they were.
        await desk.locator("#back").click()
        await desk.wait_for_url(re.compile(r"/admin\?"))
        assert "view=untaken" in desk.url and "sort=code" in desk.url and "q=stair" in desk.url
        await expect(desk.get_by_label("Search")).to_have_value("stair")
        await expect(desk.locator('[data-view="untaken"]')).to_have_attribute(
            "aria-current", "page"
        )

        # The escalated one: answered from its page, the history says to whom it went.
        await desk.goto(f"{site.url}/admin/wish/{passed_up.code}?back=view%3Descalated")
        await expect(desk.locator("#events")).to_contain_text(
            f"{town.head_n2.name} passed it up to the grid worker"
        )
        await desk.get_by_label("Urgency").select_option("urgent")
        await desk.get_by_role("button", name="Save").click()
        await expect(desk.locator("#wish .badge.urgent")).to_be_visible()
        await expect(desk.locator("#events li").last).to_contain_text("set the urgency to urgent")
        await desk.get_by_label("The answer goes to the person who asked").fill(
            "The lift company comes on Monday"
        )
        await desk.get_by_role("button", name="Send the answer").click()
        await desk.wait_for_url(re.compile(rf"/admin/wish/{passed_up.code}\?"))
        await expect(desk.locator("#wish .status")).to_have_text("closed")
        await expect(desk.locator("#resolution")).to_have_text("The lift company comes on Monday")
        await desk.locator("#back").click()
        assert "view=escalated" in desk.url
    async with sessions() as s:
        done = await s.get(Wish, opened.id)
        answered = await s.get(Wish, passed_up.id)
        assert done is not None and answered is not None
        assert done.status == WishStatus.ACCEPTED and answered.status == WishStatus.CLOSED
        assert answered.urgency == Urgency.URGENT

"""In headless Chromium, the wish page's dispatch: the assign drop-down is the dispatch ranking
with its reasons (an organisation's offer among them, the score their sum), the resources that
cover the wish are listed beside it, and a probable duplicate is merged with the chat's merge."""

from __future__ import annotations

import re

from playwright.async_api import expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.co_requesters import co_requesters
from models.directory import add_person, grant_role
from models.people import Role
from models.wishes import Wish, WishEvent, WishStatus
from tests.browser import chromium, context, screenshot_path
from tests.test_browser_desk import WIDE, sign_in, wish
from tests.town import Town, clinic_with_walker
from tests.web import web_site

SCORED = re.compile(r"score (-?\d+):(.*)$")


def _adds_up(label: str) -> int:
    """The score an option shows equals the sum of the points after each reason."""
    found = SCORED.search(label)
    assert found, label
    points = [int(p) for p in re.findall(r"\(([+-]\d+)\)", found.group(2))]
    assert points and sum(points) == int(found.group(1)), label
    return int(found.group(1))


async def test_the_wish_page_ranks_with_reasons_and_merges_a_duplicate(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await clinic_with_walker(s, town)
        eve = await add_person(s, "Eve", building=town.n1, unit="102")
        await grant_role(s, None, eve, Role.RESIDENT, town.n1.id)
    kept = await wish(
        sessions,
        town.alice,
        town.n1.id,
        "The corridor light on floor 3 is out",
        verify_by=town.head_n1,
    )
    again = await wish(
        sessions, eve, town.n1.id, "The light in the corridor on floor 3 is out again"
    )
    async with web_site(app) as site, chromium() as browser:
        desk = await (await context(browser, WIDE)).new_page()
        await sign_in(desk, site.url, sessions, town.admin)
        await desk.goto(f"{site.url}/admin/wish/{kept.code}")
        options = desk.get_by_label("Who should help? The best fits come first.").locator("option")
        labels = await options.all_inner_texts()
        # Fixer repairs; Walker's clinic offers repairs; Runner has neither.
        assert [label.split(" — ")[0] for label in labels] == ["Fixer", "Walker", "Runner"]
        assert "(+40)" in labels[0]
        assert "Riverside Clinic offers: Home repairs (+25)" in labels[1]
        scores = [_adds_up(label) for label in labels]
        assert scores == sorted(scores, reverse=True)
        resources = desk.locator("#resources li")
        await expect(resources).to_have_count(1)
        await expect(resources).to_contain_text("Riverside Clinic offers: Home repairs (+40)")
        await expect(resources).to_contain_text("door to door (+10)")
        await expect(resources).to_contain_text("available Tue–Thu (+0)")
        _adds_up(await resources.inner_text())
        # The kept wish is not a duplicate of anything: no merge offered.
        await expect(desk.locator("#same")).to_have_count(0)

        # Eve's wish looks like Alice's: the page says so, and Merge goes through the chat.
        await desk.goto(f"{site.url}/admin/wish/{again.code}?back=view%3Dnew")
        await expect(desk.locator("#same")).to_contain_text(f"Probably the same as {kept.code}.")
        await desk.locator("#same").get_by_role("button", name=f"Merge into {kept.code}").click()
        await desk.wait_for_url(re.compile(rf"/admin/wish/{again.code}\?"))
        assert "back=view%3Dnew" in desk.url
        await expect(desk.locator("#said")).to_contain_text(f"merged into {kept.code}")
        await expect(desk.locator("#wish .status")).to_have_text("cancelled")
        await expect(desk.locator("#same")).to_have_count(0)
        await desk.screenshot(path=screenshot_path("wish-merged-1366-en"), full_page=True)
    async with sessions() as s:
        merged = await s.get(Wish, again.id)
        assert merged is not None and merged.status == WishStatus.CANCELLED
        assert eve.id in await co_requesters(s, kept.id)
        actions = (
            await s.scalars(select(WishEvent.action).where(WishEvent.wish_id == again.id))
        ).all()
        assert "merge" in actions

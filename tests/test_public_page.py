"""The public noticeboard, through the real aiohttp app on the real store, with no sign-in.

It shows the month's fulfilled wishes, thanks and helpers, and never who asked for help.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import init_app
from handlers.flows.common import category_name
from handlers.i18n import Translator
from models.clock import ManualClock
from models.community import Building
from models.noticeboard import community_board, month_span, most_active
from models.organisations import organisation_for_text
from models.people import MemberProfile, Person
from models.standings import choose_ranking
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish
from tests.conftest import START
from tests.town import Town

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = dt.date(2026, 11, 1)
OCTOBER = dt.date(2026, 10, 1)
DESCRIPTION = "Please come to my flat, the tap leaks"
PHONE = "13800138000"
THANKS_LIGHT = "Thank you, the corridor is bright again!"
THANKS_SCRIPT = "<script>alert('hi')</script> so kind"
THANKS_MAPLE = "Maple is grateful"
THANKS_OCTOBER = "October was warmer with your visits"
THANKS_MIDNIGHT = "Clean stairs just after midnight"
EN = {"Accept-Language": "en"}

if TYPE_CHECKING:
    Client = TestClient[web.Request, web.Application]


async def closed_wish(
    sessions: async_sessionmaker[AsyncSession],
    *,
    requester: Person,
    head: Person,
    building: Building,
    member: Person,
    category: str,
    thanks: str | None,
    rating: int | None = 5,
) -> Wish:
    """A wish asked, verified, taken, done and confirmed with the requester's thanks."""
    async with sessions.begin() as s:
        wish = await submit_wish(
            s, requester, building_id=building.id, category=category, description=DESCRIPTION
        )
        await verify_wish(s, head, wish.id)
        await accept_wish(s, member, wish.id)
        await report_done(s, member, wish.id, "Done")
        return await confirm_wish(s, requester, wish.id, rating, thanks)


@pytest.fixture
async def month(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock, app: App
) -> Town:
    """November 2026 in Sunflower: repair x2, errand, cleaning fulfilled, one repair still open;
    one companionship in October; one repair in Maple. Fixer and Runner are one team."""
    assert app.settings.timezone == SHANGHAI
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        alice.phone, alice.phone_consent = PHONE, True
        for member, team in (
            (town.fixer, "Riverside Youth"),
            (town.runner, "Riverside Youth"),
            (town.walker, "Silver Club"),
        ):
            profile = await s.get(MemberProfile, member.id)
            organisation = await organisation_for_text(s, town.sunflower.id, team)
            assert profile is not None and organisation is not None
            profile.organisation_id = organisation.id
        for member in town.members:  # they agreed to appear in the rankings
            await choose_ranking(s, member, True)

    clock.set(dt.datetime(2026, 10, 10, 2, 0, tzinfo=dt.UTC))
    await closed_wish(
        sessions,
        requester=town.alice,
        head=town.head_n1,
        building=town.n1,
        member=town.walker,
        category="companionship",
        thanks=THANKS_OCTOBER,
    )
    # 17:00 UTC on 31 October is 01:00 on 1 November in Shanghai: November's.
    clock.set(dt.datetime(2026, 10, 31, 17, 0, tzinfo=dt.UTC))
    await closed_wish(
        sessions,
        requester=town.bob,
        head=town.head_n2,
        building=town.n2,
        member=town.runner,
        category="cleaning",
        thanks=THANKS_MIDNIGHT,
    )
    clock.set(START)
    await closed_wish(
        sessions,
        requester=town.alice,
        head=town.head_n1,
        building=town.n1,
        member=town.fixer,
        category="repair",
        thanks=THANKS_LIGHT,
    )
    await closed_wish(
        sessions,
        requester=town.bob,
        head=town.head_n2,
        building=town.n2,
        member=town.fixer,
        category="errand",
        thanks=THANKS_SCRIPT,
        rating=4,
    )
    await closed_wish(
        sessions,
        requester=town.carol,
        head=town.head_s1,
        building=town.s1,
        member=town.walker,
        category="repair",
        thanks=None,
        rating=3,
    )
    await closed_wish(
        sessions,
        requester=town.dora,
        head=town.maple_admin,
        building=town.m1,
        member=town.maple_member,
        category="repair",
        thanks=THANKS_MAPLE,
    )
    async with sessions.begin() as s:
        still_open = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description=DESCRIPTION
        )
        await verify_wish(s, town.head_n1, still_open.id)
    return town


@pytest.fixture
async def client(app: App, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Client]:
    async with TestClient(TestServer(init_app(app, Runtime(app)))) as test_client:
        yield test_client


def readable(page: str) -> str:
    """The page without the random form token and the page's own ids, so that a requester's
    unit number can be looked for without a chance match."""
    page = re.sub(r'<meta name="csrf-token" content="[^"]*">', "", page)
    return re.sub(r"/c/\d+", "/c/ID", page)


def category_counts(page: str) -> dict[str, int]:
    rows = re.findall(
        r'<tr data-category="([a-z]+)"><th scope="row">[^<]*</th><td class="num">(\d+)</td>', page
    )
    return {code: int(count) for code, count in rows}


async def board(client: Client, town: Town, query: str = "", **headers: str) -> str:
    response = await client.get(f"/c/{town.sunflower.id}{query}", headers={**EN, **headers})
    assert response.status == 200, await response.text()
    return await response.text()


async def test_the_board_shows_thanks_and_counts_without_signing_in(
    client: Client, month: Town
) -> None:
    assert len(client.session.cookie_jar) == 0
    response = await client.get(f"/c/{month.sunflower.id}", headers=EN)
    assert response.status == 200
    assert "sw_session" not in response.cookies
    page = await response.text()
    assert "Sunflower" in page
    assert THANKS_LIGHT in page
    assert THANKS_MIDNIGHT in page  # local time: 1 November in Shanghai
    assert category_counts(page) == {"repair": 2, "errand": 1, "cleaning": 1}
    assert re.search(r'id="fulfilled">4<', page)
    assert "Helped by Fixer" in page


async def test_no_requester_is_named_anywhere(client: Client, month: Town) -> None:
    page = readable(await board(client, month))
    for requester in (month.alice, month.bob, month.carol):
        assert requester.name not in page
        # As a number of its own: "202" is also the start of the year 2026.
        assert requester.unit and not re.search(rf"(?<!\d){requester.unit}(?!\d)", page)
    for building in (month.n1, month.n2, month.s1):
        assert f">{building.name}<" not in page and f"{building.name}-" not in page
    assert PHONE not in page
    # The description is the requester's own words about their home: never on the wall.
    assert DESCRIPTION not in page


async def test_another_communitys_wishes_stay_on_their_own_board(
    client: Client, month: Town
) -> None:
    page = await board(client, month)
    assert THANKS_MAPLE not in page
    assert month.maple_member.name not in page
    maple = await client.get(f"/c/{month.maple.id}", headers=EN)
    maple_page = await maple.text()
    assert THANKS_MAPLE in maple_page
    assert category_counts(maple_page) == {"repair": 1}
    assert THANKS_LIGHT not in maple_page
    assert "Dora" not in maple_page


async def test_the_most_active_member_and_team_come_first(client: Client, month: Town) -> None:
    page = await board(client, month)
    members = re.search(r'<table class="ranking members">(.*?)</table>', page, re.S)
    teams = re.search(r'<table class="ranking teams">(.*?)</table>', page, re.S)
    assert members and teams
    name = r'<th scope="row" class="name">([^<]*)</th>'
    assert re.findall(name, members[1]) == ["Fixer", "Runner", "Walker"]
    assert re.findall(name, teams[1]) == [
        "Riverside Youth",
        "Silver Club",
    ]


async def test_only_members_who_agreed_are_on_the_wall(
    sessions: async_sessionmaker[AsyncSession], client: Client, month: Town
) -> None:
    async with sessions.begin() as s:
        await choose_ranking(s, month.runner, False)
        await choose_ranking(s, month.walker, True, "Auntie W")
    page = await board(client, month)
    members = re.search(r'<table class="ranking members">(.*?)</table>', page, re.S)
    assert members
    name = r'<th scope="row" class="name">([^<]*)</th>'
    assert re.findall(name, members[1]) == ["Fixer", "Auntie W"]


async def test_store_ranks_by_wishes_then_points(
    sessions: async_sessionmaker[AsyncSession], month: Town
) -> None:
    start, end = month_span(NOVEMBER, SHANGHAI)
    async with sessions.begin() as s:
        helpers, teams = await most_active(s, month.sunflower.id, start, end)
        whole = await community_board(s, month.sunflower.id, start, end, top=1)
        assert await community_board(s, 999_999_999, start, end) is None
    # Fixer: a repair (10 + 5 for five stars) and an errand (5); Runner: a cleaning (5 + 5).
    assert [(h.name, h.wishes, h.points) for h in helpers] == [
        ("Fixer", 2, 20),
        ("Runner", 1, 10),
        ("Walker", 1, 10),
    ]
    assert [(t.name, t.wishes, t.points, t.helpers) for t in teams] == [
        ("Riverside Youth", 3, 30, 2),
        ("Silver Club", 1, 10, 1),
    ]
    assert whole is not None
    assert [h.name for h in whole.helpers] == ["Fixer"] and whole.helpers_total == 3
    assert whole.fulfilled == 4 and whole.thanks_total == 3


async def test_a_thanks_cannot_inject_a_script(client: Client, month: Town) -> None:
    page = await board(client, month)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; so kind" in page


async def test_an_earlier_month_shows_its_own_wishes(client: Client, month: Town) -> None:
    page = await board(client, month, "?month=2026-10")
    assert "October 2026" in page
    assert category_counts(page) == {"companionship": 1}
    assert THANKS_OCTOBER in page
    assert THANKS_LIGHT not in page and THANKS_MIDNIGHT not in page
    assert "Walker" in page and "Alice" not in page
    now = await board(client, month)
    assert THANKS_OCTOBER not in now
    assert f'href="/c/{month.sunflower.id}?month=2026-10"' in now


@pytest.mark.parametrize("bad", ["2026-13", "november", "2026-11-01", "1999-12", "2027-01", "-1"])
async def test_a_bad_month_is_refused_clearly(client: Client, month: Town, bad: str) -> None:
    response = await client.get(f"/c/{month.sunflower.id}", params={"month": bad}, headers=EN)
    assert response.status == 400
    assert "There is no such month." in await response.text()


async def test_unknown_communities_have_no_page(client: Client, month: Town) -> None:
    for path in ("/c/999999", "/c/abc", "/c/12345678901234567890"):
        response = await client.get(path, headers=EN)
        assert response.status == 404, path
        assert "There is no such page." in await response.text()


async def test_the_index_links_every_board(client: Client, month: Town) -> None:
    response = await client.get("/c", headers=EN)
    assert response.status == 200
    page = await response.text()
    assert f'<a href="/c/{month.sunflower.id}">Sunflower</a>' in page
    assert f'<a href="/c/{month.maple.id}">Maple</a>' in page
    assert month.street.name in page


async def test_categories_are_named_in_the_readers_language(client: Client, month: Town) -> None:
    page = await board(client, month, **{"Accept-Language": "zh-CN"})
    chinese = Translator("zh_Hans", SHANGHAI)
    assert category_name(chinese, "repair") in page
    assert category_name(chinese, "repair") != category_name(Translator("en", SHANGHAI), "repair")
    assert "2026年11月" in page


async def test_it_prints_on_a4(client: Client, month: Town) -> None:
    page = await board(client, month)
    sheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)">', page)
    assert "/static/board.css" in sheets
    served = []
    for sheet in sheets:
        response = await client.get(sheet)
        assert response.status == 200 and response.content_type == "text/css"
        served.append(await response.text())
    assert any("@media print" in css and "A4" in css for css in served)
    assert 'class="months no-print"' in page

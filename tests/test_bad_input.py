"""Input the database would refuse, from outside: NUL, lone surrogates, huge or garbled button
numbers, deeply nested or oversized JSON. Each gets a clear answer; no update fails.

Run on PostgreSQL as well: that is where NUL and an INTEGER overflow bite.
"""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.telegram import SECRET_HEADER, WEBHOOK_PATH
from models.directory import link_identity
from models.inbox import InboxUpdate
from models.people import Person
from models.web_access import make_api_client
from models.wishes import Wish
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site

UNKEEPABLE = "character I cannot keep"
STALE = "That button does not work any more."
DEEP = "[" * 20_000 + "]" * 20_000


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _english(sessions: async_sessionmaker[AsyncSession], *people: Person) -> None:
    async with sessions.begin() as s:
        for p in people:
            found = await s.get(Person, p.id)
            assert found is not None
            found.locale = "en"


async def _failed_updates(sessions: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with sessions() as s:
        return list(
            (await s.scalars(select(InboxUpdate.error).where(InboxUpdate.error.is_not(None)))).all()
        )


async def _newest_wish(sessions: async_sessionmaker[AsyncSession]) -> Wish | None:
    async with sessions() as s:
        return await s.scalar(select(Wish).order_by(Wish.id.desc()))


async def test_telegram_text_with_nul_or_a_lone_surrogate_is_refused_with_an_answer(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3101")
    async with telegram_bot(_url(app), app.clock) as bot:
        alice = bot.user(3101, "Alice")
        await alice.send("/wish")
        await alice.press("Repairs")
        for bad in ("The tap\x00 drips", "The tap \ud83d drips"):
            answer = await alice.send(bad)
            assert len(answer) == 1 and UNKEEPABLE in (answer[0].text or ""), answer
        # Other control characters are dropped; newline and tab stay.
        await alice.send("The tap\x07 drips\x1b\n\tday and night")
        assert "photo" in alice.text()
        await alice.press("Skip")
        await alice.press("Within a day")
        await alice.press("Send")
        assert bot.server.violations == []
    wish = await _newest_wish(sessions)
    assert wish is not None and wish.description == "The tap drips\n\tday and night"
    assert await _failed_updates(sessions) == []


async def test_telegram_buttons_with_huge_or_garbled_numbers_answer_like_old_buttons(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3102")
    async with telegram_bot(_url(app), app.clock) as bot:
        erin = bot.user(3103, "Erin")
        await erin.send("/start")
        await erin.press("English")
        await erin.press("I live here")
        token = erin.button("Sunflower").split(":")[1]
        for value in (str(2**31), str(10**20), "1\x00"):
            before = len(erin.inbox())
            erin.user.press_forged(f"c:{token}:{value}")
            await bot.step()
            assert STALE in "\n".join(m.text or "" for m in erin.inbox()[before:]), value
        await erin.press("Sunflower")  # the conversation is where it was
        assert "building" in erin.text().lower()

        alice = bot.user(3102, "Alice")
        await alice.send("/help")
        for data in (f"a:cancel:{2**31}", f"a:cancel:{2**63}", f"a:visited:1:{10**30}"):
            before = len(alice.inbox())
            alice.user.press_forged(data)
            await bot.step()
            assert STALE in "\n".join(m.text or "" for m in alice.inbox()[before:]), data
        assert bot.server.unanswered_callbacks() == []
    assert await _failed_updates(sessions) == []


async def test_web_chat_refuses_nul_surrogates_and_forged_numbers_with_an_answer(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    async with web_site(app) as site:
        browser = await site.signed_in(town.alice)
        await browser.say("/wish")
        await browser.press("Repairs")
        for bad in ("Light\x00 out", "Light \udc00 out"):
            await browser.say(bad)
            assert UNKEEPABLE in browser.text()
        await browser.say("Light\x0c out\x7f on floor 3")
        assert "photo" in browser.text()
        await browser.press("Skip")
        await browser.press("Within a day")
        await browser.press("Send")
        for data in (f"a:cancel:{2**31}", f"a:cancel:{10**25}", "a:cancel:x\x00"):
            await browser.say(button=data, label="?")
            assert STALE in browser.text()
    wish = await _newest_wish(sessions)
    assert wish is not None and wish.description == "Light out on floor 3"
    assert await _failed_updates(sessions) == []


async def test_web_chat_refuses_deep_or_large_json_with_a_clear_400(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    async with web_site(app) as site:
        browser = await site.signed_in(town.alice)
        await browser.get("/chat")
        headers = {"X-CSRF-Token": browser.csrf(), "Content-Type": "application/json"}
        for body, words in (
            (DEEP, "nested too deeply"),
            ('{"id": 5, "text": ' + "[" * 40 + "]" * 40 + "}", "nested too deeply"),
            (json.dumps({"id": 6, "text": "x" * 200_000}), "too large"),
            ("{not json", "not valid JSON"),
        ):
            response = await browser.client.post("/chat/say", data=body, headers=headers)
            assert response.status == 400, await response.text()
            assert words in (await response.json())["error"]
        # A sane body still works.
        assert await browser.say("/help")


async def test_open311_refuses_deep_json_and_nul_in_its_own_error_format(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        _, key = await make_api_client(s, town.admin, "City hotline", town.bob)
    async with web_site(app) as site:
        client = (await site.visitor()).client
        path = "/open311/v2/requests.json"
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        response = await client.post(path, data=DEEP, headers=headers)
        assert response.status == 400
        body = await response.json()
        assert body[0]["code"] == 400 and "nested too deeply" in body[0]["description"]
        for description in ("Carry\x00 water", "Carry \ud800 water"):
            fields = {"api_key": key, "service_code": "errand", "description": description}
            response = await client.post(path, json=fields, headers={"Accept-Language": "en"})
            assert response.status == 400, await response.text()
            body = await response.json()
            assert body[0]["code"] == 400 and UNKEEPABLE in body[0]["description"]
        for path, query in (
            ("/open311/v2/requests.json", {"api_key": key, "service_code": "errand\x00"}),
            ("/open311/v2/requests.json", {"api_key": key, "status": "open\x00"}),
            ("/open311/v2/services/errand%00.json", {}),
        ):
            response = await client.get(path, params=query, headers={"Accept-Language": "en"})
            assert response.status == 400, path
            body = await response.json()
            assert body[0]["code"] == 400 and UNKEEPABLE in body[0]["description"]
        for big in (str(2**31), "9" * 30):
            response = await client.get(f"/open311/v2/requests/{big}.json", params={"api_key": key})
            assert response.status == 404
    assert await _newest_wish(sessions) is None


async def test_telegram_webhook_refuses_deep_json_and_huge_update_ids(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with telegram_bot(_url(app), app.clock) as bot:
        hook = web.Application()
        hook.add_routes(bot.telegram.webhook_routes())
        async with TestClient(TestServer(hook)) as client:
            secret = {SECRET_HEADER: bot.app.settings.webhook_secret or ""}
            for body in (DEEP, json.dumps({"update_id": 2**70})):
                response = await client.post(
                    WEBHOOK_PATH,
                    data=body,
                    headers={**secret, "Content-Type": "application/json"},
                )
                assert response.status == 400, body[:40]
    async with sessions() as s:
        assert (await s.scalars(select(InboxUpdate))).all() == []


async def test_ids_in_web_addresses_past_any_id_answer_not_found_or_nothing(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.admin)
    huge = "9" * 30
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        await admin.say("/help")
        for cursor in (str(2**31), huge, "9" * 4400):
            status, body = await admin.get(f"/chat/messages?in={cursor}&out={huge}")
            assert status == 200 and json.loads(body)["messages"] == []
        for path in (f"/chat/file/{2**31}", f"/chat/file/{huge}", f"/files/{huge}/abc"):
            status, _ = await admin.get(path)
            assert status == 404, path
        for query in (f"grid={2**31}", f"building={huge}", "community=²"):
            status, page = await admin.get(f"/admin?{query}")
            assert status == 200 or (status == 400 and "work for" in page), query
        response = await admin.post(f"/admin/api/{huge}/revoke", {})
        assert response.status == 404

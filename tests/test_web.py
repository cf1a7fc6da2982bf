"""The web chat and the dashboard over HTTP: signing in and out, CSRF, the chat's
conversations, who may open what, exports and the dashboard's actions."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from typing import Any

from aiohttp import FormData
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from handlers.flows.verification import tell_heads_about
from handlers.turn import Speaker
from models.clock import ManualClock
from models.directory import link_identity
from models.invites import setup_code
from models.people import Identity, MemberProfile, Person
from models.web_access import SignInCode, WebFile, WebSession, make_sign_in_code
from models.wish_asking import submit_wish, verify_wish
from models.wishes import Wish, WishStatus
from tests.snapshot import STORE, snapshot
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.web import web_site

next_id = itertools.count(9_000_000).__next__


async def wish_of(s: AsyncSession, person: Person, building_id: int, description: str) -> Wish:
    return await submit_wish(
        s, person, building_id=building_id, category="repair", description=description
    )


async def _english(sessions: async_sessionmaker[AsyncSession], *people: Person) -> None:
    async with sessions.begin() as s:
        for p in people:
            found = await s.get(Person, p.id)
            assert found is not None
            found.locale = "en"


async def test_a_code_signs_in_once_and_logging_out_ends_the_session(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    async with web_site(app) as site:
        async with sessions.begin() as s:
            alice = await s.get(Person, town.alice.id)
            assert alice is not None
            code = await make_sign_in_code(s, alice, alice)
        browser = await site.visitor()
        status, page = await browser.get(f"/in/{code}")
        # Opening the link only fills the form: a link preview must not spend the code.
        assert status == 200 and code[:4] in page
        async with sessions() as s:
            assert (await s.scalar(select(SignInCode.used_at))) is None
        response = await browser.sign_in(code.lower())
        assert response.headers["Location"] == "/chat"
        status, page = await browser.get("/chat")
        assert status == 200 and "Log out" in page
        status, page = await browser.get("/")
        assert status == 200 and 'id="lines"' in page  # the start page is the chat now

        replies = await browser.say("/start")
        assert "Welcome back, Alice" in browser.text(), replies

        # The same code a second time, on another browser: refused, clearly.
        other = await site.visitor()
        response = await other.sign_in(code)
        assert response.status == 400
        assert "does not work" in await response.text()

        await browser.post("/logout", {})
        status, page = await browser.get("/chat")
        assert "Sign in" in page and "Log out" not in page
        async with sessions() as s:
            assert await s.scalar(select(func.count()).where(WebSession.ended_at.is_(None))) == 0


async def test_a_form_without_its_token_is_refused_and_changes_nothing(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site:
        async with sessions.begin() as s:
            alice = await s.get(Person, town.alice.id)
            assert alice is not None
            code = await make_sign_in_code(s, alice, alice)
        before = await snapshot(sessions, STORE)
        browser = await site.visitor()
        response = await browser.post("/signin", {"code": code}, csrf=False)
        assert response.status == 403
        assert "expired" in await response.text() or "过期" in await response.text()
        response = await browser.post("/signin", {"code": code, "csrf": "forged.0"}, csrf=False)
        assert response.status == 403
        assert await snapshot(sessions, STORE) == before


async def test_bad_codes_get_a_clear_answer(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site:
        browser = await site.visitor()
        for typed, expected in (("12", "8 letters"), ("ABCD-EFGH", "does not work")):
            response = await browser.sign_in(typed)
            assert response.status == 400
            text = await response.text()
            assert expected in text or "8" in text


async def test_a_newcomer_registers_and_asks_in_the_web_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site:
        browser = await site.visitor()
        await browser.client.get("/lang/en")
        response = await browser.post("/guest", {"name": "Erin"})
        assert response.status == 302
        await browser.say("/start")
        await browser.press("English")
        await browser.press("I live here")
        await browser.press("Sunflower")
        await browser.press("N1")
        await browser.say("5-502")
        await browser.press("No, thanks")
        assert "Welcome, Erin" in browser.text()
        await browser.say("/wish")
        await browser.press("Repairs")
        await browser.say("The tap leaks <script>alert(1)</script>")
        await browser.press("Skip")
        await browser.press("Any time")
        await browser.press("Send")
        # The text came back escaped: the page shows it, the browser never runs it.
        assert all("<script>" not in m.get("html", "") for m in browser.lines)
        # A fresh page shows the conversation as it happened: each message before its answer.
        response = await browser.client.get("/chat/messages")
        history = (await response.json())["messages"]
        assert [m["id"] for m in history] == [m["id"] for m in browser.lines]
        assert history[0]["mine"] and history[0]["text"] == "/start" and not history[1]["mine"]
        assert "Send" in history[-2]["text"] and "was sent" in history[-1]["html"]
    async with sessions() as s:
        erin = await s.scalar(
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.platform == "web")
        )
        assert erin is not None and erin.name == "Erin" and erin.unit == "5-502"
        wish = await s.scalar(select(Wish).where(Wish.requester_id == erin.id))
        assert wish is not None and wish.status == WishStatus.SUBMITTED


async def test_a_resident_cannot_open_the_dashboard(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site:
        alice = await site.signed_in(town.alice)
        for path in ("/admin", "/admin/export/demand.xlsx", "/admin/wish/ANY"):
            status, page = await alice.get(path)
            assert status == 403, path
            assert "office" in page or "办公室" in page or "社区" in page
        nobody = await site.visitor()
        response = await nobody.client.get("/admin", allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == "/"


async def test_another_communitys_admin_sees_nothing_of_this_one(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        wish = await wish_of(s, town.alice, town.n1.id, "Sunflower only: fix the gate")
        code = wish.code
    assert code
    async with web_site(app) as site:
        maple = await site.signed_in(town.maple_admin)
        status, page = await maple.get("/admin")
        assert status == 200 and "Maple" in page
        assert code not in page and "fix the gate" not in page
        status, page = await maple.get(f"/admin/wish/{code}")
        assert status == 404 and "fix the gate" not in page
        status, page = await maple.get(f"/admin?community={town.sunflower.id}")
        assert status == 400 and "fix the gate" not in page
        response = await maple.client.get(f"/admin/export/demand.csv?community={town.sunflower.id}")
        assert response.status == 400
        response = await maple.client.get("/admin/export/demand.csv")
        assert code not in (await response.read()).decode("utf-8-sig")

        admin = await site.signed_in(town.admin)
        status, page = await admin.get("/admin")
        assert code in page and "fix the gate" in page
        status, page = await admin.get(f"/admin/wish/{code}")
        assert status == 200 and town.alice.name in page


async def test_a_grid_worker_sees_only_their_grid(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        north = await wish_of(s, town.alice, town.n1.id, "North wish")
        south = await wish_of(s, town.carol, town.s1.id, "South wish")
    async with web_site(app) as site:
        worker = await site.signed_in(town.gw_north)
        status, page = await worker.get("/admin")
        assert north.code in page and south.code not in page

        def charted(page: str) -> int:
            """How many wishes the first chart (wishes per week) counts."""
            first_chart = page.split("<svg", 2)[1]
            return sum(
                int(n) for n in re.findall(r'data-key="[a-z]+" data-value="(\d+)"', first_chart)
            )

        # The charts count their grid only; the admin's count the whole community.
        assert charted(page) == 1
        admin = await site.signed_in(town.admin)
        assert charted((await admin.get("/admin"))[1]) == 2
        status, _ = await worker.get(f"/admin/wish/{south.code}")
        assert status == 404


async def test_filters_and_exports_of_the_lists(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        first = await wish_of(s, town.alice, town.n1.id, "Change a bulb")
        second = await wish_of(s, town.bob, town.n2.id, "Carry the shopping")
        await verify_wish(s, town.head_n1, first.id)
    await _english(sessions, town.admin)
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        status, page = await admin.get("/admin?status=open")
        assert status == 200
        assert first.code in page and second.code not in page
        status, page = await admin.get("/admin?status=flying")
        assert status == 400 and "no such status" in page
        status, page = await admin.get("/admin?from=2026-12-01&to=2026-11-01")
        assert status == 400 and "comes after" in page
        response = await admin.client.get("/admin/export/demand.xlsx")
        assert response.status == 200
        book = load_workbook(io.BytesIO(await response.read()))
        rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
        assert rows[0][0] == "Code"
        found = {r[0]: r for r in rows[1:]}
        assert found[first.code][6] == "looking for a helper"
        assert found[second.code][6] == "waiting for the building head"
        response = await admin.client.get(f"/admin/export/demand.csv?building={town.n2.id}")
        text = (await response.read()).decode("utf-8-sig")
        assert second.code in text and first.code not in text


async def test_the_dashboard_acts_through_the_commands(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        wish = await wish_of(s, town.alice, town.n1.id, "Walk the dog")
        await verify_wish(s, town.head_n1, wish.id)
    await _english(sessions, town.admin)
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        status, page = await admin.get(f"/admin/wish/{wish.code}")
        assert status == 200 and "Assign" in page
        response = await admin.post(
            "/admin/act", {"press": f"a:assign:{wish.id}", "label": "Assign"}
        )
        assert response.headers["Location"] == "/chat"
        await admin.say("/help")  # catch up with the chat
        assert any(
            "Walk the dog" in m.get("html", "") or "Who" in m.get("html", "") for m in admin.lines
        )
        before = await snapshot(sessions, STORE)
        response = await admin.post("/admin/act", {"press": "a:reward:1"})
        assert response.status == 400
        assert await snapshot(sessions, STORE) == before


async def test_the_demo_can_be_loaded_and_tried_role_by_role(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with web_site(app) as site:
        newcomer = await site.visitor()
        status, page = await newcomer.get("/")
        assert "Load the demo" in page or "演示" in page
        response = await newcomer.post("/demo/load", {})
        assert response.status == 302
        status, page = await newcomer.get("/")
        assert "Try the demo" in page or "试用" in page
        response = await newcomer.post("/demo/as", {"role": "admin"})
        assert response.headers["Location"] == "/admin"
        status, page = await newcomer.get("/admin")
        assert status == 200 and "Sunflower Community" in page
        await newcomer.post("/logout", {})
        response = await newcomer.post("/demo/as", {"role": "resident"})
        assert response.headers["Location"] == "/chat"
        await newcomer.say("/start")
        assert "Grandma Li" in newcomer.text()
        # A second load is refused: the database is no longer empty.
        response = await newcomer.post("/demo/load", {})
        assert response.status == 409


async def test_the_demo_people_are_not_offered_beside_a_real_community(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with web_site(app) as site:
        visitor = await site.visitor()
        response = await visitor.post("/demo/as", {"role": "admin"})
        assert response.status == 403


async def test_web_on_telegram_gives_a_code_that_signs_in_on_the_web(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _english(sessions, town.alice)
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        await link_identity(s, alice, "telegram", "5101")
    url = app.settings.database_url.render_as_string(hide_password=False)
    async with telegram_bot(url, clock) as bot, web_site(bot.app, bot.runtime) as site:
        on_telegram = bot.user(5101, "Alice")
        await on_telegram.send("/web")
        found = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", on_telegram.text())
        assert found, on_telegram.text()
        browser = await site.visitor()
        response = await browser.sign_in(found.group(1))
        assert response.status == 302
        await browser.say("/start")
        assert "Welcome back, Alice" in browser.text()
        # A quarter of an hour later, a second code from Telegram is out of date.
        await on_telegram.send("/web")
        late = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", on_telegram.text())
        assert late
        clock.advance(dt.timedelta(minutes=16))
        response = await (await site.visitor()).sign_in(late.group(1))
        assert response.status == 400 and "out of date" in await response.text()


async def test_a_building_head_makes_a_code_for_a_resident_without_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.head_n1, town.alice)
    async with web_site(app) as site:
        head = await site.signed_in(town.head_n1)
        await head.say("/webcode")
        assert "Whose sign-in code" in head.text()
        # Only the head's own buildings: Carol lives in the south.
        labels = [b[0] for m in head.lines for row in m.get("buttons") or [] for b in row]
        assert any("Alice" in label for label in labels)
        assert not any("Carol" in label for label in labels)
        await head.press("Alice")
        found = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", head.text())
        assert found and "7 days" in head.text()
        alice = await site.visitor()
        assert (await alice.sign_in(found.group(1))).status == 302
        status, page = await alice.get("/chat")
        assert status == 200 and "Log out" in page
        resident = await site.signed_in(town.alice)
        await resident.say("/webcode")
        assert "not for you" in resident.text()


async def test_a_photo_from_the_web_chat_goes_with_the_wish(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.alice)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
        b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    async with web_site(app) as site:
        alice = await site.signed_in(town.alice)
        await alice.say("/wish")
        await alice.press("Repairs")
        await alice.say("The window latch is broken")

        async def upload(content: bytes, kind: str, message_id: str = "") -> Any:
            form = FormData()
            form.add_field("id", message_id or str(next_id()))
            form.add_field("photo", content, filename="p", content_type=kind)
            response = await alice.client.post(
                "/chat/say", data=form, headers={"X-CSRF-Token": alice.csrf()}
            )
            return response.status, await response.json()

        status, answer = await upload(b"not a picture", "text/plain")
        assert status == 400 and "photo" in answer["error"]
        # A message the server cannot take keeps no photo either.
        status, answer = await upload(png, "image/png", message_id="not-a-number")
        assert status == 400
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(WebFile)) == 0
        status, answer = await upload(png, "image/png")
        assert status == 200
        mine = [m for m in answer["messages"] if m["mine"] and m["photo"]]
        assert mine, answer
        picture = await alice.client.get(mine[0]["photo"])
        assert picture.status == 200 and await picture.read() == png
        # The same file by a guessed address: not found.
        guessed = re.sub(r"/[0-9a-f]+$", "/0000", mine[0]["photo"])
        assert (await alice.client.get(guessed)).status == 404
    async with sessions() as s:
        wish_photos = await s.scalar(select(func.count()).select_from(WebFile))
        assert wish_photos == 1


async def test_the_whole_life_of_a_wish_in_the_web_chat_with_the_demos_people(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with web_site(app) as site:
        browser = await site.visitor()
        await browser.client.get("/lang/en")
        await browser.post("/demo/load", {})

        async def be(role: str) -> None:
            await browser.post("/logout", {})
            browser.lines.clear()
            response = await browser.post("/demo/as", {"role": role})
            assert response.status == 302
            await browser.say("/help")  # the chat so far, news included

        await be("resident")
        await browser.say("/wish")
        await browser.press("Repairs")
        await browser.say("The stair light on floor 2 flickers")
        await browser.press("Skip")
        await browser.press("Any time")
        await browser.press("Send")
        code = re.search(r"W-\d{6}", browser.text())
        assert code, browser.text()

        await be("building_head")
        await browser.press("Verify")
        await be("member")
        await browser.press("I'll do it")
        await browser.press("Report done")
        await browser.say("Fitted a new bulb")
        await browser.press("Skip")
        await be("resident")
        await browser.press("It's done")
        await browser.press("⭐⭐⭐⭐⭐")
        await browser.press("Skip")

        await be("admin")
        status, page = await browser.get(f"/admin/wish/{code.group(0)}")
        assert status == 200 and "closed" in page
    async with sessions() as s:
        wish = await s.scalar(select(Wish).where(Wish.code == code.group(0)))
        assert wish is not None and wish.status == WishStatus.CLOSED and wish.rating == 5


async def test_an_admin_makes_and_revokes_an_api_key_on_the_dashboard(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        wish = await wish_of(s, town.alice, town.n1.id, "Help with the recycling")
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        response = await admin.post("/admin/api", {"name": "City hotline 12345"})
        page = await response.text()
        key = re.search(r'<code id="new-key">([^<]+)</code>', page)
        assert response.status == 200 and key, page
        found = await admin.client.get(
            "/open311/v2/requests.json", params={"api_key": key.group(1)}
        )
        assert found.status == 200
        assert [r["service_request_id"] for r in await found.json()] == [wish.code]
        # The page keeps only the name; the key itself is never shown again.
        _, again = await admin.get("/admin/api")
        assert "City hotline 12345" in again and key.group(1) not in again
        client_id = re.search(r"/admin/api/(\d+)/revoke", again)
        assert client_id
        response = await admin.post(f"/admin/api/{client_id.group(1)}/revoke", {})
        assert response.status == 302
        refused = await admin.client.get(
            "/open311/v2/requests.json", params={"api_key": key.group(1)}
        )
        assert refused.status == 403

        worker = await site.signed_in(town.gw_north)
        response = await worker.post("/admin/api", {"name": "Mine"})
        assert response.status == 400 and "Only an admin" in await response.text()
        response = await admin.post("/admin/api", {"name": "  "})
        assert response.status == 400


async def test_approving_a_volunteer_and_starting_a_broadcast_from_the_dashboard(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.admin)
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        _, page = await admin.get("/admin")
        assert "Newbie" in page and "waiting for approval" in page
        press = re.search(r'name="press" value="(a:approve:\d+)"', page)
        assert press
        response = await admin.post("/admin/act", {"press": press.group(1), "label": "Approve"})
        assert response.headers["Location"] == "/chat"
        async with sessions() as s:
            profile = await s.get(MemberProfile, town.newbie.id)
            assert profile is not None and profile.approved
        _, page = await admin.get("/admin")
        assert "waiting for approval" not in page

        await admin.post("/admin/act", {"press": "/broadcast"})
        await admin.say("/help")
        bot_lines = [m["html"] for m in admin.lines if not m["mine"]]
        assert any("approved" in line for line in bot_lines)
        assert any("Who should read it?" in line for line in bot_lines)


async def test_a_guesser_is_slowed_down_and_can_try_again_later(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with web_site(app) as site:
        async with sessions.begin() as s:
            alice = await s.get(Person, town.alice.id)
            assert alice is not None
            code = await make_sign_in_code(s, alice, alice)
        guesser = await site.visitor()
        for guess in range(10):
            response = await guesser.sign_in(f"AAAA-{guess:04d}")
            assert response.status == 400
        # Even the right code waits now: the address has guessed too often.
        response = await guesser.sign_in(code)
        assert response.status == 429 and "wait ten minutes" in await response.text()
        async with sessions() as s:
            assert (await s.scalar(select(SignInCode.used_at))) is None
        clock.advance(dt.timedelta(minutes=10, seconds=1))
        response = await guesser.sign_in(code)
        assert response.status == 302


async def test_the_first_admin_sets_up_from_the_web_with_the_logged_code(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as s:
        code = await setup_code(s)
    assert code
    async with web_site(app) as site:
        office = await site.visitor()
        await office.post("/guest", {"name": "Office Zhou"})
        await office.say(f"/start {code}")
        assert "first admin" in " ".join(m.get("html", "") for m in office.lines)
    async with sessions() as s:
        person = await s.scalar(
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.platform == "web")
        )
        assert person is not None and person.name == "Office Zhou"


async def test_the_web_chat_redraws_a_picker_and_spends_an_acted_on_card(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _english(sessions, town.head_n1)
    async with web_site(app) as site:
        # A volunteer's skill picker: each tap redraws the one picker line.
        vera = await site.visitor()
        await vera.post("/guest", {"name": "Vera"})
        await vera.say("/start")
        await vera.press("English")
        await vera.press("volunteer")
        await vera.press("Sunflower")
        shown = len(vera.lines)
        drawn = await vera.press("Repairs")
        assert len(drawn) == 1 and drawn[0]["replaces"] is not None
        await vera.press("Errands")
        bot_lines = [m for m in vera.lines if not m["mine"]]
        pickers = [m for m in bot_lines if "What can you help with" in m["html"]]
        assert len(pickers) == 1  # no second copy of the keyboard
        labels = [b[0] for row in pickers[0]["buttons"] for b in row]
        assert "✅ 🔧 Repairs" in labels or any(
            label.startswith("✅") and "Repairs" in label for label in labels
        ), labels
        assert len(vera.lines) == shown + 2  # only her two taps were added

        # A head's Verify card: once verified, its line says so and has no buttons left.
        async with sessions.begin() as s:
            alice = await s.get(Person, town.alice.id)
            assert alice is not None and alice.building_id is not None
        head = await site.signed_in(town.head_n1)
        await head.say("/help")
        async with sessions.begin() as s:
            wish = await wish_of(s, alice, alice.building_id, "The lift button is loose")
        # The news goes out as the runtime sends it (the head is told on the web).
        async with sessions.begin() as s:
            found = await s.get(Wish, wish.id)
            assert found is not None
            speaker = Speaker(session=s, config=site.runtime.config)
            await tell_heads_about(speaker, found)
            await site.runtime.queue(s, speaker.replies)
        await site.runtime.send_outbox()
        await head.say("/help")
        card = next(m for m in head.lines if wish.code and wish.code in m.get("html", ""))
        assert any("Verify" in b[0] for row in card["buttons"] for b in row)
        await head.press("Verify")
        card = next(
            m for m in head.lines if not m["mine"] and (m.get("replaces") or m["id"]) == card["id"]
        )
        assert card["replaces"] is not None and card["buttons"] == []
        assert "verified by" in card["html"]
        assert not any(
            "Verify" in b[0] for m in head.lines for row in m.get("buttons") or [] for b in row
        )

"""The demo switch (/demo/as): open only on a database where the demo was loaded, and only
until a real person joins the demo community; then it is neither offered nor obeyed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.demo import COMMUNITY, DEMO_ROLES, STREET
from models.directory import add_community, add_grid, add_person, add_street, grant_role
from models.people import Role
from tests.telegram_bot import telegram_bot
from tests.web import web_site

OFFER = "Try the demo"


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def test_the_switch_closes_once_a_telegram_user_joins_the_demo(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with web_site(app) as site:
        loader = await site.visitor()
        assert (await loader.post("/demo/load", {})).status == 302
        status, page = await loader.get("/")
        assert OFFER in page
        early = await site.visitor()
        response = await early.post("/demo/as", {"role": "admin"})
        assert response.status == 302 and response.headers["Location"] == "/admin"
        assert COMMUNITY.split()[0] in (await early.get("/admin"))[1]

        async with telegram_bot(_url(app), app.clock) as bot:
            real = bot.user(5100, "Real Resident")
            await real.send("/start")
            await real.press("English")
            await real.press("I live here")
            await real.press("Sunflower")
            await real.press("Building 1")
            await real.send("3-303")
            await real.press("No, thanks")
            assert "Welcome" in real.text()

        # Nobody is offered the demo's people any more, and nobody may become one.
        newcomer = await site.visitor()
        status, page = await newcomer.get("/")
        assert status == 200 and OFFER not in page
        for role in DEMO_ROLES:
            response = await newcomer.post("/demo/as", {"role": role.value})
            assert response.status == 403, role
        # Whoever was the demo's admin before is signed out: no broadcast reaches the resident.
        response = await early.client.post(
            "/chat/say",
            json={"id": 77, "text": "/broadcast Hello everyone"},
            headers={"X-CSRF-Token": early.csrf()},
        )
        assert response.status == 401
        status, page = await early.get("/admin")
        assert COMMUNITY.split()[0] not in page


async def test_the_switch_is_refused_where_the_demo_was_not_loaded(
    app: App, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A community with the demo's names, made by hand (a set-up, an import): not the demo.
    async with sessions.begin() as s:
        street = await add_street(s, STREET)
        community = await add_community(s, street, COMMUNITY)
        await add_grid(s, community, "North Grid 北网格")
        admin = await add_person(s, DEMO_ROLES[Role.ADMIN])
        await grant_role(s, None, admin, Role.ADMIN, community.id)
    async with web_site(app) as site:
        visitor = await site.visitor()
        status, page = await visitor.get("/")
        assert status == 200 and OFFER not in page
        response = await visitor.post("/demo/as", {"role": "admin"})
        assert response.status == 403
        status, page = await visitor.get("/admin")
        assert COMMUNITY.split()[0] not in page

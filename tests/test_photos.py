"""Photos cross platforms: a Telegram photo is fetched into the store (the web can show it),
a web photo goes up to Telegram as a real photo, and heads and helpers see the wish's photo."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.telegram import SECRET_HEADER, STORED_PHOTO, WEBHOOK_PATH
from handlers.messages import Reply
from models.clock import ManualClock
from models.directory import link_identity
from models.inbox import InboxUpdate
from models.people import Person
from models.photos import stored_photo
from models.web_access import WebFile
from models.wishes import Wish
from tests.fake_bot_api import UploadedFile
from tests.telegram_bot import Person as OnTelegram
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town
from tests.web import web_site

# A real 1x1 PNG: browsers draw it (naturalWidth 1), unlike the fake server's stand-in bytes.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def url_of(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def on_telegram(
    sessions: async_sessionmaker[AsyncSession], person: Person, user_id: int
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, person, "telegram", str(user_id))
        found = await s.get(Person, person.id)
        assert found is not None
        found.locale = "en"


async def wish_with_photo_on_telegram(bot: TelegramBot, user_id: int) -> OnTelegram:
    """A newcomer registers in N1 and asks for a repair with a photo."""
    erin = bot.user(user_id, "Erin")
    await erin.send("/start")
    await erin.press("English")
    await erin.press("I live here")
    await erin.press("Sunflower")
    await erin.press("N1")
    await erin.send("5-502")
    await erin.press("No, thanks")
    await erin.send("/wish")
    await erin.press("Repairs")
    await erin.send("The tap drips all night")
    await erin.send_photo("erin-tap-photo", content=PNG)
    await erin.press("Within a day")
    await erin.press("Send")
    return erin


async def test_a_telegram_photo_is_kept_and_shown_to_the_head_and_the_member(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_telegram(sessions, town.head_n1, 3201)
    await on_telegram(sessions, town.fixer, 3202)
    async with telegram_bot(url_of(app), clock) as bot:
        head = bot.user(3201, "Head")
        fixer = bot.user(3202, "Fixer")
        await wish_with_photo_on_telegram(bot, 3200)
        # The bytes were fetched from Telegram (getFile, then the file itself).
        assert bot.server.calls_of("getFile")
        # The head's card is the photo itself, the wish and the buttons under it.
        card = head.last
        assert card.photo is not None, card
        assert "New wish" in (card.caption or "") and "tap drips" in (card.caption or "")
        assert any(data.startswith("a:verify:") for data in card.button_data)
        await head.press("Verify")
        # The member finds it in /tasks with its photo.
        shown = await fixer.send("/tasks")
        offers = [m for m in shown if "tap drips" in (m.caption or m.text or "")]
        assert offers and offers[0].photo is not None, shown
        assert bot.server.violations == []
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None and len(wish.photos) == 1
        kept = await stored_photo(s, wish.photos[0])
        assert kept is not None
        assert (kept.content, kept.content_type) == (PNG, "image/png")
        assert kept.person_key == "telegram:3200"


async def test_a_web_photo_reaches_telegram_as_a_real_photo_uploaded_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_telegram(sessions, town.head_n1, 3301)
    await on_telegram(sessions, town.fixer, 3302)
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        alice.locale = "en"
    async with telegram_bot(url_of(app), clock) as bot, web_site(bot.app, bot.runtime) as site:
        head = bot.user(3301, "Head")
        fixer = bot.user(3302, "Fixer")
        resident = await site.signed_in(town.alice)
        await resident.say("/wish")
        await resident.press("Repairs")
        await resident.say("The window latch is broken")
        form = FormData()
        form.add_field("id", "4242")
        form.add_field("photo", PNG, filename="latch.png", content_type="image/png")
        response = await resident.client.post(
            "/chat/say", data=form, headers={"X-CSRF-Token": resident.csrf()}
        )
        assert response.status == 200, await response.text()
        resident.lines.extend((await response.json())["messages"])
        await resident.press("Within a day")
        await resident.press("Send")
        await bot.step()

        def photos_to(chat_id: int) -> list[Any]:
            return [
                c.params["photo"]
                for c in bot.server.calls_of("sendPhoto")
                if str(c.params.get("chat_id")) == str(chat_id)
            ]

        # The head got the photo itself, uploaded: not the store's "web-file:N" reference.
        (uploaded,) = photos_to(head.chat_id)
        assert isinstance(uploaded, UploadedFile) and uploaded.content == PNG
        assert head.last.photo is not None and "latch" in (head.last.caption or "")
        await head.press("Verify")
        # Later sends reuse the id Telegram gave it: the member's offer names it, no new upload.
        async with sessions() as s:
            row = await s.scalar(select(WebFile))
            assert row is not None and row.telegram_file_id
            remembered = row.telegram_file_id
        offered = photos_to(fixer.chat_id)
        assert offered == [remembered], offered
        assert fixer.last.photo is not None or any(m.photo for m in fixer.inbox())
        assert bot.server.violations == []


async def test_a_photo_telegram_cannot_give_or_too_big_stays_a_telegram_photo(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Fetching fails (Telegram down for a moment), or the photo is over 5 MB: the wish still
    goes, with Telegram's own file id, and the head on Telegram still sees the photo."""
    await on_telegram(sessions, town.head_n1, 3501)
    async with telegram_bot(url_of(app), clock) as bot:
        head = bot.user(3501, "Head")
        bot.server.fail_next("getFile")
        await wish_with_photo_on_telegram(bot, 3500)
        assert head.last.photo is not None
        await head.press("Verify")
        big = bot.user(3502, "Bigpic")
        await big.send("/start")
        await big.press("English")
        await big.press("I live here")
        await big.press("Sunflower")
        await big.press("N1")
        await big.send("5-503")
        await big.press("No, thanks")
        await big.send("/wish")
        await big.press("Repairs")
        await big.send("A very large picture of the door")
        fetched = len(bot.server.calls_of("getFile"))
        await big.send_photo("huge-photo", content=PNG + b"\x00" * (5 * 1024 * 1024))
        await big.press("Within a day")
        await big.press("Send")
        assert len(bot.server.calls_of("getFile")) == fetched  # not even asked for
        assert head.last.photo is not None and "large picture" in (head.last.caption or "")
        assert bot.server.violations == []
    async with sessions() as s:
        photos = [w.photos for w in (await s.scalars(select(Wish).order_by(Wish.id))).all()]
        assert photos == [["erin-tap-photo"], ["huge-photo"]]
        assert (await s.scalars(select(WebFile))).all() == []


async def test_a_photo_through_the_webhook_is_fetched_before_telegram_hears_ok(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with telegram_bot(url_of(app), clock) as bot:
        hook = web.Application()
        hook.add_routes(bot.telegram.webhook_routes())
        sender = {"id": 3600, "is_bot": False, "first_name": "Wendy"}
        update = {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 1796000000,
                "chat": {"id": 3600, "type": "private", "first_name": "Wendy"},
                "from": sender,
                "photo": bot.server._make_photo_sizes(PNG),
            },
        }
        async with TestClient(TestServer(hook)) as client:
            response = await client.post(
                WEBHOOK_PATH,
                json=update,
                headers={SECRET_HEADER: bot.app.settings.webhook_secret or ""},
            )
            assert response.status == 200
    async with sessions() as s:
        kept = (await s.scalars(select(WebFile))).all()
        assert [(row.content, row.person_key) for row in kept] == [(PNG, "telegram:3600")]
        stored = await s.scalar(select(InboxUpdate.payload))
        assert stored is not None and stored[STORED_PHOTO] == f"web-file:{kept[0].id}"


async def test_a_photo_telegram_refuses_does_not_cost_the_head_the_card(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_telegram(sessions, town.head_n1, 3701)
    async with telegram_bot(url_of(app), clock) as bot:
        head = bot.user(3701, "Head")
        # Its id, then its upload: both refused (as Telegram does a photo of an odd shape).
        bot.server.fail_next("sendPhoto", times=2, kind=400)
        await wish_with_photo_on_telegram(bot, 3700)
        card = head.last
        assert card.photo is None and "tap drips" in (card.text or "")
        assert any(data.startswith("a:verify:") for data in card.button_data)
        await head.press("Verify")
        assert "open for helpers" in head.text()


async def test_a_card_whose_photo_was_erased_meanwhile_goes_as_text(
    app: App, clock: ManualClock
) -> None:
    async with telegram_bot(url_of(app), clock) as bot:
        head = bot.user(3801, "Head")

        async def went(parts: int) -> None:
            return None

        card = Reply("Wish W-1: the <b>tap</b>", (), photo="web-file:999")
        await bot.telegram.send(str(head.chat_id), card, 0, went)
        assert head.last.photo is None and head.last.text == "Wish W-1: the tap"
        assert bot.server.calls_of("sendPhoto") == []

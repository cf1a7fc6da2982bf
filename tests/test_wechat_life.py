"""The life of a wish that starts on WeChat: a follower registers in Chinese and asks for help
with the account menu and menu messages only, the head verifies on Telegram, a member takes it
in the web chat, and the resident confirms with five stars on WeChat; the photo shows on the
head's Telegram card, in the member's web chat and on the office's wish page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.broadcasts import start_broadcast
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.photos import stored_photo
from models.wishes import Wish, WishStatus
from tests.fake_wechat_api import Follower
from tests.telegram_bot import telegram_bot
from tests.test_photos import PNG
from tests.test_telegram_life import _on_telegram, _url
from tests.town import Town
from tests.wechat_bot import wechat_bot
from tests.wishes import wish_in


async def register_in_chinese(erin: Follower) -> None:
    """Follow, then only taps on menu messages (and typing the name and the unit)."""
    await erin.follow()
    assert "您用哪种语言" in erin.text()
    await erin.tap("中文")
    assert "怎么称呼您" in erin.text()
    await erin.send("王芳")
    await erin.tap("我住在这里")
    await erin.tap("Sunflower")
    await erin.tap("N1")
    await erin.send("5-502")
    await erin.tap("不用了")
    assert "欢迎，王芳" in erin.text()


async def test_a_wish_from_wechat_to_telegram_and_the_web_and_back(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.head_n1, 3101, "zh_Hans")
    async with sessions.begin() as s:
        fixer_row = await s.get(Person, town.fixer.id)
        assert fixer_row is not None
        fixer_row.locale = "zh_Hans"
    async with (
        telegram_bot(_url(app), clock, locale="zh_Hans") as tg,
        wechat_bot(tg.app, clock, runtime=tg.runtime) as bot,
    ):
        head = tg.user(3101, "Head")
        # The account menu was set at start: Ask for help / My wishes / More.
        assert bot.server.menu is not None
        assert [b["name"] for b in bot.server.menu["button"]] == ["我要求助", "我的心愿", "更多"]
        erin = bot.follower("o-erin")
        await register_in_chinese(erin)

        # The account menu's "Ask for help", then menu messages, a description and a photo.
        await erin.click("a:cmd:wish")
        await erin.tap("维修")
        await erin.send("水龙头漏水")
        await erin.send_photo(PNG)
        await erin.tap("一天内")
        await erin.tap("发送")
        async with sessions() as s:
            asked = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert asked is not None and asked.code is not None
        assert asked.code in erin.text()
        # Everything the resident got went as customer-service messages, most as menus.
        kinds = {sent.kind for sent in erin.inbox()}
        assert kinds <= {"text", "msgmenu"} and "msgmenu" in kinds

        # The head's Telegram card is the photo itself; the head verifies there.
        assert head.last.photo is not None and "王芳" in (head.last.caption or "")
        await head.press("审核通过")
        assert "审核通过" in erin.text()

        # A member takes it in the web chat, where the photo shows too, and reports it done.
        fixer = await bot.site.signed_in(town.fixer)
        offers = await fixer.say("/tasks")
        assert any(line["photo"] for line in offers), offers
        await fixer.press("我来认领")
        await fixer.press("报告完成")
        await fixer.say("换了新垫圈")
        await fixer.press("跳过")
        await tg.step()
        assert "换了新垫圈" in erin.text()

        # The resident confirms with five stars, by taps on WeChat.
        await erin.tap("已经办好了")
        await erin.tap("⭐⭐⭐⭐⭐")
        await erin.tap("跳过")
        assert "已办结" in erin.text()
        # Spoken to in Chinese throughout, the adapter's own hints too.
        assert all("Tap a choice" not in sent.text for sent in erin.inbox())

        # The office's wish page shows the photo sent on WeChat.
        office = await bot.site.signed_in(town.admin)
        status, page = await office.get(f"/admin/wish/{asked.code}")
        assert status == 200 and "/files/" in page

    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None
        assert (wish.status, wish.rating, len(wish.photos)) == (WishStatus.CLOSED, 5, 1)
        kept = await stored_photo(s, wish.photos[0])
        assert kept is not None and kept.content == PNG and kept.person_key == "wechat:o-erin"
        fixer_now = await s.get(Person, town.fixer.id)
        assert fixer_now is not None and fixer_now.points_balance == 15


async def test_news_reaches_a_person_on_two_platforms_once_where_they_wrote_last(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, town.head_n1, 3501, "en")
    await _on_telegram(sessions, town.alice, 3502, "en")
    async with sessions.begin() as s:
        alice_row = await s.get(Person, town.alice.id)
        assert alice_row is not None
        await link_identity(s, alice_row, "wechat", "o-alice")
    async with (
        telegram_bot(_url(app), clock) as tg,
        wechat_bot(tg.app, clock, runtime=tg.runtime) as bot,
    ):
        head = tg.user(3501, "Head")
        on_telegram = tg.user(3502, "Alice")
        on_wechat = bot.follower("o-alice")
        await on_wechat.follow()
        await on_telegram.send("/help")
        # She wrote last on Telegram: her wish's news comes there, not on WeChat too.
        await wish_in(sessions, town, WishStatus.SUBMITTED)
        wechat_before, telegram_before = len(on_wechat.inbox()), len(on_telegram.inbox())
        await tg.step()
        await head.send("/pending")
        await head.press("Verify")
        assert len(on_telegram.inbox()) == telegram_before + 1
        assert "was checked" in on_telegram.text()
        assert len(on_wechat.inbox()) == wechat_before
        # Then she writes on WeChat: the next news comes there only.
        await on_wechat.send("/my")
        wechat_before, telegram_before = len(on_wechat.inbox()), len(on_telegram.inbox())
        fixer_chat = tg.user(3503, "Fixer")
        await _on_telegram(sessions, town.fixer, 3503, "en")
        await fixer_chat.send("/tasks")
        await fixer_chat.press("I'll do it")
        assert len(on_wechat.inbox()) == wechat_before + 1 and "Fixer" in on_wechat.text()
        assert len(on_telegram.inbox()) == telegram_before

        # A broadcast reaches her once too, where she wrote last (WeChat), and Bob on WeChat.
        bob = bot.follower("o-bob")
        async with sessions.begin() as s:
            bob_row = await s.get(Person, town.bob.id)
            admin = await s.get(Person, town.admin.id)
            assert bob_row is not None and admin is not None
            await link_identity(s, bob_row, "wechat", "o-bob")
        await bob.follow()
        wechat_before, telegram_before = len(on_wechat.inbox()), len(on_telegram.inbox())
        async with sessions.begin() as s:
            await start_broadcast(s, admin, "community", None, "Water is off on Friday")
        await tg.step()
        assert len(on_wechat.inbox()) == wechat_before + 1
        assert "Water is off" in on_wechat.text() and "Water is off" in bob.text()
        assert len(on_telegram.inbox()) == telegram_before

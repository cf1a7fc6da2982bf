"""End to end through Telegram: the real python-telegram-bot against the fake Bot API server.

Both languages; every call the bot makes is checked against the Bot API's rules.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.photos import stored_photo
from models.wishes import Wish, WishStatus
from tests.fake_bot_api import FAKE_JPEG
from tests.telegram_bot import telegram_bot
from tests.town import Town


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
async def test_a_resident_registers_and_sends_a_wish_with_a_photo(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    language: str,
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        erin = bot.user(2001, "Erin", language)
        zh = language.startswith("zh")
        await erin.send("/start")
        await erin.press("中文" if zh else "English")
        await erin.press("我住在这里" if zh else "I live here")
        await erin.press("Sunflower")
        await erin.press("N1")
        await erin.send("5-502")
        await erin.press("不用了" if zh else "No, thanks")
        assert "5-502" in erin.text()
        await erin.send("/wish")
        await erin.press("维修" if zh else "Repairs")
        await erin.send("Tap <leaks> & drips")
        await erin.send_photo("photo-of-the-tap")
        await erin.press("一天内" if zh else "Within a day")
        assert "Tap <leaks> & drips" in erin.text()  # escaped on the way, shown as typed
        await erin.press("发送" if zh else "Send")
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
        assert wish is not None and wish.status == WishStatus.SUBMITTED
        # The photo's bytes were fetched into the store; the wish keeps the store's reference.
        assert len(wish.photos) == 1
        kept = await stored_photo(s, wish.photos[0])
    assert kept is not None and kept.telegram_file_id == "photo-of-the-tap"
    assert kept.content == FAKE_JPEG


async def test_a_429_holds_the_chat_and_keeps_the_order(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    from models.directory import link_identity
    from tests.fake_bot_api import Limits
    from tests.wishes import wish_in

    for _ in range(3):
        await wish_in(sessions, town, WishStatus.OPEN)
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3001")
    async with telegram_bot(_url(app), clock) as bot:
        bot.server.clock = lambda: clock.now().timestamp()
        bot.server.limits = Limits(per_chat_per_second=1, global_per_second=None)
        alice = bot.user(3001, "Alice")
        await alice.send("/my")
        assert len(alice.inbox()) == 1  # the rest wait for retry_after, on our clock
        for _ in range(10):
            if len(alice.inbox()) == 4:
                break
            clock.advance(dt.timedelta(seconds=1))
            await bot.step()
        texts = [m.text or "" for m in alice.inbox()]
        assert len(texts) == 4 and "latest 3 wishes" in texts[0]
        codes = [t.split("</b>")[0] for t in texts[1:]]
        assert len(set(codes)) == 3  # each wish once, none twice
        assert any(c.status == 429 for c in bot.server.calls)
        assert bot.server.violations == []


async def test_a_429_for_one_chat_holds_only_that_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Telegram's one-a-second per chat: Alice's list waits its turn, Bob's answer does not
    wait behind it (a broadcast must not crawl because one recipient is also writing)."""
    from models.directory import link_identity
    from tests.fake_bot_api import Limits
    from tests.wishes import wish_in

    for _ in range(3):
        await wish_in(sessions, town, WishStatus.OPEN)
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3001")
    async with telegram_bot(_url(app), clock) as bot:
        bot.server.clock = lambda: clock.now().timestamp()
        bot.server.limits = Limits(per_chat_per_second=1, global_per_second=None)
        alice = bot.user(3001, "Alice")
        bob = bot.user(3002, "Bob")
        alice.user.send("/my")
        bob.user.send("/help")
        await bot.step()  # the same moment on our clock: nothing has waited yet
        assert len(alice.inbox()) == 1  # the rest of her list waits for retry_after
        assert any(c.status == 429 for c in bot.server.calls)
        assert bob.inbox(), "Bob's answer waited behind Alice's chat"
        for _ in range(10):
            if len(alice.inbox()) == 4:
                break
            clock.advance(dt.timedelta(seconds=1))
            await bot.step()
        assert len(alice.inbox()) == 4
        assert bot.server.violations == []

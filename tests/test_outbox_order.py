"""A chat's messages after Telegram's "slow down": held in place, never overtaken, never starved.

Through the real bot against the fake Bot API server enforcing one message a second per chat,
on the manual clock (the fake's clock too).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.broadcasts import start_broadcast
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.wishes import WishStatus
from tests.fake_bot_api import Limits
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town
from tests.wishes import wish_in

HELP = "Here is what you can do"
NEWS = "📢 Sunflower\nWater is off tomorrow."


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _per_chat_limit(bot: TelegramBot, clock: ManualClock) -> None:
    bot.server.clock = lambda: clock.now().timestamp()
    bot.server.limits = Limits(per_chat_per_second=1, global_per_second=None)


async def test_a_recipient_who_keeps_writing_still_gets_the_broadcast(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Alice writes /help every second while a broadcast goes out. Her copy was held by a 429
    (her answer had just gone); her next answer must not go ahead of it again, and again: the
    broadcast (and the sender's report) would wait for as long as she writes."""
    async with sessions.begin() as s:
        await link_identity(s, town.admin, "telegram", "9000")
        await link_identity(s, town.alice, "telegram", "9101")
        await link_identity(s, town.bob, "telegram", "9102")
    async with telegram_bot(_url(app), clock) as bot:
        _per_chat_limit(bot, clock)
        bot.user(9000, "Admin")
        alice, bob = bot.user(9101, "Alice"), bot.user(9102, "Bob")
        async with sessions.begin() as s:
            admin = await s.get(Person, town.admin.id)
            assert admin is not None
            await start_broadcast(s, admin, "community", None, "Water is off tomorrow.")
        for _ in range(8):
            await alice.send("/help")
            clock.advance(dt.timedelta(seconds=1))
        texts = [m.text or "" for m in alice.inbox()]
        assert NEWS in texts[:3], f"Alice's copy of the broadcast was overtaken: {texts}"
        assert texts.count(NEWS) == 1
        assert [m.text for m in bob.inbox()] == [NEWS]
        # Her answers came too, one per /help, each a second or so late at most.
        assert sum(HELP in t for t in texts) >= 7
        # Her copy waited for her chat's second to pass rather than be refused.
        refused = [c for c in bot.server.calls if c.status == 429]
        assert not [c for c in refused if "Water is off" in str(c.params.get("text"))]
        assert bot.server.violations == []


async def test_a_newer_answer_does_not_overtake_messages_held_by_a_429(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Alice's /my list (four messages) is held by a 429 half a second after her last answer;
    when the chat is free again but the list still waits (retry_after is whole seconds), her
    next /help must come after the list, not before it."""
    for _ in range(3):
        await wish_in(sessions, town, WishStatus.OPEN)
    async with sessions.begin() as s:
        await link_identity(s, town.alice, "telegram", "3001")
    half = dt.timedelta(milliseconds=500)
    async with telegram_bot(_url(app), clock) as bot:
        _per_chat_limit(bot, clock)
        alice = bot.user(3001, "Alice")
        await alice.send("/help")  # t = 0: goes
        clock.advance(half)
        await alice.send("/my")  # t = 0.5: 429, retry after 1 (rounded up): held to 1.5
        assert len(alice.inbox()) == 1
        clock.advance(half)
        await alice.send("/help")  # t = 1: the chat may have a message again
        for _ in range(10):
            if len(alice.inbox()) == 6:
                break
            clock.advance(dt.timedelta(seconds=1))
            await bot.step()
        texts = [m.text or "" for m in alice.inbox()]
        assert len(texts) == 6, texts
        assert HELP in texts[0] and "latest 3 wishes" in texts[1], texts
        assert len({t.split("</b>")[0] for t in texts[2:5]}) == 3  # each wish once
        assert HELP in texts[5], f"the newer answer overtook the held list: {texts}"
        assert any(c.status == 429 for c in bot.server.calls)
        assert bot.server.violations == []


async def test_an_answer_right_after_a_broadcast_copy_waits_out_the_second_unrefused(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    """Bob's copy of the broadcast went at t = 0; his /help at t = 0.4 is answered when his
    chat's second is over (t = 1), without a 429 first (whose retry_after, a whole second,
    would have held it to t = 1.4)."""
    async with sessions.begin() as s:
        await link_identity(s, town.admin, "telegram", "9200")
        await link_identity(s, town.bob, "telegram", "9202")
    async with telegram_bot(_url(app), clock) as bot:
        _per_chat_limit(bot, clock)
        bot.user(9200, "Admin")
        bob = bot.user(9202, "Bob")
        async with sessions.begin() as s:
            admin = await s.get(Person, town.admin.id)
            assert admin is not None
            await start_broadcast(s, admin, "community", None, "Water is off tomorrow.")
        await bot.step()
        assert [m.text for m in bob.inbox()] == [NEWS]
        clock.advance(dt.timedelta(milliseconds=400))
        await bob.send("/help")
        assert [m.text for m in bob.inbox()] == [NEWS]  # not yet: his chat's second runs
        clock.advance(dt.timedelta(milliseconds=600))
        await bot.step()
        texts = [m.text or "" for m in bob.inbox()]
        assert len(texts) == 2 and HELP in texts[1], texts
        assert [c for c in bot.server.calls if c.status == 429] == []
        assert bot.server.violations == []

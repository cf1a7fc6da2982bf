"""The rewards loop over Telegram, through the real PTB against the fake Bot API: the admin adds
a partner and a reward, a member who earned points redeems it, the partner hands it over once,
and an uncollected code refunds once on a controlled clock.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.people import Person
from models.points import PointsEntry
from models.rewards import Redemption, Reward
from models.wish_closing import confirm_wish
from models.wishes import WishStatus
from tests.telegram_bot import telegram_bot
from tests.test_telegram_life import _on_telegram, _url
from tests.town import Town
from tests.wishes import wish_in

WORDS = {
    "en": {
        "handover_hint": "send /handover and the code",
        "skip": "Skip",
        "registered": "Lee's Barber",
        "in_catalogue": "/rewards",
        "redeem": "Redeem",
        "handed": "Handed over",
        "collected": "Haircut",
        "used": "used already",
        "back": "are back",
    },
    "zh": {
        "handover_hint": "/handover",
        "skip": "跳过",
        "registered": "Lee's Barber",
        "in_catalogue": "/rewards",
        "redeem": "兑换",
        "handed": "已交付",
        "collected": "Haircut",
        "used": "已经用过",
        "back": "退回",
    },
}


async def _balance(sessions: async_sessionmaker[AsyncSession], person: Person) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(Person.points_balance).where(Person.id == person.id)) or 0)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_rewards_loop_on_telegram(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    language: str,
) -> None:
    locale = "zh_Hans" if language == "zh" else "en"
    words = WORDS[language]
    wish = await wish_in(sessions, town, WishStatus.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, 5)  # the member earned 15 points
    await _on_telegram(sessions, town.admin, 3301, locale)
    await _on_telegram(sessions, town.fixer, 3302, locale)
    await _on_telegram(sessions, town.bob, 3303, locale)
    async with telegram_bot(_url(app), clock, locale=locale) as bot:
        admin = bot.user(3301, "Admin")
        fixer = bot.user(3302, "Fixer")
        bob = bot.user(3303, "Bob")

        await admin.send("/newpartner")
        await admin.send("Lee's Barber")
        await admin.press("Bob")
        assert "Lee's Barber" in admin.text()
        assert words["handover_hint"] in bob.text()
        await admin.send("/newreward")
        await admin.press("Lee's Barber")
        await admin.send("Haircut")
        await admin.send("10")
        await admin.send("1")
        await admin.press(words["skip"])
        await admin.press(words["skip"])  # no photo
        assert words["in_catalogue"] in admin.text()

        await fixer.send("/rewards")
        assert "15" in fixer.text()
        await fixer.press("Haircut")
        await fixer.press(words["redeem"])
        async with sessions() as s:
            redemption = await s.scalar(select(Redemption))
        assert redemption is not None and redemption.code
        assert redemption.code in fixer.text()
        assert await _balance(sessions, town.fixer) == 5

        await bob.send(f"/handover {redemption.code}")
        assert words["handed"] in bob.text()
        assert words["collected"] in fixer.text() and redemption.code in fixer.text()
        told = len(fixer.inbox())
        await bob.send(f"/handover {redemption.code}")
        assert words["used"] in bob.text()
        assert len(fixer.inbox()) == told  # the member hears nothing more

        # A second one, never collected: after the collection time, the points come back once.
        async with sessions.begin() as s:
            reward = await s.get(Reward, redemption.reward_id)
            assert reward is not None
            reward.stock = 1
        await admin.send("/adjust")
        await admin.press("Fixer")
        await admin.send("+20")
        await admin.send("Autumn fair")
        assert "Autumn fair" in fixer.text()
        await fixer.send("/rewards")
        await fixer.press("Haircut")
        await fixer.press(words["redeem"])
        assert await _balance(sessions, town.fixer) == 15
        clock.advance(dt.timedelta(days=7, minutes=1))
        await bot.step()
        assert words["back"] in fixer.text()
        for _ in range(2):
            clock.advance(dt.timedelta(days=1))
            await bot.step()
        assert await _balance(sessions, town.fixer) == 25
        async with sessions() as s:
            refunds = await s.scalar(
                select(func.count(PointsEntry.id)).where(
                    PointsEntry.idempotency_key.startswith("refund-")
                )
            )
            assert refunds == 1
        assert bot.server.violations == []
        assert bot.server.unanswered_callbacks() == []

"""Commitments on a controlled clock: in the last quarter a member behind the pace gets one
gentle reminder (after the quiet hours), one on track gets none; before October nobody does.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.commitments import CommitmentUnit, commit
from models.directory import link_identity
from models.people import Person
from models.wishes import WishStatus
from tests.telegram_bot import telegram_bot
from tests.town import Town
from tests.wishes import wish_in

# 23:00 in Shanghai on a Monday in November: the quiet hours.
NIGHT = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _commitments(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    await wish_in(sessions, town, WishStatus.CLOSED)  # Fixer's one service this year
    async with sessions.begin() as s:
        for person, target, user_id in ((town.fixer, 1, 3701), (town.runner, 12, 3702)):
            found = await s.get(Person, person.id)
            assert found is not None
            await link_identity(s, found, "telegram", str(user_id))
            await commit(s, found, target=target, unit=CommitmentUnit.SERVICES, year=2026)


async def test_behind_in_the_last_quarter_is_reminded_once_and_on_track_never(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _commitments(sessions, town)
    async with telegram_bot(_url(app), clock) as bot:
        fixer = bot.user(3701, "Fixer")
        runner = bot.user(3702, "Runner")
        clock.set(NIGHT)
        await bot.runtime.plan_daily()
        await bot.step()
        # Planned, but held for the morning.
        assert runner.inbox() == [] and fixer.inbox() == []
        clock.set(NIGHT + dt.timedelta(hours=9, minutes=1))  # 08:01
        await bot.step()
        assert len(runner.inbox()) == 1
        assert "gentle reminder" in runner.text() and "12" in runner.text()
        # The next days' planning (and a second process's) adds nothing.
        for days in (1, 2, 20):
            clock.set(NIGHT + dt.timedelta(days=days, hours=9))
            await bot.runtime.plan_daily()
            await bot.runtime.plan_daily()
            await bot.step()
        assert len(runner.inbox()) == 1
        assert fixer.inbox() == []


async def test_nobody_is_reminded_before_the_last_quarter(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    clock.set(dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC))
    await _commitments(sessions, town)
    async with telegram_bot(_url(app), clock) as bot:
        runner = bot.user(3702, "Runner")
        await bot.runtime.plan_daily()
        await bot.step()
        assert runner.inbox() == []
        # From the first of October, the same commitment behind is reminded.
        clock.set(dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC))
        await bot.runtime.plan_daily()
        await bot.step()
        assert len(runner.inbox()) == 1

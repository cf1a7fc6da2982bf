"""Points: paid exactly once when a wish closes, never below zero, every change in the ledger.

Confirm twice, auto-confirm after confirm, retried keys: the balance moves once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.errors import IllegalTransition, NotEnoughPoints, NotFound
from models.people import Person
from models.points import PointsEntry, PointsKind
from models.points_ledger import add_points, adjust_points, balance, redeem_reward
from models.rewards import Redemption, Reward
from models.wish_closing import auto_confirm, confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import WishStatus
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
REPAIR, ERRAND, FIVE_STAR_BONUS = 10, 5, 5  # the migration's categories, the default bonus


async def _balance(sessions: async_sessionmaker[AsyncSession], person: Person) -> int:
    async with sessions() as s:
        cached = await s.scalar(select(Person.points_balance).where(Person.id == person.id))
        assert cached == await balance(s, person.id)
        return int(cached or 0)


@pytest.mark.parametrize(
    ("rating", "points"), [(5, REPAIR + FIVE_STAR_BONUS), (4, REPAIR), (None, REPAIR)]
)
async def test_confirming_pays_the_member(
    sessions: async_sessionmaker[AsyncSession], town: Town, rating: int | None, points: int
) -> None:
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, rating)
    assert await _balance(sessions, town.fixer) == points
    assert await _balance(sessions, town.alice) == 0


async def test_every_helper_of_a_wish_is_paid(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN, category="errand", required_count=2)
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, wish.id)
        await accept_wish(s, town.walker, wish.id)
        await report_done(s, town.walker, wish.id)
        await confirm_wish(s, town.alice, wish.id, 5)
    for member in (town.fixer, town.walker):
        assert await _balance(sessions, member) == ERRAND + FIVE_STAR_BONUS
    assert await _balance(sessions, town.runner) == 0


async def test_a_community_sets_its_own_bonus(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        community = await s.get(type(town.sunflower), town.sunflower.id)
        assert community is not None
        community.five_star_bonus = 20
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, 5)
    assert await _balance(sessions, town.fixer) == REPAIR + 20


async def test_points_are_paid_once_when_confirm_comes_twice(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, 5)
    before = await snapshot(sessions)
    for again in (
        lambda s: confirm_wish(s, town.alice, wish.id, 5),
        lambda s: auto_confirm(s, wish.id),
    ):
        with pytest.raises(IllegalTransition):
            async with sessions.begin() as s:
                await again(s)
    assert await snapshot(sessions) == before
    assert await _balance(sessions, town.fixer) == REPAIR + FIVE_STAR_BONUS


async def test_auto_confirm_pays_as_a_confirm_without_rating(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        closed = await auto_confirm(s, wish.id)
    assert closed.status == S.CLOSED and closed.rating is None
    assert await _balance(sessions, town.fixer) == REPAIR


async def test_a_retried_award_with_the_same_key_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    for _ in range(3):
        async with sessions.begin() as s:
            await add_points(s, town.fixer.id, 7, PointsKind.ADJUSTMENT, "retried-key")
    assert await _balance(sessions, town.fixer) == 7
    async with sessions() as s:
        assert await s.scalar(select(func.count(PointsEntry.id))) == 1


async def test_a_balance_never_goes_negative(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 12, "welcome gift")
        reward = Reward(community_id=town.sunflower.id, name="Rice 5kg", cost=20, stock=3)
        s.add(reward)
    before = await snapshot(sessions)
    with pytest.raises(NotEnoughPoints):
        async with sessions.begin() as s:
            await adjust_points(s, town.admin, town.fixer, -13, "correction")
    with pytest.raises(NotEnoughPoints):
        async with sessions.begin() as s:
            await redeem_reward(s, town.fixer, reward.id)
    assert await snapshot(sessions) == before
    assert await _balance(sessions, town.fixer) == 12


async def test_redeeming_spends_points_and_stock_once_per_request(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 50, "a year of help")
        reward = Reward(community_id=town.sunflower.id, name="Cinema ticket", cost=20, stock=1)
        s.add(reward)
    for _ in range(2):
        async with sessions.begin() as s:
            await redeem_reward(s, town.fixer, reward.id, request_key="tap-1")
    assert await _balance(sessions, town.fixer) == 30
    with pytest.raises(NotFound):  # out of stock
        async with sessions.begin() as s:
            await redeem_reward(s, town.fixer, reward.id, request_key="tap-2")
    async with sessions() as s:
        assert await s.scalar(select(func.count(Redemption.id))) == 1
        assert (await s.get(Reward, reward.id)).stock == 0  # type: ignore[union-attr]
    assert await _balance(sessions, town.fixer) == 30

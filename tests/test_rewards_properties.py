"""Any interleaving of awards, corrections, redemptions, hand-overs, expiries and the same
event delivered twice keeps the points honest; two members taking the last item: one wins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.catalogue import add_partner, add_reward
from models.clock import ManualClock
from models.errors import NotFound, StoreError
from models.people import Person
from models.points import PointsEntry, PointsKind
from models.points_ledger import add_points, adjust_points, redeem_reward
from models.redemptions import expire_redemption, hand_over
from models.rewards import Redemption, RedemptionStatus, Reward
from tests.databases import on_postgres
from tests.snapshot import snapshot
from tests.town import Town

R = RedemptionStatus

steps = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.integers(0, 5)),
        st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-20, 20)),
        st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 3)),
        st.tuples(st.just("hand_over"), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("expire"), st.integers(0, 5), st.integers(0, 9)),
    ),
    max_size=25,
)


async def _check(sessions: async_sessionmaker[AsyncSession], stock: dict[int, int]) -> None:
    async with sessions() as s:
        ledger = dict(
            (
                await s.execute(
                    select(PointsEntry.person_id, func.sum(PointsEntry.amount)).group_by(
                        PointsEntry.person_id
                    )
                )
            ).all()
        )
        for person_id, cached in await s.execute(select(Person.id, Person.points_balance)):
            assert cached >= 0
            assert cached == ledger.get(person_id, 0)
        keys = (await s.scalars(select(PointsEntry.idempotency_key))).all()
        assert len(keys) == len(set(keys))
        entries = {e.id: e for e in (await s.scalars(select(PointsEntry))).all()}
        redemptions = (await s.scalars(select(Redemption))).all()
        refunds = Counter(
            e.idempotency_key for e in entries.values() if e.idempotency_key.startswith("refund-")
        )
        paid = Counter(r.points_entry_id for r in redemptions)
        spent = [e for e in entries.values() if e.kind == PointsKind.REDEMPTION and e.amount < 0]
        assert len(spent) == len(paid)
        assert all(count == 1 for count in paid.values())
        for r in redemptions:
            assert entries[r.points_entry_id].amount == -r.cost
            if r.status == R.EXPIRED:
                assert refunds[f"refund-{r.id}"] == 1
                assert r.refund_entry_id is not None
                assert entries[r.refund_entry_id].amount == r.cost
            else:
                assert refunds[f"refund-{r.id}"] == 0 and r.refund_entry_id is None
            assert (r.closed_at is None) == (r.status == R.REQUESTED)
        for reward_id, first in stock.items():
            reward = await s.get(Reward, reward_id, populate_existing=True)
            assert reward is not None and reward.stock is not None and reward.stock >= 0
            kept = sum(1 for r in redemptions if r.reward_id == reward_id and r.status != R.EXPIRED)
            assert reward.stock == first - kept


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
async def test_any_interleaving_keeps_points_and_stock_honest(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    steps: list[tuple[Any, ...]],
) -> None:
    run = uuid.uuid4().hex[:8]
    async with sessions.begin() as s:
        partner = await add_partner(
            s, town.admin, town.sunflower.id, f"Shop {run}", contact=town.bob
        )
        rewards = [
            await add_reward(s, town.admin, partner.id, "Rice", 10, stock=2),
            await add_reward(s, town.admin, partner.id, "Haircut", 25, stock=1),
            await add_reward(s, town.admin, partner.id, "Tea", 3),  # unlimited
        ]
    stock = {r.id: r.stock for r in rewards if r.stock is not None}
    codes: list[tuple[int, str]] = []
    for step in steps:
        before = await snapshot(sessions)
        try:
            async with sessions.begin() as s:
                match step:
                    case ("award", k):  # the same event (key) may come twice
                        member = town.members[k % 3]
                        await add_points(s, member.id, 4 + 3 * k, PointsKind.AWARD, f"{run}-a{k}")
                    case ("adjust", who, amount):
                        await adjust_points(s, town.admin, town.members[who], amount, "fix")
                    case ("redeem", who, which, tap):
                        made = await redeem_reward(
                            s, town.members[who], rewards[which].id, request_key=f"{run}{who}{tap}"
                        )
                        if (made.id, made.code or "") not in codes:
                            codes.append((made.id, made.code or ""))
                    case ("hand_over", n, by_partner) if codes:
                        _, code = codes[n % len(codes)]
                        await hand_over(s, town.bob if by_partner else town.admin, code)
                    case ("expire", n, days) if codes:
                        clock.advance(dt.timedelta(days=days))
                        await expire_redemption(s, codes[n % len(codes)][0])
        except StoreError:
            assert await snapshot(sessions) == before, step
        await _check(sessions, stock)


async def test_two_members_taking_the_last_item_at_once_one_wins(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        partner = await add_partner(s, town.admin, town.sunflower.id, "Charity shop")
        reward = await add_reward(s, town.admin, partner.id, "Rice 5kg", 20, stock=1)
        for member in (town.fixer, town.walker):
            await adjust_points(s, town.admin, member, 50, "welcome")
    barrier = asyncio.Barrier(2)

    async def press(member: Person) -> Any:
        async with sessions.begin() as s:
            if on_postgres():
                # Both have seen one left before either takes it (SQLite serialises writers).
                assert (await s.get(Reward, reward.id)).stock == 1  # type: ignore[union-attr]
                await barrier.wait()
            return await redeem_reward(s, member, reward.id)

    results = await asyncio.gather(press(town.fixer), press(town.walker), return_exceptions=True)
    won = [r for r in results if isinstance(r, Redemption)]
    lost = [r for r in results if not isinstance(r, Redemption)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], NotFound) and lost[0].key == "That reward has run out."
    loser = town.walker if won[0].person_id == town.fixer.id else town.fixer
    async with sessions() as s:
        assert (await s.get(Reward, reward.id)).stock == 0  # type: ignore[union-attr]
        assert await s.scalar(select(Person.points_balance).where(Person.id == loser.id)) == 50
        assert await s.scalar(select(func.count(Redemption.id))) == 1


async def test_two_awards_at_once_stay_under_the_monthly_cap(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.point_awards import award_closed_wish
    from models.point_rules import set_point_rules
    from models.wishes import Wish, WishAssignment, WishStatus
    from tests.wishes import wish_in

    async with sessions.begin() as s:
        await set_point_rules(s, town.admin, town.sunflower.id, {"monthly_cap": 15})
    wishes = [await wish_in(sessions, town, WishStatus.DONE) for _ in range(2)]
    barrier = asyncio.Barrier(2)

    async def pay(wish_id: int) -> Any:
        async with sessions.begin() as s:
            wish = await s.get(Wish, wish_id)
            assert wish is not None
            places = (
                await s.scalars(select(WishAssignment).where(WishAssignment.wish_id == wish_id))
            ).all()
            if on_postgres():
                await barrier.wait()  # both have read before either pays
            await award_closed_wish(s, wish, 4, places)

    results = await asyncio.gather(*(pay(w.id) for w in wishes), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)], results
    async with sessions() as s:
        total = await s.scalar(select(Person.points_balance).where(Person.id == town.fixer.id))
    assert total == 15  # 10 + 5, not 10 + 10

"""Two people pressing the same button at the same moment, from two sessions.

On PostgreSQL both transactions read the wish before either writes; SQLite serialises them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.errors import StoreError
from models.people import Person
from models.points import PointsEntry
from models.points_ledger import adjust_points, redeem_reward
from models.rewards import Reward
from models.wish_closing import auto_confirm, confirm_wish
from models.wish_taking import accept_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus
from tests.databases import on_postgres
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
Op = Callable[[AsyncSession], Awaitable[Any]]


async def race(sessions: async_sessionmaker[AsyncSession], wish_id: int, *ops: Op) -> list[Any]:
    """Run the operations at once, each in its own transaction; results or StoreErrors."""
    barrier = asyncio.Barrier(len(ops))

    async def one(op: Op) -> Any:
        async with sessions.begin() as session:
            if on_postgres():
                # Both have read the wish in their own transaction before either writes.
                # (On SQLite the first read takes the write lock, so a barrier would deadlock.)
                await session.get(Wish, wish_id)
                await barrier.wait()
            return await op(session)

    return list(await asyncio.gather(*(one(op) for op in ops), return_exceptions=True))


def _outcome(results: list[Any]) -> tuple[int, int]:
    unexpected = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, StoreError)
    ]
    assert not unexpected, unexpected
    won = sum(1 for r in results if not isinstance(r, BaseException))
    return won, len(results) - won


async def test_two_members_accepting_the_last_place_one_wins(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    for _ in range(5):
        wish = await wish_in(sessions, town, S.OPEN)
        results = await race(
            sessions,
            wish.id,
            lambda s, w=wish.id: accept_wish(s, town.fixer, w),
            lambda s, w=wish.id: accept_wish(s, town.walker, w),
        )
        assert _outcome(results) == (1, 1)
        async with sessions() as s:
            fresh = await s.get(Wish, wish.id)
            assert fresh is not None
            assert (fresh.status, fresh.taken_count) == (S.ACCEPTED, 1)
            active = await s.scalar(
                select(func.count(WishAssignment.id)).where(
                    WishAssignment.wish_id == wish.id,
                    WishAssignment.status == AssignmentStatus.ACTIVE,
                )
            )
            assert active == 1


async def test_three_members_for_two_places_two_win(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN, category="errand", required_count=2)
    members: list[Person] = town.members
    results = await race(
        sessions, wish.id, *(lambda s, m=m: accept_wish(s, m, wish.id) for m in members)
    )
    assert _outcome(results) == (2, 1)
    async with sessions() as s:
        fresh = await s.get(Wish, wish.id)
        assert fresh is not None and (fresh.status, fresh.taken_count) == (S.ACCEPTED, 2)


async def test_confirm_from_two_sessions_pays_once(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.DONE)
    results = await race(
        sessions,
        wish.id,
        lambda s: confirm_wish(s, town.alice, wish.id, 5),
        lambda s: confirm_wish(s, town.alice, wish.id, 5),
        lambda s: auto_confirm(s, wish.id),
    )
    assert _outcome(results) == (1, 2)
    async with sessions() as s:
        awards = (
            await s.scalars(
                select(PointsEntry.amount).where(PointsEntry.person_id == town.fixer.id)
            )
        ).all()
        closes = await s.scalar(
            select(func.count(WishEvent.id)).where(
                WishEvent.wish_id == wish.id, WishEvent.to_status == S.CLOSED
            )
        )
        balance = await s.scalar(select(Person.points_balance).where(Person.id == town.fixer.id))
    assert len(awards) == 1 and closes == 1 and balance == awards[0]


async def test_two_redemptions_cannot_overdraw(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 30, "start")
        reward = Reward(community_id=town.sunflower.id, name="Tea set", cost=20)
        s.add(reward)
    wish = await wish_in(sessions, town, S.OPEN)  # the race helper reads some wish first
    results = await race(
        sessions,
        wish.id,
        lambda s: redeem_reward(s, town.fixer, reward.id),
        lambda s: redeem_reward(s, town.fixer, reward.id),
    )
    assert _outcome(results) == (1, 1)
    async with sessions() as s:
        assert await s.scalar(select(Person.points_balance).where(Person.id == town.fixer.id)) == 10

"""Partners, rewards and redemptions in the store: a code works once, an expiry refunds once,
stock and balances never go below zero, and the community's points rules apply from then on.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.catalogue import add_partner, add_reward, offers_for
from models.clock import ManualClock
from models.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from models.people import Person, Role, RoleGrant
from models.point_rules import point_rules, set_point_rules
from models.points import PointsEntry, PointsKind
from models.points_ledger import REWARD_EXPIRY, add_points, adjust_points, redeem_reward
from models.redemptions import expire_redemption, hand_over
from models.reminders import Reminder
from models.rewards import Partner, Redemption, RedemptionStatus, Reward
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import WishStatus
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
R = RedemptionStatus


async def _balance(sessions: async_sessionmaker[AsyncSession], person: Person) -> int:
    async with sessions() as s:
        cached = await s.scalar(select(Person.points_balance).where(Person.id == person.id))
        total = await s.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.person_id == person.id
            )
        )
        assert cached == total
        return int(cached or 0)


async def _shop(
    sessions: async_sessionmaker[AsyncSession], town: Town, *, stock: int | None = 2, cost: int = 20
) -> tuple[Partner, Reward]:
    """The barber (contact: Bob) offering a haircut; Fixer has 50 points."""
    async with sessions.begin() as s:
        partner = await add_partner(
            s, town.admin, town.sunflower.id, "Lee's Barber", kind="barber", contact=town.bob
        )
        reward = await add_reward(
            s, town.admin, partner.id, "Haircut", cost, stock=stock, collect_at="Mon-Fri 9-18"
        )
        await adjust_points(s, town.admin, town.fixer, 50, "a year of help")
    return partner, reward


async def test_only_the_communitys_admin_keeps_its_catalogue(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    before = await snapshot(sessions)
    for actor in (town.maple_admin, town.fixer, town.gw_north):
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await add_partner(s, actor, town.sunflower.id, "Corner shop")
    assert await snapshot(sessions) == before
    partner, _ = await _shop(sessions, town)
    async with sessions() as s:
        grant = await s.scalar(
            select(RoleGrant).where(
                RoleGrant.person_id == town.bob.id, RoleGrant.role == Role.PARTNER
            )
        )
        assert grant is not None and grant.scope_id == town.sunflower.id
    for cost, stock in ((0, None), (5, -1)):
        with pytest.raises(InvalidInput):
            async with sessions.begin() as s:
                await add_reward(s, town.admin, partner.id, "Rice", cost, stock=stock)
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            await add_reward(s, town.maple_admin, partner.id, "Rice", 5)


async def test_members_see_what_they_can_afford_first(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    partner, _ = await _shop(sessions, town, cost=20)
    async with sessions.begin() as s:
        await add_reward(s, town.admin, partner.id, "Shave", 5)
        await add_reward(s, town.admin, partner.id, "Dye", 80)
        await add_reward(s, town.admin, partner.id, "Sold out", 1, stock=0)
        await add_reward(
            s, town.admin, partner.id, "Old offer", 1, valid_until=clock.now() + dt.timedelta(1)
        )
    clock.advance(dt.timedelta(days=2))
    async with sessions() as s:
        fixer = await s.get(Person, town.fixer.id)
        assert fixer is not None
        offers = await offers_for(s, fixer)
        assert [(o.reward.name, o.affordable) for o in offers] == [
            ("Shave", True),
            ("Haircut", True),
            ("Dye", False),
        ]
        maple = await s.get(Person, town.maple_member.id)
        assert maple is not None and await offers_for(s, maple) == []


async def test_a_redemption_gets_a_code_that_the_partner_uses_once(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    _, reward = await _shop(sessions, town)
    async with sessions.begin() as s:
        redemption = await redeem_reward(s, town.fixer, reward.id)
    assert redemption.code and len(redemption.code) == 6
    assert redemption.expires_at == clock.now() + dt.timedelta(days=7)
    assert await _balance(sessions, town.fixer) == 30
    # Another partner, a member, an admin of another community: refused, nothing changes.
    async with sessions.begin() as s:
        await add_partner(s, town.admin, town.sunflower.id, "Clinic", contact=town.carol)
    before = await snapshot(sessions)
    for stranger in (town.carol, town.walker, town.maple_admin):
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await hand_over(s, stranger, redemption.code.lower())
    assert await snapshot(sessions) == before
    async with sessions.begin() as s:
        done = await hand_over(s, town.bob, f" {redemption.code[:3]}-{redemption.code[3:]} ")
    assert done.status == R.HANDED_OVER and done.closed_by_id == town.bob.id
    with pytest.raises(IllegalTransition, match="used already"):
        async with sessions.begin() as s:
            await hand_over(s, town.bob, redemption.code)
    for bad in ("NOPE", "000000", "KQ7XQQ"):
        with pytest.raises((InvalidInput, NotFound)):
            async with sessions.begin() as s:
                await hand_over(s, town.bob, bad)
    # Collected: its expiry reminder does nothing, whenever it fires.
    clock.advance(dt.timedelta(days=30))
    async with sessions.begin() as s:
        assert await expire_redemption(s, redemption.id) is None
    assert await _balance(sessions, town.fixer) == 30


async def test_an_uncollected_reward_expires_and_refunds_once(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    _, reward = await _shop(sessions, town, stock=1)
    async with sessions.begin() as s:
        redemption = await redeem_reward(s, town.fixer, reward.id)
    async with sessions() as s:
        reminder = await s.scalar(select(Reminder).where(Reminder.kind == REWARD_EXPIRY))
        assert reminder is not None
        assert reminder.payload["redemption_id"] == redemption.id
        assert reminder.due_at == redemption.expires_at
        assert (await s.get(Reward, reward.id)).stock == 0  # type: ignore[union-attr]
    clock.advance(dt.timedelta(days=6))
    async with sessions.begin() as s:
        assert await expire_redemption(s, redemption.id) is None  # not yet
    clock.advance(dt.timedelta(days=1))
    for _ in range(3):  # the reminder delivered again: one refund
        async with sessions.begin() as s:
            await expire_redemption(s, redemption.id)
    assert await _balance(sessions, town.fixer) == 50
    async with sessions() as s:
        refunds = (
            await s.scalars(
                select(PointsEntry).where(PointsEntry.idempotency_key.startswith("refund-"))
            )
        ).all()
        assert [(r.amount, r.idempotency_key) for r in refunds] == [(20, f"refund-{redemption.id}")]
        again = await s.get(Redemption, redemption.id)
        assert again is not None and again.status == R.EXPIRED
        assert again.refund_entry_id == refunds[0].id
        assert (await s.get(Reward, reward.id)).stock == 1  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition, match="expired"):
        async with sessions.begin() as s:
            await hand_over(s, town.bob, redemption.code or "")


async def test_a_late_hand_over_is_refused_even_before_the_sweep(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    _, reward = await _shop(sessions, town)
    async with sessions.begin() as s:
        redemption = await redeem_reward(s, town.fixer, reward.id)
    clock.advance(dt.timedelta(days=8))
    with pytest.raises(IllegalTransition):
        async with sessions.begin() as s:
            await hand_over(s, town.bob, redemption.code or "")


async def test_rules_change_from_then_on_and_never_rewrite_the_ledger(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    first = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, first.id, 5)
    assert await _balance(sessions, town.fixer) == 15  # repair 10 + bonus 5
    before = await snapshot(sessions, ("points_ledger",))
    async with sessions.begin() as s:
        await set_point_rules(
            s, town.admin, town.sunflower.id, {"base": {"repair": 12}, "five_star_bonus": 8}
        )
    assert await snapshot(sessions, ("points_ledger",)) == before
    second = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, second.id, 5)
    assert await _balance(sessions, town.fixer) == 15 + 20
    async with sessions() as s:
        rules = await point_rules(s, town.sunflower.id)
        assert rules.five_star_bonus == 8 and rules.base == {"repair": 12}
        assert (await point_rules(s, town.maple.id)).five_star_bonus == 5


async def test_a_bad_rule_is_refused_whole(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    before = await snapshot(sessions, ("communities",))
    for changes in (
        {"monthly_cap": -1},
        {"no_such_rule": 1},
        {"levels": [0, 50, 20, 300]},
        {"verify_points": 2, "collect_days": 0},
        {"per_hour": "lots"},
    ):
        with pytest.raises(InvalidInput):
            async with sessions.begin() as s:
                await set_point_rules(s, town.admin, town.sunflower.id, changes)
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            await set_point_rules(s, town.maple_admin, town.sunflower.id, {"verify_points": 1})
    assert await snapshot(sessions, ("communities",)) == before


async def test_verification_on_behalf_and_hours_earn_by_the_rules(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        await set_point_rules(
            s,
            town.admin,
            town.sunflower.id,
            {"verify_points": 2, "on_behalf_points": 3, "per_hour": 4},
        )
        checked = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Fix the tap"
        )
        await verify_wish(s, town.head_n1, checked.id)
        wish = await submit_wish(
            s,
            town.head_n1,
            building_id=town.n1.id,
            category="repair",
            description="Fix the door",
            requester=town.alice,
        )
        await accept_wish(s, town.fixer, wish.id)
        await report_done(s, town.fixer, wish.id, "Done", hours=2.5)
        await confirm_wish(s, town.alice, wish.id, 4)
    assert await _balance(sessions, town.head_n1) == 2 + 3  # checked one, entered another
    assert await _balance(sessions, town.alice) == 0
    assert await _balance(sessions, town.fixer) == 10 + 10  # base + 2.5 h x 4


async def test_the_monthly_cap_cuts_awards_but_not_corrections(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        await set_point_rules(s, town.admin, town.sunflower.id, {"monthly_cap": 22})
    for _ in range(3):
        wish = await wish_in(sessions, town, S.DONE)
        async with sessions.begin() as s:
            await confirm_wish(s, town.alice, wish.id, 4)
    assert await _balance(sessions, town.fixer) == 22  # 10 + 10 + 2
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 5, "extra shift")
    assert await _balance(sessions, town.fixer) == 27
    clock.advance(dt.timedelta(days=32))
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, 4)
    assert await _balance(sessions, town.fixer) == 37


async def test_a_retried_refund_key_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    for _ in range(2):
        async with sessions.begin() as s:
            await add_points(s, town.fixer.id, 4, PointsKind.REDEMPTION, "refund-x")
    assert await _balance(sessions, town.fixer) == 4


async def test_erasing_a_member_forgets_their_ranking_name(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.erasure import erase_person
    from models.points import RankingChoice
    from models.standings import choose_ranking, ranking

    async with sessions.begin() as s:
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        await choose_ranking(s, walker, True, "Auntie W")
        assert [r.name for r in await ranking(s, town.sunflower.id)] == ["Auntie W"]
        await erase_person(s, town.admin, town.walker.id)
    async with sessions() as s:
        assert await s.get(RankingChoice, town.walker.id) is None
        assert await ranking(s, town.sunflower.id) == []


async def test_a_monthly_statement_counts_earned_spent_and_the_balance_at_the_end(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    from zoneinfo import ZoneInfo

    from models.standings import Statement, month_bounds, statement

    shanghai = ZoneInfo("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 10, tzinfo=shanghai))
    _, reward = await _shop(sessions, town, stock=None)  # +50 in November
    clock.set(dt.datetime(2026, 12, 3, tzinfo=shanghai))
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 10, "extra")
        await redeem_reward(s, town.fixer, reward.id)
        dropped = await redeem_reward(s, town.fixer, reward.id)
    clock.set(dt.datetime(2026, 12, 11, tzinfo=shanghai))
    async with sessions.begin() as s:
        assert await expire_redemption(s, dropped.id) is not None
    async with sessions() as s:
        this = month_bounds(clock.now(), 0, shanghai)
        last = month_bounds(clock.now(), 1, shanghai)
        assert this[0] == dt.datetime(2026, 12, 1, tzinfo=shanghai)
        assert await statement(s, town.fixer.id, *this) == Statement(10, 20, 40)
        assert await statement(s, town.fixer.id, *last) == Statement(50, 0, 50)

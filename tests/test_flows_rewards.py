"""The rewards loop in chat: the office adds a partner and a reward, a member redeems it and
gets a code, the partner hands it over once; an uncollected code refunds once; /adjust tells.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from handlers.reminders import fire
from models.clock import ManualClock
from models.people import Person
from models.points_ledger import adjust_points
from models.reminders import ReminderStatus
from models.rewards import Redemption
from models.schedule import claim_due_reminders
from tests.chat import Chat, World
from tests.snapshot import snapshot
from tests.town import Town


async def _balance(sessions: async_sessionmaker[AsyncSession], person: Person) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(Person.points_balance).where(Person.id == person.id)) or 0)


async def _fire_due(world: World, sender: Chat) -> None:
    while True:
        async with world.sessions.begin() as s:
            due = await claim_due_reminders(s)
            if not due:
                return
            due[0].status = ReminderStatus.SENT
            for item in await fire(s, due[0], world.config):
                await world._route(s, sender, item)


async def _catalogue(world: World, town: Town) -> tuple[Chat, Chat]:
    """The admin registers Lee's Barber (Bob confirms) and a haircut for 20 points, 1 left."""
    admin = await world.as_person(town.admin)
    bob = await world.as_person(town.bob)
    await admin.send("/newreward")
    assert "Register a partner first" in admin.last.text
    await admin.send("/newpartner")
    await admin.send("Lee's Barber")
    await admin.send("Bob")  # searches the list
    await admin.press("Bob")
    assert "Partner Lee's Barber is registered" in admin.last.text
    assert "send /handover and the code" in bob.last.text
    await admin.send("/newreward")
    await admin.press("Lee's Barber")
    await admin.send("Haircut")
    await admin.send("lots")
    assert "whole number of points" in admin.last.text
    await admin.send("20")
    await admin.send("1")
    await admin.send("12 Main St, Mon-Fri 9-18")
    await admin.send("no photo")
    assert "Please send a photo" in admin.last.text
    await admin.deliver(photo="photo-of-the-haircut")
    assert "Haircut from Lee's Barber is in the catalogue" in admin.last.text
    return admin, bob


async def test_redeem_hand_over_once_and_expire_once(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    world = World(sessions)
    admin, bob = await _catalogue(world, town)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 50, "a year of help")

    await walker.send("/rewards")
    assert "🔒 Haircut · 20 points" in walker.button("Haircut").label
    await walker.press("Haircut")
    assert "You need 20 more points." in walker.last.text
    assert all("Redeem" not in b.label for row in walker.last.buttons for b in row)
    await walker.press("Back")
    assert "Rewards you can get now" in walker.last.text

    await fixer.send("/rewards")
    assert "🎁 Haircut · 20 points" in fixer.button("Haircut").label
    await fixer.press("Haircut")
    assert "Where and when: 12 Main St" in fixer.last.text
    assert fixer.last.photo == "photo-of-the-haircut"
    redeem = fixer.button("Redeem for 20 points")
    await fixer.deliver(button=redeem.data)
    reply = fixer.last
    async with sessions() as s:
        redemption = await s.scalar(select(Redemption))
    assert redemption is not None and redemption.code
    assert redemption.code in reply.text and reply.qr == redemption.code
    assert "You have 30 points left." in reply.text
    before = await snapshot(sessions)
    await fixer.deliver(button=redeem.data)  # the same press delivered again
    assert await snapshot(sessions, ("redemptions", "points_ledger")) == {
        k: v for k, v in before.items() if k in ("redemptions", "points_ledger")
    }
    assert await _balance(sessions, town.fixer) == 30

    await walker.send(f"/handover {redemption.code}")
    assert "is not for you" in walker.last.text
    await bob.send(f"/handover {redemption.code.lower()}")
    assert "Handed over: Haircut for Fixer" in bob.last.text
    assert "You collected Haircut" in fixer.last.text
    await bob.send(f"/handover {redemption.code}")
    assert "was used already" in bob.last.text
    await bob.send("/handover")
    assert "like /handover" in bob.last.text

    # Out of stock now; a second code, redeemed after a refill, expires and refunds once.
    await fixer.send("/rewards")
    assert "No rewards are offered" in fixer.last.text
    async with sessions.begin() as s:
        from models.rewards import Reward

        reward = await s.get(Reward, redemption.reward_id)
        assert reward is not None
        reward.stock = 1
    await fixer.send("/rewards")
    await fixer.press("Haircut")
    await fixer.press("Redeem")
    assert await _balance(sessions, town.fixer) == 10
    clock.advance(dt.timedelta(days=8))
    await _fire_due(world, admin)
    assert "was not collected in time: 20 points are back" in fixer.last.text
    await _fire_due(world, admin)
    assert await _balance(sessions, town.fixer) == 30
    await fixer.send("/points")
    assert "reward not collected: points back" in fixer.last.text


async def test_adjust_tells_the_person_and_names_who_and_why(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    fixer = await world.as_person(town.fixer)
    await admin.send("/adjust")
    await admin.send("Fixer")
    await admin.press("Fixer")
    await admin.send("twenty")
    assert "like +20" in admin.last.text
    await admin.send("+25")
    await admin.send("Helped at the autumn fair")
    assert "Done: Fixer" in admin.last.text and "+25" in admin.last.text
    assert "changed your points by +25: Helped at the autumn fair" in fixer.last.text
    assert await _balance(sessions, town.fixer) == 25
    await admin.send("/adjust")
    await admin.send("Fixer")
    await admin.press("Fixer")
    await admin.send("-30")
    await admin.send("correction")
    assert "Not enough points" in admin.last.text
    assert await _balance(sessions, town.fixer) == 25
    maple = await world.as_person(town.maple_member)
    await maple.send("/adjust")
    assert "is not for you" in maple.last.text


async def test_rankings_show_only_those_who_agreed(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 40, "help")
        await adjust_points(s, town.admin, town.walker, 10, "help")
    await walker.send("/points")
    assert "You are 2nd of 3 in Sunflower this month." in walker.last.text
    await walker.press("Rankings")
    assert "Nobody has agreed to appear yet." in walker.last.text
    await walker.send("/points")
    await walker.press("Show me in rankings")
    assert "as Walker" in walker.last.text
    await fixer.send("/points")
    await fixer.press("Rankings")
    assert "1. Walker · 10 points" in fixer.last.text
    assert "Fixer" not in fixer.last.text
    await walker.send("/points")
    await walker.press("Hide me")
    await fixer.press("Rankings")
    assert "Walker" not in fixer.last.text
    await fixer.send("/statement")
    assert "Earned 40 · spent 0 · balance 40" in fixer.last.text


async def test_hours_are_asked_only_where_the_community_pays_for_them(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.point_rules import set_point_rules
    from models.wish_closing import confirm_wish
    from models.wishes import WishStatus
    from tests.wishes import wish_in

    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    async with sessions.begin() as s:
        await set_point_rules(s, town.admin, town.sunflower.id, {"per_hour": 4})
    wish = await wish_in(sessions, town, WishStatus.ACCEPTED)
    await fixer.deliver(button=f"a:done:{wish.id}")
    await fixer.press("Skip")
    assert "How many hours" in fixer.last.text
    await fixer.send("lots")
    assert "as a number" in fixer.last.text
    await fixer.send("2,5")
    await fixer.press("Skip")
    assert "is reported done" in fixer.last.text
    async with sessions.begin() as s:
        await confirm_wish(s, town.alice, wish.id, 4)
    assert await _balance(sessions, town.fixer) == 10 + 10  # repair + 2.5 hours x 4


async def test_the_monthly_statement_comes_on_the_first_once(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    from zoneinfo import ZoneInfo

    from models.people import Role
    from models.schedule import plan_for_role

    shanghai = ZoneInfo("Asia/Shanghai")
    world = World(sessions)
    admin = await world.as_person(town.admin)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    clock.set(dt.datetime(2026, 11, 20, 10, tzinfo=shanghai))
    async with sessions.begin() as s:
        await adjust_points(s, town.admin, town.fixer, 40, "help")
    clock.set(dt.datetime(2026, 12, 1, 8, 30, tzinfo=shanghai))
    for _ in range(2):  # planned by two processes: sent once
        async with sessions.begin() as s:
            await plan_for_role(s, Role.MEMBER, "points_statement", dt.date(2026, 12, 1))
        await _fire_due(world, admin)
    statements = [t for t in fixer.texts() if "Your points in 2026-11:" in t]
    assert statements == [
        "Your points in 2026-11:\nEarned 40 · spent 0 · balance 40\n"
        "/rewards shows what they are worth."
    ]
    assert not any("Your points in" in t for t in walker.texts())


async def test_the_daily_planning_plans_statements_on_the_first_only(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    from zoneinfo import ZoneInfo

    from bot.runtime import Runtime
    from models.reminders import Reminder

    runtime = Runtime(app)
    shanghai = ZoneInfo("Asia/Shanghai")
    for day, expected in ((30, 0), (1, 5)):  # five members in the town (one in Maple)
        month = 11 if day == 30 else 12
        clock.set(dt.datetime(2026, month, day, 8, 30, tzinfo=shanghai))
        await runtime.plan_daily()
        async with sessions() as s:
            planned = (
                await s.scalars(select(Reminder).where(Reminder.kind == "points_statement"))
            ).all()
        assert len(planned) == expected


async def test_rankings_per_organisation_in_points_and_rankings_only_those_who_agreed(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.organisations import OrganisationKind, register_organisation
    from models.people import MemberProfile

    async with sessions.begin() as s:
        youth = await register_organisation(
            s, town.admin, town.sunflower.id, name="Riverside Youth", kind=OrganisationKind.OTHER
        )
        for member in (town.walker, town.runner):
            profile = await s.get(MemberProfile, member.id)
            assert profile is not None
            profile.organisation_id = youth.id
        await adjust_points(s, town.admin, town.fixer, 40, "help")
        await adjust_points(s, town.admin, town.walker, 10, "help")
        await adjust_points(s, town.admin, town.runner, 30, "help")
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    runner = await world.as_person(town.runner)
    # Walker is 3rd in the community, 2nd among Riverside Youth's staff (Fixer is not one).
    await walker.send("/points")
    assert "You are 3rd of 3 in Sunflower this month." in walker.last.text
    assert "You are 2nd of 2 in Riverside Youth this month." in walker.last.text
    assert "You are 2nd of 2 in Riverside Youth of all time." in walker.last.text
    await fixer.send("/points")
    assert "Riverside Youth" not in fixer.last.text
    # The organisation's rankings show only its staff who agreed to appear.
    await walker.press("Rankings")
    assert "🏆 Riverside Youth, this month:\nNobody has agreed to appear yet." in walker.last.text
    for chat in (runner, fixer):
        await chat.send("/points")
        await chat.press("Show me in rankings")
    await walker.send("/points")
    await walker.press("Rankings")
    said = walker.last.text
    community, youth_part = said.split("🏆 Riverside Youth, this month:")
    assert "1. Fixer · 40 points" in community and "2. Runner · 30 points" in community
    assert "1. Runner · 30 points" in youth_part
    assert "Fixer" not in youth_part and "Walker" not in said
    assert "🏆 Riverside Youth, of all time:\n1. Runner · 30 points" in youth_part
    # Fixer, of no organisation, sees the community's rankings only.
    await fixer.press("Rankings")
    assert "Riverside Youth" not in fixer.last.text

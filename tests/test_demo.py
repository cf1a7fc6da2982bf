"""`wishbot seed-demo`: a community with every role and wishes in every state, loaded once.

Checked in-process (states, events, points, idempotence) and through the real command line.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.demo import COMMUNITY, seed_demo
from bot.settings import load_settings
from models.community import Building, Community, Grid, Street
from models.people import MemberProfile, Person, Role, RoleGrant
from models.points import PointsEntry
from models.wishes import Category, Wish, WishEvent, WishStatus
from tests.databases import fresh_database
from tests.snapshot import snapshot
from tests.test_roster_import import messages, run_cli


async def seed(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions.begin() as session:
        return await seed_demo(session)


async def test_the_demo_has_every_place_and_role(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    summary = await seed(sessions)

    assert summary.startswith(f"Loaded the demo: {COMMUNITY}")
    async with sessions() as session:
        for model, expected in ((Street, 1), (Community, 1), (Grid, 2), (Building, 4)):
            assert await session.scalar(select(func.count()).select_from(model)) == expected
        roles = dict(
            (
                await session.execute(select(RoleGrant.role, func.count()).group_by(RoleGrant.role))
            ).all()
        )
        assert roles[Role.BUILDING_HEAD] == 4
        assert roles[Role.GRID_WORKER] == 2
        assert roles[Role.MEMBER] == 3
        assert roles[Role.ADMIN] == 1
        assert roles[Role.STREET_ADMIN] == 1
        assert roles[Role.RESIDENT] >= 8
        categories = set((await session.scalars(select(Category.code))).all())
        profiles = (await session.scalars(select(MemberProfile))).all()
        assert len(profiles) == 3
        assert all(p.approved and p.skills and set(p.skills) <= categories for p in profiles)
        # Every name the summary suggests trying is a real person.
        names = (await session.scalars(select(Person.name))).all()
    tried = summary.split("Try: ", 1)[1]
    assert sum(1 for name in names if name in tried) >= 6


async def test_every_wish_state_occurs_with_real_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)

    async with sessions() as session:
        wishes = (await session.scalars(select(Wish).order_by(Wish.id))).all()
        assert {w.status for w in wishes} == set(WishStatus)
        for wish in wishes:
            events = (
                await session.scalars(
                    select(WishEvent).where(WishEvent.wish_id == wish.id).order_by(WishEvent.id)
                )
            ).all()
            assert events[0].action == "submit"
            assert events[-1].to_status == wish.status
            for earlier, later in itertools.pairwise(events):
                assert later.from_status == earlier.to_status
        five_stars = [w for w in wishes if w.status == WishStatus.CLOSED and w.rating == 5]
        assert len(five_stars) >= 2
        escalated = [w for w in wishes if w.status == WishStatus.ESCALATED]
        # Someone at each of the upper rungs has an escalated wish waiting.
        assert {w.escalation_level for w in escalated} >= {3, 4}


async def test_points_match_the_ledger(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)

    async with sessions() as session:
        ledger = dict(
            (
                await session.execute(
                    select(PointsEntry.person_id, func.sum(PointsEntry.amount)).group_by(
                        PointsEntry.person_id
                    )
                )
            ).all()
        )
        people = (await session.scalars(select(Person))).all()
        awards = (await session.scalars(select(PointsEntry))).all()
    for person in people:
        assert person.points_balance == ledger.get(person.id, 0), person.name
    assert sum(p.points_balance for p in people) > 0
    # Points were earned only by closing wishes, one award per closed wish here.
    assert all(a.wish_id is not None for a in awards)
    assert len(awards) == len({a.wish_id for a in awards})


async def test_seeding_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    before = await snapshot(sessions)

    again = await seed(sessions)

    assert again == f"The demo is already loaded: {COMMUNITY} exists; nothing was changed."
    assert await snapshot(sessions) == before


async def test_cli_seed_demo(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        code, out, err = await run_cli(url, "seed-demo")
        assert code == 0, err
        assert out.startswith(f"Loaded the demo: {COMMUNITY}")
        assert messages(err) == []

        code, out, err = await run_cli(url, "seed-demo")
        assert code == 0, err
        assert out.startswith("The demo is already loaded")

        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            async with app.sessions() as session:
                statuses = set((await session.scalars(select(Wish.status))).all())
                communities = await session.scalar(select(func.count()).select_from(Community))
        finally:
            await app.close()
        assert statuses == set(WishStatus)
        assert communities == 1

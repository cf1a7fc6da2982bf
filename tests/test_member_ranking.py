"""Members are ranked and picked in the database: the same order and fit as `profile.fits`.

A skill is a whole item of the list ("repair" does not fit "repairs"), whatever the database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.office_work import suggestions
from models.open_tasks import members_fitting
from models.people import MemberProfile, Person
from models.wishes import WishStatus as S
from tests.town import Town
from tests.wishes import wish_in


async def test_fits_first_then_the_same_order_every_time(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN, category="errand")
    async with sessions.begin() as s:
        # Runner's only skill is a longer word holding "errand": no fit.
        runner = await s.get(MemberProfile, town.runner.id)
        assert runner is not None
        runner.skills = ["errands", "x-errand"]
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        walker.points_balance = 50  # more than Fixer
    async with sessions() as s:
        fresh = await s.get(type(wish), wish.id)
        assert fresh is not None
        ranked = await suggestions(s, fresh, 10)
        names = [(p.name, profile.fits("errand")) for p, profile, _ in ranked]
        # Both fit and are alike in every other way: the earlier member (by id) first.
        assert [n for n, fits in names if fits] == ["Fixer", "Walker"]
        assert names[-1] == ("Runner", False)
        assert len(await suggestions(s, fresh, 1)) == 1

        fitting = await members_fitting(s, fresh, 10)
        assert set(fitting) == {town.walker.id, town.fixer.id}
        assert town.runner.id not in fitting
        assert await members_fitting(s, fresh, 1) in ([town.walker.id], [town.fixer.id])

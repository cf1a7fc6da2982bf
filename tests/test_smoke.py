from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from tests.town import Town


async def test_a_wish_goes_round(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    async with sessions.begin() as s:
        wish = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="repair", description="Light out"
        )
        await verify_wish(s, town.head_n1, wish.id)
        await accept_wish(s, town.fixer, wish.id)
        await report_done(s, town.fixer, wish.id, "fixed")
        w = await confirm_wish(s, town.alice, wish.id, 5)
        assert w.status == "closed"
        assert w.code == f"W-{w.id:06d}"

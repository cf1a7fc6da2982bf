"""Put a wish of the test town into any state through the real operations.

Each state is reached the way people would reach it, so its events are real too.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.wish_asking import reject_wish, submit_wish, verify_wish
from models.wish_closing import cancel_wish, confirm_wish
from models.wish_escalation import escalate_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish, WishStatus
from tests.town import Town

S = WishStatus

# The path to each state: each step is (action, who) from a freshly submitted wish.
PATHS: dict[WishStatus, list[str]] = {
    S.SUBMITTED: [],
    S.OPEN: ["verify"],
    S.ACCEPTED: ["verify", "accept"],
    S.DONE: ["verify", "accept", "report_done"],
    S.CLOSED: ["verify", "accept", "report_done", "confirm"],
    S.REJECTED: ["reject"],
    S.CANCELLED: ["cancel"],
    S.ESCALATED: ["verify", "escalate"],
}


async def wish_in(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    status: WishStatus,
    *,
    category: str = "repair",
    required_count: int = 1,
) -> Wish:
    """A wish of Alice's in building N1, in the given state; Fixer is its member."""
    async with sessions.begin() as s:
        wish = await submit_wish(
            s,
            town.alice,
            building_id=town.n1.id,
            category=category,
            description="The corridor light on floor 3 is out",
            required_count=required_count,
        )
        for step in PATHS[status]:
            if step == "verify":
                await verify_wish(s, town.head_n1, wish.id)
            elif step == "accept":
                await accept_wish(s, town.fixer, wish.id)
            elif step == "report_done":
                await report_done(s, town.fixer, wish.id, "Replaced the bulb")
            elif step == "confirm":
                await confirm_wish(s, town.alice, wish.id, 5, "Thank you!")
            elif step == "reject":
                await reject_wish(s, town.head_n1, wish.id, "Not a community matter")
            elif step == "cancel":
                await cancel_wish(s, town.alice, wish.id)
            elif step == "escalate":
                await escalate_wish(s, town.head_n1, wish.id, "Needs the power company")
        assert wish.status == status
        return wish

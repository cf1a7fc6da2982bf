"""Team claims mixed with every other move of a wish keep the store's invariants: each place
is held by a named person or by a team still to name them, points are paid once, and the
organisation's total is always the sum of its people's awards on its places.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.errors import StoreError
from models.organisations import Organisation
from models.points import PointsEntry, PointsKind
from models.team_claims import TeamClaim, claim_for_team, name_for_team, organisation_points
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import cancel_wish, confirm_wish
from models.wish_escalation import escalate_wish
from models.wish_taking import accept_wish, auto_release, release_wish, report_done
from models.wishes import AssignmentStatus, WishAssignment
from tests.snapshot import snapshot
from tests.test_invariants import SCHOOL, _school, check_invariants
from tests.town import Town

# Weighted towards the team's moves and the way to a close.
MOVES = [
    *["claim"] * 2,
    *["name"] * 3,
    "accept",
    "release",
    *["report_done"] * 4,
    *["confirm"] * 3,
    "cancel",
    "auto_release",
]
steps = st.lists(st.tuples(st.sampled_from(MOVES), st.integers(0, 2)), min_size=10, max_size=30)


async def _move(s: AsyncSession, town: Town, wish_id: int, move: str, n: int) -> None:
    member = town.members[n]
    school_id = await s.scalar(select(Organisation.id).where(Organisation.name == SCHOOL))
    assert school_id is not None
    if move == "claim":
        await claim_for_team(s, town.walker, wish_id, school_id)
    elif move == "name":
        claim_id = await s.scalar(select(TeamClaim.id).where(TeamClaim.wish_id == wish_id))
        if claim_id is None:
            raise StoreError("no claim")
        await name_for_team(s, town.walker, claim_id, member)
    elif move == "accept":
        await accept_wish(s, member, wish_id)
    elif move == "release":
        await release_wish(s, member, wish_id)
    elif move == "report_done":
        await report_done(s, member, wish_id, "done")
    elif move == "confirm":
        await confirm_wish(s, town.alice, wish_id, 5)
    elif move == "cancel":
        await cancel_wish(s, town.alice, wish_id)
    elif move == "auto_release":
        await auto_release(s, wish_id)
    elif move == "escalate":
        await escalate_wish(s, town.head_n1, wish_id, "too big")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
async def test_team_claims_among_other_moves_keep_the_invariants(
    sessions: async_sessionmaker[AsyncSession], town: Town, steps: list[tuple[str, int]]
) -> None:
    await _school(sessions, town)
    async with sessions() as s:
        school_id = await s.scalar(select(Organisation.id).where(Organisation.name == SCHOOL))
        assert school_id is not None
        total_before = await organisation_points(s, school_id)
    async with sessions.begin() as s:
        wish = await submit_wish(
            s, town.alice, building_id=town.n1.id, category="errand", description="Move house"
        )
        await verify_wish(s, town.head_n1, wish.id, required_count=3)
        wish_id = wish.id
    for move, n in steps:
        before = await snapshot(sessions)
        try:
            async with sessions.begin() as s:
                await _move(s, town, wish_id, move, n)
            event(f"{move} succeeded")
        except StoreError:
            assert await snapshot(sessions) == before, move
        await check_invariants(sessions)
    async with sessions() as s:
        # The school's total grew by exactly the awards on this wish to those who held a place
        # for it when it closed (a sum over places, not a copy that could drift).
        held = set(
            (
                await s.scalars(
                    select(WishAssignment.member_id).where(
                        WishAssignment.wish_id == wish_id,
                        WishAssignment.organisation_id == school_id,
                        WishAssignment.status == AssignmentStatus.ACTIVE,
                    )
                )
            ).all()
        )
        awards = (
            await s.execute(
                select(PointsEntry.person_id, PointsEntry.amount).where(
                    PointsEntry.wish_id == wish_id, PointsEntry.kind == PointsKind.AWARD
                )
            )
        ).all()
        grown = await organisation_points(s, school_id) - total_before
        assert grown == sum(amount for person, amount in awards if person in held)
        if awards:
            event("closed with points")

"""Each permission rule, tried by the wrong people: refused, and the database unchanged.

And tried by the right people in a wider scope (grid worker, admin), who may.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.directory import approve_member, grant_role
from models.errors import NotAllowed
from models.people import Person, Role
from models.points_ledger import adjust_points
from models.wish_asking import reject_wish, submit_wish, verify_wish
from models.wish_closing import cancel_wish, confirm_wish, dispute_wish
from models.wish_escalation import escalate_wish, resolve_wish
from models.wish_taking import accept_wish, assign_wish, release_wish, report_done
from models.wishes import WishStatus
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
Do = Callable[[AsyncSession, Person, int, Town], Awaitable[Any]]

# (rule, state of Alice's N1 wish, the action, who must be refused, who may)
RULES: list[tuple[str, WishStatus, Do, list[str], list[str]]] = [
    (
        "only heads of the building (or above) verify",
        S.SUBMITTED,
        lambda s, p, w, t: verify_wish(s, p, w),
        ["alice", "bob", "head_n2", "head_s1", "gw_south", "fixer", "maple_admin"],
        ["head_n1", "gw_north", "admin", "street_admin"],
    ),
    (
        "only heads of the building (or above) reject",
        S.SUBMITTED,
        lambda s, p, w, t: reject_wish(s, p, w, "no"),
        ["alice", "head_n2", "fixer", "maple_admin"],
        ["head_n1", "admin"],
    ),
    (
        "only approved members of the community accept",
        S.OPEN,
        lambda s, p, w, t: accept_wish(s, p, w),
        ["alice", "bob", "head_n1", "admin", "newbie", "maple_member"],
        ["fixer", "walker"],
    ),
    (
        "only grid workers and admins in scope assign",
        S.OPEN,
        lambda s, p, w, t: assign_wish(s, p, w, t.walker),
        ["alice", "head_n1", "gw_south", "fixer", "maple_admin"],
        ["gw_north", "admin", "street_admin"],
    ),
    (
        "only the member who took it releases it",
        S.ACCEPTED,
        lambda s, p, w, t: release_wish(s, p, w),
        ["alice", "walker", "head_n1", "admin"],
        ["fixer"],
    ),
    (
        "only the member who took it reports it done",
        S.ACCEPTED,
        lambda s, p, w, t: report_done(s, p, w, "done"),
        ["alice", "walker", "head_n1", "admin"],
        ["fixer"],
    ),
    (
        "only the requester confirms",
        S.DONE,
        lambda s, p, w, t: confirm_wish(s, p, w, 5),
        ["bob", "fixer", "head_n1", "admin"],
        ["alice"],
    ),
    (
        "only the requester disputes",
        S.DONE,
        lambda s, p, w, t: dispute_wish(s, p, w, "not done"),
        ["bob", "fixer", "head_n1", "admin"],
        ["alice"],
    ),
    (
        "only the requester cancels",
        S.OPEN,
        lambda s, p, w, t: cancel_wish(s, p, w),
        ["bob", "fixer", "head_n1", "admin"],
        ["alice"],
    ),
    (
        "only the ladder in scope escalates",
        S.OPEN,
        lambda s, p, w, t: escalate_wish(s, p, w, "too big"),
        ["alice", "fixer", "head_n2", "gw_south", "maple_admin"],
        ["head_n1", "gw_north", "admin"],  # the street admin is the top: they resolve
    ),
    (
        "only whoever holds the rung resolves",
        S.ESCALATED,  # escalated by the head: the grid worker holds it
        lambda s, p, w, t: resolve_wish(s, p, w, "answered"),
        ["alice", "fixer", "head_n1", "gw_south", "maple_admin"],
        ["gw_north", "admin", "street_admin"],
    ),
]


@pytest.mark.parametrize(
    ("rule", "status", "do", "refused", "allowed"), RULES, ids=[r[0] for r in RULES]
)
async def test_rule(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    rule: str,
    status: WishStatus,
    do: Do,
    refused: list[str],
    allowed: list[str],
) -> None:
    wish = await wish_in(sessions, town, status)
    before = await snapshot(sessions)
    for name in refused:
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await do(s, getattr(town, name), wish.id, town)
        assert await snapshot(sessions) == before, f"{name} changed something"
    for name in allowed:
        # Each allowed person acts on a fresh wish in the same state.
        fresh = await wish_in(sessions, town, status)
        async with sessions.begin() as s:
            await do(s, getattr(town, name), fresh.id, town)


async def test_residents_ask_only_in_their_own_building(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    before = await snapshot(sessions)
    attempts: list[tuple[Person, int, Person | None]] = [
        (town.alice, town.n2.id, None),  # not her building
        (town.fixer, town.n1.id, None),  # a member, not living there
        (town.head_n1, town.n2.id, town.bob),  # on behalf, outside the head's building
        (town.bob, town.n2.id, town.alice),  # a resident cannot speak for another
        (town.maple_admin, town.n1.id, town.alice),  # another community's admin
    ]
    for actor, building_id, requester in attempts:
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await submit_wish(
                    s,
                    actor,
                    building_id=building_id,
                    category="errand",
                    description="Help",
                    requester=requester,
                )
    assert await snapshot(sessions) == before


async def test_only_admins_of_the_community_grant_approve_and_adjust(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    before = await snapshot(sessions)
    for actor in (town.alice, town.head_n1, town.gw_north, town.fixer, town.maple_admin):
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await grant_role(s, actor, town.bob, Role.BUILDING_HEAD, town.n2.id)
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await approve_member(s, actor, town.newbie)
        with pytest.raises(NotAllowed):
            async with sessions.begin() as s:
                await adjust_points(s, actor, town.fixer, 10, "good work")
    # A community admin cannot make a street admin.
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            await grant_role(s, town.admin, town.bob, Role.STREET_ADMIN, town.street.id)
    assert await snapshot(sessions) == before
    async with sessions.begin() as s:
        await grant_role(s, town.admin, town.bob, Role.BUILDING_HEAD, town.n2.id)
        profile = await approve_member(s, town.admin, town.newbie)
        entry = await adjust_points(s, town.admin, town.fixer, 10, "good work")
    assert profile.approved and entry.amount == 10

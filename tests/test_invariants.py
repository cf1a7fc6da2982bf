"""Random sequences of operations by random people keep the store's invariants.

Status always legal and matching the last event, places matching assignments, the ledger
matching every balance (never negative), and exactly one close event per closed wish.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.errors import N_, NotFound, StoreError
from models.organisations import (
    Organisation,
    OrganisationKind,
    join_organisation,
    register_organisation,
)
from models.people import Person
from models.points import PointsEntry
from models.points_ledger import adjust_points
from models.team_claims import TeamClaim, claim_for_team, name_for_team, unnamed_places
from models.wish_asking import mark_urgent, reject_wish, submit_wish, verify_wish
from models.wish_closing import auto_confirm, cancel_wish, confirm_wish, dispute_wish
from models.wish_escalation import auto_escalate, climb, escalate_wish, resolve_wish
from models.wish_taking import (
    accept_wish,
    assign_wish,
    auto_release,
    release_wish,
    report_done,
    still_on_it,
)
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
Op = Callable[[AsyncSession, Person, int, Town, int], Awaitable[Any]]

# Each operation, with the arguments a person would give; the actor and wish are drawn.
OPERATIONS: dict[str, Op] = {
    "verify": lambda s, p, w, t, n: verify_wish(s, p, w),
    "reject": lambda s, p, w, t, n: reject_wish(s, p, w, "not for us"),
    "accept": lambda s, p, w, t, n: accept_wish(s, p, w),
    "assign": lambda s, p, w, t, n: assign_wish(s, p, w, t.members[n % 3]),
    "release": lambda s, p, w, t, n: release_wish(s, p, w),
    "report_done": lambda s, p, w, t, n: report_done(s, p, w, "done"),
    "confirm": lambda s, p, w, t, n: confirm_wish(s, p, w, n if n else None),
    "auto_confirm": lambda s, p, w, t, n: auto_confirm(s, w),
    "dispute": lambda s, p, w, t, n: dispute_wish(s, p, w, "not done"),
    "cancel": lambda s, p, w, t, n: cancel_wish(s, p, w),
    "escalate": lambda s, p, w, t, n: escalate_wish(s, p, w, "too big"),
    "resolve": lambda s, p, w, t, n: resolve_wish(s, p, w, "answered"),
    "adjust": lambda s, p, w, t, n: adjust_points(s, p, t.members[n % 3], 3 - n * 2, "fix"),
    "still_on_it": lambda s, p, w, t, n: still_on_it(s, p, w),
    "auto_release": lambda s, p, w, t, n: auto_release(s, w),
    "auto_escalate": lambda s, p, w, t, n: auto_escalate(s, w, "no taker"),
    "climb": lambda s, p, w, t, n: climb(s, w, "nobody answered"),
    "mark_urgent": lambda s, p, w, t, n: mark_urgent(s, p, w, "flooding"),
    "team_claim": lambda s, p, w, t, n: _team_claim(s, p, w),
    "name": lambda s, p, w, t, n: _name(s, p, w, t.members[n % 3]),
}

SCHOOL = "Invariant School"


async def _school_id(s: AsyncSession) -> int:
    found = await s.scalar(select(Organisation.id).where(Organisation.name == SCHOOL))
    if found is None:
        raise NotFound(N_("There is no such organisation."))
    return found


async def _team_claim(s: AsyncSession, actor: Person, wish_id: int) -> object:
    return await claim_for_team(s, actor, wish_id, await _school_id(s))


async def _name(s: AsyncSession, actor: Person, wish_id: int, member: Person) -> object:
    claim_id = await s.scalar(select(TeamClaim.id).where(TeamClaim.wish_id == wish_id))
    if claim_id is None:
        raise NotFound(N_("There is no such team claim."))
    return await name_for_team(s, actor, claim_id, member)


async def _school(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    """Walker is the school's contact; Fixer and Runner its approved staff (once per run)."""
    async with sessions.begin() as s:
        if await s.scalar(select(Organisation.id).where(Organisation.name == SCHOOL)):
            return
        school = await register_organisation(
            s, town.admin, town.sunflower.id, name=SCHOOL, kind=OrganisationKind.SCHOOL
        )
        await join_organisation(s, town.walker, school, as_contact=True)
        for member in (town.fixer, town.runner):
            await join_organisation(s, member, school, as_contact=False)


# Anybody may try anything; half of the time the person who would normally do it tries,
# so that the deep states (done, closed, escalated) are reached too.
PEOPLE = [
    "alice",
    "bob",
    "carol",
    "head_n1",
    "head_n2",
    "head_s1",
    "gw_north",
    "admin",
    "street_admin",
    "fixer",
    "walker",
    "runner",
    "newbie",
    "maple_admin",
    "maple_member",
]

steps = st.lists(
    st.tuples(
        st.sampled_from(sorted(OPERATIONS)),
        st.one_of(st.just("natural"), st.sampled_from(PEOPLE)),
        st.integers(0, 3),  # which of the example's wishes
        st.integers(0, 5),  # a rating, a member, an amount
    ),
    min_size=15,
    max_size=50,
)


def natural(operation: str, wish: Wish, n: int, town: Town) -> Person:
    """Who would normally do this to the wish."""
    requester = town.alice if wish.requester_id == town.alice.id else town.bob
    head = town.head_n1 if wish.building_id == town.n1.id else town.head_n2
    return {
        "verify": head,
        "reject": head,
        "escalate": head,
        "accept": town.members[n % 3],
        "release": town.members[n % 3],
        "report_done": town.members[n % 3],
        "assign": town.admin,
        "adjust": town.admin,
        "confirm": requester,
        "dispute": requester,
        "cancel": requester,
        "resolve": town.street_admin,
        "auto_confirm": town.admin,
        "still_on_it": town.members[n % 3],
        "auto_release": town.admin,
        "auto_escalate": town.admin,
        "climb": town.admin,
        "mark_urgent": requester,
        "team_claim": town.walker,
        "name": town.walker,
    }[operation]


async def _new_wishes(sessions: async_sessionmaker[AsyncSession], town: Town) -> list[Wish]:
    """Wishes that start along the way, so that a few steps reach every state."""
    await _school(sessions, town)
    wishes = [
        await wish_in(sessions, town, S.OPEN, required_count=2),
        await wish_in(sessions, town, S.ACCEPTED),
        await wish_in(sessions, town, S.DONE),
    ]
    async with sessions.begin() as s:
        wish = await submit_wish(
            s, town.bob, building_id=town.n2.id, category="errand", description="Shopping"
        )
    return [*wishes, wish]


async def check_invariants(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        wishes = (await s.scalars(select(Wish))).all()
        events = (await s.scalars(select(WishEvent).order_by(WishEvent.id))).all()
        active = Counter(
            (
                await s.scalars(
                    select(WishAssignment.wish_id).where(
                        WishAssignment.status == AssignmentStatus.ACTIVE
                    )
                )
            ).all()
        )
        ledger = dict(
            (
                await s.execute(
                    select(PointsEntry.person_id, func.sum(PointsEntry.amount)).group_by(
                        PointsEntry.person_id
                    )
                )
            ).all()
        )
        balances = dict((await s.execute(select(Person.id, Person.points_balance))).all())
        unnamed = await unnamed_places(s)
        awards = Counter(
            (await s.execute(select(PointsEntry.wish_id, PointsEntry.person_id))).all()
        )

    last: dict[int, WishEvent] = {}
    closes: Counter[int] = Counter()
    for row in events:
        last[row.wish_id] = row
        if row.to_status == S.CLOSED:
            closes[row.wish_id] += 1
    for wish in wishes:
        assert wish.status in set(WishStatus)
        assert last[wish.id].to_status == wish.status, wish.code
        assert closes[wish.id] == (1 if wish.status == S.CLOSED else 0), wish.code
        # Every place is held by someone, or by a team that has not named them yet.
        assert active[wish.id] + unnamed.get(wish.id, 0) == wish.taken_count, wish.code
        assert 0 <= wish.taken_count <= wish.required_count
        if wish.status == S.ACCEPTED:
            assert wish.taken_count == wish.required_count
        if wish.status in (S.OPEN,):
            assert wish.taken_count < wish.required_count
        if wish.status in (S.SUBMITTED, S.REJECTED, S.CANCELLED, S.ESCALATED):
            assert wish.taken_count == 0
    for person_id, cached in balances.items():
        assert cached >= 0
        assert cached == ledger.get(person_id, 0)
    for (wish_id, _person), count in awards.items():
        if wish_id is not None:
            assert count == 1
            assert next(w for w in wishes if w.id == wish_id).status == S.CLOSED


@settings(
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
async def test_random_operations_keep_the_invariants(
    sessions: async_sessionmaker[AsyncSession], town: Town, steps: list[tuple[str, str, int, int]]
) -> None:
    wishes = await _new_wishes(sessions, town)
    for operation, who, which, n in steps:
        before = await snapshot(sessions)
        try:
            async with sessions.begin() as s:
                wish = wishes[which]
                actor = (
                    natural(operation, wish, n, town) if who == "natural" else getattr(town, who)
                )
                await OPERATIONS[operation](s, actor, wish.id, town, n)
            event(f"{operation} succeeded")  # --hypothesis-show-statistics shows the reach
        except StoreError:
            assert await snapshot(sessions) == before, (operation, who)
        await check_invariants(sessions)

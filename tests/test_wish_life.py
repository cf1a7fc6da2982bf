"""Every transition of a wish, legal and illegal, from every state.

Legal ones move the wish and write one event; illegal ones are refused and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.duplicates import merge_wishes
from models.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound, StoreError
from models.people import Person
from models.wish_asking import mark_urgent, reject_wish, submit_wish, verify_wish
from models.wish_closing import auto_confirm, cancel_wish, confirm_wish, dispute_wish
from models.wish_escalation import auto_escalate, climb, escalate_wish, resolve_wish
from models.wish_moves import TRANSITIONS, wish_by_code
from models.wish_record import events_of
from models.wish_taking import (
    accept_wish,
    assign_wish,
    auto_release,
    release_wish,
    report_done,
    still_on_it,
)
from models.wishes import AssignmentStatus, WishAssignment, WishEvent, WishStatus
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
Action = Callable[[AsyncSession, Town, int], Awaitable[Any]]

# Each action done by the person entitled to do it on Alice's wish in N1.
ACTIONS: dict[str, tuple[Callable[[Town], Person | None], Action]] = {
    "verify": (lambda t: t.head_n1, lambda s, t, w: verify_wish(s, t.head_n1, w)),
    "reject": (lambda t: t.head_n1, lambda s, t, w: reject_wish(s, t.head_n1, w, "Duplicate")),
    "accept": (lambda t: t.walker, lambda s, t, w: accept_wish(s, t.walker, w)),
    "assign": (lambda t: t.admin, lambda s, t, w: assign_wish(s, t.admin, w, t.runner)),
    "release": (lambda t: t.fixer, lambda s, t, w: release_wish(s, t.fixer, w, "Sick")),
    "report_done": (lambda t: t.fixer, lambda s, t, w: report_done(s, t.fixer, w, "Done")),
    "confirm": (lambda t: t.alice, lambda s, t, w: confirm_wish(s, t.alice, w, 4)),
    "auto_confirm": (lambda t: None, lambda s, t, w: auto_confirm(s, w)),
    "dispute": (lambda t: t.alice, lambda s, t, w: dispute_wish(s, t.alice, w, "Still dark")),
    "cancel": (lambda t: t.alice, lambda s, t, w: cancel_wish(s, t.alice, w, "Fixed it myself")),
    "escalate": (lambda t: t.admin, lambda s, t, w: escalate_wish(s, t.admin, w, "Too big")),
    "resolve": (
        lambda t: t.street_admin,
        lambda s, t, w: resolve_wish(s, t.street_admin, w, "The power company will come"),
    ),
    "still_on_it": (lambda t: t.fixer, lambda s, t, w: still_on_it(s, t.fixer, w)),
    "auto_release": (lambda t: None, lambda s, t, w: auto_release(s, w)),
    "auto_escalate": (lambda t: None, lambda s, t, w: auto_escalate(s, w, "No taker")),
    "climb": (lambda t: None, lambda s, t, w: climb(s, w, "Nobody answered")),
    "mark_urgent": (lambda t: t.alice, lambda s, t, w: mark_urgent(s, t.alice, w, "Flooding")),
    "merge": (lambda t: t.head_n1, lambda s, t, w: _merge_into_another(s, t, w)),
}


async def _merge_into_another(s: AsyncSession, t: Town, wish_id: int) -> Any:
    """Alice asks the same again; the head merges the wish under test into the new one."""
    kept = await submit_wish(
        s, t.alice, building_id=t.n1.id, category="repair", description="Light out, floor 3"
    )
    return await merge_wishes(s, t.head_n1, wish_id, kept.id)


# DESIGN.md's life of a wish, written out independently of the code's own table.
LEGAL: dict[tuple[str, WishStatus], WishStatus] = {
    ("verify", S.SUBMITTED): S.OPEN,
    ("reject", S.SUBMITTED): S.REJECTED,
    ("accept", S.OPEN): S.ACCEPTED,
    ("assign", S.OPEN): S.ACCEPTED,
    ("release", S.OPEN): S.OPEN,
    ("release", S.ACCEPTED): S.OPEN,
    ("report_done", S.ACCEPTED): S.DONE,
    ("confirm", S.DONE): S.CLOSED,
    ("auto_confirm", S.DONE): S.CLOSED,
    ("dispute", S.DONE): S.ACCEPTED,
    ("cancel", S.SUBMITTED): S.CANCELLED,
    ("cancel", S.OPEN): S.CANCELLED,
    ("merge", S.SUBMITTED): S.CANCELLED,
    ("merge", S.OPEN): S.CANCELLED,
    ("escalate", S.SUBMITTED): S.ESCALATED,
    ("escalate", S.OPEN): S.ESCALATED,
    ("escalate", S.ACCEPTED): S.ESCALATED,
    ("escalate", S.DONE): S.ESCALATED,
    ("escalate", S.ESCALATED): S.ESCALATED,
    ("resolve", S.ESCALATED): S.CLOSED,
    ("still_on_it", S.ACCEPTED): S.ACCEPTED,
    ("auto_release", S.ACCEPTED): S.OPEN,
    ("auto_escalate", S.OPEN): S.ESCALATED,
    ("climb", S.ESCALATED): S.ESCALATED,
    ("mark_urgent", S.SUBMITTED): S.SUBMITTED,
    ("mark_urgent", S.OPEN): S.OPEN,
    ("mark_urgent", S.ACCEPTED): S.ACCEPTED,
    ("mark_urgent", S.DONE): S.DONE,
    ("mark_urgent", S.ESCALATED): S.ESCALATED,
}
CASES = [(action, status) for action in ACTIONS for status in WishStatus]


def test_the_code_knows_the_same_life() -> None:
    code = {(a, f) for a, (froms, _) in TRANSITIONS.items() for f in froms}
    assert code == set(LEGAL)


async def _wish_for(
    sessions: async_sessionmaker[AsyncSession], town: Town, action: str, status: WishStatus
) -> int:
    # Releasing from "open" needs a place held on a wish that is still open.
    if action == "release" and status == S.OPEN:
        wish = await wish_in(sessions, town, S.OPEN, required_count=2)
        async with sessions.begin() as s:
            await accept_wish(s, town.fixer, wish.id)
        return wish.id
    return (await wish_in(sessions, town, status)).id


@pytest.mark.parametrize(("action", "status"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
async def test_transition(
    sessions: async_sessionmaker[AsyncSession], town: Town, action: str, status: WishStatus
) -> None:
    wish_id = await _wish_for(sessions, town, action, status)
    actor_of, do = ACTIONS[action]
    before = await snapshot(sessions)

    if (action, status) in LEGAL:
        async with sessions.begin() as s:
            wish = await do(s, town, wish_id)
            events = await events_of(s, wish_id)
        assert wish.status == LEGAL[action, status]
        last = events[-1]
        actor = actor_of(town)
        assert (last.action, last.from_status, last.to_status) == (action, status, wish.status)
        assert last.actor_id == (actor.id if actor else None)
        assert len(events) == _events_of(before, wish_id) + 1
    else:
        # Release and report-done first ask whether the actor holds a place at all.
        expected: tuple[type[StoreError], ...] = (IllegalTransition,)
        if action in ("release", "report_done", "still_on_it"):
            expected = (IllegalTransition, NotAllowed)
        with pytest.raises(expected):
            async with sessions.begin() as s:
                await do(s, town, wish_id)
        assert await snapshot(sessions) == before


def _events_of(before: dict[str, list[tuple[Any, ...]]], wish_id: int) -> int:
    index = [c.name for c in WishEvent.__table__.columns].index("wish_id")
    return sum(1 for row in before["wish_events"] if row[index] == wish_id)


async def test_the_whole_life_with_two_helpers(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN, category="errand", required_count=2)
    async with sessions.begin() as s:
        first = await accept_wish(s, town.fixer, wish.id)
        assert (first.status, first.taken_count) == (S.OPEN, 1)
        second = await accept_wish(s, town.walker, wish.id)
        assert (second.status, second.taken_count) == (S.ACCEPTED, 2)
    with pytest.raises(IllegalTransition):
        async with sessions.begin() as s:
            await accept_wish(s, town.runner, wish.id)
    async with sessions.begin() as s:
        await release_wish(s, town.walker, wish.id)
        again = await accept_wish(s, town.runner, wish.id)
        assert (again.status, again.taken_count) == (S.ACCEPTED, 2)
        await report_done(s, town.runner, wish.id, "Carried the shopping")
        closed = await confirm_wish(s, town.alice, wish.id, 5, "Lovely people")
        assert closed.status == S.CLOSED and closed.rating == 5
        assert closed.rating_comment == "Lovely people"
        actions = [e.action for e in await events_of(s, wish.id)]
    assert actions == [
        "submit",
        "verify",
        "accept",
        "accept",
        "release",
        "accept",
        "report_done",
        "confirm",
    ]


async def test_a_released_member_can_take_the_wish_again(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.ACCEPTED)
    async with sessions.begin() as s:
        await release_wish(s, town.fixer, wish.id)
        back = await accept_wish(s, town.fixer, wish.id)
        rows = (
            await s.scalars(select(WishAssignment).where(WishAssignment.wish_id == wish.id))
        ).all()
    assert back.status == S.ACCEPTED
    assert [(r.member_id, r.status) for r in rows] == [(town.fixer.id, AssignmentStatus.ACTIVE)]


async def test_a_member_cannot_take_the_same_wish_twice(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN, required_count=3)
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, wish.id)
    before = await snapshot(sessions)
    with pytest.raises(IllegalTransition):
        async with sessions.begin() as s:
            await accept_wish(s, town.fixer, wish.id)
    assert await snapshot(sessions) == before


async def test_a_dispute_sends_the_wish_back_to_its_member(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.DONE)
    async with sessions.begin() as s:
        back = await dispute_wish(s, town.alice, wish.id, "Still flickering")
        assert back.status == S.ACCEPTED
        again = await report_done(s, town.fixer, wish.id, "New fitting this time")
        assert again.status == S.DONE


async def test_escalation_climbs_the_ladder_and_the_answer_closes_it(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.ACCEPTED)
    async with sessions.begin() as s:
        w = await escalate_wish(s, town.head_n1, wish.id, "Needs the landlord")
        assert (w.status, w.escalation_level, w.taken_count) == (S.ESCALATED, 2, 0)
        # The head passed it on; it is now above them.
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            await resolve_wish(s, town.head_n1, wish.id, "Done")
    async with sessions.begin() as s:
        w = await escalate_wish(s, town.gw_north, wish.id, "Landlord will not answer")
        assert w.escalation_level == 3
        w = await escalate_wish(s, town.admin, wish.id, "District must decide")
        assert w.escalation_level == 4
    with pytest.raises(IllegalTransition):
        async with sessions.begin() as s:
            await escalate_wish(s, town.street_admin, wish.id, "Higher still")
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            await resolve_wish(s, town.admin, wish.id, "We fixed it")
    async with sessions.begin() as s:
        w = await resolve_wish(s, town.street_admin, wish.id, "The district repairs it on Friday")
        assert w.status == S.CLOSED
        assert w.resolution == "The district repairs it on Friday"
        member = await s.scalar(
            select(WishAssignment.status).where(WishAssignment.wish_id == wish.id)
        )
    assert member == AssignmentStatus.RELEASED


async def test_a_head_submitting_on_behalf_opens_the_wish_at_once(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        wish = await submit_wish(
            s,
            town.head_n1,
            building_id=town.n1.id,
            category="errand",
            description="Mrs Alice needs her medicine fetched",
            requester=town.alice,
        )
        events = await events_of(s, wish.id)
    assert (wish.status, wish.requester_id, wish.submitted_by_id) == (
        S.OPEN,
        town.alice.id,
        town.head_n1.id,
    )
    assert [e.action for e in events] == ["submit", "verify"]


async def test_wishes_are_found_by_their_public_code(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await wish_in(sessions, town, S.OPEN)
    assert wish.code is not None
    async with sessions() as s:
        for written in (wish.code, wish.code.lower(), str(wish.id), f"W{wish.id}"):
            assert (await wish_by_code(s, written)).id == wish.id
        for wrong in ("W-999999", "hello", "", "W-"):
            with pytest.raises(NotFound):
                await wish_by_code(s, wrong)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "   "),
        ("description", "x" * 1001),
        ("category", "gardening"),
        ("required_count", 0),
        ("required_count", 21),
        ("photos", ["p"] * 6),
    ],
)
async def test_bad_wishes_are_refused_and_nothing_is_stored(
    sessions: async_sessionmaker[AsyncSession], town: Town, field: str, value: Any
) -> None:
    fields: dict[str, Any] = {
        "building_id": town.n1.id,
        "category": "repair",
        "description": "The door does not close",
    }
    fields[field] = value
    before = await snapshot(sessions)
    with pytest.raises(InvalidInput):
        async with sessions.begin() as s:
            await submit_wish(s, town.alice, **fields)
    assert await snapshot(sessions) == before


async def test_a_preferred_time_in_the_past_is_refused(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: Any
) -> None:
    with pytest.raises(InvalidInput):
        async with sessions.begin() as s:
            await submit_wish(
                s,
                town.alice,
                building_id=town.n1.id,
                category="repair",
                description="Door",
                preferred_time=clock.now().replace(year=2025),
            )
    async with sessions() as s:
        assert await s.scalar(select(func.count(WishEvent.id))) == 0


async def test_rejecting_or_disputing_needs_a_reason(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    submitted = await wish_in(sessions, town, S.SUBMITTED)
    done = await wish_in(sessions, town, S.DONE)
    before = await snapshot(sessions)
    with pytest.raises(InvalidInput):
        async with sessions.begin() as s:
            await reject_wish(s, town.head_n1, submitted.id, "  ")
    with pytest.raises(InvalidInput):
        async with sessions.begin() as s:
            await dispute_wish(s, town.alice, done.id, "")
    with pytest.raises(InvalidInput):
        async with sessions.begin() as s:
            await confirm_wish(s, town.alice, done.id, 6)
    assert await snapshot(sessions) == before

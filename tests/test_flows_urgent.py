"""A wish never hangs, through the neutral message type: a head escalates from the card or
with /escalate; a resident or a head marks a wish urgent with a reason, and is told who knows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.reminders import Reminder, ReminderStatus
from models.wishes import Urgency, Wish, WishEvent, WishStatus
from tests.chat import Chat, World
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus


async def _wish(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> Wish:
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None
        return wish


async def _events(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> list[WishEvent]:
    async with sessions() as s:
        found = await s.scalars(
            select(WishEvent).where(WishEvent.wish_id == wish_id).order_by(WishEvent.id)
        )
        return list(found.all())


async def _ask_for_a_light(alice: Chat) -> None:
    await alice.send("/wish")
    await alice.press("Repairs")
    await alice.send("The corridor light on floor 3 is out")
    await alice.press("Skip")
    await alice.press("Any time")


async def test_a_head_escalates_a_new_wish_from_its_card(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    head = await world.as_person(town.head_n1)
    gw_north = await world.as_person(town.gw_north)
    await _ask_for_a_light(alice)
    await alice.press("Send")
    assert "New wish" in head.last.text

    await head.press("Escalate")
    assert "Why does wish" in head.last.text
    await head.send("The wiring is the property company's job")
    assert "passed up to the grid worker" in head.last.text
    assert "passed up to you: The wiring is the property company's job" in gw_north.last.text
    assert "passed on to the office above" in alice.last.text
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()).limit(1))
    assert wish is not None
    assert wish.status == S.ESCALATED and wish.escalation_level == 2

    # The card's button again: refused at once, nothing asked.
    await head.press("Escalate")
    assert "has already gone above you" in head.last.text
    await head.send("hello")
    assert (await _wish(sessions, wish.id)).version == wish.version


async def test_a_head_escalates_with_the_command_only_in_their_building(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    mine = await wish_in(sessions, town, S.OPEN)
    head = await world.as_person(town.head_n1)
    other_head = await world.as_person(town.head_n2)
    gw_north = await world.as_person(town.gw_north)

    await other_head.send(f"/escalate {mine.code} not mine to judge")
    assert other_head.last.text == "Only the building head or an admin can escalate this wish."
    assert (await _wish(sessions, mine.id)).status == S.OPEN

    await head.send(f"/escalate {mine.code} Needs the property company")
    assert "passed up to the grid worker" in head.last.text
    assert "passed up to you: Needs the property company" in gw_north.last.text
    escalated = await _wish(sessions, mine.id)
    assert escalated.status == S.ESCALATED and escalated.escalation_level == 2


async def test_a_resident_marks_a_wish_urgent_from_my_with_a_reason(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.SUBMITTED)
    alice = await world.as_person(town.alice)
    head = await world.as_person(town.head_n1)

    # The way back: asked why, she cancels; nothing changed.
    await alice.send("/my")
    await alice.press("It's urgent")
    assert "Why is wish" in alice.last.text
    await alice.press("Cancel")
    assert (await _wish(sessions, wish.id)).urgency == Urgency.NORMAL
    assert head.received == []

    await alice.send("/my")
    await alice.press("It's urgent")
    await alice.send("Water is coming through the ceiling")
    assert "marked urgent" in alice.last.text
    assert "is urgent: Water is coming through the ceiling" in head.last.text
    assert "🚨" in head.last.text  # the card shows it
    marked = await _wish(sessions, wish.id)
    assert marked.urgency == Urgency.URGENT and marked.status == S.SUBMITTED
    assert [(e.action, e.note) for e in await _events(sessions, wish.id)][-1] == (
        "mark_urgent",
        "Water is coming through the ceiling",
    )
    # Its timers are shorter now: the head is reminded after 6 hours, not 12.
    event_at = (await _events(sessions, wish.id))[-1].at
    async with sessions() as s:
        due = await s.scalar(
            select(Reminder.due_at).where(
                Reminder.wish_id == wish.id,
                Reminder.kind == "wish.verify_head",
                Reminder.status == ReminderStatus.PENDING,
            )
        )
    assert due is not None and due - event_at == dt.timedelta(hours=6)

    # Once is enough: no button any more, and an old one is refused at once.
    await alice.send("/my")
    assert all("urgent" not in b.label for r in alice.last.buttons for b in r)
    await alice.deliver(button=f"a:urgent:{wish.id}")
    assert "already marked urgent" in alice.last.text


async def test_only_the_requester_or_a_head_marks_a_wish_urgent(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN)
    bob = await world.as_person(town.bob)
    other_head = await world.as_person(town.head_n2)
    head = await world.as_person(town.head_n1)
    alice = await world.as_person(town.alice)

    for stranger in (bob, other_head):
        await stranger.deliver(button=f"a:urgent:{wish.id}")
        assert "Only the person who asked or the building head" in stranger.last.text
    assert (await _wish(sessions, wish.id)).urgency == Urgency.NORMAL

    await head.deliver(button=f"a:urgent:{wish.id}")
    await head.send("She is 92 and alone")
    assert "marked urgent" in head.last.text
    assert "is urgent: She is 92 and alone" in alice.last.text
    assert (await _wish(sessions, wish.id)).urgency == Urgency.URGENT


async def test_a_wish_can_be_urgent_from_the_start(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    head = await world.as_person(town.head_n1)
    await _ask_for_a_light(alice)
    await alice.press("It's urgent")
    assert "Why is it urgent" in alice.last.text
    await alice.press("Back")  # the way back: the summary again, not urgent
    assert "Please check your wish" in alice.last.text and "Urgent:" not in alice.last.text
    await alice.press("It's urgent")
    await alice.send("Pitch dark, my mother uses a walker")
    assert "Urgent: Pitch dark, my mother uses a walker" in alice.last.text
    await alice.press("Send")
    assert "🚨" in head.last.text and "New wish" in head.last.text
    async with sessions() as s:
        wish = await s.scalar(select(Wish).order_by(Wish.id.desc()).limit(1))
        assert wish is not None and wish.urgency == Urgency.URGENT
        notes = (
            await s.scalars(
                select(WishEvent.note).where(
                    WishEvent.wish_id == wish.id, WishEvent.action == "mark_urgent"
                )
            )
        ).all()
    assert notes == ["Pitch dark, my mother uses a walker"]

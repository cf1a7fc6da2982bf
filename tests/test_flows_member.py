"""A member's conversations through the neutral message type: /tasks, accept, give back, done.

Refused presses (a wish taken first, a forged button) answer politely and change nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.flows.points import level_of
from handlers.messages import Button, Reply
from models.people import Person
from models.points_ledger import balance
from models.wish_asking import submit_wish, verify_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus
from tests.chat import Chat, World
from tests.snapshot import snapshot
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus
PHONE = "13800001111"


def _button(chat: Chat, code: str | None, label: str) -> Button:
    """The newest button with the label on a message about the wish with that code."""
    for reply in reversed(chat.received):
        if code is None or code in reply.text:
            for row in reply.buttons:
                for button in row:
                    if label in button.label:
                        return button
    raise AssertionError(f"{chat.name} has no button {label!r} for {code}")


def _listed(replies: list[Reply]) -> list[str]:
    """The codes of the wishes offered with an accept button, in order."""
    codes = []
    for reply in replies:
        if any("I'll do it" in b.label for row in reply.buttons for b in row):
            codes.append(reply.text.split("<b>")[1].split("</b>")[0])
    return codes


async def _open_wish(
    sessions: async_sessionmaker[AsyncSession],
    resident: Person,
    head: Person,
    category: str,
    required_count: int = 1,
) -> Wish:
    async with sessions.begin() as s:
        assert resident.building_id is not None
        wish = await submit_wish(
            s,
            resident,
            building_id=resident.building_id,
            category=category,
            description=f"Help {resident.name} with {category}",
            required_count=required_count,
        )
        await verify_wish(s, head, wish.id)
        return wish


async def _wish(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> Wish:
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None
        return wish


async def test_a_member_takes_a_fitting_wish_and_people_are_told(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    alice = await world.as_person(town.alice)
    head = await world.as_person(town.head_n1)
    visit = await wish_in(sessions, town, S.OPEN, category="companionship")  # older, not his
    light = await wish_in(sessions, town, S.OPEN, category="repair")
    assert light.code and visit.code

    replies = await fixer.send("/tasks")
    assert _listed(replies) == [light.code, visit.code]
    assert "2 wishes are waiting for a helper" in replies[0].text
    assert not any("More" in b.label for r in replies for row in r.buttons for b in row)

    replies = await fixer.deliver(button=_button(fixer, light.code, "I'll do it").data)
    taken = replies[-1].text
    assert "You took wish " + light.code in taken
    assert "N1, unit 101 (Alice)" in taken
    assert "building head will put you in touch with Alice" in taken
    assert PHONE not in taken
    labels = [b.label for row in replies[-1].buttons for b in row]
    assert any("Report done" in label for label in labels)
    assert any("Give it back" in label for label in labels)

    assert "Fixer will help with your wish " + light.code in alice.last.text
    assert "Fixer took wish " + light.code + " in your building" in head.last.text
    for told in (alice.last.text, head.last.text):
        assert "unit" not in told

    async with sessions() as s:
        wish = await s.get(Wish, light.id)
        assert wish is not None and wish.status == S.ACCEPTED and wish.taken_count == 1
        holders = (
            await s.scalars(
                select(WishAssignment.member_id).where(WishAssignment.wish_id == wish.id)
            )
        ).all()
        assert holders == [town.fixer.id]

    # A second member, from an accept button they still have, is told politely; nothing moves.
    await walker.send("/tasks")
    assert _listed(walker.received) == [visit.code]  # the taken one is gone from the list
    before = await snapshot(sessions)
    told_alice = len(alice.received)
    await walker.deliver(button=f"a:accept:{light.id}")
    assert "Somebody else took wish " + light.code + " first" in walker.last.text
    assert await snapshot(sessions) == before
    assert len(alice.received) == told_alice

    # Pressing again does not take a second place either.
    await fixer.deliver(button=f"a:accept:{light.id}")
    assert "already taken wish" in fixer.last.text
    assert await snapshot(sessions) == before


async def test_the_phone_is_shown_only_with_consent_and_only_to_the_helper(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        person = await s.get(Person, town.alice.id)
        assert person is not None
        person.phone, person.phone_consent = PHONE, True
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    alice = await world.as_person(town.alice)
    head = await world.as_person(town.head_n1)
    light = await wish_in(sessions, town, S.OPEN, category="repair")

    await fixer.deliver(button=f"a:accept:{light.id}")
    assert f"Phone (shared with consent): {PHONE}" in fixer.last.text
    assert "put you in touch" not in fixer.last.text
    for other in (alice, head, walker):
        assert all(PHONE not in text for text in other.texts())


async def test_nearest_wishes_come_first_and_pages_hold_five(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        runner = await s.get(Person, town.runner.id)
        assert runner is not None
        runner.building_id = town.n2.id
    world = World(sessions)
    chat = await world.as_person(town.runner)
    far = await _open_wish(sessions, town.carol, town.head_s1, "errand")  # S1, other grid
    grid = await _open_wish(sessions, town.alice, town.head_n1, "errand")  # N1, same grid
    misfit = await _open_wish(sessions, town.bob, town.head_n2, "repair")  # home, not a skill
    home = await _open_wish(sessions, town.bob, town.head_n2, "errand")  # N2, home
    maple = await _open_wish(sessions, town.dora, town.maple_admin, "errand")  # other community
    more = [await _open_wish(sessions, town.alice, town.head_n1, "errand") for _ in range(3)]

    page_one = await chat.send("/tasks")
    expected = [home.code, grid.code, *(w.code for w in more), far.code, misfit.code]
    assert _listed(page_one) == expected[:5]
    assert "7 wishes are waiting" in page_one[0].text
    assert "Shown 1–5 of 7" in page_one[-1].text
    assert maple.code and maple.code not in "".join(r.text for r in page_one)
    # Each says why it fits this member: their skill, their building or grid.
    said = {
        code: next(r.text for r in page_one if code and code in r.text) for code in expected[:5]
    }
    assert said[home.code].endswith("Fits you: 🛒 Errands and shopping, your building")
    assert said[grid.code].endswith("Fits you: 🛒 Errands and shopping, your grid")

    page_two = await chat.press("More »")
    assert page_two[-1].text.endswith("Fits you: your building")  # the misfit: only home
    assert _listed(page_two) == expected[5:]
    assert not any(b.label == "More »" for r in page_two for row in r.buttons for b in row)

    await chat.deliver(button="a:tasks_page:9")
    assert "no more open wishes" in chat.last.text
    await chat.deliver(button="a:tasks_page:x")
    assert "does not work any more" in chat.last.text


async def test_nothing_open_is_said_kindly(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    await fixer.send("/tasks")
    assert fixer.texts() == [
        "No wish is waiting for a helper right now. Thank you for being ready; "
        "I will tell you when a neighbour needs a hand."
    ]


async def test_a_wish_for_two_stays_open_until_both_places_are_taken(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    walker = await world.as_person(town.walker)
    wish = await wish_in(sessions, town, S.OPEN, category="errand", required_count=2)
    assert wish.code

    await fixer.deliver(button=f"a:accept:{wish.id}")
    assert "It still needs 1 more helper." in fixer.last.text
    labels = [b.label for row in fixer.last.buttons for b in row]
    assert labels == ["↩ Give it back", "✉️ Message the resident"]  # nothing to report yet

    await fixer.send("/tasks")
    assert "Your task:" in fixer.received[-2].text and wish.code in fixer.received[-2].text
    assert _listed(fixer.received[-2:]) == []  # not offered to him a second time

    await walker.send("/tasks")
    assert _listed(walker.received) == [wish.code]
    await walker.press("I'll do it")
    assert "You took wish" in walker.last.text and "still needs" not in walker.last.text
    assert (await _wish(sessions, wish.id)).status == S.ACCEPTED


async def test_a_member_gives_a_wish_back(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    alice = await world.as_person(town.alice)
    runner = await world.as_person(town.runner)
    wish = await wish_in(sessions, town, S.ACCEPTED, category="errand")
    assert wish.code

    replies = await fixer.send("/tasks")
    assert replies[0].text.startswith("Your task:") and wish.code in replies[0].text
    await fixer.press("Give it back")
    assert "Give wish " + wish.code + " back?" in fixer.last.text
    await fixer.press("No, I'll keep it")
    assert "stays with you" in fixer.last.text
    assert (await _wish(sessions, wish.id)).status == S.ACCEPTED

    await fixer.press("Give it back")
    await fixer.press("Yes, give it back")
    assert "open for other helpers again" in fixer.last.text
    released = await _wish(sessions, wish.id)
    assert released.status == S.OPEN and released.taken_count == 0
    assert "Fixer cannot do your wish " + wish.code in alice.last.text
    assert "Can you help" in runner.last.text  # offered again to fitting members
    async with sessions() as s:
        held = await s.scalar(select(WishAssignment).where(WishAssignment.wish_id == wish.id))
        assert held is not None and held.status == AssignmentStatus.RELEASED


async def test_report_done_confirm_and_the_points_follow(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    alice = await world.as_person(town.alice)
    wish = await wish_in(sessions, town, S.ACCEPTED, category="repair")
    assert wish.code

    await fixer.send("/tasks")
    await fixer.press("Report done")
    assert "note about wish " + wish.code in fixer.last.text
    await fixer.send("Replaced the <b>bulb</b>")
    assert "photo of the result" in fixer.last.text
    await fixer.press("Back")  # back to the note, and type it again
    assert "note about wish" in fixer.last.text
    await fixer.send("Replaced the <b>bulb</b>")
    await fixer.send("just words")
    assert "send a photo, or press Skip" in fixer.last.text
    await fixer.deliver(photo="photo-of-the-light")
    assert "is reported done" in fixer.last.text

    photo, question = alice.received[-2:]
    assert photo.photo == "photo-of-the-light" and "Fixer" in photo.text
    assert "Fixer says your wish " + wish.code + " is done" in question.text
    assert "“Replaced the &lt;b&gt;bulb&lt;/b&gt;”" in question.text
    async with sessions() as s:
        held = await s.scalar(select(WishAssignment).where(WishAssignment.wish_id == wish.id))
        assert held is not None
        assert (held.done_note, held.done_photo) == (
            "Replaced the <b>bulb</b>",
            "photo-of-the-light",
        )
        done = await s.get(Wish, wish.id)
        assert done is not None and done.status == S.DONE

    await alice.press("It's done")
    await alice.press("⭐⭐⭐⭐⭐")
    await alice.press("Skip")
    assert "is closed" in alice.last.text
    assert "confirmed with 5 stars" in fixer.last.text
    async with sessions() as s:
        assert await balance(s, town.fixer.id) == 15  # repair 10 + the five-star bonus 5

    await fixer.send("/points")
    text = fixer.last.text
    assert "You have 15 points." in text
    assert "Level: Seedling 🌱" in text
    assert "15 points more to reach Sprout 🌿." in text
    assert "You are 1st of 3 in Sunflower this month." in text
    assert "+15 · " + wish.code in text

    # The others rank below him; the wish is no longer among his tasks.
    walker = await world.as_person(town.walker)
    await walker.send("/points")
    assert "You have 0 points." in walker.last.text
    assert "You are 2nd of 3 in Sunflower this month." in walker.last.text
    assert "No points yet" in walker.last.text
    await fixer.send("/tasks")
    assert wish.code not in fixer.last.text


async def test_report_done_without_note_or_photo_and_the_way_out(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    alice = await world.as_person(town.alice)
    wish = await wish_in(sessions, town, S.ACCEPTED, category="repair")

    await fixer.deliver(button=f"a:done:{wish.id}")
    await fixer.press("Cancel")
    assert "Nothing was saved" in fixer.last.text
    assert (await _wish(sessions, wish.id)).status == S.ACCEPTED

    await fixer.deliver(button=f"a:done:{wish.id}")
    await fixer.press("Skip")
    await fixer.press("Skip")
    assert "is reported done" in fixer.last.text
    assert all(r.photo is None for r in alice.received)
    assert "is done. Please confirm" in alice.last.text
    assert (await _wish(sessions, wish.id)).status == S.DONE

    await fixer.deliver(button=f"a:done:{wish.id}")
    assert "cannot be reported done now" in fixer.last.text
    await fixer.deliver(button=f"a:release:{wish.id}")
    assert "cannot be given back now" in fixer.last.text
    assert (await _wish(sessions, wish.id)).status == S.DONE


async def test_members_only_and_forged_buttons_change_nothing(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    newbie = await world.as_person(town.newbie)
    alice = await world.as_person(town.alice)
    walker = await world.as_person(town.walker)
    wish = await wish_in(sessions, town, S.ACCEPTED, category="repair")
    open_wish = await wish_in(sessions, town, S.OPEN, category="errand")

    await newbie.send("/tasks")
    assert "An admin has not approved you yet" in newbie.last.text
    await newbie.send("/points")
    assert "ranked once an admin has approved you" in newbie.last.text
    for command in ("/tasks", "/points"):
        await alice.send(command)
        assert "is not for you" in alice.last.text
    await walker.send("/tasks")

    before = await snapshot(sessions)
    await walker.deliver(button=f"a:done:{wish.id}")
    assert "You have not taken wish " + str(wish.code) in walker.last.text
    await walker.deliver(button=f"a:release:{wish.id}")
    assert "You have not taken wish" in walker.last.text
    await walker.deliver(button="a:done:nonsense")
    assert "That button does not work any more" in walker.last.text
    await alice.deliver(button=f"a:accept:{open_wish.id}")
    assert "Only members" in alice.last.text
    await newbie.deliver(button=f"a:accept:{open_wish.id}")
    assert "not approved" in newbie.last.text
    await alice.deliver(button="a:tasks_page:1")
    assert "Only members" in alice.last.text
    assert await snapshot(sessions) == before


def test_levels() -> None:
    assert level_of(0) == ("Seedling 🌱", (30, "Sprout 🌿"))
    assert level_of(30) == ("Sprout 🌿", (100, "Tree 🌳"))
    assert level_of(299) == ("Tree 🌳", (300, "Forest 🌲"))
    assert level_of(5000) == ("Forest 🌲", None)

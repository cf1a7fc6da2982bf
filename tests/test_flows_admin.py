"""The office's commands through the neutral message type: pending, assign, escalate, resolve,
approve, grant, broadcast, stats, export; each scoped, each refused politely out of scope.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.people import MemberProfile, Role, RoleGrant
from models.points_ledger import balance
from models.reminders import Broadcast, Reminder
from models.wishes import Wish, WishAssignment, WishEvent, WishStatus
from tests.chat import World
from tests.town import Town
from tests.wishes import wish_in

S = WishStatus


async def _wish(sessions: async_sessionmaker[AsyncSession], wish_id: int) -> Wish:
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish is not None
        return wish


async def _snapshot(sessions: async_sessionmaker[AsyncSession]) -> tuple[object, ...]:
    """What the office's commands could change: wishes, events, roles, approvals."""
    async with sessions() as s:
        wishes = (
            await s.execute(select(Wish.id, Wish.status, Wish.version).order_by(Wish.id))
        ).all()
        events = await s.scalar(select(func.count()).select_from(WishEvent))
        assignments = await s.scalar(select(func.count()).select_from(WishAssignment))
        grants = await s.scalar(select(func.count()).select_from(RoleGrant))
        approved = (
            await s.scalars(select(MemberProfile.person_id).where(MemberProfile.approved))
        ).all()
    return tuple(wishes), events, assignments, grants, tuple(sorted(approved))


async def test_pending_lists_what_waits_in_the_callers_scope(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    submitted = await wish_in(sessions, town, S.SUBMITTED)
    taken = await wish_in(sessions, town, S.ACCEPTED)
    up_to_grid = await wish_in(sessions, town, S.ESCALATED)  # the head passed it up: level 2
    admin = await world.as_person(town.admin)
    gw_north = await world.as_person(town.gw_north)
    gw_south = await world.as_person(town.gw_south)
    maple = await world.as_person(town.maple_admin)

    await admin.send("/pending")
    text = "\n".join(admin.texts())
    assert submitted.code in text and taken.code not in text
    assert up_to_grid.code not in text  # it waits on the grid worker's rung, not the admin's
    assert "waiting for the building head" in text

    await gw_north.send("/pending")
    text = "\n".join(gw_north.texts())
    assert submitted.code in text and up_to_grid.code in text
    pressed = {b.data for reply in gw_north.received for row in reply.buttons for b in row}
    assert {f"a:verify:{submitted.id}", f"a:escalate:{submitted.id}"} <= pressed
    assert {f"a:resolve:{up_to_grid.id}", f"a:escalate:{up_to_grid.id}"} <= pressed

    await gw_south.send("/pending")
    assert gw_south.texts() == ["Nothing is waiting. Well done!"]
    await maple.send("/pending")
    assert maple.texts() == ["Nothing is waiting. Well done!"]


async def test_assign_suggests_who_fits_and_tells_the_member_and_the_requester(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN, category="repair")
    admin = await world.as_person(town.admin)
    fixer = await world.as_person(town.fixer)
    alice = await world.as_person(town.alice)
    newbie = await world.as_person(town.newbie)

    await admin.send("/assign")
    assert "/assign W-000123" in admin.last.text
    await admin.send("/assign nonsense")
    assert "is not a wish code" in admin.last.text
    await admin.send("/assign W-999999")
    assert "no such wish" in admin.last.text

    await admin.send(f"/assign {wish.code}")
    options = [b.label for row in admin.last.buttons for b in row]
    assert options[0] == "1. Fixer"  # the only one whose skills contain "repair"
    assert not any("Newbie" in label for label in options)  # not approved
    assert not any("Maple" in label for label in options)  # another community
    # Each suggestion says why, and the reasons add up to its score.
    fixer_line = next(line for line in admin.last.text.splitlines() if "<b>Fixer</b>" in line)
    assert fixer_line.startswith("1. <b>Fixer</b> — score ")
    assert "skills: 🔧 Repairs (+40)" in fixer_line and "no open tasks (+15)" in fixer_line
    score = int(fixer_line.split("score ")[1].split(":")[0])
    assert score == sum(
        int(p.split("(")[-1].rstrip(")")) for p in fixer_line.split(": ", 1)[1].split(", ")
    )

    await admin.send("Fixer")  # typed, not pressed
    assert "with the buttons" in admin.last.text
    await admin.press("Fixer")
    assert f"Wish {wish.code} is assigned to Fixer." in admin.last.text
    assert "asks you to help" in fixer.last.text and wish.code in fixer.last.text
    assert fixer.button("Report done").data == f"a:done:{wish.id}"
    assert "Fixer will help with your wish" in alice.last.text
    assert newbie.received == []

    async with sessions() as s:
        assignment = await s.scalar(select(WishAssignment).where(WishAssignment.wish_id == wish.id))
        assert assignment is not None
        assert assignment.member_id == town.fixer.id and assignment.assigned_by_id == town.admin.id
    assert (await _wish(sessions, wish.id)).status == S.ACCEPTED

    # Assigning it again: refused at once, nothing offered.
    await admin.send(f"/assign {wish.code}")
    assert "cannot be done now" in admin.last.text and not admin.last.buttons


async def test_the_assign_button_from_pending_and_busy_members_come_later(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    busy = await wish_in(sessions, town, S.OPEN, category="errand")
    wish = await wish_in(sessions, town, S.OPEN, category="errand")
    gw_north = await world.as_person(town.gw_north)
    walker = await world.as_person(town.walker)
    async with sessions.begin() as s:
        from models.wish_taking import assign_wish

        await assign_wish(s, town.gw_north, busy.id, town.fixer)

    await gw_north.send("/pending")
    # The taken wish is not listed (the other, asked the same, names it as its likely twin).
    assert f"<b>{busy.code}</b>" not in "\n".join(gw_north.texts())
    assert f"Probably the same as {busy.code}" in "\n".join(gw_north.texts())
    await gw_north.press("Assign")  # the newest: the second wish
    options = [b.label for row in gw_north.last.buttons for b in row]
    # Fixer, Runner and Walker all fit errands; Fixer is busy with one already.
    assert options[:3] == ["1. Walker", "2. Runner", "3. Fixer"]  # alike two: by id
    await gw_north.press("Walker")
    assert "asks you to help" in walker.last.text and wish.code in walker.last.text


async def test_escalate_tells_the_next_rung_and_the_answer_comes_back_down(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.ACCEPTED)
    gw_north = await world.as_person(town.gw_north)
    admin = await world.as_person(town.admin)
    alice = await world.as_person(town.alice)
    fixer = await world.as_person(town.fixer)
    street = await world.as_person(town.street_admin)

    await gw_north.send(f"/escalate {wish.code} Needs the power company, not a volunteer")
    assert "passed up to the community admin" in gw_north.last.text
    assert "passed up to you: Needs the power company" in admin.last.text
    assert wish.code in admin.last.text
    assert "passed on to the office above" in alice.last.text
    assert "no longer need to do it" in fixer.last.text
    assert street.received == []
    escalated = await _wish(sessions, wish.id)
    assert escalated.status == S.ESCALATED and escalated.escalation_level == 3

    # The grid worker's rung is below it now: they cannot answer it.
    await gw_north.send(f"/resolve {wish.code} done")
    assert "waits for the answer of the community admin" in gw_north.last.text

    await admin.send("/escalated")
    assert wish.code in admin.last.text and "Why it came up: Needs the power company" in (
        admin.last.text
    )
    await admin.press("Answer")
    assert "Your answer to wish" in admin.last.text
    await admin.send("The power company comes on Monday morning.")
    assert "answered and closed" in admin.last.text
    assert "answer from the office: The power company comes on Monday morning." in (alice.last.text)
    assert "which you passed up, was answered" in gw_north.last.text
    closed = await _wish(sessions, wish.id)
    assert closed.status == S.CLOSED
    assert closed.resolution == "The power company comes on Monday morning."


async def test_escalate_without_a_reason_asks_and_the_street_answers(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN)
    admin = await world.as_person(town.admin)
    street = await world.as_person(town.street_admin)
    alice = await world.as_person(town.alice)

    await admin.send(f"/escalate {wish.code}")
    assert "Why does wish" in admin.last.text
    assert (await _wish(sessions, wish.id)).status == S.OPEN
    await admin.send("The roof belongs to the district")
    assert "passed up to the street admin" in admin.last.text
    assert "passed up to you: The roof belongs to the district" in street.last.text

    await street.send("/escalated")
    assert wish.code in street.last.text
    await street.send(f"/resolve {wish.code}")
    assert "Your answer to wish" in street.last.text
    await street.send("The district repairs it this week.")
    assert "answer from the office: The district repairs it this week." in alice.last.text
    assert (await _wish(sessions, wish.id)).status == S.CLOSED


async def test_approve_lists_waiting_volunteers_and_tells_the_approved(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    newbie = await world.as_person(town.newbie)
    maple = await world.as_person(town.maple_admin)

    await maple.send("/approve")
    assert maple.last.text == "No volunteer is waiting for approval."
    await maple.deliver(button=f"a:approve:{town.newbie.id}")
    assert "Only an admin of the member's community" in maple.last.text

    await admin.send("/approve")
    assert "Newbie" in admin.last.text
    await admin.press("Approve")
    assert "Newbie is approved" in admin.last.text
    assert "you can now see /tasks" in newbie.last.text
    async with sessions() as s:
        profile = await s.get(MemberProfile, town.newbie.id)
        assert profile is not None and profile.approved
        assert profile.approved_by_id == town.admin.id
    await admin.press("Approve")
    assert "already approved" in admin.last.text
    await admin.send("/approve")
    assert admin.last.text == "No volunteer is waiting for approval."


async def test_a_new_volunteer_reaches_the_admins_with_an_approve_button(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    maple = await world.as_person(town.maple_admin)
    vera = world.chat("Vera")
    await vera.send("/start")
    await vera.press("English")
    await vera.press("volunteer")
    await vera.press("Sunflower")
    await vera.press("Repairs")
    await vera.press("Done")
    await vera.send("Riverside School")
    assert "will approve you soon" in vera.last.text

    assert "A new volunteer for Sunflower" in admin.last.text
    assert "Vera" in admin.last.text and "Riverside School" in admin.last.text
    assert maple.received == []
    await admin.press("Approve")
    assert "Vera is approved" in admin.last.text
    assert "/tasks" in vera.last.text


async def test_grant_makes_bob_a_building_head(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    bob = await world.as_person(town.bob)

    await bob.send("/help")
    assert "/onbehalf" not in bob.last.text

    await admin.send("/grant")
    labels = [b.label for row in admin.last.buttons for b in row]
    assert "Bob · N2 202" in labels and "🤝 Fixer" in labels
    assert not any("Dora" in label for label in labels)  # Maple's
    await admin.press("Bob")
    assert "Which role for Bob" in admin.last.text
    await admin.press("building head")
    assert "Head of which building" in admin.last.text
    await admin.press("Back")
    assert "Which role for Bob" in admin.last.text
    await admin.press("building head")
    await admin.press("N2")
    assert admin.last.text == "Bob is now building head of N2."
    assert "You are now building head of N2" in bob.last.text

    async with sessions() as s:
        grant = await s.scalar(
            select(RoleGrant).where(
                RoleGrant.person_id == town.bob.id, RoleGrant.role == Role.BUILDING_HEAD
            )
        )
        assert grant is not None and grant.scope_id == town.n2.id
        assert grant.granted_by_id == town.admin.id
    await bob.send("/help")
    assert "/onbehalf" in bob.last.text

    # The admin role needs no place: the admin runs one community.
    await admin.send("/grant")
    await admin.press("Walker")
    await admin.press("community admin")
    assert admin.last.text == "Walker is now community admin of Sunflower."


async def test_grant_pages_through_many_people(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.directory import add_person, grant_role

    async with sessions.begin() as s:
        for n in range(10):
            person = await add_person(s, f"Zed {n}", building=town.n1, unit=f"9-{n}")
            await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
    world = World(sessions)
    admin = await world.as_person(town.admin)
    await admin.send("/grant")
    assert "Page 1 of 3" in admin.last.text
    await admin.press("Next")
    assert "Page 2 of 3" in admin.last.text
    await admin.press("Next")
    await admin.press("Zed 9")
    await admin.press("grid worker")
    await admin.press("North")
    assert admin.last.text == "Zed 9 is now grid worker of North."


async def _broadcast_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[int | None, str | None, str]]:
    """(person, chat, text) of every broadcast message waiting in the outbox."""
    async with sessions() as s:
        rows = (
            await s.scalars(
                select(Reminder).where(Reminder.broadcast_id.is_not(None)).order_by(Reminder.id)
            )
        ).all()
    return [(r.target_person_id, r.chat_id, r.payload["text"]) for r in rows]


async def test_broadcast_reaches_the_community_and_no_one_else(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    ours = [await world.as_person(p) for p in (town.alice, town.bob, town.fixer, town.newbie)]
    theirs = [await world.as_person(p) for p in (town.dora, town.maple_member)]

    await admin.send("/broadcast Water is off tomorrow\nfrom 9 to 12.")
    assert "Who should read it" in admin.last.text
    await admin.press("whole community")  # one community: nothing more to choose
    assert "To: Sunflower" in admin.last.text and "This goes to 4 people" in admin.last.text
    assert await _broadcast_rows(sessions) == []  # not yet
    await admin.press("Send")
    assert admin.last.text == "Sending to 4 people; you will get a report."
    rows = await _broadcast_rows(sessions)
    assert sorted(chat for _, chat, _ in rows) == sorted(c.user_id for c in ours)
    assert {text for _, _, text in rows} == {
        "📢 <b>Sunflower</b>\nWater is off tomorrow\nfrom 9 to 12."
    }
    assert not {c.user_id for c in theirs} & {chat for _, chat, _ in rows}
    async with sessions() as s:
        sent = await s.scalar(select(Broadcast))
        assert sent is not None and sent.total == 4 and sent.sender_id == town.admin.id
        assert (sent.audience, sent.scope_id) == ("community", town.sunflower.id)

    # Step by step, to one building, the text escaped.
    await admin.send("/broadcast")
    await admin.press("A building")
    assert {"N1", "N2", "S1"} <= {b.label for row in admin.last.buttons for b in row}
    await admin.press("N2")
    assert "Type the message" in admin.last.text
    await admin.send("The <b>lift</b> is fixed.")
    assert "This goes to one person" in admin.last.text  # Bob
    await admin.press("Send")
    assert admin.last.text == "Sending to one person; you will get a report."
    *_, (person, _, text) = await _broadcast_rows(sessions)
    assert person == town.bob.id
    assert text == "📢 <b>Sunflower</b>\nThe &lt;b&gt;lift&lt;/b&gt; is fixed."

    # To a role: the members only.
    await admin.send("/broadcast Members' meeting at 7")
    await admin.press("Everyone with a role")
    await admin.press("member")
    assert "This goes to 2 people" in admin.last.text  # Fixer and Newbie have a chat
    await admin.press("Send")
    assert len(await _broadcast_rows(sessions)) == 4 + 1 + 2

    # Nobody in S1 has a chat: nothing to send, nothing written.
    await admin.send("/broadcast Hello S1")
    await admin.press("A building")
    await admin.press("S1")
    assert "Nobody there can be reached" in admin.last.text
    assert not any("Send" in b.label for row in admin.last.buttons for b in row)
    assert len(await _broadcast_rows(sessions)) == 7


async def test_stats_count_wishes_in_scope(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    await wish_in(sessions, town, S.SUBMITTED)
    await wish_in(sessions, town, S.OPEN)
    await wish_in(sessions, town, S.OPEN)
    await wish_in(sessions, town, S.CLOSED)
    async with sessions() as s:
        awarded = await balance(s, town.fixer.id)
    assert awarded > 0
    admin = await world.as_person(town.admin)
    gw_south = await world.as_person(town.gw_south)

    await admin.send("/stats")
    lines = admin.last.text.splitlines()
    assert "<b>Wishes</b>: 4" in lines
    assert "waiting for the building head: 1" in lines
    assert "looking for a helper: 2" in lines
    assert "closed: 1" in lines
    assert "rejected: 0" in lines
    assert "Closed this week: 1" in lines
    assert f"Points awarded: {awarded}" in lines

    await gw_south.send("/stats")
    lines = gw_south.last.text.splitlines()
    assert "<b>Wishes</b>: 0" in lines and "Points awarded: 0" in lines


async def test_export_sends_the_list_as_xlsx(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN)
    admin = await world.as_person(town.admin)

    await admin.send("/export")
    await admin.press("Demand")
    document = admin.last.document
    assert document is not None and document.filename.endswith(".xlsx")
    assert "1 row" in admin.last.text or "one row" in admin.last.text
    sheet = load_workbook(BytesIO(document.content)).active
    assert sheet.cell(row=1, column=1).value == "Code"
    assert sheet.cell(row=2, column=1).value == wish.code
    assert sheet.cell(row=2, column=11).value == "The corridor light on floor 3 is out"

    await admin.send("/export")
    await admin.press("Supply")
    supply = load_workbook(BytesIO(admin.last.document.content)).active  # type: ignore[union-attr]
    names = [row[0] for row in supply.iter_rows(min_row=2, values_only=True)]
    assert names == ["Fixer", "Newbie", "Runner", "Walker"]


async def test_a_resident_is_refused_politely_and_nothing_changes(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN)
    alice = await world.as_person(town.alice)
    bob = await world.as_person(town.bob)
    before = await _snapshot(sessions)

    for text in (
        "/pending",
        f"/assign {wish.code}",
        f"/escalate {wish.code} because",
        "/approve",
        "/grant",
        "/broadcast Hello everyone",
        "/stats",
        "/export",
        f"/resolve {wish.code} fine",
    ):
        await alice.send(text)
        name = text.split()[0]
        assert alice.last.text == f"Sorry, {name} is not for you. /help lists what you can do."
        assert not alice.last.buttons
    for forged in (
        f"a:assign:{wish.id}",
        f"a:escalate:{wish.id}",
        f"a:resolve:{wish.id}",
        f"a:approve:{town.newbie.id}",
        "a:assign:x",
    ):
        await alice.deliver(button=forged)
        assert alice.last.text.startswith(("Only", "Wish", "That button")), alice.last.text
    assert bob.received == []
    assert await _snapshot(sessions) == before
    await alice.send("/help")
    assert "/pending" not in alice.last.text and "/grant" not in alice.last.text


async def test_another_communitys_admin_cannot_touch_a_sunflower_wish(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    wish = await wish_in(sessions, town, S.OPEN)
    maple = await world.as_person(town.maple_admin)
    gw_south = await world.as_person(town.gw_south)
    alice = await world.as_person(town.alice)
    before = await _snapshot(sessions)

    await maple.send(f"/assign {wish.code}")
    assert maple.last.text == "Only a grid worker or an admin can assign wishes here."
    await maple.deliver(button=f"a:assign:{wish.id}")
    assert maple.last.text == "Only a grid worker or an admin can assign wishes here."
    await maple.send(f"/escalate {wish.code} not ours")
    assert maple.last.text == "Only the building head or an admin can escalate this wish."
    await maple.send(f"/escalate {wish.code}")
    assert maple.last.text == "Only the building head or an admin can escalate this wish."
    await maple.deliver(button=f"a:escalate:{wish.id}")
    assert maple.last.text == "Only the building head or an admin can escalate this wish."
    await gw_south.send(f"/assign {wish.code}")
    assert gw_south.last.text == "Only a grid worker or an admin can assign wishes here."
    await maple.send("/grant")
    labels = [b.label for row in maple.last.buttons for b in row]
    assert any("Dora" in label for label in labels)
    assert not any("Alice" in label or "Fixer" in label for label in labels)

    assert alice.received == []
    assert await _snapshot(sessions) == before

"""The organisation conversations through the neutral message type: what each person sees in
/org, a contact's resource and commitment, and every stale or forged button refused with the
store left as it was.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.organisations import (
    Organisation,
    OrganisationKind,
    join_organisation,
    register_organisation,
)
from models.people import Person
from models.resources import Resource
from models.wish_asking import submit_wish
from models.wishes import Wish, WishStatus
from tests.chat import World
from tests.snapshot import STORE, snapshot
from tests.town import Town

TABLES = (*STORE, "organisations", "resources", "team_claims", "commitments", "member_profiles")


async def _school(sessions: async_sessionmaker[AsyncSession], town: Town) -> int:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        walker = await s.get(Person, town.walker.id)
        assert admin is not None and walker is not None
        school = await register_organisation(
            s,
            admin,
            town.sunflower.id,
            name="Sunflower Primary School",
            kind=OrganisationKind.SCHOOL,
            contact_phone="13800000000",
        )
        await join_organisation(s, walker, school, as_contact=True)
        return school.id


async def _wish(sessions: async_sessionmaker[AsyncSession], town: Town, count: int) -> Wish:
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        assert alice is not None
        return await submit_wish(
            s, alice, building_id=town.n1.id, category="errand", description="Move a piano"
        )


async def test_who_sees_what_in_org(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    await _school(sessions, town)
    world = World(sessions)
    admin = await world.as_person(town.admin)
    walker = await world.as_person(town.walker)
    fixer = await world.as_person(town.fixer)
    maple = await world.as_person(town.maple_admin)
    await admin.send("/org")
    shown = "\n".join(admin.texts())
    assert "Sunflower Primary School" in shown and "13800000000" in shown
    await walker.send("/org")
    shown = "\n".join(walker.texts())
    assert "Sunflower Primary School" in shown and "13800000000" not in shown
    assert "/start o-" in shown
    await fixer.send("/org")
    assert "No organisation" in fixer.last.text
    await maple.send("/org")
    assert "Sunflower Primary School" not in "\n".join(maple.texts())
    # A resident may not ask.
    alice = await world.as_person(town.alice)
    await alice.send("/org")
    assert "not for you" in alice.last.text


async def test_a_contact_adds_a_resource_and_commits_with_a_way_back(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _school(sessions, town)
    world = World(sessions)
    walker = await world.as_person(town.walker)
    await walker.send("/org")
    await walker.press("Add a resource")
    await walker.send("Free blood-pressure checks")
    await walker.press("Done")  # nothing chosen yet
    assert "at least one" in walker.last.text
    await walker.press("Company and visits")
    await walker.press("Done")
    await walker.send("many")
    assert "number" in walker.last.text
    await walker.send("12")
    await walker.press("Sat")
    await walker.press("Back")  # back to the capacity question
    assert "How many times a month" in walker.last.text
    await walker.press("10")
    await walker.press("Sun")
    await walker.press("Done")
    await walker.send("9 to 5")
    assert "09:00-17:00" in walker.last.text
    await walker.send("09:00-11:30")
    await walker.press("at its own site")
    assert "Free blood-pressure checks" in walker.last.text
    async with sessions() as s:
        found = (await s.scalars(select(Resource))).one()
        assert (found.capacity_per_month, found.weekdays, found.hours) == (10, [6], "09:00-11:30")

    await walker.send("/commit")
    await walker.press("Sunflower Primary School")
    await walker.press("services")
    await walker.press("24")
    assert "0 of 24" in walker.last.text
    await walker.send("/commit")
    await walker.press("For myself")
    await walker.press("hours")
    await walker.send("30")
    await walker.send("/points")
    assert "0 of 30 hours" in walker.last.text


async def test_stale_and_forged_team_buttons_change_nothing(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    school_id = await _school(sessions, town)
    wish = await _wish(sessions, town, 2)
    world = World(sessions)
    walker = await world.as_person(town.walker)
    fixer = await world.as_person(town.fixer)
    head = await world.as_person(town.head_n1)

    # Not verified yet: the team cannot take it.
    before = await snapshot(sessions, TABLES)
    await walker.deliver(button=f"a:team:{wish.id}:{school_id}")
    assert "cannot be done now" in walker.last.text
    # A member who is not the contact forges the button.
    await fixer.deliver(button=f"a:team:{wish.id}:{school_id}")
    assert "Only the contact" in fixer.last.text
    await fixer.deliver(button=f"a:team:{wish.id}")
    assert "does not work" in fixer.last.text
    assert await snapshot(sessions, TABLES) == before

    await head.deliver(button=f"a:hands:{wish.id}")
    await head.send("25")
    assert "1 to 20" in head.last.text
    await head.press("2")
    async with sessions() as s:
        found = await s.get(Wish, wish.id)
        assert found is not None and (found.status, found.required_count) == (WishStatus.OPEN, 2)
    # The head's card again, now stale.
    before = await snapshot(sessions, TABLES)
    await head.deliver(button=f"a:hands:{wish.id}")
    assert "cannot be done now" in head.last.text
    assert await snapshot(sessions, TABLES) == before

    await walker.deliver(button=f"a:team:{wish.id}:{school_id}")
    assert "2 places" in walker.received[-2].text
    # Nobody of the school is approved but the contact: naming Walker fills one place.
    await walker.press("Walker")
    assert "Nobody else" in walker.last.text
    before = await snapshot(sessions, TABLES)
    await walker.deliver(button=f"a:team:{wish.id}:{school_id}")
    assert "cannot be done now" in walker.last.text
    assert await snapshot(sessions, TABLES) == before


async def test_the_office_sets_how_many_helpers_with_assign(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.wish_asking import verify_wish
    from models.wish_taking import accept_wish

    wish = await _wish(sessions, town, 1)
    async with sessions.begin() as s:
        await verify_wish(s, town.head_n1, wish.id)
        await accept_wish(s, town.walker, wish.id)  # one place held: the wish is taken
    world = World(sessions)
    admin = await world.as_person(town.admin)
    south = await world.as_person(town.gw_south)
    before = await snapshot(sessions, TABLES)
    await admin.send(f"/assign {wish.code} 3")
    assert "cannot be done now" in admin.last.text  # accepted already: nothing to add to
    await south.send(f"/assign {wish.code} 3")
    assert "Only a grid worker or an admin" in south.last.text
    assert await snapshot(sessions, TABLES) == before

    second = await _wish(sessions, town, 1)
    async with sessions.begin() as s:
        await verify_wish(s, town.head_n1, second.id, required_count=2)
        await accept_wish(s, town.walker, second.id)
    before = await snapshot(sessions, TABLES)
    for typed, answer in (("0", "1 to 20"), ("21", "1 to 20"), ("x", "1 to 20"), ("1", "already")):
        await admin.send(f"/assign {second.code} {typed}")
        assert answer in admin.last.text, typed
    assert await snapshot(sessions, TABLES) == before
    await admin.send(f"/assign {second.code} 4")
    assert any("needs 4 helpers" in text for text in admin.texts()[-2:])
    assert admin.last.buttons  # then the assign picker, as for /assign CODE
    async with sessions() as s:
        found = await s.get(Wish, second.id)
        assert found is not None and (found.required_count, found.status) == (4, WishStatus.OPEN)


async def test_someone_who_runs_two_communities_chooses_where_to_register(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    street = await world.as_person(town.street_admin)  # runs Sunflower and Maple
    await street.send("/org")
    await street.press("Register an organisation")
    assert "Which community is it paired with?" in street.last.text
    labels = [b.label for row in street.last.buttons for b in row]
    assert "Sunflower" in labels and "Maple" in labels and "« Back" not in labels
    # A community they do not run, forged onto the question's own token: asked again.
    token = street.button("Maple").data.rsplit(":", 1)[0]
    await street.deliver(button=f"{token}:999999")
    assert "Please choose with the buttons" in street.last.text
    await street.press("Maple")
    assert "organisation's name" in street.last.text
    await street.press("Back")  # the community question again
    assert "Which community" in street.last.text
    await street.press("Maple")
    await street.send("Maple Clinic")
    await street.press("hospital")
    await street.press("Skip")  # no contact name
    await street.press("Skip")  # no phone
    assert "Maple Clinic is registered" in street.last.text
    async with sessions() as s:
        found = (await s.scalars(select(Organisation))).one()
        assert (found.name, found.community_id) == ("Maple Clinic", town.maple.id)

"""Admin work in the chat, no shell: /volunteer later, /revoke, /places, and long person
lists paged and searchable (/onbehalf, /grant). Through the neutral message type.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.community import Building
from models.conversations import Conversation
from models.directory import add_person, grant_role, revoke_role
from models.errors import NotAllowed
from models.people import MemberProfile, Person, Role, RoleGrant
from models.places import rename_building
from tests.chat import Chat, World
from tests.town import Town
from tests.web import web_site


async def _asked_for(sessions: async_sessionmaker[AsyncSession], chat: Chat) -> str | None:
    """Whom the wish being asked for in this chat is for."""
    async with sessions() as s:
        conversation = await s.scalar(
            select(Conversation).where(Conversation.chat_id == chat.user_id)
        )
        assert conversation is not None and conversation.flow == "wish"
        person = await s.get(Person, conversation.data["requester_id"])
        return person.name if person else None


async def test_a_resident_offers_to_help_later_and_the_admin_approves(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    maple = await world.as_person(town.maple_admin)
    bob = await world.as_person(town.bob)

    await bob.send("/tasks")
    assert "not for you" in bob.last.text
    await bob.send("/volunteer")
    await bob.press("Errands")
    await bob.press("Done")
    await bob.press("Skip")
    assert "will approve you soon" in bob.last.text
    assert "A new volunteer for Sunflower" in admin.last.text and "Bob" in admin.last.text
    assert maple.received == []
    await bob.send("/volunteer")
    assert "offered to help already" in bob.last.text

    listed = await admin.send("/approve")
    assert any("<b>Bob</b>" in r.text for r in listed)
    await admin.deliver(button=f"a:approve:{town.bob.id}")
    assert "Bob is approved" in admin.last.text
    await bob.send("/tasks")
    assert "not for you" not in bob.last.text
    async with sessions() as s:
        bob_now = await s.get(Person, town.bob.id)
        assert bob_now is not None and bob_now.building_id == town.n2.id  # still a resident
        roles = set(
            (
                await s.scalars(select(RoleGrant.role).where(RoleGrant.person_id == town.bob.id))
            ).all()
        )
        assert roles == {Role.RESIDENT, Role.MEMBER}
        profile = await s.get(MemberProfile, town.bob.id)
        assert profile is not None and profile.approved and profile.skills == ["errand"]


async def test_onbehalf_finds_the_45th_resident_by_page_and_by_search(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        for n in range(1, 46):
            person = await add_person(s, f"Neighbour {n:02}", building=town.n1, unit=f"U-{n:02}")
            await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
    world = World(sessions)
    head = await world.as_person(town.head_n1)

    await head.send("/onbehalf")
    assert "Page 1 of 5" in head.last.text and "Type part of a name or unit" in head.last.text
    for _ in range(4):
        await head.press("Next")
    assert "Page 5 of 5" in head.last.text
    await head.press("Neighbour 45")
    assert await _asked_for(sessions, head) == "Neighbour 45"  # the wish for them begins

    await head.send("/onbehalf")
    await head.send("bour 45")
    labels = [b.label for row in head.last.buttons for b in row]
    assert [label for label in labels if "Neighbour" in label] == ["U-45 · Neighbour 45"]
    assert "Matching “bour 45”" in head.last.text
    await head.send("nobody-like-this")
    assert "Nobody matches" in head.last.text
    await head.press("Show all")
    assert "Page 1 of 5" in head.last.text
    await head.send("u-45")  # a unit works too
    await head.press("Neighbour 45")
    assert await _asked_for(sessions, head) == "Neighbour 45"


async def test_grant_finds_a_person_by_typing_part_of_the_name(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    await admin.send("/grant")
    await admin.send("walk")
    labels = [b.label for row in admin.last.buttons for b in row]
    assert "🤝 Walker" in labels and not any("Bob" in label for label in labels)
    await admin.press("Walker")
    assert "Which role for Walker" in admin.last.text


async def test_revoke_takes_a_role_back_and_only_in_the_admins_community(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    maple = await world.as_person(town.maple_admin)
    head = await world.as_person(town.head_n2)

    await head.send("/onbehalf")
    assert "not for you" not in head.last.text
    # Maple's admin sees nobody of Sunflower, and the store refuses them too.
    await maple.send("/revoke")
    await maple.send("Head N2")
    assert "Nobody matches" in maple.last.text
    async with sessions() as s:
        grant_id = await s.scalar(
            select(RoleGrant.id).where(
                RoleGrant.person_id == town.head_n2.id, RoleGrant.role == Role.BUILDING_HEAD
            )
        )
    assert grant_id is not None
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            actor = await s.get(Person, town.maple_admin.id)
            assert actor is not None
            await revoke_role(s, actor, grant_id)

    await admin.send("/revoke")
    await admin.send("N2")
    await admin.press("Head N2")
    assert "Which role of Head N2" in admin.last.text
    await admin.press("building head · N2")
    assert "Take the role building head of N2 away from Head N2?" in admin.last.text
    await admin.press("Take it back")
    assert admin.last.text == "Head N2 is no longer building head of N2."
    assert "You are no longer building head of N2" in head.last.text
    await head.send("/onbehalf")
    assert "not for you" in head.last.text
    async with sessions() as s:
        assert await s.get(RoleGrant, grant_id) is None

    # Nobody takes away their own admin role.
    async with sessions() as s:
        own = await s.scalar(
            select(RoleGrant.id).where(
                RoleGrant.person_id == town.admin.id, RoleGrant.role == Role.ADMIN
            )
        )
    assert own is not None
    await admin.send("/revoke")
    await admin.send("Admin")
    await admin.press("Admin")
    await admin.press("community admin · Sunflower")
    await admin.press("Take it back")
    assert "cannot take away your own admin role" in admin.last.text
    async with sessions() as s:
        assert await s.get(RoleGrant, own) is not None


async def test_places_adds_and_renames_grids_and_buildings_seen_at_registration(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    maple = await world.as_person(town.maple_admin)

    await admin.send("/places")
    assert "<b>North</b>: N1, N2" in admin.last.text
    await admin.press("Add a grid")
    await admin.send("East")
    assert "Grid East was added." in admin.texts()
    await admin.press("Add buildings")
    await admin.press("East")
    await admin.send("E1, E2")
    assert "Added to grid East: E1, E2." in admin.texts()
    await admin.press("Rename a building")
    await admin.press("E2")
    await admin.send("N1")  # taken in this community: refused, nothing changed
    assert "There is a building named N1 already." in admin.last.text
    await admin.send("East Tower")
    assert "E2 is now called East Tower." in admin.texts()
    await admin.press("Rename a grid")
    await admin.press("East")
    await admin.send("Riverside")
    assert "<b>Riverside</b>: E1, East Tower" in admin.last.text
    await admin.press("Done")

    # Another community's admin cannot reach Sunflower's places, not even through the store.
    await maple.send("/places")
    assert "East Tower" not in maple.last.text and "Maple grid" in maple.last.text
    async with sessions() as s:
        tower = await s.scalar(select(Building).where(Building.name == "East Tower"))
        assert tower is not None
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            actor = await s.get(Person, town.maple_admin.id)
            assert actor is not None
            await rename_building(s, actor, tower.id, "Mine")

    newcomer = world.chat("Nia")
    await newcomer.send("/start")
    await newcomer.press("English")
    await newcomer.press("I live here")
    await newcomer.press("Sunflower")
    labels = [b.label for row in newcomer.last.buttons for b in row]
    assert "East Tower" in labels and "E1" in labels and "E2" not in labels
    await newcomer.press("East Tower")
    await newcomer.send("5-1")
    await newcomer.press("No, thanks")
    assert "registered in East Tower" in newcomer.last.text


async def test_the_dashboard_starts_places_revoke_and_import_in_the_web_chat(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        admin.locale = "en"
    async with web_site(app) as site:
        office = await site.signed_in(town.admin)
        status, page = await office.get("/admin")
        assert status == 200
        assert all(f'value="/{name}"' in page for name in ("import", "places", "revoke"))
        response = await office.post("/admin/act", {"press": "/places"})
        assert response.headers["Location"] == "/chat"
        await office.say("/help")  # catch up with the chat (help keeps the conversation)
        await office.press("Add a grid")  # the chat holds the places menu the dashboard opened
        await office.say("West")
        assert any("Grid West was added." in m.get("html", "") for m in office.lines)


async def test_the_new_admin_conversations_speak_chinese(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin, "zh-hans")
    async with sessions.begin() as s:
        found = await s.get(Person, town.admin.id)
        assert found is not None
        found.locale = "zh_Hans"
    await admin.send("/places")
    await admin.press("添加网格")
    await admin.send("东区")
    await admin.send("/revoke")
    await admin.send("N2")
    await admin.press("Head N2")
    await admin.press("楼栋长")
    await admin.send("/import")
    english = ("grid", "building", "Please", "Send me", "role", "Type part", "Which")
    for text in admin.texts():
        # The file's column names are given in both languages on purpose.
        text = text.replace("building, unit, name", "")
        assert not any(word in text for word in english), text
    assert "已添加网格 东区。" in admin.texts()

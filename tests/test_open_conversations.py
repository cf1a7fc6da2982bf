"""Conversations left open across an update: a chat stores its flow's name and step, and the bot
still answers to them, so a half-done /grant, resource, report or survey goes on after a restart.

The rows are written as an earlier bot left them; a rename of a flow or a step fails here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.campaign_answers import start_campaign
from models.campaign_definitions import parse_definition
from models.campaign_units import answers_of_unit, units_of
from models.conversations import Conversation
from models.neighbourhood import Dispute, DisputeStatus, VisitPlan
from models.people import Role, RoleGrant
from models.resources import Resource
from models.surveys import SurveyUnit, UnitStatus
from models.wishes import Wish, WishAssignment, WishStatus
from tests.chat import Chat, World
from tests.conftest import START
from tests.town import Town
from tests.wishes import wish_in

TOKEN = "0a0b0c"


async def _left_open(
    sessions: async_sessionmaker[AsyncSession],
    chat: Chat,
    flow: str,
    step: str,
    data: dict[str, Any],
) -> None:
    """The chat's conversation as an earlier bot left it: at this step, its buttons out."""
    await chat.send("/help")  # the chat's conversation row exists from here on
    async with sessions.begin() as s:
        conversation = await s.scalar(
            select(Conversation).where(
                Conversation.platform == "test", Conversation.chat_id == chat.user_id
            )
        )
        assert conversation is not None
        conversation.flow, conversation.step, conversation.token = flow, step, TOKEN
        conversation.data = data


async def _head_left_at(world: World, town: Town, step: str, data: dict[str, Any]) -> Chat:
    """N1's building head, midway through a neighbourhood conversation."""
    head = await world.as_person(town.head_n1)
    await _left_open(world.sessions, head, "neighbourhood", step, data)
    return head


async def test_a_half_done_grant_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    admin = await world.as_person(town.admin)
    data = {"person_id": town.bob.id, "person_name": "Bob", "_back": ["grant_person"]}
    await _left_open(sessions, admin, "admin", "grant_role", data)
    await admin.deliver(button=f"c:{TOKEN}:{Role.BUILDING_HEAD.value}")
    assert "Head of which building" in admin.last.text
    await admin.press("N2")
    assert admin.last.text == "Bob is now building head of N2."
    async with sessions() as s:
        grant = await s.scalar(
            select(RoleGrant).where(
                RoleGrant.person_id == town.bob.id, RoleGrant.role == Role.BUILDING_HEAD
            )
        )
        assert grant is not None and grant.scope_id == town.n2.id


async def test_a_half_done_resource_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    walker = await world.as_person(town.walker)
    data = {
        "organisation_id": None,
        "community_id": town.sunflower.id,
        "service": "Reading to children",
        "covers": ["companionship"],
        "capacity": 4,
        "weekdays": [5],
        "_back": ["service", "covers", "capacity"],
    }
    await _left_open(sessions, walker, "organisations", "weekdays", data)
    await walker.deliver(button=f"c:{TOKEN}:done")
    assert "At what hours" in walker.last.text
    await walker.press("Skip")
    await walker.press("at its own site")
    assert "Reading to children" in walker.last.text
    async with sessions() as s:
        found = (await s.scalars(select(Resource))).one()
        assert (found.service, found.capacity_per_month, found.weekdays) == (
            "Reading to children",
            4,
            [5],
        )


async def test_a_half_done_report_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    alice = await world.as_person(town.alice)
    wish = await wish_in(sessions, town, WishStatus.ACCEPTED)
    data = {"wish_id": wish.id, "code": wish.code, "note": "New bulb", "_back": ["note"]}
    await _left_open(sessions, fixer, "tasks", "photo", data)
    await fixer.deliver(button=f"c:{TOKEN}:skip")
    assert f"Wish {wish.code} is reported done" in fixer.last.text
    assert "“New bulb”" in alice.last.text
    async with sessions() as s:
        done = await s.get(Wish, wish.id)
        assert done is not None and done.status == WishStatus.DONE
        held = await s.scalar(select(WishAssignment).where(WishAssignment.wish_id == wish.id))
        assert held is not None and held.done_note == "New bulb"


async def test_a_half_done_give_back_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    fixer = await world.as_person(town.fixer)
    wish = await wish_in(sessions, town, WishStatus.ACCEPTED)
    await _left_open(sessions, fixer, "tasks", "release", {"wish_id": wish.id, "code": wish.code})
    await fixer.deliver(button=f"c:{TOKEN}:yes")
    assert "open for other helpers again" in fixer.last.text
    async with sessions() as s:
        released = await s.get(Wish, wish.id)
        assert released is not None and released.status == WishStatus.OPEN


async def test_a_half_done_survey_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    definition = {
        "title": "Household check",
        "questions": [
            {"text": "Standard address", "kind": "text"},
            {"text": "Does someone live alone?", "kind": "yes/no"},
        ],
        "buildings": ["N1"],
        "deadline": (START + dt.timedelta(days=7)).isoformat(),
    }
    async with sessions.begin() as s:
        survey = await start_campaign(
            s, town.admin, town.sunflower.id, parse_definition(definition)
        )
        [unit] = await units_of(s, survey.id, [town.n1.id])  # Alice's 101
    world = World(sessions)
    head = await world.as_person(town.head_n1)
    data = {"survey_id": survey.id, "unit_id": unit.id, "position": 0, "_back": ["units"]}
    await _left_open(sessions, head, "campaigns", "question", data)
    await head.send("Riverside 1")
    assert "question 2 of 2" in head.last.text
    await head.press("Yes")
    assert any("Unit 101 is done" in r.text for r in head.received)
    async with sessions() as s:
        done = await s.get(SurveyUnit, unit.id)
        assert done is not None and done.status == UnitStatus.DONE
        assert sorted((await answers_of_unit(s, done)).values()) == ["Riverside 1", "yes"]


async def test_a_half_done_notice_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    alice = await world.as_person(town.alice)
    data = {"buildings": [town.n1.id], "text": "Water is off on Monday", "_back": ["notice_text"]}
    head = await _head_left_at(world, town, "notice_confirm", data)
    await head.deliver(button=f"c:{TOKEN}:send")
    assert head.last.text.startswith("Sent to")
    assert "Water is off on Monday" in alice.last.text


async def test_a_half_done_dispute_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    data = {
        "building_id": town.n1.id,
        "parties": "3-201 and 3-301",
        "what": "Water dripping from the balcony",
        "_back": ["dispute_parties", "dispute_what"],
    }
    head = await _head_left_at(World(sessions), town, "dispute_outcome", data)
    await head.deliver(button=f"c:{TOKEN}:unsettled")
    assert "is logged" in head.last.text
    async with sessions() as s:
        found = (await s.scalars(select(Dispute))).one()
        assert (found.parties, found.status) == ("3-201 and 3-301", DisputeStatus.OPEN)


async def test_a_half_done_visit_plan_goes_on(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    data = {
        "building_id": town.n1.id,
        "unit": "501",
        "reason": "Lives alone, 86",
        "_back": ["visits", "visit_unit", "visit_reason"],
    }
    head = await _head_left_at(World(sessions), town, "visit_every", data)
    await head.deliver(button=f"c:{TOKEN}:14")
    assert "501 is flagged" in head.last.text
    async with sessions() as s:
        plan = (await s.scalars(select(VisitPlan))).one()
        assert (plan.unit, plan.every_days) == ("501", 14)

"""Conversations left open across an update: a chat stores its flow's name and step, and the bot
still answers to them, so a half-done /grant or resource goes on after a restart.

The rows are written as an earlier bot left them; a rename of a flow or a step fails here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.conversations import Conversation
from models.people import Role, RoleGrant
from models.resources import Resource
from tests.chat import Chat, World
from tests.town import Town

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

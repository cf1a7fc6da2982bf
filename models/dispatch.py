"""Dispatch: who fits a wish, best first, each with its reasons in words: members
(dispatch_members) and resources (dispatch_resources), weighed by dispatch_rules."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.availability import available_at
from models.community import Building
from models.dispatch_members import rank_members
from models.dispatch_resources import rank_resources
from models.dispatch_rules import (
    UTC,
    Candidate,
    Reason,
    best_of,
    rules_for_community,
)
from models.errors import N_, NotFound
from models.people import MemberProfile, Person
from models.reach import Reach, place_of_building
from models.wishes import Wish


async def rank_supply(
    session: AsyncSession, wish: Wish, limit: int = 5, *, timezone: ZoneInfo = UTC
) -> tuple[list[Candidate], list[Candidate]]:
    """For a wish, the best ``limit`` members (whom the office may assign) and the best
    ``limit`` resources, each best first, with one community's weights."""
    rules = await rules_for_community(
        session, (await place_of_building(session, wish.building_id)).community_id
    )
    members = await rank_members(session, wish, limit, timezone=timezone, rules=rules)
    resources = await rank_resources(session, wish, limit, timezone=timezone, rules=rules)
    return members, resources


async def rank_for_wish(
    session: AsyncSession, reach: Reach, wish_id: int, limit: int = 5, *, timezone: ZoneInfo = UTC
) -> list[Candidate]:
    """For the dashboard's wish page: the top candidates for the wish, with their reasons;
    only for a wish in the viewer's reach (models/reach.py), as if it did not exist otherwise."""
    wish = await session.get(Wish, wish_id)
    if wish is None or not reach.covers(await place_of_building(session, wish.building_id)):
        raise NotFound(N_("There is no such wish."))
    return best_of(limit, *await rank_supply(session, wish, limit, timezone=timezone))


async def reasons_for_member(
    session: AsyncSession, member: Person, wishes: Sequence[Wish], timezone: ZoneInfo = UTC
) -> dict[int, tuple[Reason, ...]]:
    """Why each open wish suits the member, for /tasks: their skill ("repairs"), their
    building or grid, their stated free time (only what speaks for it), by wish id."""
    profile = await session.get(MemberProfile, member.id)
    skills = set(profile.skills) if profile else set()
    home = await session.get(Building, member.building_id) if member.building_id else None
    grids = {
        b: g
        for b, g in (
            await session.execute(
                select(Building.id, Building.grid_id).where(
                    Building.id.in_({w.building_id for w in wishes})
                )
            )
        ).all()
    }
    found: dict[int, tuple[Reason, ...]] = {}
    for wish in wishes:
        reasons: list[Reason] = []
        if wish.category in skills:
            reasons.append(Reason("skill", 1, "{category}", {"category": wish.category}))
        if home is not None and home.id == wish.building_id:
            reasons.append(Reason("building", 1, N_("your building")))
        elif home is not None and grids.get(wish.building_id) == home.grid_id:
            reasons.append(Reason("grid", 1, N_("your grid")))
        if profile is not None and available_at(profile, wish.preferred_time, timezone):
            reasons.append(Reason("available", 1, N_("when you are free")))
        found[wish.id] = tuple(reasons)
    return found

"""What a closed wish, a head's check and a wish entered for a neighbour earn, by the rules
of the wish's community today; each award has its own key, so it is paid once, under the cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.people import Person
from models.point_rules import PointRules, point_rules
from models.points import PointsEntry, PointsKind
from models.points_ledger import add_points
from models.reach import place_of_building
from models.wishes import Category, Wish, WishAssignment


def month_start(moment: dt.datetime) -> dt.datetime:
    """The first instant of the moment's calendar month (UTC)."""
    return moment.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def earned_since(session: AsyncSession, person_id: int, since: dt.datetime) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.person_id == person_id,
            PointsEntry.kind == PointsKind.AWARD,
            PointsEntry.at >= since,
        )
    )
    return int(total or 0)


async def _pay(
    session: AsyncSession,
    rules: PointRules,
    person_id: int,
    amount: int,
    key: str,
    wish: Wish,
    note: str | None = None,
) -> None:
    """One award, cut to what the monthly cap leaves (nothing when it is reached)."""
    if rules.monthly_cap:
        # Awards to one person wait for each other here, so two at once cannot both fit the
        # room left under the cap (SQLite serialises writers anyway).
        await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
        left = rules.monthly_cap - await earned_since(session, person_id, month_start(now(session)))
        amount = min(amount, left)
    if amount > 0:
        await add_points(
            session, person_id, amount, PointsKind.AWARD, key, wish_id=wish.id, note=note
        )


async def rules_of_wish(session: AsyncSession, wish: Wish) -> PointRules:
    place = await place_of_building(session, wish.building_id)
    return await point_rules(session, place.community_id)


async def award_closed_wish(
    session: AsyncSession,
    wish: Wish,
    rating: int | None,
    assignments: Sequence[WishAssignment],
) -> None:
    """Every member who held a place, and whoever entered the wish for its requester."""
    category = await session.get(Category, wish.category)
    assert category is not None
    rules = await rules_of_wish(session, wish)
    base = rules.base_points(category) + (rules.five_star_bonus if rating == 5 else 0)
    for assignment in assignments:
        hours = round((assignment.hours or 0) * rules.per_hour)
        await _pay(
            session,
            rules,
            assignment.member_id,
            base + hours,
            f"wish-{wish.id}-member-{assignment.member_id}",
            wish,
        )
    if rules.on_behalf_points and wish.submitted_by_id != wish.requester_id:
        await _pay(
            session,
            rules,
            wish.submitted_by_id,
            rules.on_behalf_points,
            f"wish-{wish.id}-on-behalf",
            wish,
            note="on behalf",
        )


async def award_verification(session: AsyncSession, wish: Wish, head_id: int) -> None:
    """The head who checked the wish, once per wish."""
    rules = await rules_of_wish(session, wish)
    if rules.verify_points:
        await _pay(
            session, rules, head_id, rules.verify_points, f"wish-{wish.id}-verify", wish, "verify"
        )

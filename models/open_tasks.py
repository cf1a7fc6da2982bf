"""Which open wishes a member may take: the one rule /tasks and Open311 share, within the
communities the member reaches (models/reach.py), the fitting and nearest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Building
from models.people import MemberProfile, Person, Role, RoleGrant
from models.reach import Reach, place_of_building
from models.skills import skills_hold
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus


def held_by(member_id: int) -> Select[int]:
    """The wishes the member holds a place on now."""
    return select(WishAssignment.wish_id).where(
        WishAssignment.member_id == member_id, WishAssignment.status == AssignmentStatus.ACTIVE
    )


def takeable_by(member_id: int, reach: Reach) -> ColumnElement[bool]:
    """Open, still needing a helper, in the reach, not the member's own, not held already."""
    return and_(
        Wish.status == S.OPEN,
        Wish.taken_count < Wish.required_count,
        reach.wishes(),
        Wish.requester_id != member_id,
        Wish.id.not_in(held_by(member_id)),
    )


async def open_wishes_page(
    session: AsyncSession, member: Person, reach: Reach, page: int, size: int
) -> tuple[list[Wish], int]:
    """One page of the wishes the member may take, fitting their skills first, then nearest
    (their building, then their grid), then oldest; and how many there are in all."""
    base = (
        select(Wish)
        .join(Building, Wish.building_id == Building.id)
        .where(takeable_by(member.id, reach))
    )
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    order: list[ColumnElement[Any]] = []
    profile = await session.get(MemberProfile, member.id)
    skills = list(profile.skills) if profile else []
    if skills:
        order.append(case((Wish.category.in_(skills), 0), else_=1))
    home = await session.get(Building, member.building_id) if member.building_id else None
    if home is not None:
        order.append(
            case((Wish.building_id == home.id, 0), (Building.grid_id == home.grid_id, 1), else_=2)
        )
    order += [Wish.created_at.asc(), Wish.id.asc()]
    found = (await session.scalars(base.order_by(*order).offset(page * size).limit(size))).all()
    return list(found), int(total)


async def members_fitting(session: AsyncSession, wish: Wish, limit: int) -> list[int]:
    """Approved members of the wish's community whose skills fit it (not the requester)."""
    place = await place_of_building(session, wish.building_id)
    found = await session.scalars(
        select(RoleGrant.person_id)
        .join(MemberProfile, RoleGrant.person_id == MemberProfile.person_id)
        .where(
            RoleGrant.role == Role.MEMBER,
            RoleGrant.scope_id == place.community_id,
            MemberProfile.approved,
            skills_hold(wish.category),
            MemberProfile.person_id != wish.requester_id,
            MemberProfile.person_id.not_in(select(Person.id).where(Person.erased_at.is_not(None))),
        )
        .order_by(RoleGrant.person_id)
        .limit(limit)
    )
    return list(found)


async def holds_place(session: AsyncSession, wish_id: int, member_id: int) -> bool:
    """Whether the member holds a place on the wish now."""
    found = await session.scalar(
        select(WishAssignment.id).where(
            WishAssignment.wish_id == wish_id,
            WishAssignment.member_id == member_id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
        )
    )
    return found is not None


async def tasks_of(session: AsyncSession, member_id: int) -> Sequence[Wish]:
    """The wishes the member holds a place on that are still going or await confirmation,
    those due soonest first (those without a due date last)."""
    return (
        await session.scalars(
            select(Wish)
            .join(WishAssignment, WishAssignment.wish_id == Wish.id)
            .where(
                WishAssignment.member_id == member_id,
                WishAssignment.status == AssignmentStatus.ACTIVE,
                Wish.status.in_([S.OPEN, S.ACCEPTED, S.DONE]),
            )
            .order_by(Wish.due_at.is_(None), Wish.due_at, Wish.id)
        )
    ).all()

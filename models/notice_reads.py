"""Notices a head sends to their buildings, and who has read them: a read is one row per notice
and person, so a second press or a second device changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.head_work import _required
from models.notices import Notice, NoticeBuilding, NoticeRead
from models.people import Identity, Person, Role, RoleGrant
from models.permissions import has_role
from models.reach import grants_of, place_of_building

MAX_NOTICE = 2000


async def send_notice(
    session: AsyncSession, actor: Person, building_ids: Iterable[int], text: str
) -> Notice:
    """A head for their own buildings, an admin for any building of their community."""
    buildings = sorted(set(building_ids))
    if not buildings:
        raise InvalidInput(N_("Choose at least one building."))
    body = _required(text, limit=MAX_NOTICE, what=N_("the notice"))
    grants = await grants_of(session, actor)
    communities = set()
    for building_id in buildings:
        place = await place_of_building(session, building_id)
        if not (has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place)):
            raise NotAllowed(N_("You may send notices only to your own buildings."))
        communities.add(place.community_id)
    if len(communities) != 1:
        raise InvalidInput(N_("A notice goes to buildings of one community."))
    notice = Notice(
        community_id=communities.pop(), sender_id=actor.id, text=body, created_at=now(session)
    )
    session.add(notice)
    await session.flush()
    session.add_all(NoticeBuilding(notice_id=notice.id, building_id=b) for b in buildings)
    await session.flush()
    return notice


async def get_notice(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(N_("There is no such notice."))
    return notice


async def notice_buildings(session: AsyncSession, notice_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(NoticeBuilding.building_id)
                .where(NoticeBuilding.notice_id == notice_id)
                .order_by(NoticeBuilding.building_id)
            )
        ).all()
    )


def _residents_of(notice: Notice) -> Select[Any]:
    """Residents of the notice's buildings (not its sender)."""
    return (
        select(RoleGrant.person_id)
        .join(NoticeBuilding, NoticeBuilding.building_id == RoleGrant.scope_id)
        .where(
            NoticeBuilding.notice_id == notice.id,
            RoleGrant.role == Role.RESIDENT,
            RoleGrant.person_id != notice.sender_id,
        )
    )


def _audience(notice: Notice) -> Select[Any]:
    """Who a notice is for: its buildings' residents who have a chat, each once."""
    with_chat = select(Identity.person_id)
    return (
        _residents_of(notice)
        .where(RoleGrant.person_id.in_(with_chat))
        .distinct()
        .order_by(RoleGrant.person_id)
    )


async def audience(session: AsyncSession, notice: Notice) -> list[int]:
    return list((await session.scalars(_audience(notice))).all())


async def mark_read(session: AsyncSession, person: Person, notice_id: int) -> bool:
    """Record that the person read the notice; True the first time, False ever after.

    Two presses at once (two devices, two processes) may both find no row: the second insert
    then fails on the primary key inside its savepoint, and counts as read already.
    """
    notice = await get_notice(session, notice_id)
    mine = await session.scalar(
        _residents_of(notice).where(RoleGrant.person_id == person.id).limit(1)
    )
    if mine is None:
        raise NotAllowed(N_("This notice was not for you."))
    already = await session.scalar(
        select(NoticeRead.person_id).where(
            NoticeRead.notice_id == notice_id, NoticeRead.person_id == person.id
        )
    )
    if already is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(NoticeRead(notice_id=notice_id, person_id=person.id, read_at=now(session)))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def _may_follow(session: AsyncSession, actor: Person, notice: Notice) -> None:
    """The sender, an admin of its community, or a head of one of its buildings."""
    if actor.id == notice.sender_id:
        return
    grants = await grants_of(session, actor)
    for building_id in await notice_buildings(session, notice.id):
        place = await place_of_building(session, building_id)
        if has_role(grants, Role.BUILDING_HEAD, place) or has_role(grants, Role.ADMIN, place):
            return
    raise NotAllowed(N_("That notice is not one of yours."))


async def read_counts(session: AsyncSession, actor: Person, notice_id: int) -> tuple[int, int]:
    """(read, total): total is the audience; read counts each reader among them once."""
    notice = await get_notice(session, notice_id)
    await _may_follow(session, actor, notice)
    everyone = _audience(notice).subquery()
    total = await session.scalar(select(func.count()).select_from(everyone))
    read = await session.scalar(
        select(func.count(NoticeRead.person_id)).where(
            NoticeRead.notice_id == notice_id,
            NoticeRead.person_id.in_(select(everyone.c.person_id)),
        )
    )
    return int(read or 0), int(total or 0)


async def unread_people(session: AsyncSession, actor: Person, notice_id: int) -> list[int]:
    """Who the notice is for and has not pressed "I've read it" yet."""
    notice = await get_notice(session, notice_id)
    await _may_follow(session, actor, notice)
    readers = select(NoticeRead.person_id).where(NoticeRead.notice_id == notice_id)
    return list(
        (await session.scalars(_audience(notice).where(RoleGrant.person_id.not_in(readers)))).all()
    )


async def notices_sent_by(session: AsyncSession, actor: Person, limit: int = 5) -> list[Notice]:
    return list(
        (
            await session.scalars(
                select(Notice)
                .where(Notice.sender_id == actor.id)
                .order_by(Notice.id.desc())
                .limit(limit)
            )
        ).all()
    )

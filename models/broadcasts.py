"""Broadcasts: one text to a building, a grid, a community or a role, as one outbox row per chat.

The runtime paces the rows at the platform's limits; these functions count and report them.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Community, Grid
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.news_route import once_each
from models.outbox import BLOCKED, MESSAGE
from models.people import SCOPE_OF_ROLE, Identity, Person, Role, RoleGrant, ScopeKind
from models.reach import grants_of, reach_of
from models.reminders import Broadcast, Reminder, ReminderStatus

MAX_TEXT = 3000
COMMUNITY = "community"
GRID = "grid"
BUILDING = "building"
PLACES = (COMMUNITY, GRID, BUILDING)
# Roles a broadcast may be addressed to, within one community.
ROLES = (Role.RESIDENT, Role.BUILDING_HEAD, Role.MEMBER, Role.GRID_WORKER, Role.ADMIN)
# A row that records "the sender was told the broadcast is half way"; it is never sent.
HALFWAY = "broadcast_halfway"


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: a kind (place or role) and the place it is scoped to."""

    kind: str
    scope_id: int  # the community, grid or building; for a role, the community
    community_id: int


class Progress(TypedDict):
    total: int
    sent: int
    blocked: int  # the person blocked the bot: marked unreachable
    failed: int  # refused for another reason, or given up after retries
    pending: int
    rate: float  # delivered per second, from the first to the last delivery


async def resolve_audience(
    session: AsyncSession, sender: Person, audience: str, scope_id: int | None
) -> Audience:
    """The audience checked: it exists, and the sender is an admin of its community.

    For "community" and a role, scope_id is the community (None: the one the sender runs).
    Only community admins broadcast: a grid worker or a head asks the office.
    """
    admin_of = sorted(reach_of(await grants_of(session, sender), Role.ADMIN).communities)
    if audience in (GRID, BUILDING):
        if scope_id is None:
            raise InvalidInput(N_("Which place should the broadcast go to?"))
        community_id = await _community_of(session, audience, scope_id)
        scope = scope_id
    elif audience == COMMUNITY or audience in {r.value for r in ROLES}:
        if scope_id is None:
            if len(admin_of) != 1:
                raise InvalidInput(N_("Which community should the broadcast go to?"))
            scope_id = admin_of[0]
        if await session.get(Community, scope_id) is None:
            raise NotFound(N_("There is no such place."))
        community_id = scope = scope_id
    else:
        raise InvalidInput(N_("A broadcast goes to a community, a grid, a building or a role."))
    if community_id not in admin_of:
        raise NotAllowed(N_("Only an admin of that community can send it a broadcast."))
    return Audience(audience, scope, community_id)


async def _community_of(session: AsyncSession, kind: str, place_id: int) -> int:
    if kind == GRID:
        found = await session.scalar(select(Grid.community_id).where(Grid.id == place_id))
    else:
        found = await session.scalar(
            select(Grid.community_id)
            .join(Building, Building.grid_id == Grid.id)
            .where(Building.id == place_id)
        )
    if found is None:
        raise NotFound(N_("There is no such place."))
    return int(found)


def people_in(audience: Audience) -> Select[int]:
    """Everyone the audience covers: those living there and those holding a role there."""
    cid = audience.community_id
    grids = select(Grid.id).where(Grid.community_id == cid)
    buildings = select(Building.id).join(Grid, Building.grid_id == Grid.id)
    if audience.kind == GRID:
        grids = select(Grid.id).where(Grid.id == audience.scope_id)
        buildings = buildings.where(Grid.id == audience.scope_id)
    elif audience.kind == BUILDING:
        grids = select(Grid.id).where(false())  # a building has no grid worker of its own
        buildings = buildings.where(Building.id == audience.scope_id)
    else:
        buildings = buildings.where(Grid.community_id == cid)
    scopes = {ScopeKind.BUILDING: buildings, ScopeKind.GRID: grids}

    def holding(*roles: Role) -> list[ColumnElement[bool]]:
        return [
            and_(
                RoleGrant.role == role,
                RoleGrant.scope_id.in_(scopes[SCOPE_OF_ROLE[role]])
                if SCOPE_OF_ROLE[role] in scopes
                else RoleGrant.scope_id == cid,
            )
            for role in roles
        ]

    if audience.kind in PLACES:
        roles = [Role.RESIDENT, Role.BUILDING_HEAD, Role.GRID_WORKER]
        if audience.kind == COMMUNITY:
            roles += [Role.MEMBER, Role.ADMIN]
        lives_there: ColumnElement[bool] = Person.building_id.in_(buildings)
    else:
        roles = [Role(audience.kind)]
        # A resident is whoever lives there, granted or not (a head may speak for them).
        lives_there = Person.building_id.in_(buildings) if roles[0] == Role.RESIDENT else false()
    granted = select(RoleGrant.person_id).where(or_(*holding(*roles)))
    return select(Person.id).where(or_(lives_there, Person.id.in_(granted)))


async def recipients(
    session: AsyncSession, sender: Person, audience: Audience
) -> Sequence[tuple[int, str, str]]:
    """(person, platform, chat) of everyone reachable in the audience, the sender aside."""
    rows = await session.execute(
        select(Identity.person_id, Identity.platform, Identity.external_id)
        .join(Person, Person.id == Identity.person_id)
        .where(
            Person.id.in_(people_in(audience)),
            Person.id != sender.id,
            Person.unreachable.is_(False),
        )
        .order_by(Identity.person_id, Identity.id)
    )
    # A person on several platforms gets it once, where they wrote last.
    return await once_each(
        session, [(person, platform, chat) for person, platform, chat in rows.all()]
    )


async def count_recipients(
    session: AsyncSession, sender: Person, audience: str, scope_id: int | None
) -> int:
    """How many people a broadcast would reach now (checked as start_broadcast checks)."""
    checked = await resolve_audience(session, sender, audience, scope_id)
    return len({person for person, _, _ in await recipients(session, sender, checked)})


async def start_broadcast(
    session: AsyncSession, sender: Person, audience: str, scope_id: int | None, text: str
) -> Broadcast:
    """Write the broadcast and one outbox row per chat of each recipient; nothing is sent here."""
    text = text.strip()
    if not text:
        raise InvalidInput(N_("A broadcast needs a text."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("A broadcast can be at most {limit} characters long."), limit=MAX_TEXT
        )
    checked = await resolve_audience(session, sender, audience, scope_id)
    chats = await recipients(session, sender, checked)
    if not chats:
        raise InvalidInput(N_("Nobody there can be reached by the bot."))
    community = await session.get(Community, checked.community_id)
    assert community is not None
    moment = now(session)
    broadcast = Broadcast(
        sender_id=sender.id,
        community_id=checked.community_id,
        audience=checked.kind,
        scope_id=checked.scope_id,
        text=text,
        total=len(chats),
        created_at=moment,
    )
    session.add(broadcast)
    await session.flush()
    # The community's name is the signature: no words to translate, the same for everyone.
    payload = {"text": f"📢 <b>{_escape(community.name)}</b>\n{_escape(text)}", "buttons": []}
    session.add_all(
        Reminder(
            due_at=moment,
            target_person_id=person_id,
            kind=MESSAGE,
            platform=platform,
            chat_id=chat,
            payload=payload,
            status=ReminderStatus.PENDING,
            # The office sends it now, deliberately: quiet hours do not hold it.
            urgent=True,
            broadcast_id=broadcast.id,
            attempts=0,
            created_at=moment,
        )
        for person_id, platform, chat in chats
    )
    await session.flush()
    return broadcast


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


async def broadcast_progress(session: AsyncSession, broadcast_id: int) -> Progress:
    blocked = and_(
        Reminder.status == ReminderStatus.FAILED, Reminder.last_error.startswith(BLOCKED)
    )
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(case((Reminder.status == ReminderStatus.SENT, 1))),
                func.count(case((blocked, 1))),
                func.count(case((Reminder.status == ReminderStatus.FAILED, 1))),
                func.count(case((Reminder.status == ReminderStatus.PENDING, 1))),
                func.min(Reminder.sent_at),
                func.max(Reminder.sent_at),
            ).where(Reminder.broadcast_id == broadcast_id, Reminder.kind == MESSAGE)
        )
    ).one()
    total, sent, blocked_count, failed, pending, first, last = row
    return Progress(
        total=int(total),
        sent=int(sent),
        blocked=int(blocked_count),
        failed=int(failed) - int(blocked_count),
        pending=int(pending),
        rate=_rate(int(sent), first, last),
    )


def _rate(sent: int, first: dt.datetime | None, last: dt.datetime | None) -> float:
    """Delivered per second; what went out within one second counts as one second."""
    if not sent or first is None or last is None:
        return 0.0
    return sent / max((last - first).total_seconds(), 1.0)


async def unreported(session: AsyncSession) -> Sequence[Broadcast]:
    """Broadcasts whose sender still waits for news, locked: another process skips them."""
    return (
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.reported_at.is_(None))
            .order_by(Broadcast.id)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def mark_halfway(session: AsyncSession, broadcast: Broadcast) -> bool:
    """Record that the sender hears "half way" now; False if they already did."""
    key = f"{HALFWAY}:{broadcast.id}"
    if await session.scalar(select(Reminder.id).where(Reminder.key == key)) is not None:
        return False
    moment = now(session)
    session.add(
        Reminder(
            due_at=moment,
            target_person_id=broadcast.sender_id,
            kind=HALFWAY,
            payload={},
            status=ReminderStatus.SENT,  # a record, never claimed by a sweep
            key=key,
            broadcast_id=broadcast.id,
            attempts=0,
            created_at=moment,
            sent_at=moment,
        )
    )
    await session.flush()
    return True


def mark_reported(session: AsyncSession, broadcast: Broadcast) -> None:
    broadcast.reported_at = now(session)

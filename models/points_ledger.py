"""Points: awards when a wish closes, adjustments by admins, redemptions of rewards.

Every change is one ledger row plus a guarded move of the cached balance, never below zero.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Grid
from models.errors import N_, InvalidInput, NotAllowed, NotEnoughPoints, NotFound
from models.people import MemberProfile, Person, Role, RoleGrant
from models.point_rules import point_rules
from models.points import PointsEntry, PointsKind
from models.reach import grants_of, reach_of
from models.rewards import Redemption, RedemptionStatus, Reward
from models.schedule import add_reminder
from models.wishes import Wish

MAX_ADJUSTMENT = 10_000


async def add_points(
    session: AsyncSession,
    person_id: int,
    amount: int,
    kind: PointsKind,
    key: str,
    *,
    wish_id: int | None = None,
    note: str | None = None,
    actor_id: int | None = None,
) -> PointsEntry:
    """Append one ledger row. The same key twice returns the first row and adds nothing."""
    existing = await session.scalar(select(PointsEntry).where(PointsEntry.idempotency_key == key))
    if existing is not None:
        return existing
    if amount == 0:
        raise InvalidInput(N_("A points change cannot be zero."))
    # One conditional UPDATE: concurrent spenders cannot both pass a stale check.
    moved = await session.execute(
        update(Person)
        .where(Person.id == person_id, Person.points_balance + amount >= 0)
        .values(points_balance=Person.points_balance + amount)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise NotEnoughPoints(N_("Not enough points for that."))
    entry = PointsEntry(
        person_id=person_id,
        amount=amount,
        kind=kind,
        wish_id=wish_id,
        note=note,
        idempotency_key=key,
        actor_id=actor_id,
        at=now(session),
    )
    session.add(entry)
    await session.flush()
    person = session.identity_map.get(session.identity_key(Person, person_id))
    if person is not None:
        await session.refresh(person, ["points_balance"])
    return entry


async def balance(session: AsyncSession, person_id: int) -> int:
    """The sum of the ledger: the truth the cached balance must equal."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.person_id == person_id
        )
    )
    return int(total or 0)


async def _communities_of(session: AsyncSession, person: Person) -> set[int]:
    ids = set(reach_of(await grants_of(session, person), Role.MEMBER).communities)
    if person.building_id is not None:
        home = await session.scalar(
            select(Grid.community_id)
            .join(Building, Building.grid_id == Grid.id)
            .where(Building.id == person.building_id)
        )
        if home is not None:
            ids.add(home)
    return ids


async def adjust_points(
    session: AsyncSession, actor: Person, person: Person, amount: int, reason: str
) -> PointsEntry:
    """An admin corrects a balance, with a reason that stays in the ledger."""
    if not reason.strip():
        raise InvalidInput(N_("Say why the points change."))
    if not -MAX_ADJUSTMENT <= amount <= MAX_ADJUSTMENT or amount == 0:
        raise InvalidInput(N_("A points change must be between -10000 and 10000, and not zero."))
    communities = await _communities_of(session, person)
    if not communities & reach_of(await grants_of(session, actor), Role.ADMIN).communities:
        raise NotAllowed(N_("Only an admin of their community can change someone's points."))
    return await add_points(
        session,
        person.id,
        amount,
        PointsKind.ADJUSTMENT,
        f"adjust-{uuid.uuid4()}",
        note=reason.strip(),
        actor_id=actor.id,
    )


async def redeem_reward(
    session: AsyncSession, actor: Person, reward_id: int, *, request_key: str | None = None
) -> Redemption:
    """Spend points on a reward; a retried request with the same key redeems once.

    The stock goes down by one conditional UPDATE (never below zero, whoever presses at the
    same moment); the member gets a collection code, valid for the community's collect_days.
    """
    key = f"redeem-{request_key or uuid.uuid4()}"
    earlier = await session.scalar(
        select(Redemption)
        .join(PointsEntry, Redemption.points_entry_id == PointsEntry.id)
        .where(PointsEntry.idempotency_key == key)
    )
    if earlier is not None:
        return earlier
    reward = await session.get(Reward, reward_id)
    moment = now(session)
    if reward is None or not reward.active:
        raise NotFound(N_("That reward is not offered."))
    if reward.valid_until is not None and reward.valid_until <= moment:
        raise NotFound(N_("That reward is no longer offered."))
    if reward.community_id not in await _communities_of(session, actor):
        raise NotAllowed(N_("That reward belongs to another community."))
    if reward.stock is not None:
        taken = await session.execute(
            update(Reward)
            .where(Reward.id == reward.id, Reward.stock > 0)
            .values(stock=Reward.stock - 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound(N_("That reward has run out."))
    entry = await add_points(
        session,
        actor.id,
        -reward.cost,
        PointsKind.REDEMPTION,
        key,
        note=reward.name,
        actor_id=actor.id,
    )
    rules = await point_rules(session, reward.community_id)
    redemption = Redemption(
        reward_id=reward.id,
        person_id=actor.id,
        points_entry_id=entry.id,
        status=RedemptionStatus.REQUESTED,
        at=moment,
        code=await _new_code(session),
        cost=reward.cost,
        expires_at=moment + dt.timedelta(days=rules.collect_days),
    )
    session.add(redemption)
    await session.flush()
    await add_reminder(
        session,
        REWARD_EXPIRY,
        redemption.expires_at or moment,
        person_id=actor.id,
        key=f"{REWARD_EXPIRY}:{redemption.id}",
        payload={"redemption_id": redemption.id},
    )
    return redemption


# Codes a member reads out or types: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_LETTERS = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
REWARD_EXPIRY = "reward_expiry"


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
        if await session.scalar(select(Redemption.id).where(Redemption.code == code)) is None:
            return code


async def rank_among_members(
    session: AsyncSession, community_id: int, balance: int
) -> tuple[int, int]:
    """(place, of how many) among the approved members of the community, by balance."""
    members = (
        select(Person.points_balance)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .join(MemberProfile, MemberProfile.person_id == Person.id)
        .where(
            RoleGrant.role == Role.MEMBER,
            RoleGrant.scope_id == community_id,
            MemberProfile.approved,
        )
        .subquery()
    )
    total = await session.scalar(select(func.count()).select_from(members)) or 0
    higher = (
        await session.scalar(
            select(func.count()).select_from(members).where(members.c.points_balance > balance)
        )
        or 0
    )
    return int(higher) + 1, int(total)


async def latest_entries(
    session: AsyncSession, person_id: int, limit: int
) -> list[tuple[PointsEntry, str | None]]:
    """The person's latest ledger rows, newest first, each with the code of its wish (if any)."""
    rows = await session.execute(
        select(PointsEntry, Wish.code)
        .outerjoin(Wish, PointsEntry.wish_id == Wish.id)
        .where(PointsEntry.person_id == person_id)
        .order_by(PointsEntry.at.desc(), PointsEntry.id.desc())
        .limit(limit)
    )
    return [(entry, code) for entry, code in rows.all()]

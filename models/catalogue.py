"""The office keeps its partners and their rewards; members see what they can afford first.

Who may change the catalogue is decided by communities_run (models/reach.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.directory import grant_role
from models.errors import N_, InvalidInput, NotAllowed, NotFound, checked_text
from models.people import Person, Role
from models.points_ledger import _communities_of
from models.reach import communities_run, grants_of
from models.rewards import Partner, Redemption, RedemptionStatus, Reward

MAX_COST = 1_000_000
MAX_STOCK = 100_000


async def _run_by(session: AsyncSession, actor: Person, community_id: int) -> None:
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of the community can change its rewards."))


async def add_partner(
    session: AsyncSession,
    actor: Person,
    community_id: int,
    name: str,
    *,
    kind: str = "",
    contact: Person | None = None,
) -> Partner:
    """Register a partner; its contact gets the partner role in the community."""
    await _run_by(session, actor, community_id)
    clean = checked_text(name, required=True, what=N_("a name"), limit=200) or ""
    taken = await session.scalar(
        select(Partner.id).where(Partner.community_id == community_id, Partner.name == clean)
    )
    if taken is not None:
        raise InvalidInput(N_("There is a partner called {name} already."), name=clean)
    partner = Partner(
        community_id=community_id,
        name=clean,
        kind=checked_text(kind, required=False, what=N_("what they are"), limit=200) or "",
        contact_id=contact.id if contact else None,
        active=True,
    )
    session.add(partner)
    if contact is not None:
        await grant_role(session, actor, contact, Role.PARTNER, community_id)
    await session.flush()
    return partner


async def add_reward(
    session: AsyncSession,
    actor: Person,
    partner_id: int,
    name: str,
    cost: int,
    *,
    stock: int | None = None,
    valid_until: dt.datetime | None = None,
    collect_at: str | None = None,
    photo: str | None = None,
) -> Reward:
    """A partner's reward: cost in points, stock (None: unlimited), until when, where."""
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(N_("There is no such partner."))
    await _run_by(session, actor, partner.community_id)
    if not 0 < cost <= MAX_COST:
        raise InvalidInput(N_("A reward costs at least 1 point."))
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(N_("The stock is a number from 0 to {most}."), most=MAX_STOCK)
    if valid_until is not None and valid_until <= now(session):
        raise InvalidInput(N_("The reward would be over before it starts."))
    reward = Reward(
        community_id=partner.community_id,
        partner_id=partner.id,
        name=checked_text(name, required=True, what=N_("a name"), limit=200) or "",
        cost=cost,
        stock=stock,
        active=True,
        valid_until=valid_until,
        collect_at=checked_text(collect_at, required=False, what=N_("where"), limit=500),
        photo=photo,
    )
    session.add(reward)
    await session.flush()
    return reward


async def withdraw_reward(session: AsyncSession, actor: Person, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None:
        raise NotFound(N_("That reward is not offered."))
    await _run_by(session, actor, reward.community_id)
    reward.active = False
    await session.flush()
    return reward


@dataclass(frozen=True)
class Offer:
    reward: Reward
    partner: str
    affordable: bool


async def offers_for(session: AsyncSession, person: Person) -> list[Offer]:
    """The rewards of the person's communities on offer now: affordable first, then cheapest."""
    moment = now(session)
    rows = await session.execute(
        select(Reward, Partner.name)
        .outerjoin(Partner, Partner.id == Reward.partner_id)
        .where(
            Reward.community_id.in_(sorted(await _communities_of(session, person))),
            Reward.active,
            or_(Reward.valid_until.is_(None), Reward.valid_until > moment),
            or_(Reward.stock.is_(None), Reward.stock > 0),
            or_(Partner.id.is_(None), Partner.active),
        )
        .order_by(Reward.cost, Reward.name, Reward.id)
    )
    offers = [
        Offer(reward, partner or "", reward.cost <= person.points_balance)
        for reward, partner in rows.all()
    ]
    return sorted(offers, key=lambda o: not o.affordable)


async def offer(session: AsyncSession, person: Person, reward_id: int) -> Offer:
    for found in await offers_for(session, person):
        if found.reward.id == reward_id:
            return found
    raise NotFound(N_("That reward is not offered."))


async def partners_in(session: AsyncSession, community_ids: list[int]) -> list[Partner]:
    found = await session.scalars(
        select(Partner)
        .where(Partner.community_id.in_(community_ids))
        .order_by(Partner.name, Partner.id)
    )
    return list(found.all())


async def rewards_in(session: AsyncSession, community_ids: list[int]) -> list[Reward]:
    found = await session.scalars(
        select(Reward)
        .where(Reward.community_id.in_(community_ids))
        .order_by(Reward.name, Reward.id)
    )
    return list(found.all())


async def pending_of(session: AsyncSession, person_id: int) -> list[tuple[Redemption, Reward]]:
    """The member's codes still waiting to be collected, oldest first."""
    rows = await session.execute(
        select(Redemption, Reward)
        .join(Reward, Reward.id == Redemption.reward_id)
        .where(
            Redemption.person_id == person_id,
            Redemption.status == RedemptionStatus.REQUESTED,
        )
        .order_by(Redemption.at, Redemption.id)
    )
    return [(r, w) for r, w in rows.all()]


@dataclass(frozen=True)
class ReportLine:
    at: dt.datetime
    reward: str
    member: str  # the first name only
    points: int
    status: RedemptionStatus
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class PartnerMonth:
    """One partner's month: each redemption made in it, with what became of it."""

    partner_id: int
    partner: str
    lines: list[ReportLine]

    def count(self, status: RedemptionStatus) -> int:
        return sum(1 for line in self.lines if line.status == status)


async def partner_months(
    session: AsyncSession, community_id: int, start: dt.datetime, end: dt.datetime
) -> list[PartnerMonth]:
    """The monthly rewards report: per partner of the community, the redemptions made in
    [start, end) and what became of them (handed over, expired, still waiting)."""
    months = {
        p.id: PartnerMonth(p.id, p.name, []) for p in await partners_in(session, [community_id])
    }
    rows = await session.execute(
        select(Reward.partner_id, Redemption, Reward.name, Person.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(Person, Person.id == Redemption.person_id)
        .where(
            Reward.community_id == community_id,
            Reward.partner_id.is_not(None),
            and_(Redemption.at >= start, Redemption.at < end),
        )
        .order_by(Redemption.at, Redemption.id)
    )
    for partner_id, redemption, reward, person in rows.all():
        if partner_id not in months:
            continue
        months[partner_id].lines.append(
            ReportLine(
                redemption.at,
                reward,
                (person or "").split(" ")[0],
                redemption.cost,
                redemption.status,
                redemption.closed_at,
            )
        )
    return list(months.values())


async def waiting_in(session: AsyncSession, community_id: int) -> list[tuple[Redemption, str, str]]:
    """The community's codes not yet collected, oldest first: (redemption, reward, first name)."""
    rows = await session.execute(
        select(Redemption, Reward.name, Person.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(Person, Person.id == Redemption.person_id)
        .where(
            Reward.community_id == community_id,
            Redemption.status == RedemptionStatus.REQUESTED,
        )
        .order_by(Redemption.at, Redemption.id)
    )
    return [(r, reward, (person or "").split(" ")[0]) for r, reward, person in rows.all()]

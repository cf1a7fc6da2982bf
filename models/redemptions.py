"""After a member redeems: the partner's hand-over (by code) and the refund of an uncollected one.

Each is one conditional UPDATE from "requested", so a code works once and a refund is paid once.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, IllegalTransition, InvalidInput, NotAllowed, NotFound
from models.people import Person
from models.points import PointsEntry, PointsKind
from models.points_ledger import CODE_LENGTH, CODE_LETTERS, add_points
from models.reach import communities_run, grants_of
from models.rewards import Partner, Redemption, RedemptionStatus, Reward

R = RedemptionStatus


def clean_code(text: str) -> str:
    """A code as typed (any case, spaces, a dash) in the form it is stored."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(code) != CODE_LENGTH or any(ch not in CODE_LETTERS for ch in code):
        raise InvalidInput(
            N_("A collection code has six letters and digits, like {example}."), example="K7QX3M"
        )
    return code


async def redemption_by_code(session: AsyncSession, code: str) -> Redemption:
    found = await session.scalar(select(Redemption).where(Redemption.code == clean_code(code)))
    if found is None:
        raise NotFound(N_("There is no reward with the code {code}."), code=clean_code(code))
    return found


async def may_hand_over(session: AsyncSession, actor: Person, reward: Reward) -> bool:
    """The partner's own contact, or an admin who runs the reward's community."""
    if reward.partner_id is not None:
        partner = await session.get(Partner, reward.partner_id)
        if partner is not None and partner.contact_id == actor.id:
            return True
    return reward.community_id in await communities_run(session, await grants_of(session, actor))


async def hand_over(session: AsyncSession, actor: Person, code: str) -> Redemption:
    """The partner (or the office) gives the reward for this code: once, and only in time."""
    redemption = await redemption_by_code(session, code)
    reward = await session.get(Reward, redemption.reward_id)
    assert reward is not None
    if not await may_hand_over(session, actor, reward):
        raise NotAllowed(N_("This code is for another partner's reward."))
    moment = now(session)
    moved = await session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption.id,
            Redemption.status == R.REQUESTED,
            (Redemption.expires_at.is_(None)) | (Redemption.expires_at > moment),
        )
        .values(status=R.HANDED_OVER, closed_at=moment, closed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(redemption)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        if redemption.status == R.HANDED_OVER:
            raise IllegalTransition(
                N_("The code {code} was used already: the reward was handed over."),
                code=redemption.code,
            )
        raise IllegalTransition(
            N_("The code {code} has expired; the points went back to the member."),
            code=redemption.code,
        )
    return redemption


async def expire_redemption(session: AsyncSession, redemption_id: int) -> Redemption | None:
    """An uncollected redemption past its time: expired, its points back (one ledger row) and
    the item back in stock. None when it was collected or refunded already, or is not due."""
    moment = now(session)
    moved = await session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption_id,
            Redemption.status == R.REQUESTED,
            Redemption.expires_at <= moment,
        )
        .values(status=R.EXPIRED, closed_at=moment)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    assert redemption is not None
    paid = await session.get(PointsEntry, redemption.points_entry_id)
    assert paid is not None
    refund = await add_points(
        session,
        redemption.person_id,
        -paid.amount,
        PointsKind.REDEMPTION,
        f"refund-{redemption.id}",
        note=paid.note,
    )
    redemption.refund_entry_id = refund.id
    await session.execute(
        update(Reward)
        .where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return redemption

"""Small disputes a head keeps small: logged, settled by the head, or passed to the grid worker,
who settles it then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.errors import N_, Conflict, IllegalTransition, NotAllowed, NotFound
from models.head_work import GRID_LEVEL, HEAD_LEVEL, _level, _required, _text
from models.neighbourhood import Dispute, DisputeStatus
from models.people import Person

MAX_PARTIES = 200
MAX_WHAT = 1000


async def log_dispute(
    session: AsyncSession,
    head: Person,
    building_id: int,
    parties: str,
    what: str,
    outcome: str | None = None,
) -> Dispute:
    """A head (or anyone above on the ladder) logs it; with an outcome it is settled already."""
    if await _level(session, head, building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can log its disputes."))
    settled = _text(outcome, limit=MAX_WHAT, what=N_("the outcome"), required=False)
    moment = now(session)
    dispute = Dispute(
        building_id=building_id,
        parties=_required(parties, limit=MAX_PARTIES, what=N_("the parties' units")),
        what=_required(what, limit=MAX_WHAT, what=N_("what it is about")),
        outcome=settled,
        status=DisputeStatus.SETTLED if settled else DisputeStatus.OPEN,
        reported_by_id=head.id,
        created_at=moment,
        updated_at=moment,
    )
    session.add(dispute)
    await session.flush()
    return dispute


async def get_dispute(session: AsyncSession, dispute_id: int) -> Dispute:
    dispute = await session.get(Dispute, dispute_id, populate_existing=True)
    if dispute is None:
        raise NotFound(N_("There is no such dispute."))
    return dispute


async def _move_dispute(
    session: AsyncSession,
    dispute: Dispute,
    allowed: Sequence[DisputeStatus],
    to: DisputeStatus,
    **values: Any,
) -> Dispute:
    """One conditional UPDATE: two people moving it at once cannot both win."""
    if dispute.status not in allowed:
        if dispute.status == DisputeStatus.SETTLED:
            raise IllegalTransition(N_("Dispute #{id} is settled already."), id=dispute.id)
        raise IllegalTransition(N_("Dispute #{id} is with the grid worker already."), id=dispute.id)
    result = await session.execute(
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == dispute.status)
        .values(status=to, updated_at=now(session), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("Dispute #{id} changed just now; please look again."), id=dispute.id)
    await session.refresh(dispute)
    return dispute


async def settle_dispute(
    session: AsyncSession, actor: Person, dispute_id: int, outcome: str
) -> Dispute:
    """An open one by its head; an escalated one by the grid worker (or above)."""
    dispute = await get_dispute(session, dispute_id)
    level = await _level(session, actor, dispute.building_id)
    needed = GRID_LEVEL if dispute.status == DisputeStatus.ESCALATED else HEAD_LEVEL
    if level < needed:
        raise NotAllowed(N_("You may not settle this dispute."))
    text = _required(outcome, limit=MAX_WHAT, what=N_("the outcome"))
    return await _move_dispute(
        session,
        dispute,
        (DisputeStatus.OPEN, DisputeStatus.ESCALATED),
        DisputeStatus.SETTLED,
        outcome=text,
    )


async def escalate_dispute(session: AsyncSession, actor: Person, dispute_id: int) -> Dispute:
    """The head passes it to the grid worker of the building's grid."""
    dispute = await get_dispute(session, dispute_id)
    if await _level(session, actor, dispute.building_id) < HEAD_LEVEL:
        raise NotAllowed(N_("Only the building's head can pass this dispute on."))
    return await _move_dispute(session, dispute, (DisputeStatus.OPEN,), DisputeStatus.ESCALATED)


async def disputes_for(
    session: AsyncSession, building_ids: Sequence[int], statuses: Sequence[DisputeStatus]
) -> list[Dispute]:
    return list(
        (
            await session.scalars(
                select(Dispute)
                .where(Dispute.building_id.in_(building_ids), Dispute.status.in_(statuses))
                .order_by(Dispute.id)
                .limit(20)
            )
        ).all()
    )

"""What the store holds about one person, for their own export (DESIGN: export of own data).

Only their own rows: profile, roles, the wishes they asked for, points, and sensitive answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns import privacy_export_for
from models.people import Identity, Person, RoleGrant
from models.points import PointsEntry
from models.wishes import Wish


async def export_person(session: AsyncSession, person: Person) -> dict[str, Any]:
    identities = (
        await session.scalars(select(Identity.platform).where(Identity.person_id == person.id))
    ).all()
    roles = (
        await session.execute(
            select(RoleGrant.role, RoleGrant.scope_id).where(RoleGrant.person_id == person.id)
        )
    ).all()
    wishes = (
        await session.scalars(
            select(Wish)
            .where(or_(Wish.requester_id == person.id, Wish.submitted_by_id == person.id))
            .order_by(Wish.id)
        )
    ).all()
    ledger = (
        await session.scalars(
            select(PointsEntry).where(PointsEntry.person_id == person.id).order_by(PointsEntry.id)
        )
    ).all()
    return {
        "name": person.name,
        "unit": person.unit,
        "phone": person.phone if person.phone_consent else None,
        "language": person.locale,
        "platforms": sorted(set(identities)),
        "roles": [{"role": role.value, "scope": scope} for role, scope in roles],
        "wishes": [
            {
                "code": w.code,
                "category": w.category,
                "status": w.status.value,
                "description": w.description,
                "created_at": w.created_at.isoformat(),
                "rating": w.rating,
            }
            for w in wishes
        ],
        "points": [
            {"at": e.at.isoformat(), "amount": e.amount, "kind": e.kind.value, "note": e.note}
            for e in ledger
        ],
        "sensitive_answers": [
            {**row, "answered_at": row["answered_at"].isoformat()}
            for row in await privacy_export_for(session, person.id)
        ],
    }

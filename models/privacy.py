"""What the store holds about one person, for their own export (DESIGN: export of own data).

Only their own rows: profile, roles, the wishes they asked for, points, and sensitive answers;
which phone a helper may see, and the person's own consent to it, are decided here too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaign_results import privacy_export_for
from models.co_requesters import merged_from
from models.errors import N_, InvalidInput
from models.people import Identity, Person, RoleGrant
from models.points import PointsEntry
from models.wishes import Wish


def phone_for_helpers(person: Person) -> str | None:
    """The phone a helper may see: only one the person agreed to share, in chat.

    A phone from the office's roster is kept for the office only and is never shown.
    """
    return person.phone if person.phone_consent and person.phone else None


MAX_PHONE = 40


async def share_phone(session: AsyncSession, person: Person, phone: str | None) -> None:
    """The person agrees, in chat, that their helpers see a phone: a newly shared one, or the
    one the office already has (phone None)."""
    if phone is not None:
        person.phone = phone.strip()[:MAX_PHONE] or None
    if person.phone is None:
        raise InvalidInput(N_("Please share a phone number with the button."))
    person.phone_consent = True
    await session.flush()


async def stop_sharing_phone(session: AsyncSession, person: Person) -> None:
    """No helper sees it any more, and it is not kept either."""
    person.phone = None
    person.phone_consent = False
    await session.flush()


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
    # Wishes the person joined through a merge: what they are and how they stand, not the
    # other requester's words.
    joined = await merged_from(session, person.id)
    kept_wishes = {
        w.id: w for w in (await session.scalars(select(Wish).where(Wish.id.in_(joined)))).all()
    }
    ledger = (
        await session.scalars(
            select(PointsEntry).where(PointsEntry.person_id == person.id).order_by(PointsEntry.id)
        )
    ).all()
    return {
        "name": person.name,
        "unit": person.unit,
        "phone": person.phone,
        "phone_shared_with_helpers": person.phone_consent,
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
        "wishes_joined": [
            {
                "code": kept_wishes[kept].code,
                "category": kept_wishes[kept].category,
                "status": kept_wishes[kept].status.value,
                "merged_from": own.code,
            }
            for kept, own in joined.items()
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

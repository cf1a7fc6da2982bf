"""The resources that fit a wish (an organisation's, or a member's own), best first: what each
offers, where and when, scored by the community's dispatch weights."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.availability import slot_of
from models.dispatch_rules import (
    UTC,
    Candidate,
    CandidateKind,
    DispatchRules,
    Facts,
    Reason,
    best_of,
    rules_for_community,
)
from models.errors import N_
from models.organisations import Organisation
from models.people import Person
from models.reach import Place, place_of_building
from models.resources import Resource, ResourceWhere
from models.wishes import Wish


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def resource_fits(resource: Resource, slot: tuple[int, int] | None) -> bool | None:
    """Whether the resource is there at the wish's preferred time (None: no time wanted).
    No weekdays stated: any day; no hours stated: any time of those days."""
    if slot is None:
        return None
    day, hour = slot
    if resource.weekdays and day not in resource.weekdays:
        return False
    if resource.hours:
        start, end = (_minutes(part) for part in resource.hours.split("-"))
        return start <= hour * 60 < end
    return True


def resource_reasons(
    resource: Resource, owner: str, rules: DispatchRules, fits: bool | None
) -> tuple[Reason, ...]:
    """Why a resource fits, in the order shown: what it offers, where, when; their points add
    up to its score. The days are said by the reader (a ``weekdays`` param, see
    handlers/flows/suggested.py)."""
    found = [
        Reason(
            "resource",
            rules.resource,
            N_("{organisation} offers: {service}"),
            {"organisation": owner, "service": resource.service},
        )
    ]
    if resource.where == ResourceWhere.DOOR:
        found.append(Reason("door", rules.door, N_("door to door")))
    else:
        found.append(Reason("door", 0, N_("at its own site")))
    when = {"weekdays": tuple(resource.weekdays), "hours": resource.hours}
    if fits is True:
        found.append(
            Reason(
                "available", rules.available, N_("available {days}, at the preferred time"), when
            )
        )
    elif fits is False:
        found.append(
            Reason(
                "available",
                -rules.available,
                N_("available {days}, not at the preferred time"),
                when,
            )
        )
    else:
        found.append(Reason("available", 0, N_("available {days}"), when))
    return tuple(found)


async def rank_resources(
    session: AsyncSession,
    wish: Wish,
    limit: int = 5,
    *,
    timezone: ZoneInfo = UTC,
    rules: DispatchRules | None = None,
) -> list[Candidate]:
    """The resources of the wish's community that cover its category (an organisation's, or
    an approved member's own), best first, each with its reasons; the name is the owner's."""
    place: Place = await place_of_building(session, wish.building_id)
    rules = rules or await rules_for_community(session, place.community_id)
    slot = slot_of(wish.preferred_time, timezone)
    rows = await session.execute(
        select(Resource, func.coalesce(Organisation.name, Person.name))
        .outerjoin(Organisation, Organisation.id == Resource.organisation_id)
        .outerjoin(Person, Person.id == Resource.person_id)
        .where(
            Resource.community_id == place.community_id,
            or_(Resource.organisation_id.is_not(None), Person.erased_at.is_(None)),
        )
        .order_by(Resource.id)
    )
    found: list[Candidate] = []
    for resource, owner in rows.all():
        if not resource.covers(wish.category):
            continue
        fits = resource_fits(resource, slot)
        reasons = resource_reasons(resource, str(owner), rules, fits)
        score = sum(r.points for r in reasons)
        facts = Facts(available=fits)
        found.append(
            Candidate(CandidateKind.RESOURCE, resource.id, str(owner), score, reasons, facts)
        )
    return best_of(limit, found)

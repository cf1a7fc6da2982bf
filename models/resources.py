"""What organisations and members offer (the supply list's rows beside people): a service,
the categories it covers, its capacity per month, when and where.

resources_covering() is the question dispatch asks: which resources cover a category here.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum
from models.clock import now
from models.errors import N_, InvalidInput, NotAllowed, checked_text
from models.organisations import get_organisation
from models.people import Person, Role
from models.reach import Reach, communities_run, grants_of
from models.wishes import Category

MAX_SERVICE = 100
MAX_CAPACITY = 10_000
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class ResourceWhere(enum.StrEnum):
    SITE = "site"  # at the organisation's own place
    DOOR = "door"  # door to door


class Resource(Base):
    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint("capacity_per_month >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "(organisation_id IS NULL AND person_id IS NOT NULL) OR "
            "(organisation_id IS NOT NULL AND person_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    service: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity_per_month: Mapped[int] = mapped_column(default=0)
    # 0 Monday .. 6 Sunday; hours as "09:00-17:00" (empty: any time of those days).
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    hours: Mapped[str] = mapped_column(String(20), default="")
    where: Mapped[ResourceWhere] = mapped_column(str_enum(ResourceWhere))
    created_at: Mapped[dt.datetime]

    def covers(self, category: str) -> bool:
        return category in self.categories


async def add_resource(
    session: AsyncSession,
    actor: Person,
    *,
    community_id: int,
    service: str,
    categories: Iterable[str],
    capacity_per_month: int,
    where: ResourceWhere,
    organisation_id: int | None = None,
    weekdays: Iterable[int] = (),
    hours: str = "",
) -> Resource:
    """The organisation's contact (or the community's admin) adds one of its resources; a
    member adds their own (organisation_id None)."""
    grants = await grants_of(session, actor)
    if organisation_id is not None:
        organisation = await get_organisation(session, organisation_id)
        community_id = organisation.community_id
        if organisation.contact_id != actor.id and community_id not in await communities_run(
            session, grants
        ):
            raise NotAllowed(
                N_("Only the organisation's contact or an admin can add its resources.")
            )
    elif not any(g.role == Role.MEMBER and g.scope_id == community_id for g in grants):
        raise NotAllowed(N_("Only members of this community can offer resources here."))
    text = checked_text(service, required=True, what=N_("the service"), limit=MAX_SERVICE)
    assert text is not None
    chosen = sorted(set(categories))
    known = set((await session.scalars(select(Category.code))).all())
    if not chosen or not set(chosen) <= known:
        raise InvalidInput(N_("Please choose at least one category the service covers."))
    if not 0 <= capacity_per_month <= MAX_CAPACITY:
        raise InvalidInput(N_("The capacity is a number of services a month, up to 10000."))
    days = sorted(set(weekdays))
    if any(d not in range(7) for d in days):
        raise InvalidInput(N_("Please choose the weekdays with the buttons."))
    hours = hours.strip()
    if hours and not HOURS.match(hours):
        raise InvalidInput(N_("Hours look like 09:00-17:00."))
    resource = Resource(
        community_id=community_id,
        organisation_id=organisation_id,
        person_id=None if organisation_id is not None else actor.id,
        service=text,
        categories=chosen,
        capacity_per_month=capacity_per_month,
        weekdays=days,
        hours=hours,
        where=ResourceWhere(where),
        created_at=now(session),
    )
    session.add(resource)
    await session.flush()
    return resource


async def resources_in(session: AsyncSession, community_ids: Iterable[int]) -> list[Resource]:
    """Every resource of these communities: organisations' first, then members', by service."""
    found = await session.scalars(
        select(Resource)
        .where(Resource.community_id.in_(sorted(set(community_ids))))
        .order_by(Resource.organisation_id.is_(None), Resource.service, Resource.id)
    )
    return list(found.all())


async def resources_covering(session: AsyncSession, category: str, reach: Reach) -> list[Resource]:
    """The resources that cover a category in the communities a reach touches (for dispatch)."""
    return [
        r
        for r in await resources_in(session, await reach.community_ids(session))
        if r.covers(category)
    ]


async def resources_of_organisation(session: AsyncSession, organisation_id: int) -> list[Resource]:
    found = await session.scalars(
        select(Resource)
        .where(Resource.organisation_id == organisation_id)
        .order_by(Resource.service, Resource.id)
    )
    return list(found.all())

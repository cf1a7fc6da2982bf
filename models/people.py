"""People, the platform identities they use, their roles with scope, member profiles.

A person may have no identity at all: a resident a building head speaks for.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class Role(enum.StrEnum):
    RESIDENT = "resident"
    BUILDING_HEAD = "building_head"
    MEMBER = "member"
    GRID_WORKER = "grid_worker"
    ADMIN = "admin"
    STREET_ADMIN = "street_admin"
    PARTNER = "partner"  # a shop or service giving rewards: confirms hand-overs


class ScopeKind(enum.StrEnum):
    BUILDING = "building"
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"


# What a grant's scope_id points at, by role.
SCOPE_OF_ROLE = {
    Role.RESIDENT: ScopeKind.BUILDING,
    Role.BUILDING_HEAD: ScopeKind.BUILDING,
    Role.MEMBER: ScopeKind.COMMUNITY,
    Role.GRID_WORKER: ScopeKind.GRID,
    Role.ADMIN: ScopeKind.COMMUNITY,
    Role.STREET_ADMIN: ScopeKind.STREET,
    Role.PARTNER: ScopeKind.COMMUNITY,
}


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (CheckConstraint("points_balance >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_consent: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(20))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str | None] = mapped_column(String(40))
    # A cache of the ledger's sum, moved only together with a ledger row.
    points_balance: Mapped[int] = mapped_column(default=0, server_default="0")
    # Blocked the bot: skipped by broadcasts and reminders until they write again.
    unreachable: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[dt.datetime]
    # Erased (/forget or the office): the row stays for the ledger and statistics, anonymous.
    erased_at: Mapped[dt.datetime | None]


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    scope_id: Mapped[int]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    granted_at: Mapped[dt.datetime]

    @property
    def scope_kind(self) -> ScopeKind:
        return SCOPE_OF_ROLE[self.role]


class MemberProfile(Base):
    __tablename__ = "member_profiles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(200), default="")
    # The organisation they belong to (at most one): models/organisations.py.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    approved: Mapped[bool] = mapped_column(default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    approved_at: Mapped[dt.datetime | None]
    # When they are free (models/availability.py): weekdays as bits (0: not stated), hours.
    available_days: Mapped[int] = mapped_column(default=0, server_default="0")
    available_from: Mapped[int] = mapped_column(default=0, server_default="0")
    available_to: Mapped[int] = mapped_column(default=24, server_default="24")

    def fits(self, category: str) -> bool:
        return category in self.skills

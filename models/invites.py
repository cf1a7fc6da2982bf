"""One-time and building invite codes: the first admin's set-up code, deep links into a building.

A code is checked and spent inside the caller's transaction, so it works once.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum
from models.clock import now
from models.people import Role, RoleGrant


class InviteKind(enum.StrEnum):
    SETUP = "setup"  # makes the first admin; one use
    BUILDING = "building"  # a resident's deep link into a building; many uses


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[InviteKind] = mapped_column(str_enum(InviteKind))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    used_at: Mapped[dt.datetime | None]


async def setup_code(session: AsyncSession) -> str | None:
    """With no admin yet, the one set-up code (made once); None once an admin exists."""
    has_admin = await session.scalar(
        select(RoleGrant.id).where(RoleGrant.role.in_([Role.ADMIN, Role.STREET_ADMIN])).limit(1)
    )
    if has_admin is not None:
        return None
    existing = await session.scalar(
        select(Invite).where(Invite.kind == InviteKind.SETUP, Invite.used_at.is_(None))
    )
    if existing is not None:
        return existing.code
    invite = Invite(
        code=f"setup-{secrets.token_urlsafe(9)}", kind=InviteKind.SETUP, created_at=now(session)
    )
    session.add(invite)
    await session.flush()
    return invite.code


async def building_invite(
    session: AsyncSession, building_id: int, created_by_id: int | None
) -> str:
    existing = await session.scalar(
        select(Invite.code).where(
            Invite.kind == InviteKind.BUILDING, Invite.building_id == building_id
        )
    )
    if existing is not None:
        return existing
    invite = Invite(
        code=f"b{building_id}-{secrets.token_urlsafe(6)}",
        kind=InviteKind.BUILDING,
        building_id=building_id,
        created_by_id=created_by_id,
        created_at=now(session),
    )
    session.add(invite)
    await session.flush()
    return invite.code


async def find_invite(session: AsyncSession, code: str) -> Invite | None:
    invite = await session.scalar(
        select(Invite).where(Invite.code == code.strip()).with_for_update()
    )
    if invite is None or (invite.kind == InviteKind.SETUP and invite.used_at is not None):
        return None
    return invite


async def building_of_invite(session: AsyncSession, code: str) -> int | None:
    """The building a building invite leads into; None for any other code (never a set-up
    code: that one makes an admin)."""
    found: int | None = await session.scalar(
        select(Invite.building_id).where(
            Invite.code == code.strip(), Invite.kind == InviteKind.BUILDING
        )
    )
    return found

"""Whoever asked for a wish besides its requester: the requesters of wishes merged into it.

They are told of every step like the requester (handlers/flows/news.py) and may confirm it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Select, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.wishes import Wish


class WishRequester(Base):
    """Someone else who asked for the same wish (merged into it from another)."""

    __tablename__ = "wish_requesters"
    __table_args__ = (UniqueConstraint("wish_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The wish they had asked in their own words, merged into this one.
    from_wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    added_at: Mapped[dt.datetime]


async def co_requesters(session: AsyncSession, wish_id: int) -> list[int]:
    """Whoever asked for this wish besides its own requester (merged in), in order."""
    found = await session.scalars(
        select(WishRequester.person_id)
        .where(WishRequester.wish_id == wish_id)
        .order_by(WishRequester.id)
    )
    return list(found.all())


async def merged_into(session: AsyncSession, wish_id: int) -> int | None:
    """The wish this one was merged into, if it was."""
    found: int | None = await session.scalar(
        select(WishRequester.wish_id).where(WishRequester.from_wish_id == wish_id).limit(1)
    )
    return found


def joined_by(person_id: int) -> Select[int]:
    """The wishes the person joined through a merge (as SQL, for lists of their wishes)."""
    return select(WishRequester.wish_id).where(WishRequester.person_id == person_id)


async def merged_from(session: AsyncSession, person_id: int) -> dict[int, Wish]:
    """For each wish the person joined through a merge (by its id): the wish they had asked
    (or one merged into theirs before, for a merge of merges)."""
    rows = await session.execute(
        select(WishRequester.wish_id, Wish)
        .join(Wish, Wish.id == WishRequester.from_wish_id)
        .where(WishRequester.person_id == person_id)
        .order_by(WishRequester.id)
    )
    found: dict[int, Wish] = {}
    for kept, own in rows.all():
        found.setdefault(int(kept), own)
    return found

"""What a building head's work besides wishes shares: the rungs that may act on it, and the
checks of what they type."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import checked_text
from models.people import Person
from models.permissions import ladder_level
from models.reach import grants_of, place_of_building

HEAD_LEVEL = 1  # the ladder's first rung: the building head
GRID_LEVEL = 2


def _text(value: str | None, *, limit: int, what: str, required: bool = True) -> str | None:
    return checked_text(value, required=required, what=what, limit=limit)


def _required(value: str | None, *, limit: int, what: str) -> str:
    cleaned = _text(value, limit=limit, what=what)
    assert cleaned is not None
    return cleaned


async def _level(session: AsyncSession, actor: Person, building_id: int) -> int:
    place = await place_of_building(session, building_id)
    return ladder_level(await grants_of(session, actor), place)

"""Where an Open311 client said a wish is (an address, a point) and the photo it linked.

Kept beside the wish, one row per wish filed that way; erasing the wish's texts drops it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Float, ForeignKey, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.community import Building
from models.errors import N_, InvalidInput, NotFound
from models.people import Person
from models.places import check_runs_building

MAX_ADDRESS = 250
MAX_MEDIA_URL = 500


class ReportedPlace(Base):
    __tablename__ = "reported_places"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), primary_key=True)
    # As the client typed it ("next to the bike shed"): shown to the office.
    address_string: Mapped[str | None] = mapped_column(String(MAX_ADDRESS))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # A photo the client holds elsewhere (http or https).
    media_url: Mapped[str | None] = mapped_column(String(MAX_MEDIA_URL))


@dataclass(frozen=True)
class Point:
    """A place on the earth in WGS84 degrees."""

    latitude: float
    longitude: float


def checked_point(latitude: float | None, longitude: float | None) -> Point | None:
    """Both or neither, each a finite number within its range; anything else is refused."""
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise InvalidInput(N_("Send lat and long together, or neither."))
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidInput(N_("lat must be a number of degrees from -90 to 90."))
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidInput(N_("long must be a number of degrees from -180 to 180."))
    return Point(latitude, longitude)


def checked_media_url(url: str | None) -> str | None:
    if not url:
        return None
    if not url.startswith(("http://", "https://")) or len(url) > MAX_MEDIA_URL:
        raise InvalidInput(
            N_("media_url must be an http or https address of at most {limit} characters."),
            limit=MAX_MEDIA_URL,
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput(N_("media_url must be one address, without spaces."))
    return url


async def keep_reported_place(
    session: AsyncSession,
    wish_id: int,
    *,
    address_string: str | None,
    point: Point | None,
    media_url: str | None,
) -> None:
    """Keep what the client sent about the wish's place; nothing is kept when it sent none."""
    if address_string is not None and len(address_string) > MAX_ADDRESS:
        raise InvalidInput(
            N_("That text is too long (at most {limit} characters)."), limit=MAX_ADDRESS
        )
    if not (address_string or point or media_url):
        return
    session.add(
        ReportedPlace(
            wish_id=wish_id,
            address_string=address_string or None,
            latitude=point.latitude if point else None,
            longitude=point.longitude if point else None,
            media_url=checked_media_url(media_url),
        )
    )
    await session.flush()


async def reported_place(session: AsyncSession, wish_id: int) -> ReportedPlace | None:
    """What the client said about the wish's place; for the office's page of the wish."""
    return await session.get(ReportedPlace, wish_id)


async def drop_reported_place(session: AsyncSession, wish_id: int) -> None:
    """Erasure: what the client said about the place may name the person."""
    await session.execute(delete(ReportedPlace).where(ReportedPlace.wish_id == wish_id))


async def set_building_point(
    session: AsyncSession, actor: Person, building_id: int, point: Point | None
) -> Building:
    """An admin of the community says where a building stands (None: not known)."""
    building = await session.get(Building, building_id)
    if building is None:
        raise NotFound(N_("There is no such building."))
    await check_runs_building(session, actor, building)
    building.latitude = point.latitude if point else None
    building.longitude = point.longitude if point else None
    await session.flush()
    return building

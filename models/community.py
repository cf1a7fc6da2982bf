"""Where people live: street > community > grid > building (units are text).

A community also holds the rules it tunes for itself, such as the five-star bonus.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Street(Base):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    five_star_bonus: Mapped[int] = mapped_column(default=5, server_default="5")
    # The community's own reminder rules, over the defaults in the settings (see models/schedule.py).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # How to reach the office (a phone, a room, hours): shown on the noticeboard and slips.
    office_contact: Mapped[str | None] = mapped_column(String(200))
    # Its points rules, over the defaults (see models/point_rules.py).
    point_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    street: Mapped[Street] = relationship(lazy="joined")


class Grid(Base):
    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    community: Mapped[Community] = relationship(lazy="joined")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("grid_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Where the building stands (WGS84 degrees), for maps and Open311; None until set.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    grid: Mapped[Grid] = relationship(lazy="joined")

"""Who may act where: the escalation ladder (head, grid worker, community admin, street
admin) as levels over a place; which place a grant reaches is decided in models/reach.py."""

from __future__ import annotations

from collections.abc import Sequence

from models.people import Role, RoleGrant
from models.reach import Place, reach_of

# Rungs of the escalation ladder, lowest first; index + 1 is the level.
LADDER = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)
TOP_LEVEL = len(LADDER)


def has_role(grants: Sequence[RoleGrant], role: Role, place: Place) -> bool:
    return reach_of(grants, role).covers(place)


def ladder_level(grants: Sequence[RoleGrant], place: Place) -> int:
    """The highest rung the person holds over this place; 0 when none."""
    return max(
        (level for level, role in enumerate(LADDER, start=1) if has_role(grants, role, place)),
        default=0,
    )

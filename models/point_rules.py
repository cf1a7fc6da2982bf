"""The points rules a community tunes for itself, over the defaults: what each act is worth.

Stored as overrides beside the reminder rules; a change applies from then on (the ledger keeps
the amounts it was paid with).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Community
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import Person
from models.reach import communities_run, grants_of
from models.wishes import Category

MAX_RULE = 100_000


@dataclass(frozen=True)
class PointRules:
    """Points for a closed wish (base per category, a five-star bonus, per hour of a long
    service), for a head's check and for a wish entered on someone's behalf; a monthly cap."""

    base: dict[str, int] = field(default_factory=dict)  # category code -> points (else default)
    five_star_bonus: int = 5
    verify_points: int = 0  # the building head who checks a wish, once per wish
    on_behalf_points: int = 0  # whoever entered a wish for a neighbour, when it closes
    per_hour: int = 0  # per hour a member reports for a long service
    monthly_cap: int = 0  # most points earned by one person in a month; 0: no cap
    levels: tuple[int, ...] = (0, 30, 100, 300)  # points needed for each level, lowest first
    collect_days: float = 7.0  # a reward not collected by then expires and its points come back

    def merged(self, overrides: dict[str, Any]) -> PointRules:
        """These rules with a community's overrides; an unknown or bad value is refused."""
        known = {f.name for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise InvalidInput(N_("There is no points rule called {name}."), name=name)
            try:
                values[name] = _checked(name, getattr(self, name), value)
            except (TypeError, ValueError):
                raise InvalidInput(
                    N_("The rule {name} cannot be {value}."), name=name, value=value
                ) from None
        return dataclasses.replace(self, **values)

    def base_points(self, category: Category) -> int:
        return self.base.get(category.code, category.base_points)

    def level(self, balance: int) -> tuple[int, int | None]:
        """The index of the level reached and the points the next one needs (None at the top)."""
        reached = 0
        for index, needed in enumerate(self.levels):
            if balance >= needed:
                reached = index
            else:
                return reached, needed
        return reached, None


def _checked(name: str, current: Any, value: Any) -> Any:
    if name == "base":
        if not isinstance(value, dict):
            raise ValueError
        return {str(k): _count(v) for k, v in value.items()}
    if name == "levels":
        steps = tuple(_count(v) for v in value)
        if len(steps) != len(current) or steps[0] != 0 or list(steps) != sorted(set(steps)):
            raise ValueError
        return steps
    if isinstance(value, bool):
        raise ValueError
    if isinstance(current, float):
        number = float(value)
        if not 0 < number <= 365:
            raise ValueError
        return number
    return _count(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError
    number = int(value)
    if not 0 <= number <= MAX_RULE:
        raise ValueError
    return number


async def point_rules(session: AsyncSession, community_id: int) -> PointRules:
    """The community's rules today."""
    row = (
        await session.execute(
            select(Community.five_star_bonus, Community.point_rules).where(
                Community.id == community_id
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound(N_("There is no such community."))
    bonus, overrides = row
    return PointRules(five_star_bonus=bonus).merged(overrides or {})


async def set_point_rules(
    session: AsyncSession, actor: Person, community_id: int, changes: dict[str, Any]
) -> PointRules:
    """An admin of the community changes some rules; checked whole before anything is kept."""
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of the community can change its points rules."))
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound(N_("There is no such community."))
    overrides = {**(community.point_rules or {}), **changes}
    bonus = overrides.pop("five_star_bonus", community.five_star_bonus)
    rules = PointRules().merged({**overrides, "five_star_bonus": bonus})
    community.five_star_bonus = rules.five_star_bonus
    kept = dict(overrides)
    if "levels" in kept:
        kept["levels"] = list(rules.levels)
    community.point_rules = kept
    await session.flush()
    return rules

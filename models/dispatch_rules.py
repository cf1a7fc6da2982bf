"""What dispatch weighs, and says: a community's weights, the facts about a candidate, and the
reasons in words, whose points add up to the candidate's score; candidates in one order."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.community import Community
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.people import Person
from models.reach import communities_run, grants_of

# Where a community keeps its dispatch weights among its rules (models/community.py).
RULES_KEY = "dispatch"
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class DispatchRules:
    """The weight of each reason; a community may set its own (Community.rules["dispatch"])."""

    skill: int = 40  # the member's skills cover the wish's category
    building: int = 30  # lives in the wish's building
    grid: int = 20  # ...or in its grid
    community: int = 10  # ...or at least in its community
    available: int = 15  # said they are free at the preferred time (minus this when not)
    free: int = 5  # per open task fewer than free_cap
    free_cap: int = 3
    rested: int = 3  # per place taken lately fewer than rested_cap
    rested_cap: int = 3
    recent_days: int = 14  # "lately"
    rating: int = 5  # per star of their average above three (below: minus)
    organisation: int = 25  # the member's organisation offers a resource covering the category
    resource: int = 40  # a resource covers the category (an organisation's or a member's)
    door: int = 10  # ...and it comes door to door

    def merged(self, overrides: Mapping[str, Any]) -> DispatchRules:
        """These weights with a community's own; an unknown name or a bad value is refused."""
        known = {f.name for f in dataclasses.fields(self)}
        values: dict[str, int] = {}
        for name, value in overrides.items():
            if name not in known:
                raise InvalidInput(N_("There is no dispatch rule called {name}."), name=name)
            try:
                values[name] = int(value)
                if name in ("free_cap", "rested_cap", "recent_days") and values[name] < 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise InvalidInput(
                    N_("The rule {name} cannot be {value}."), name=name, value=value
                ) from None
        return dataclasses.replace(self, **values)


class CandidateKind(enum.StrEnum):
    """What a candidate is: a member, or a resource (what an organisation or a member offers)."""

    MEMBER = "member"
    RESOURCE = "resource"


class Nearness(enum.IntEnum):
    ELSEWHERE = 0
    COMMUNITY = 1
    GRID = 2
    BUILDING = 3


@dataclass(frozen=True)
class Reason:
    """One reason, in words (``message`` is translated, then formatted with ``params``; a
    ``category`` param is a category code, said in the reader's words), and its points."""

    code: str
    points: int
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the score is made of, for one candidate."""

    skill: bool = False
    nearness: Nearness = Nearness.ELSEWHERE
    available: bool | None = None  # None: no preferred time, or no stated availability
    open_tasks: int = 0
    recent: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    # The member's organisation and its resource that covers the category, if any.
    organisation: str | None = None
    service: str = ""


@dataclass(frozen=True)
class Candidate:
    """Someone (or, later, something) who could help, with the score and its reasons."""

    kind: CandidateKind
    id: int
    name: str
    score: int
    reasons: tuple[Reason, ...]
    facts: Facts

    @property
    def order(self) -> tuple[int, str, int]:
        """Best first; the same tie-break every time: kind, then id."""
        return (-self.score, self.kind.value, self.id)


def _trunc_div(a: int, b: int) -> int:
    """Integer division towards zero, as both SQLite and PostgreSQL do it."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def rating_points(rules: DispatchRules, total: int, count: int) -> int:
    return _trunc_div(rules.rating * (total - 3 * count), count) if count else 0


def reasons_of(facts: Facts, rules: DispatchRules, category: str) -> tuple[Reason, ...]:
    """The reasons, in the order they are shown; their points add up to the score."""
    found: list[Reason] = []
    if facts.skill:
        found.append(Reason("skill", rules.skill, N_("skills: {category}"), {"category": category}))
    if facts.organisation is not None:
        found.append(
            Reason(
                "organisation",
                rules.organisation,
                N_("{organisation} offers: {service}"),
                {"organisation": facts.organisation, "service": facts.service},
            )
        )
    near = {
        Nearness.BUILDING: ("building", rules.building, N_("same building")),
        Nearness.GRID: ("grid", rules.grid, N_("same grid")),
        Nearness.COMMUNITY: ("community", rules.community, N_("same community")),
    }.get(facts.nearness)
    if near:
        found.append(Reason(*near))
    if facts.available is True:
        found.append(Reason("available", rules.available, N_("free at the preferred time")))
    elif facts.available is False:
        found.append(Reason("available", -rules.available, N_("not free at the preferred time")))
    free = rules.free * max(0, rules.free_cap - facts.open_tasks)
    if facts.open_tasks == 0:
        found.append(Reason("free", free, N_("no open tasks")))
    else:
        found.append(Reason("free", free, N_("open tasks: {n}"), {"n": facts.open_tasks}))
    rested = rules.rested * max(0, rules.rested_cap - facts.recent)
    if facts.recent == 0:
        found.append(Reason("rested", rested, N_("not asked lately")))
    else:
        found.append(
            Reason(
                "rested",
                rested,
                N_("wishes taken in {days} days: {n}"),
                {"n": facts.recent, "days": rules.recent_days},
            )
        )
    if facts.rating_count:
        average = facts.rating_sum / facts.rating_count
        found.append(
            Reason(
                "rating",
                rating_points(rules, facts.rating_sum, facts.rating_count),
                N_("rated {stars} on average"),
                {"stars": f"{average:.1f}"},
            )
        )
    return tuple(found)


def score_of(facts: Facts, rules: DispatchRules, category: str) -> int:
    return sum(r.points for r in reasons_of(facts, rules, category))


async def rules_for_community(session: AsyncSession, community_id: int) -> DispatchRules:
    overrides = await session.scalar(select(Community.rules).where(Community.id == community_id))
    return DispatchRules().merged((overrides or {}).get(RULES_KEY) or {})


async def set_dispatch_rules(
    session: AsyncSession, actor: Person, community_id: int, values: Mapping[str, Any]
) -> DispatchRules:
    """An admin of the community tunes its weights (the rest keep the defaults)."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound(N_("There is no such place."))
    if community_id not in await communities_run(session, await grants_of(session, actor)):
        raise NotAllowed(N_("Only an admin of that community can change its rules."))
    current = dict((community.rules or {}).get(RULES_KEY) or {})
    current.update(values)
    rules = DispatchRules().merged(current)
    kept = {name: getattr(rules, name) for name in current}  # as numbers, whatever was given
    community.rules = {**(community.rules or {}), RULES_KEY: kept}
    await session.flush()
    return rules


def best_of(limit: int, *kinds: Sequence[Candidate]) -> list[Candidate]:
    """The best ``limit`` of candidates of several kinds (members; the resources organisations
    and members offer, ranked by their own query into the same Candidate), in one order."""
    return sorted((c for found in kinds for c in found), key=lambda c: c.order)[:limit]

"""Dispatch: who fits a wish, best first, each candidate with its reasons in words.

One score per candidate, computed in SQL over every member of the wish's community (so 10,000
members stay one query); the reasons are rebuilt from the same parts and add up to the score.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.availability import available_at, slot_of
from models.base import UTCDateTime
from models.clock import now
from models.community import Building, Community, Grid
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.organisations import Organisation
from models.people import MemberProfile, Person, Role, RoleGrant
from models.reach import Place, Reach, communities_run, grants_of, place_of_building
from models.resources import Resource, ResourceWhere
from models.skills import SkillsMention, skills_mention
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus
# A member holding a place on a wish in these states is busy with it.
BUSY = (S.OPEN, S.ACCEPTED, S.DONE)
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


def _p(name: str) -> BindParameter[int]:
    return bindparam(name, type_=Integer())


def _community() -> BindParameter[int]:
    """The community, written into the statement's text when it runs (one prepared statement
    per community): PostgreSQL plans a prepared statement once for all values after five runs,
    and, not knowing which community, it takes its members for a few dozen and joins them row
    by row (18 ms at 10,000 members instead of 9)."""
    return bindparam("community", type_=Integer(), literal_execute=True)


def _history(for_few: bool) -> Any:
    """Per member with any place, in one pass over their places: open tasks now, places taken
    lately, the sum and number of the ratings of the closed wishes they helped with, and the
    points all that is worth (so that the score of each member adds one number for it)."""
    active = WishAssignment.status == AssignmentStatus.ACTIVE
    rated = and_(active, Wish.status == S.CLOSED, Wish.rating.is_not(None))
    busy = and_(active, Wish.status.in_(BUSY))
    recent = WishAssignment.accepted_at >= bindparam("since", type_=UTCDateTime())
    few = [WishAssignment.member_id.in_(bindparam("few", expanding=True))] if for_few else []
    sums = (
        select(
            WishAssignment.member_id.label("member_id"),
            func.sum(case((busy, 1), else_=0)).label("busy"),
            func.sum(case((recent, 1), else_=0)).label("recent"),
            func.sum(case((rated, Wish.rating), else_=0)).label("total"),
            func.sum(case((rated, 1), else_=0)).label("rated"),
        )
        .join(Wish, WishAssignment.wish_id == Wish.id)
        .where(or_(busy, rated, recent), *few)
        .group_by(WishAssignment.member_id)
        .subquery()
    )
    points = (
        _p("w_free") * _least(sums.c.busy, "free_cap")
        + _p("w_rested") * _least(sums.c.recent, "rested_cap")
        + case(
            (
                sums.c.rated > 0,
                (_p("w_rating") * (sums.c.total - 3 * sums.c.rated)) // sums.c.rated,
            ),
            else_=0,
        )
    )
    return select(sums, points.label("points")).subquery()


def _least(value: ColumnElement[Any], cap: str) -> ColumnElement[int]:
    """max(0, cap - value), in SQL that both databases speak."""
    return case((value >= _p(cap), 0), else_=_p(cap) - value)


@cache
def _statement(timed: bool, for_few: bool) -> Select[Any]:
    """The members who may take a wish, with the score (and, for the few, the facts it is
    made of); built once, every value a named parameter (see _parameters); the community and
    the role are written into the text when it runs (see _community)."""
    history = _history(for_few)
    home = Building.__table__.alias("home")
    grids_here = select(Grid.id).where(Grid.community_id == _community())
    skilled = skills_mention(
        bindparam("skill_json", type_=String()), bindparam("skill", type_=String())
    )
    offering = select(Resource.organisation_id).where(
        Resource.community_id == _community(),
        Resource.organisation_id.is_not(None),
        SkillsMention(
            Resource.__table__.c.categories,
            bindparam("skill_json", type_=String()),
            bindparam("skill", type_=String()),
        ),
    )
    offered = MemberProfile.organisation_id.in_(offering)
    same_building = Person.building_id == _p("building")
    same_grid = home.c.grid_id == _p("grid")
    same_community = home.c.grid_id.in_(grids_here)
    nearness = case(
        (same_building, int(Nearness.BUILDING)),
        (same_grid, int(Nearness.GRID)),
        (same_community, int(Nearness.COMMUNITY)),
        else_=int(Nearness.ELSEWHERE),
    )
    if timed:
        stated = MemberProfile.available_days != 0
        fits = and_(
            MemberProfile.available_days.op("&")(_p("day_bit")) != 0,
            MemberProfile.available_from <= _p("hour"),
            MemberProfile.available_to > _p("hour"),
        )
        available: ColumnElement[Any] = case((~stated, None), (fits, 1), else_=0)
        available_points: ColumnElement[Any] = case(
            (~stated, 0), (fits, _p("w_available")), else_=-_p("w_available")
        )
    else:
        available = null()
        available_points = literal(0)
    open_tasks = func.coalesce(history.c.busy, 0)
    recent_n = func.coalesce(history.c.recent, 0)
    rating_total = func.coalesce(history.c.total, 0)
    rating_n = func.coalesce(history.c.rated, 0)
    score = (
        case((skilled, _p("w_skill")), else_=0)
        + case((offered, _p("w_organisation")), else_=0)
        + case(
            (same_building, _p("w_building")),
            (same_grid, _p("w_grid")),
            (same_community, _p("w_community")),
            else_=0,
        )
        + available_points
        # A member without any place yet: all the free and rested points, no rating.
        + func.coalesce(history.c.points, _p("fresh_points"))
    ).label("score")
    holding = select(WishAssignment.member_id).where(
        WishAssignment.wish_id == _p("wish"), WishAssignment.status == AssignmentStatus.ACTIVE
    )
    columns: list[Any] = [Person.id, score]
    if for_few:
        columns += [
            Person.name,
            case((skilled, 1), else_=0),
            nearness,
            available,
            open_tasks,
            recent_n,
            rating_total,
            rating_n,
            case((offered, MemberProfile.organisation_id), else_=null()),
        ]
    query = (
        select(*columns)
        .join(MemberProfile, MemberProfile.person_id == Person.id)
        .join(
            RoleGrant,
            and_(
                RoleGrant.person_id == Person.id,
                RoleGrant.role == literal(Role.MEMBER, RoleGrant.role.type, literal_execute=True),
                RoleGrant.scope_id == _community(),
            ),
        )
        .outerjoin(home, home.c.id == Person.building_id)
        .outerjoin(history, history.c.member_id == Person.id)
        .where(
            MemberProfile.approved,
            Person.erased_at.is_(None),
            Person.id != _p("requester"),
            Person.id.not_in(holding),
        )
    )
    if for_few:
        return query.where(Person.id.in_(bindparam("few", expanding=True)))
    return query.order_by(score.desc(), Person.id).limit(_p("limit"))


def _parameters(
    wish: Wish, place: Place, rules: DispatchRules, since: dt.datetime, slot: tuple[int, int] | None
) -> dict[str, Any]:
    day, hour = slot or (0, 0)
    return {
        "skill": wish.category,
        "skill_json": json.dumps(wish.category),
        "building": place.building_id,
        "grid": place.grid_id,
        "community": place.community_id,
        "day_bit": 1 << day,
        "hour": hour,
        "since": since,
        "wish": wish.id,
        "requester": wish.requester_id,
        **{f"w_{name}": getattr(rules, name) for name in WEIGHTS},
        "free_cap": rules.free_cap,
        "rested_cap": rules.rested_cap,
        "fresh_points": rules.free * rules.free_cap + rules.rested * rules.rested_cap,
    }


WEIGHTS = (
    "skill",
    "building",
    "grid",
    "community",
    "available",
    "free",
    "rested",
    "rating",
    "organisation",
)


async def rank_members(
    session: AsyncSession,
    wish: Wish,
    limit: int = 5,
    *,
    timezone: ZoneInfo = UTC,
    rules: DispatchRules | None = None,
) -> list[Candidate]:
    """The approved members of the wish's community who could take it, best first, at most
    ``limit``, each with its reasons. Not the requester, nor who holds a place on it already.

    First the order, on narrow rows (an id and a score each), then the facts of the few."""
    place: Place = await place_of_building(session, wish.building_id)
    rules = rules or await rules_for_community(session, place.community_id)
    since = now(session) - dt.timedelta(days=rules.recent_days)
    slot = slot_of(wish.preferred_time, timezone)
    values = _parameters(wish, place, rules, since, slot)
    ranked = (
        await session.execute(_statement(slot is not None, False), {**values, "limit": limit})
    ).all()
    if not ranked:
        return []
    ids = [int(pid) for pid, _ in ranked]
    rows = {
        int(row[0]): row
        for row in (
            await session.execute(_statement(slot is not None, True), {**values, "few": ids})
        ).all()
    }
    offers = await _offers(session, [r[-1] for r in rows.values() if r[-1] is not None], wish)
    found: list[Candidate] = []
    for pid in ids:
        # The score read with the facts (a place taken meanwhile moves both alike).
        _, total, name, skilled, near, free_then, n_open, n_recent, r_total, r_n, org = rows[pid]
        organisation, service = offers.get(org, (None, "")) if org is not None else (None, "")
        facts = Facts(
            skill=bool(skilled),
            nearness=Nearness(int(near)),
            available=None if free_then is None else bool(free_then),
            open_tasks=int(n_open),
            recent=int(n_recent),
            rating_sum=int(r_total),
            rating_count=int(r_n),
            organisation=organisation,
            service=service,
        )
        reasons = reasons_of(facts, rules, wish.category)
        found.append(Candidate(CandidateKind.MEMBER, pid, name, int(total), reasons, facts))
    return found


async def _offers(
    session: AsyncSession, organisation_ids: Sequence[int], wish: Wish
) -> dict[int, tuple[str, str]]:
    """For each organisation: its name and its first resource (by id) covering the category."""
    if not organisation_ids:
        return {}
    found: dict[int, tuple[str, str]] = {}
    rows = await session.execute(
        select(Organisation.id, Organisation.name, Resource)
        .join(Resource, Resource.organisation_id == Organisation.id)
        .where(Organisation.id.in_(sorted(set(organisation_ids))))
        .order_by(Resource.id)
    )
    for oid, name, resource in rows.all():
        if resource.covers(wish.category) and oid not in found:
            found[int(oid)] = (name, resource.service)
    return found


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def resource_fits(resource: Resource, slot: tuple[int, int] | None) -> bool | None:
    """Whether the resource is there at the wish's preferred time (None: no time wanted).
    No weekdays stated: any day; no hours stated: any time of those days."""
    if slot is None:
        return None
    day, hour = slot
    if resource.weekdays and day not in resource.weekdays:
        return False
    if resource.hours:
        start, end = (_minutes(part) for part in resource.hours.split("-"))
        return start <= hour * 60 < end
    return True


def resource_reasons(
    resource: Resource, owner: str, rules: DispatchRules, fits: bool | None
) -> tuple[Reason, ...]:
    """Why a resource fits, in the order shown: what it offers, where, when; their points add
    up to its score. The days are said by the reader (a ``weekdays`` param, see
    handlers/flows/suggested.py)."""
    found = [
        Reason(
            "resource",
            rules.resource,
            N_("{organisation} offers: {service}"),
            {"organisation": owner, "service": resource.service},
        )
    ]
    if resource.where == ResourceWhere.DOOR:
        found.append(Reason("door", rules.door, N_("door to door")))
    else:
        found.append(Reason("door", 0, N_("at its own site")))
    when = {"weekdays": tuple(resource.weekdays), "hours": resource.hours}
    if fits is True:
        found.append(
            Reason(
                "available", rules.available, N_("available {days}, at the preferred time"), when
            )
        )
    elif fits is False:
        found.append(
            Reason(
                "available",
                -rules.available,
                N_("available {days}, not at the preferred time"),
                when,
            )
        )
    else:
        found.append(Reason("available", 0, N_("available {days}"), when))
    return tuple(found)


async def rank_resources(
    session: AsyncSession,
    wish: Wish,
    limit: int = 5,
    *,
    timezone: ZoneInfo = UTC,
    rules: DispatchRules | None = None,
) -> list[Candidate]:
    """The resources of the wish's community that cover its category (an organisation's, or
    an approved member's own), best first, each with its reasons; the name is the owner's."""
    place: Place = await place_of_building(session, wish.building_id)
    rules = rules or await rules_for_community(session, place.community_id)
    slot = slot_of(wish.preferred_time, timezone)
    rows = await session.execute(
        select(Resource, func.coalesce(Organisation.name, Person.name))
        .outerjoin(Organisation, Organisation.id == Resource.organisation_id)
        .outerjoin(Person, Person.id == Resource.person_id)
        .where(
            Resource.community_id == place.community_id,
            or_(Resource.organisation_id.is_not(None), Person.erased_at.is_(None)),
        )
        .order_by(Resource.id)
    )
    found: list[Candidate] = []
    for resource, owner in rows.all():
        if not resource.covers(wish.category):
            continue
        fits = resource_fits(resource, slot)
        reasons = resource_reasons(resource, str(owner), rules, fits)
        score = sum(r.points for r in reasons)
        facts = Facts(available=fits)
        found.append(
            Candidate(CandidateKind.RESOURCE, resource.id, str(owner), score, reasons, facts)
        )
    return best_of(limit, found)


async def rank_supply(
    session: AsyncSession, wish: Wish, limit: int = 5, *, timezone: ZoneInfo = UTC
) -> tuple[list[Candidate], list[Candidate]]:
    """For a wish, the best ``limit`` members (whom the office may assign) and the best
    ``limit`` resources, each best first, with one community's weights."""
    rules = await rules_for_community(
        session, (await place_of_building(session, wish.building_id)).community_id
    )
    members = await rank_members(session, wish, limit, timezone=timezone, rules=rules)
    resources = await rank_resources(session, wish, limit, timezone=timezone, rules=rules)
    return members, resources


def best_of(limit: int, *kinds: Sequence[Candidate]) -> list[Candidate]:
    """The best ``limit`` of candidates of several kinds (members; the resources organisations
    and members offer, ranked by their own query into the same Candidate), in one order."""
    return sorted((c for found in kinds for c in found), key=lambda c: c.order)[:limit]


async def rank_for_wish(
    session: AsyncSession, reach: Reach, wish_id: int, limit: int = 5, *, timezone: ZoneInfo = UTC
) -> list[Candidate]:
    """For the dashboard's wish page: the top candidates for the wish, with their reasons;
    only for a wish in the viewer's reach (models/reach.py), as if it did not exist otherwise."""
    wish = await session.get(Wish, wish_id)
    if wish is None or not reach.covers(await place_of_building(session, wish.building_id)):
        raise NotFound(N_("There is no such wish."))
    return best_of(limit, *await rank_supply(session, wish, limit, timezone=timezone))


async def reasons_for_member(
    session: AsyncSession, member: Person, wishes: Sequence[Wish], timezone: ZoneInfo = UTC
) -> dict[int, tuple[Reason, ...]]:
    """Why each open wish suits the member, for /tasks: their skill ("repairs"), their
    building or grid, their stated free time (only what speaks for it), by wish id."""
    profile = await session.get(MemberProfile, member.id)
    skills = set(profile.skills) if profile else set()
    home = await session.get(Building, member.building_id) if member.building_id else None
    grids = {
        b: g
        for b, g in (
            await session.execute(
                select(Building.id, Building.grid_id).where(
                    Building.id.in_({w.building_id for w in wishes})
                )
            )
        ).all()
    }
    found: dict[int, tuple[Reason, ...]] = {}
    for wish in wishes:
        reasons: list[Reason] = []
        if wish.category in skills:
            reasons.append(Reason("skill", 1, "{category}", {"category": wish.category}))
        if home is not None and home.id == wish.building_id:
            reasons.append(Reason("building", 1, N_("your building")))
        elif home is not None and grids.get(wish.building_id) == home.grid_id:
            reasons.append(Reason("grid", 1, N_("your grid")))
        if profile is not None and available_at(profile, wish.preferred_time, timezone):
            reasons.append(Reason("available", 1, N_("when you are free")))
        found[wish.id] = tuple(reasons)
    return found

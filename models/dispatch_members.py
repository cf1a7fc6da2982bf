"""The members who fit a wish, best first: one score per member in SQL over the whole community
(so 10,000 members stay one query), made of the same parts as the reasons in dispatch_rules."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
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

from models.availability import slot_of
from models.base import UTCDateTime
from models.clock import now
from models.community import Building, Grid
from models.dispatch_rules import (
    UTC,
    Candidate,
    CandidateKind,
    DispatchRules,
    Facts,
    Nearness,
    reasons_of,
    rules_for_community,
)
from models.organisations import Organisation
from models.people import MemberProfile, Person, Role, RoleGrant
from models.reach import Place, place_of_building
from models.resources import Resource
from models.skills import SkillsMention, skills_mention
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

S = WishStatus
# A member holding a place on a wish in these states is busy with it.
BUSY = (S.OPEN, S.ACCEPTED, S.DONE)


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

"""Dispatch on hand-built cases: each reason moves a member up or down as it should, the
reasons shown add up to the score the database ranked by, and ties break the same way.

Fixer, Walker and Runner (in that order of id) start alike: no skill for the wish, no home,
nothing stated, nothing done; so they rank by id until one reason sets one apart.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.availability import available_at, mask_of
from models.clock import ManualClock
from models.community import Community
from models.directory import add_person, approve_member, grant_role, register_member
from models.dispatch import rank_for_wish
from models.dispatch_members import rank_members
from models.dispatch_resources import rank_resources
from models.dispatch_rules import (
    Candidate,
    CandidateKind,
    DispatchRules,
    Facts,
    Nearness,
    Reason,
    best_of,
    reasons_of,
    score_of,
    set_dispatch_rules,
)
from models.errors import InvalidInput, NotAllowed, NotFound
from models.organisations import OrganisationKind, register_organisation
from models.people import MemberProfile, Person, Role
from models.reach import community_reach
from models.resources import ResourceWhere, add_resource
from models.schedule import rules_for_building
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, release_wish, report_done
from models.wishes import Wish
from tests.chat import CONFIG, World
from tests.town import Town

WEDNESDAY_10 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)  # a Wednesday, 10:00 UTC


async def _plain(sessions: async_sessionmaker[AsyncSession], town: Town) -> Wish:
    """The three members made alike; an open repair wish of Alice's in N1 at WEDNESDAY_10."""
    async with sessions.begin() as s:
        for member in (town.fixer, town.walker, town.runner):
            profile = await s.get(MemberProfile, member.id)
            assert profile is not None
            profile.skills = ["companionship"]
        wish = await submit_wish(
            s,
            town.alice,
            building_id=town.n1.id,
            category="repair",
            description="The corridor light is out",
            preferred_time=WEDNESDAY_10,
        )
        await verify_wish(s, town.head_n1, wish.id)
        return wish


async def _names(sessions: async_sessionmaker[AsyncSession], wish: Wish) -> list[str]:
    async with sessions() as s:
        ranked = await rank_members(s, wish, 10)
        _check_reasons(ranked, wish.category)
        return [c.name for c in ranked]


def _check_reasons(ranked: Sequence[Candidate], category: str) -> None:
    """What is printed is what was ranked: the reasons add up to the database's score, the
    Python score of the same facts is the same, and the order is (score down, id up)."""
    for c in ranked:
        assert sum(r.points for r in c.reasons) == c.score
        assert score_of(c.facts, DispatchRules(), category) == c.score
    assert [c.order for c in ranked] == sorted(c.order for c in ranked)


async def _edit(
    sessions: async_sessionmaker[AsyncSession], person: Person, **values: object
) -> None:
    async with sessions.begin() as s:
        for target in (Person, MemberProfile):
            row = await s.get(target, person.id)
            assert row is not None
            for name, value in values.items():
                if hasattr(row, name) and name != "id":
                    setattr(row, name, value)


async def test_alike_members_rank_by_id(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]
    # Asked again, the same answer (the tie-break does not wander).
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]


async def test_a_skill_moves_up(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    wish = await _plain(sessions, town)
    await _edit(sessions, town.runner, skills=["repair"])
    assert await _names(sessions, wish) == ["Runner", "Fixer", "Walker"]


async def test_nearer_moves_up_building_over_grid_over_community(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)
    await _edit(sessions, town.fixer, building_id=town.s1.id)  # same community (South grid)
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]
    await _edit(sessions, town.walker, building_id=town.n2.id)  # same grid (North)
    assert await _names(sessions, wish) == ["Walker", "Fixer", "Runner"]
    await _edit(sessions, town.runner, building_id=town.n1.id)  # the wish's own building
    assert await _names(sessions, wish) == ["Runner", "Walker", "Fixer"]
    # Living in another community counts for nothing.
    await _edit(sessions, town.runner, building_id=town.m1.id)
    assert await _names(sessions, wish) == ["Walker", "Fixer", "Runner"]


async def test_free_at_the_time_moves_up_and_busy_then_moves_down(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)
    wednesday = mask_of([2])
    await _edit(sessions, town.runner, available_days=wednesday, available_from=8, available_to=12)
    assert await _names(sessions, wish) == ["Runner", "Fixer", "Walker"]
    # Fixer is free on Wednesdays, but only in the evening: below those who said nothing.
    await _edit(sessions, town.fixer, available_days=wednesday, available_from=18, available_to=22)
    assert await _names(sessions, wish) == ["Runner", "Walker", "Fixer"]
    async with sessions() as s:
        fixer = next(c for c in await rank_members(s, wish, 10) if c.name == "Fixer")
    assert [r.code for r in fixer.reasons if r.points < 0] == ["available"]


async def test_open_tasks_move_down(sessions: async_sessionmaker[AsyncSession], town: Town) -> None:
    wish = await _plain(sessions, town)
    other = await _plain(sessions, town)
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, other.id)
    assert await _names(sessions, wish) == ["Walker", "Runner", "Fixer"]


async def test_asked_lately_moves_down_until_it_is_long_ago(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    wish = await _plain(sessions, town)
    other = await _plain(sessions, town)
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, other.id)
        await release_wish(s, town.fixer, other.id, "Cannot after all")
    assert await _names(sessions, wish) == ["Walker", "Runner", "Fixer"]
    clock.advance(dt.timedelta(days=15))
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]


async def test_good_ratings_move_up_and_bad_ones_down(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    wish = await _plain(sessions, town)
    for member, stars in ((town.runner, 5), (town.fixer, 1)):
        done = await _plain(sessions, town)
        async with sessions.begin() as s:
            await accept_wish(s, member, done.id)
            await report_done(s, member, done.id, "Done")
            await confirm_wish(s, town.alice, done.id, stars)
    clock.advance(dt.timedelta(days=15))  # so that only the ratings differ
    assert await _names(sessions, wish) == ["Runner", "Walker", "Fixer"]


async def test_the_requester_and_unapproved_members_are_never_suggested(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        fixer = await s.get(Person, town.fixer.id)
        assert fixer is not None
        fixer.building_id = town.n1.id
        await grant_role(s, None, fixer, Role.RESIDENT, town.n1.id)
        wish = await submit_wish(
            s, fixer, building_id=town.n1.id, category="repair", description="Help me"
        )
        # Fixer asks; Newbie is not approved; Maple's member is of another community.
        wish = await verify_wish(s, town.head_n1, wish.id)
    names = await _names(sessions, wish)
    assert "Fixer" not in names and "Newbie" not in names and "Maple Member" not in names
    assert names == ["Walker", "Runner"]


async def test_a_community_sets_its_own_weights(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)
    await _edit(sessions, town.runner, skills=["repair"])
    await _edit(sessions, town.fixer, building_id=town.n1.id)
    # By default a skill (40) outweighs the same building (30)...
    assert (await _names(sessions, wish))[:2] == ["Runner", "Fixer"]
    async with sessions.begin() as s:
        await set_dispatch_rules(s, town.admin, town.sunflower.id, {"building": "60"})
    async with sessions() as s:
        ranked = await rank_members(s, wish, 3)
    assert [c.name for c in ranked][:2] == ["Fixer", "Runner"]
    assert next(r for r in ranked[0].reasons if r.code == "building").points == 60
    async with sessions() as s:  # the reminder rules beside them still read
        assert (await rules_for_building(s, town.n1.id)).open_hours == 24
        community = await s.get(Community, town.sunflower.id)
        assert community is not None and community.rules["dispatch"] == {"building": 60}
    for bad in ({"nonsense": 1}, {"skill": "many"}):
        try:
            async with sessions.begin() as s:
                await set_dispatch_rules(s, town.admin, town.sunflower.id, bad)
        except InvalidInput:
            pass
        else:
            raise AssertionError(f"{bad} was accepted")
    try:
        async with sessions.begin() as s:
            await set_dispatch_rules(s, town.maple_admin, town.sunflower.id, {"skill": 1})
    except NotAllowed:
        pass
    else:
        raise AssertionError("another community's admin changed the weights")


async def test_many_members_in_the_database_order_of_their_own_scores(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    """Thirty members drawn at random (a fixed seed): the database's order is the order of
    the Python scores of the same facts, ties by id, and the reasons add up."""
    draw = random.Random(13)
    wish = await _plain(sessions, town)
    async with sessions.begin() as s:
        for n in range(30):
            person = await add_person(
                s, f"M{n:02d}", building=draw.choice([None, town.n1, town.n2, town.s1, town.m1])
            )
            profile = await register_member(
                s, person, town.sunflower, skills=draw.choice([[], ["repair"], ["errand"]])
            )
            await approve_member(s, None, person)
            if draw.random() < 0.5:
                profile.available_days = draw.randrange(1, 128)
                profile.available_from = draw.randrange(0, 12)
                profile.available_to = draw.randrange(12, 25)
    async with sessions() as s:
        ranked = await rank_members(s, wish, 100)
        again = await rank_for_wish(s, community_reach(town.sunflower.id), wish.id, 100)
        try:  # the dashboard's call: only within the viewer's reach
            await rank_for_wish(s, community_reach(town.maple.id), wish.id)
        except NotFound:
            pass
        else:
            raise AssertionError("a wish outside the reach was ranked")
    assert len(ranked) == 33
    _check_reasons(ranked, "repair")
    assert [c.id for c in ranked] == [c.id for c in again]
    assert len({c.score for c in ranked}) < len(ranked)  # there were ties to break


member_drawn = st.tuples(
    st.sampled_from(["none", "n1", "n2", "s1", "m1"]),
    st.sampled_from([[], ["repair"], ["errand"]]),
    st.none() | st.tuples(st.integers(1, 127), st.integers(0, 11), st.integers(12, 24)),
    st.sampled_from(["nothing", "open", "1", "3", "5"]),
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(member_drawn, min_size=1, max_size=6), st.integers(1, 4))
async def test_any_members_any_history_the_order_is_the_scores_and_ties_by_id(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    drawn: list[tuple[str, list[str], tuple[int, int, int] | None, str]],
    limit: int,
) -> None:
    """Members with any home, skills, stated hours and history (an open task, a closed wish
    rated 1, 3 or 5): the database's order is by the scores its reasons add up to, ties by
    id; the first ``limit`` are the first of the whole list; asking again changes nothing."""
    wish = await _plain(sessions, town)
    homes = {"none": None, "n1": town.n1, "n2": town.n2, "s1": town.s1, "m1": town.m1}
    for n, (home, skills, hours, history) in enumerate(drawn):
        async with sessions.begin() as s:
            person = await add_person(s, f"H{n}", building=homes[home])
            profile = await register_member(s, person, town.sunflower, skills=skills)
            await approve_member(s, None, person)
            if hours is not None:
                profile.available_days, profile.available_from, profile.available_to = hours
            if history != "nothing":
                other = await submit_wish(
                    s, town.alice, building_id=town.n1.id, category="errand", description="x"
                )
                await verify_wish(s, town.head_n1, other.id)
                await accept_wish(s, person, other.id)
                if history != "open":
                    await report_done(s, person, other.id, "Done")
                    await confirm_wish(s, town.alice, other.id, int(history))
    async with sessions() as s:
        everyone = await rank_members(s, wish, 1000, timezone=CONFIG.timezone)
        first = await rank_members(s, wish, limit, timezone=CONFIG.timezone)
        again = await rank_members(s, wish, 1000, timezone=CONFIG.timezone)
        for c in everyone:  # the SQL's test of the stated hours is the Python one
            profile = await s.get(MemberProfile, c.id)
            assert profile is not None
            assert c.facts.available == available_at(profile, WEDNESDAY_10, CONFIG.timezone)
    _check_reasons(everyone, "repair")
    assert [c.id for c in first] == [c.id for c in everyone[:limit]]
    assert everyone == again


facts = st.builds(
    Facts,
    skill=st.booleans(),
    nearness=st.sampled_from(list(Nearness)),
    available=st.sampled_from([None, True, False]),
    open_tasks=st.integers(0, 10),
    recent=st.integers(0, 10),
    rating_sum=st.just(0),
    rating_count=st.just(0),
)


@given(facts, st.integers(1, 50), st.integers(1, 5))
def test_reasons_add_up_and_each_better_fact_scores_higher(
    base: Facts, rated: int, stars: int
) -> None:
    rules = DispatchRules()
    with_ratings = Facts(**{**base.__dict__, "rating_sum": rated * stars, "rating_count": rated})
    for f in (base, with_ratings):
        assert sum(r.points for r in reasons_of(f, rules, "repair")) == score_of(f, rules, "repair")
    score = score_of(base, rules, "repair")

    def better(**changes: object) -> int:
        return score_of(Facts(**{**base.__dict__, **changes}), rules, "repair")

    if not base.skill:
        assert better(skill=True) > score
    if base.nearness < Nearness.BUILDING:
        assert better(nearness=Nearness(base.nearness + 1)) > score
    if base.available is not True:
        assert better(available=True) > score
    if base.open_tasks > 0 and base.open_tasks <= rules.free_cap:
        assert better(open_tasks=base.open_tasks - 1) > score
    if base.recent > 0 and base.recent <= rules.rested_cap:
        assert better(recent=base.recent - 1) > score
    # Ratings above three stars add, below take away, exactly three change nothing.
    rating_part = score_of(with_ratings, rules, "repair") - score
    assert (rating_part > 0) == (stars > 3) and (rating_part < 0) == (stars < 3)


async def test_a_member_says_when_they_are_free_in_chat_and_dispatch_listens(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)  # Wednesday 10:00 UTC: 18:00 in Shanghai
    await _edit(sessions, town.runner, availability="weekday evenings")
    world = World(sessions)
    runner = await world.as_person(town.runner)
    await runner.send("/availability")
    assert "not chosen yet (you wrote: weekday evenings)" in runner.texts()[-2]
    await runner.press("Done")
    assert "at least one day" in runner.last.text
    await runner.press("Wed")
    await runner.press("Sat")
    await runner.press("Sun")
    await runner.press("✅ Sun")  # pressed again: off
    await runner.press("Done")
    await runner.send("evenings")  # typed, not pressed
    assert "with the buttons" in runner.last.text
    await runner.press("Evenings")
    assert "You are free: Wed, Sat 18–22." in runner.last.text
    async with sessions() as s:
        profile = await s.get(MemberProfile, town.runner.id)
        assert profile is not None
        assert (profile.available_days, profile.available_from, profile.available_to) == (
            mask_of([2, 5]),
            18,
            22,
        )
        assert profile.availability == "weekday evenings"  # the old words are kept
        ranked = await rank_members(s, wish, 3, timezone=CONFIG.timezone)
    assert [c.name for c in ranked] == ["Runner", "Fixer", "Walker"]
    assert "free at the preferred time" in [r.message for r in ranked[0].reasons]

    alice = await world.as_person(town.alice)
    await alice.send("/availability")
    assert "/availability is not for you" in alice.last.text
    async with sessions() as s:
        assert await s.get(MemberProfile, town.alice.id) is None


def test_candidates_of_other_kinds_join_the_same_order() -> None:
    """A second kind (an organisation's resource, later) is ranked into the same list: by
    score, then kind, then id, whatever list it came from."""
    facts = Facts()

    def one(kind: str, id_: int, score: int) -> Candidate:
        return Candidate(CandidateKind(kind), id_, f"{kind}{id_}", score, (), facts)

    members = [one("member", 7, 50), one("member", 3, 20)]
    others = [one("member", 1, 50), one("member", 9, 60)]
    assert [(c.id, c.score) for c in best_of(3, members, others)] == [(9, 60), (1, 50), (7, 50)]
    assert best_of(2, members, others) == best_of(2, others, members)


async def _offer(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    name: str,
    categories: list[str],
    *,
    where: ResourceWhere = ResourceWhere.SITE,
    weekdays: Sequence[int] = (),
    hours: str = "",
    community: Community | None = None,
) -> int:
    """An organisation (registered by the community's admin) offering one service; its id."""
    community = community or town.sunflower
    admin = town.admin if community is town.sunflower else town.maple_admin
    async with sessions.begin() as s:
        found = await register_organisation(
            s, admin, community.id, name=name, kind=OrganisationKind.HOSPITAL
        )
        await add_resource(
            s,
            admin,
            community_id=community.id,
            organisation_id=found.id,
            service=f"{name} service",
            categories=categories,
            capacity_per_month=10,
            where=where,
            weekdays=weekdays,
            hours=hours,
        )
        return found.id


async def _resources(sessions: async_sessionmaker[AsyncSession], wish: Wish) -> list[Candidate]:
    async with sessions() as s:
        found = await rank_resources(s, wish, 10)
    for c in found:
        assert c.kind == CandidateKind.RESOURCE
        assert sum(r.points for r in c.reasons) == c.score
    assert [c.order for c in found] == sorted(c.order for c in found)
    return found


async def test_a_member_whose_organisation_offers_the_category_moves_up(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)
    # An organisation offering something else counts for nothing.
    elsewhere = await _offer(sessions, town, "Reading Club", ["companionship"])
    await _edit(sessions, town.runner, organisation_id=elsewhere)
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]
    # Nor does one in another community that does offer repairs.
    maple = await _offer(sessions, town, "Maple Works", ["repair"], community=town.maple)
    await _edit(sessions, town.runner, organisation_id=maple)
    assert await _names(sessions, wish) == ["Fixer", "Walker", "Runner"]
    # Walker's clinic offers repairs: Walker first, and says why with the score it adds.
    clinic = await _offer(sessions, town, "Riverside Clinic", ["paperwork", "repair"])
    await _edit(sessions, town.walker, organisation_id=clinic)
    async with sessions() as s:
        ranked = await rank_members(s, wish, 10)
    _check_reasons(ranked, wish.category)
    assert [c.name for c in ranked] == ["Walker", "Fixer", "Runner"]
    offers = [r for r in ranked[0].reasons if r.code == "organisation"]
    assert offers == [
        Reason(
            "organisation",
            DispatchRules().organisation,
            "{organisation} offers: {service}",
            {"organisation": "Riverside Clinic", "service": "Riverside Clinic service"},
        )
    ]
    assert ranked[0].score - ranked[1].score == DispatchRules().organisation
    assert all(r.code != "organisation" for c in ranked[1:] for r in c.reasons)
    # The community's own weight for it is heeded (0: the tie by id again).
    async with sessions.begin() as s:
        await set_dispatch_rules(s, town.admin, town.sunflower.id, {"organisation": 0})
    async with sessions() as s:
        rules = DispatchRules().merged({"organisation": 0})
        ranked = await rank_members(s, wish, 10, rules=rules)
    assert [c.name for c in ranked] == ["Fixer", "Walker", "Runner"]


async def test_resources_rank_by_cover_door_and_time_with_reasons_that_add_up(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await _plain(sessions, town)  # repair, Wednesday 10:00
    assert await _resources(sessions, wish) == []
    await _offer(sessions, town, "Reading Club", ["companionship"])  # another category
    await _offer(sessions, town, "Maple Works", ["repair"], community=town.maple)  # elsewhere
    await _offer(sessions, town, "Site Works", ["repair"])
    found = await _resources(sessions, wish)
    assert [c.name for c in found] == ["Site Works"]
    rules = DispatchRules()
    assert [(r.code, r.points) for r in found[0].reasons] == [
        ("resource", rules.resource),
        ("door", 0),
        ("available", rules.available),  # any day, any time: so at the preferred time too
    ]
    # Door to door counts; so does being there at the preferred time; elsewhen moves down.
    await _offer(sessions, town, "Door Works", ["repair"], where=ResourceWhere.DOOR)
    await _offer(
        sessions, town, "Tue-Thu Works", ["repair"], weekdays=[1, 2, 3], hours="09:00-12:00"
    )
    await _offer(sessions, town, "Weekend Works", ["repair"], weekdays=[5, 6])
    await _offer(sessions, town, "Evening Works", ["repair"], weekdays=[2], hours="18:00-22:00")
    found = await _resources(sessions, wish)
    # Ties (Site and Tue-Thu, Weekend and Evening) by id.
    assert [(c.name, c.score) for c in found] == [
        ("Door Works", rules.resource + rules.door + rules.available),
        ("Site Works", rules.resource + rules.available),
        ("Tue-Thu Works", rules.resource + rules.available),
        ("Weekend Works", rules.resource - rules.available),
        ("Evening Works", rules.resource - rules.available),
    ]
    assert found[2].reasons[-1].params == {"weekdays": (1, 2, 3), "hours": "09:00-12:00"}
    assert found[2].reasons[-1].message == "available {days}, at the preferred time"
    assert found[3].reasons[-1].message == "available {days}, not at the preferred time"
    # Asked again, the same order (Weekend and Evening tie: by id).
    assert await _resources(sessions, wish) == found
    # Without a preferred time, the days are said and count for nothing.
    async with sessions.begin() as s:
        row = await s.get(Wish, wish.id)
        assert row is not None
        row.preferred_time = None
    async with sessions() as s:
        wish = await s.get_one(Wish, wish.id)
    untimed = await _resources(sessions, wish)
    assert {c.score for c in untimed} == {rules.resource, rules.resource + rules.door}
    assert all(c.reasons[-1].message == "available {days}" for c in untimed)
    # The dashboard's ranking has both kinds in one order.
    async with sessions() as s:
        both = await rank_for_wish(s, community_reach([town.sunflower.id]), wish.id, 10)
    assert [c.kind for c in both].count(CandidateKind.RESOURCE) == 5
    assert [c.order for c in both] == sorted(c.order for c in both)
    assert "Site Works" in [c.name for c in both if c.kind == CandidateKind.RESOURCE]


def test_a_resource_said_in_words_adds_up() -> None:
    """The days are said by the reader: a span of three or more in a row, else a list."""
    from handlers.flows.suggested import days_text, resource_line
    from handlers.i18n import translator
    from models.dispatch_rules import UTC

    en, zh = translator("en", UTC), translator("zh_Hans", UTC)
    assert days_text(en, [1, 2, 3], "09:00-17:00") == "Tue–Thu 09:00-17:00"
    assert days_text(en, [0, 2], "") == "Mon, Wed"
    assert days_text(en, [], "") == "every day"
    assert days_text(zh, [1, 2, 3], "") == "周二–周四"
    reasons = (
        Reason(
            "resource",
            40,
            "{organisation} offers: {service}",
            {"organisation": "Riverside Clinic", "service": "blood-pressure checks"},
        ),
        Reason("door", 10, "door to door"),
        Reason(
            "available",
            15,
            "available {days}, at the preferred time",
            {"weekdays": (1, 2, 3), "hours": ""},
        ),
    )
    line = resource_line(
        en, Candidate(CandidateKind.RESOURCE, 1, "Riverside Clinic", 65, reasons, Facts())
    )
    assert line == (
        "• <b>Riverside Clinic</b> — score 65: Riverside Clinic offers: blood-pressure checks "
        "(+40), door to door (+10), available Tue–Thu, at the preferred time (+15)"
    )

"""Organisations on the store: a contact takes every place of a wish for the team and names
who goes; points reach each person and add up for the organisation; the yearly report and
the commitments count the same services; the free-text organisations migrate to links.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.migrate import migrate
from bot.settings import load_settings
from models.commitments import CommitmentUnit, commit, progress_of, services_done
from models.errors import NotAllowed, StoreError
from models.org_report import year_report
from models.organisations import (
    Organisation,
    OrganisationKind,
    approve_staff,
    join_organisation,
    office_may_see_phone,
    organisations_seen_by,
    register_organisation,
)
from models.people import MemberProfile, Person
from models.reach import community_reach
from models.resources import ResourceWhere, add_resource, resources_covering
from models.team_claims import claim_for_team, name_for_team, organisation_points
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import report_done
from models.wishes import Wish, WishStatus
from tests.databases import fresh_database
from tests.snapshot import STORE, snapshot
from tests.town import Town

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _school(sessions: async_sessionmaker[AsyncSession], town: Town) -> int:
    """The school, with Walker as its contact and Fixer and Runner as its (approved) staff."""
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        school = await register_organisation(
            s,
            admin,
            town.sunflower.id,
            name="Sunflower Primary School",
            kind=OrganisationKind.SCHOOL,
            contact_name="Ms Li",
            contact_phone="13800000000",
        )
        for person, contact in ((town.walker, True), (town.fixer, False), (town.runner, False)):
            found = await s.get(Person, person.id)
            assert found is not None
            await join_organisation(s, found, school, as_contact=contact)
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        for staff in (town.fixer, town.runner):
            found = await s.get(Person, staff.id)
            assert found is not None
            await approve_staff(s, walker, found)
        return school.id


async def _wish_for_two(sessions: async_sessionmaker[AsyncSession], town: Town) -> int:
    async with sessions.begin() as s:
        alice = await s.get(Person, town.alice.id)
        head = await s.get(Person, town.head_n1.id)
        assert alice is not None and head is not None
        wish = await submit_wish(
            s, alice, building_id=town.n1.id, category="errand", description="Carry a sofa"
        )
        await verify_wish(s, head, wish.id, required_count=2)
        return wish.id


async def test_a_team_claim_pays_each_person_and_adds_up_for_the_organisation(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    school_id = await _school(sessions, town)
    wish_id = await _wish_for_two(sessions, town)

    # Only the contact may take places for the school: a staff member's try changes nothing.
    before = await snapshot(sessions, STORE)
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            fixer = await s.get(Person, town.fixer.id)
            assert fixer is not None
            await claim_for_team(s, fixer, wish_id, school_id)
    assert await snapshot(sessions, STORE) == before

    async with sessions.begin() as s:
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        claim = await claim_for_team(s, walker, wish_id, school_id)
        assert (claim.places, claim.unnamed) == (2, 2)
        wish = await s.get(Wish, wish_id)
        assert wish is not None and wish.status == WishStatus.ACCEPTED
        claim_id = claim.id
    # Nobody else can take a place now.
    with pytest.raises(StoreError):
        async with sessions.begin() as s:
            walker = await s.get(Person, town.walker.id)
            assert walker is not None
            await claim_for_team(s, walker, wish_id, school_id)

    async with sessions.begin() as s:
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        for name in (town.fixer, town.runner):
            member = await s.get(Person, name.id)
            assert member is not None
            await name_for_team(s, walker, claim_id, member)
    # A third name has no place left.
    with pytest.raises(StoreError):
        async with sessions.begin() as s:
            walker = await s.get(Person, town.walker.id)
            assert walker is not None
            await name_for_team(s, walker, claim_id, walker)

    async with sessions.begin() as s:
        fixer = await s.get(Person, town.fixer.id)
        alice = await s.get(Person, town.alice.id)
        assert fixer is not None and alice is not None
        await report_done(s, fixer, wish_id, "Carried")
        await confirm_wish(s, alice, wish_id, rating=5)

    async with sessions() as s:
        fixer = await s.get(Person, town.fixer.id)
        runner = await s.get(Person, town.runner.id)
        assert fixer is not None and runner is not None
        assert fixer.points_balance > 0 and runner.points_balance == fixer.points_balance
        assert await organisation_points(s, school_id) == 2 * fixer.points_balance
        school = await s.get(Organisation, school_id)
        assert school is not None
        report = await year_report(s, school, 2026, SHANGHAI)
        assert sorted(r.person for r in report.rows) == ["Fixer", "Runner"]
        assert (report.services, report.hours, report.average_rating) == (1, 2, 5.0)
        assert await services_done(s, 2026, SHANGHAI, organisation_id=school_id) == (1, 2)
        assert await services_done(s, 2026, SHANGHAI, person_id=town.fixer.id) == (1, 1)


async def test_a_member_belongs_to_one_organisation_and_the_phone_is_the_office_s(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    school_id = await _school(sessions, town)
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        assert admin is not None
        club = await register_organisation(
            s, admin, town.sunflower.id, name="Silver Club", kind=OrganisationKind.OTHER
        )
        club_id = club.id
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            fixer = await s.get(Person, town.fixer.id)
            club = await s.get(Organisation, club_id)
            assert fixer is not None and club is not None
            await join_organisation(s, fixer, club, as_contact=False)
    async with sessions() as s:
        profile = await s.get(MemberProfile, town.fixer.id)
        assert profile is not None and profile.organisation_id == school_id
        school = await s.get(Organisation, school_id)
        assert school is not None
        for who, sees in (
            (town.admin, True),
            (town.gw_north, True),
            (town.maple_admin, False),
            (town.fixer, False),
            (town.walker, False),  # the contact sees the organisation, not the phone rule
        ):
            person = await s.get(Person, who.id)
            assert person is not None
            assert await office_may_see_phone(s, person, school) is sees, who.name
        maple_admin = await s.get(Person, town.maple_admin.id)
        assert maple_admin is not None
        assert await organisations_seen_by(s, maple_admin) == []
    # Another community's admin may not register one in Sunflower.
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            maple_admin = await s.get(Person, town.maple_admin.id)
            assert maple_admin is not None
            await register_organisation(
                s, maple_admin, town.sunflower.id, name="X", kind=OrganisationKind.OTHER
            )


async def test_resources_cover_categories_within_a_reach(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    school_id = await _school(sessions, town)
    async with sessions.begin() as s:
        walker = await s.get(Person, town.walker.id)
        fixer = await s.get(Person, town.fixer.id)
        assert walker is not None and fixer is not None
        await add_resource(
            s,
            walker,
            community_id=town.sunflower.id,
            organisation_id=school_id,
            service="Homework help",
            categories=["paperwork", "companionship"],
            capacity_per_month=20,
            where=ResourceWhere.SITE,
            weekdays=[5, 6],
            hours="09:00-12:00",
        )
        await add_resource(
            s,
            fixer,
            community_id=town.sunflower.id,
            service="Small repairs",
            categories=["repair"],
            capacity_per_month=4,
            where=ResourceWhere.DOOR,
        )
    with pytest.raises(NotAllowed):
        async with sessions.begin() as s:
            fixer = await s.get(Person, town.fixer.id)
            assert fixer is not None
            await add_resource(
                s,
                fixer,
                community_id=town.sunflower.id,
                organisation_id=school_id,
                service="Not mine to offer",
                categories=["repair"],
                capacity_per_month=1,
                where=ResourceWhere.SITE,
            )
    async with sessions() as s:
        sunflower = community_reach(town.sunflower.id)
        assert [r.service for r in await resources_covering(s, "repair", sunflower)] == [
            "Small repairs"
        ]
        assert [r.service for r in await resources_covering(s, "paperwork", sunflower)] == [
            "Homework help"
        ]
        assert await resources_covering(s, "repair", community_reach(town.maple.id)) == []


async def test_commitment_progress_counts_closed_services(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    await _school(sessions, town)
    async with sessions.begin() as s:
        fixer = await s.get(Person, town.fixer.id)
        alice = await s.get(Person, town.alice.id)
        assert fixer is not None and alice is not None
        mine = await commit(s, fixer, target=12, unit=CommitmentUnit.SERVICES, year=2026)
        # The same year again replaces it.
        mine = await commit(s, fixer, target=10, unit=CommitmentUnit.SERVICES, year=2026)
        with pytest.raises(NotAllowed):
            await commit(s, alice, target=3, unit=CommitmentUnit.HOURS, year=2026)
        progress = await progress_of(s, mine, SHANGHAI)
        # 23 November: nothing done yet, about nine expected by now.
        assert (progress.done, progress.expected, progress.behind) == (0, 8, True)


async def test_free_text_organisations_become_links_per_community(tmp_path: Path) -> None:
    """0008_orgs: the same text in one community is one organisation; nothing is lost."""
    async with fresh_database(tmp_path) as url:
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine, "0007_cards")
            moment = dt.datetime(2026, 1, 1)
            async with app.engine.begin() as conn:
                await conn.execute(text("INSERT INTO streets (id, name) VALUES (1, 'S')"))
                for cid, name in ((1, "A"), (2, "B")):
                    await conn.execute(
                        text(
                            "INSERT INTO communities (id, street_id, name, five_star_bonus, rules)"
                            " VALUES (:i, 1, :n, 5, '{}')"
                        ),
                        {"i": cid, "n": name},
                    )
                typed = {
                    1: (1, "Red Cross"),
                    2: (1, "  Red   Cross "),
                    3: (2, "Red Cross"),
                    4: (1, "Library"),
                    5: (1, ""),
                }
                for pid, (cid, organisation) in typed.items():
                    await conn.execute(
                        text(
                            "INSERT INTO people (id, name, phone_consent, points_balance,"
                            " unreachable, created_at) VALUES (:i, :n, false, 0, false, :at)"
                        ),
                        {"i": pid, "n": f"P{pid}", "at": moment},
                    )
                    await conn.execute(
                        text(
                            "INSERT INTO role_grants (person_id, role, scope_id, granted_at)"
                            " VALUES (:i, 'member', :c, :at)"
                        ),
                        {"i": pid, "c": cid, "at": moment},
                    )
                    await conn.execute(
                        text(
                            "INSERT INTO member_profiles (person_id, skills, availability,"
                            " organisation, approved) VALUES (:i, '[]', '', :o, true)"
                        ),
                        {"i": pid, "o": organisation},
                    )
            await migrate(app.engine)
            async with app.sessions() as s:
                orgs = (await s.scalars(select(Organisation).order_by(Organisation.id))).all()
                assert sorted((o.community_id, o.name) for o in orgs) == [
                    (1, "Library"),
                    (1, "Red Cross"),
                    (2, "Red Cross"),
                ]
                linked = {
                    p.person_id: p.organisation_id
                    for p in (await s.scalars(select(MemberProfile))).all()
                }
                by_id = {o.id: (o.community_id, o.name) for o in orgs}
                assert {pid: by_id.get(oid or 0) for pid, oid in linked.items()} == {
                    1: (1, "Red Cross"),
                    2: (1, "Red Cross"),
                    3: (2, "Red Cross"),
                    4: (1, "Library"),
                    5: None,
                }
                assert len({o.invite_code for o in orgs}) == 3
        finally:
            await app.close()


async def test_erasing_the_contact_forgets_their_name_and_phone_but_keeps_the_organisation(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    from models.erasure import erase_person

    school_id = await _school(sessions, town)
    async with sessions.begin() as s:
        walker = await s.get(Person, town.walker.id)
        assert walker is not None
        await add_resource(
            s,
            walker,
            community_id=town.sunflower.id,
            service="Walks with Walker",
            categories=["companionship"],
            capacity_per_month=2,
            where=ResourceWhere.DOOR,
        )
        await erase_person(s, walker, walker.id)
    async with sessions() as s:
        school = await s.get(Organisation, school_id)
        assert school is not None and school.name == "Sunflower Primary School"
        assert (school.contact_name, school.contact_phone) == (None, None)
        assert (
            await resources_covering(s, "companionship", community_reach(town.sunflower.id)) == []
        )

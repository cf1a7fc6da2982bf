"""The supply side on the dashboard: organisations and resources beside the members, in
Chinese and English, within the viewer's scope; their XLSX files and the yearly report.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.commitments import CommitmentUnit, commit
from models.organisations import OrganisationKind, join_organisation, register_organisation
from models.people import Person
from models.resources import ResourceWhere, add_resource
from tests.town import Town
from tests.web import web_site

WORDS = {
    "en": ("Organisations and resources", "school", "door to door", "Repairs", "Commitments"),
    "zh_Hans": ("组织和资源", "学校", "上门", "维修", "承诺"),
}


async def _school(sessions: async_sessionmaker[AsyncSession], town: Town, locale: str) -> int:
    async with sessions.begin() as s:
        admin = await s.get(Person, town.admin.id)
        walker = await s.get(Person, town.walker.id)
        assert admin is not None and walker is not None
        admin.locale = locale
        school = await register_organisation(
            s,
            admin,
            town.sunflower.id,
            name="Sunflower Primary School",
            kind=OrganisationKind.SCHOOL,
            contact_name="Ms Li",
            contact_phone="13800000000",
        )
        await join_organisation(s, walker, school, as_contact=True)
        await add_resource(
            s,
            walker,
            community_id=town.sunflower.id,
            organisation_id=school.id,
            service="Fixing bikes",
            categories=["repair"],
            capacity_per_month=8,
            where=ResourceWhere.DOOR,
        )
        await commit(
            s,
            walker,
            target=40,
            unit=CommitmentUnit.SERVICES,
            year=2026,
            organisation_id=school.id,
        )
        return school.id


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
async def test_the_supply_side_on_the_dashboard_in_both_languages_and_in_scope(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, locale: str
) -> None:
    school_id = await _school(sessions, town, locale)
    title, kind, where, category, commitments = WORDS[locale]
    async with web_site(app) as site:
        admin = await site.signed_in(town.admin)
        await admin.get(f"/lang/{locale}")
        status, page = await admin.get("/admin")
        assert status == 200
        section = page.split('id="supply-side"', 1)[1]
        for word in (title, kind, where, category, commitments, "Sunflower Primary School"):
            assert word in section, word
        assert "Fixing bikes" in section and "13800000000" in section

        response = await admin.client.get("/admin/supply/resources.xlsx")
        assert response.status == 200
        rows = list(
            load_workbook(io.BytesIO(await response.read())).active.iter_rows(values_only=True)
        )
        assert rows[1][0] == "Sunflower Primary School" and rows[1][5] == "Fixing bikes"
        assert rows[1][1] == kind

        response = await admin.client.get(f"/admin/org/{school_id}/report.xlsx?year=2026")
        assert response.status == 200
        book = load_workbook(io.BytesIO(await response.read()))
        assert len(book.worksheets) == 2

        # Another community's office sees none of it, and cannot fetch it.
        maple = await site.signed_in(town.maple_admin)
        status, page = await maple.get("/admin")
        assert status == 200
        assert "Sunflower Primary School" not in page and "13800000000" not in page
        response = await maple.client.get(f"/admin/org/{school_id}/report.xlsx")
        assert response.status == 404
        response = await maple.client.get(
            f"/admin/supply/resources.csv?community={town.sunflower.id}"
        )
        assert response.status == 404
        # A resident is not the office.
        alice = await site.signed_in(town.alice)
        response = await alice.client.get(f"/admin/org/{school_id}/report.xlsx")
        assert response.status == 403

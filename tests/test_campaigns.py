"""Campaigns: definitions, answering unit by unit, coverage, sensitive answers, files, and the
whole round over Telegram (admin starts, heads answer, reminder to the one behind, XLSX)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.campaign_file import load_definition
from models.campaign_answers import answer, skip_unit, start_campaign
from models.campaign_definitions import parse_definition, parse_question_line
from models.campaign_results import (
    HIDDEN,
    answers_for_viewer,
    coverage,
    export_rows,
    privacy_export_for,
)
from models.campaign_units import questions_of, units_of
from models.clock import ManualClock
from models.directory import add_person, grant_role, link_identity
from models.errors import InvalidInput, NotAllowed, NotFound
from models.people import Person, Role
from models.reminders import Reminder
from models.surveys import Survey, SurveyUnit, UnitStatus
from tests.conftest import START
from tests.telegram_bot import telegram_bot
from tests.town import Town

DEFINITION: dict[str, Any] = {
    "title": "Household check",
    "questions": [
        {"text": "Standard address", "kind": "text"},
        {"text": "How many people live here?", "kind": "number"},
        {"text": "Housing type", "kind": "choice", "choices": ["owned", "rented", "public"]},
        {"text": "Does someone live alone?", "kind": "yes/no", "sensitive": True},
    ],
    "buildings": ["N1", "N2"],
    "deadline": (START + dt.timedelta(days=7)).isoformat(),
}


async def _residents(session: AsyncSession, town: Town) -> None:
    """N1: 101 (Alice), 102 (Evan), 103 (two people); N2: 202 (Bob), 201 (Fay)."""
    for name, building, unit in (
        ("Evan", town.n1, "102"),
        ("Gus", town.n1, "103"),
        ("Hana", town.n1, "103"),
        ("Fay", town.n2, "201"),
    ):
        person = await add_person(session, name, building=building, unit=unit)
        await grant_role(session, None, person, Role.RESIDENT, building.id)


async def _started(sessions: async_sessionmaker[AsyncSession], town: Town) -> Survey:
    async with sessions.begin() as s:
        await _residents(s, town)
        return await start_campaign(s, town.admin, town.sunflower.id, parse_definition(DEFINITION))


async def _answer_all(
    s: AsyncSession, head: Person, survey: Survey, building_id: int, unit: str
) -> SurveyUnit:
    values = ["Riverside 1", "2", "rented", "yes"]
    row = None
    for question, value in zip(await questions_of(s, survey.id), values, strict=True):
        row = await answer(s, head, survey.id, building_id, unit, question.id, value)
    assert row is not None
    return row


# --- definitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"title": ""},
        {"questions": []},
        {"questions": [{"text": "Q", "kind": "colour"}]},
        {"questions": [{"text": "Q", "kind": "choice", "choices": ["one"]}]},
        {"questions": [{"text": "", "kind": "text"}]},
        {"buildings": []},
        {"deadline": "next week"},
        {"questions": [{"text": "Q", "kind": "text", "sensitive": "maybe"}]},
    ],
)
def test_bad_definitions_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        parse_definition({**DEFINITION, **change})


def test_a_definition_and_the_chat_syntax() -> None:
    definition = parse_definition({**DEFINITION, "deadline": "2026-12-01"})
    assert definition.deadline.date() == dt.date(2026, 12, 1)
    assert [q.sensitive for q in definition.questions] == [False, False, False, True]
    assert parse_question_line("yes/no: Does someone live alone? !") == {
        "kind": "yes/no",
        "text": "Does someone live alone?",
        "sensitive": True,
    }
    assert parse_question_line("choice: Housing type = owned, rented, public")["choices"] == (
        " owned, rented, public"
    )
    with pytest.raises(InvalidInput):
        parse_question_line("How many?")
    with pytest.raises(InvalidInput):
        parse_question_line("choice: Housing = only one")


async def test_start_needs_an_admin_known_buildings_and_a_future_deadline(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        for actor in (town.head_n1, town.maple_admin, town.alice):
            with pytest.raises(NotAllowed):
                await start_campaign(s, actor, town.sunflower.id, parse_definition(DEFINITION))
        with pytest.raises(NotFound):
            await start_campaign(
                s,
                town.admin,
                town.sunflower.id,
                parse_definition({**DEFINITION, "buildings": ["M1"]}),
            )
        with pytest.raises(InvalidInput):
            await start_campaign(
                s,
                town.admin,
                town.sunflower.id,
                parse_definition({**DEFINITION, "deadline": "2026-01-01"}),
            )
    survey = await _started(sessions, town)
    async with sessions() as s:
        units = await units_of(s, survey.id, [town.n1.id, town.n2.id])
        assert [(u.building_id, u.unit) for u in units] == [
            (town.n1.id, "101"),
            (town.n1.id, "102"),
            (town.n1.id, "103"),
            (town.n2.id, "201"),
            (town.n2.id, "202"),
        ]
        reminder = await s.scalar(select(Reminder).where(Reminder.kind == "campaign.behind"))
        assert reminder is not None
        assert reminder.due_at == START + dt.timedelta(days=6)


async def test_answer_correct_skip_and_come_back(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    survey = await _started(sessions, town)
    async with sessions.begin() as s:
        questions = await questions_of(s, survey.id)
        # Only that building's head, or an admin.
        for actor in (town.head_n2, town.alice, town.fixer, town.gw_north, town.maple_admin):
            with pytest.raises(NotAllowed):
                await answer(s, actor, survey.id, town.n1.id, "101", questions[0].id, "x")
        for question, bad in zip(questions[1:], ["many", "villa", "perhaps"], strict=True):
            with pytest.raises(InvalidInput):
                await answer(s, town.head_n1, survey.id, town.n1.id, "101", question.id, bad)
        with pytest.raises(NotFound):
            await answer(s, town.head_n1, survey.id, town.n1.id, "999", questions[0].id, "x")
    async with sessions.begin() as s:
        row = await skip_unit(s, town.head_n1, survey.id, town.n1.id, "101")
        assert row.status == UnitStatus.SKIPPED
        row = await _answer_all(s, town.head_n1, survey, town.n1.id, "101")
        assert row.status == UnitStatus.DONE
        # A correction: the second answer replaces the first; the unit stays done.
        await answer(s, town.head_n1, survey.id, town.n1.id, "101", questions[1].id, "3.0")
        await skip_unit(s, town.head_n1, survey.id, town.n1.id, "101")
        # An admin may answer too.
        await _answer_all(s, town.admin, survey, town.n2.id, "201")
    async with sessions() as s:
        export = await export_rows(s, town.admin, survey.id)
        assert export.rows[0] == ("N1", "101", "done", "Riverside 1", "3", "rented", "yes")
        assert export.rows[1] == ("N1", "102", "waiting", "", "", "", "")
        assert len(export.rows) == 5
        with pytest.raises(NotAllowed):
            await export_rows(s, town.head_n1, survey.id)
        share = await coverage(s, survey.id)
        assert [(b.name, b.done, b.total) for b in share.buildings] == [("N1", 1, 3), ("N2", 1, 2)]
        assert [(g.name, g.done, g.total) for g in share.grids] == [("North", 2, 5)]
        assert share.percent == 40


async def test_sensitive_answers_are_for_the_head_and_admins_only(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    survey = await _started(sessions, town)
    async with sessions.begin() as s:
        await _answer_all(s, town.head_n1, survey, town.n1.id, "101")  # Alice alone
        await _answer_all(s, town.head_n1, survey, town.n1.id, "103")  # two people
        await _answer_all(s, town.head_n2, survey, town.n2.id, "202")
    async with sessions() as s:
        for viewer in (town.head_n1, town.admin):
            seen = await answers_for_viewer(s, viewer, survey.id)
            alone = [r for r in seen if r.building == "N1" and r.sensitive]
            assert alone and all(r.value == "yes" for r in alone)
        # Residents and members are refused; another building's head sees nothing of N1.
        for viewer in (town.alice, town.bob, town.fixer, town.maple_admin):
            with pytest.raises(NotAllowed):
                await answers_for_viewer(s, viewer, survey.id)
        other = await answers_for_viewer(s, town.head_n2, survey.id)
        assert other and {r.building for r in other} == {"N2"}
        assert "yes" not in [r.value for r in other if r.building == "N1"]
        # A grid worker sees the grid's answers, the sensitive ones hidden.
        grid = await answers_for_viewer(s, town.gw_north, survey.id)
        assert {r.value for r in grid if r.sensitive} == {HIDDEN}
        assert {r.value for r in grid if r.question == "Housing type"} == {"rented"}
        # The privacy export: Alice (alone in 101) sees the answer about her; Gus (103) not.
        mine = await privacy_export_for(s, town.alice.id)
        assert [(m["question"], m["answer"]) for m in mine] == [("Does someone live alone?", "yes")]
        gus = await s.scalar(select(Person).where(Person.name == "Gus"))
        assert gus is not None and await privacy_export_for(s, gus.id) == []


# --- files ------------------------------------------------------------------------------------------


def test_yaml_and_csv_definitions(tmp_path: Path) -> None:
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text(
        "title: Household check\n"
        "deadline: 2026-12-01\n"
        "buildings: [N1, N2]\n"
        "questions:\n"
        "  - {text: Standard address, kind: text}\n"
        "  - {text: Housing type, kind: choice, choices: [owned, rented]}\n"
        '  - {text: "Does someone live alone?", kind: yes/no, sensitive: true}\n',
        encoding="utf-8",
    )
    from_yaml = parse_definition(load_definition(yaml_file))
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        "title,Household check\n"
        'buildings,"N1, N2"\n'
        "deadline,2026-12-01\n"
        "kind,question,choices,sensitive\n"
        "text,Standard address,,\n"
        "choice,Housing type,owned;rented,\n"
        "yes/no,Does someone live alone?,,yes\n",
        encoding="utf-8",
    )
    from_csv = parse_definition(load_definition(csv_file))
    assert from_yaml == from_csv
    assert from_csv.buildings == ("N1", "N2")
    assert from_csv.questions[1].choices == ("owned", "rented")
    bad = tmp_path / "bad.csv"
    bad.write_text("what,ever\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_definition(bad)
    with pytest.raises(InvalidInput):
        load_definition(tmp_path / "c.txt")


# --- over Telegram ---------------------------------------------------------------------------------


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def test_a_campaign_on_telegram(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        await _residents(s, town)
        for person, user_id in ((town.admin, 4100), (town.head_n1, 4101), (town.head_n2, 4102)):
            await link_identity(s, person, "telegram", str(user_id))
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = "en"
    async with telegram_bot(_url(app), clock) as bot:
        admin = bot.user(4100, "Admin")
        head1 = bot.user(4101, "Head N1")
        head2 = bot.user(4102, "Head N2")

        await admin.send("/campaign")
        await admin.send("Household check")
        await admin.send("text: Standard address")
        await admin.send("number: How many people live here?")
        await admin.send("choice: Housing type = owned, rented, public")
        await admin.send("yes/no: Does someone live alone? !")
        assert "🔒" in admin.text()
        await admin.send("colour: What colour is the door?")  # refused, the rest stays
        assert "kind of question" in admin.text()
        await admin.press("Done")
        await admin.press("N1")
        await admin.press("N2")
        await admin.press("Done")
        await admin.press("a week")
        assert "Household check" in admin.text() and "N1, N2" in admin.text()
        await admin.press("Start")
        assert "5 units in 2 buildings" in admin.text()

        async def answer_unit(head: Any, unit: str, size: str) -> None:
            await head.press(unit)
            await head.send(f"Riverside {unit}")
            await head.send(size)
            await head.press("rented")
            await head.press("Yes")

        # Head N1: skips 101, does 102 and 103, comes back to 101.
        assert "3 units" in head1.text()
        await head1.press("Start")
        assert "0/3" in head1.text()
        await head1.press("101")
        await head1.press("Skip this unit")
        assert "⏭ 101" in str(head1.last.buttons)
        await answer_unit(head1, "102", "1")
        await head1.send("many")  # not at a question: the unit list stays
        await answer_unit(head1, "103", "2")
        await head1.press("101")
        await head1.send("Riverside 101")
        await head1.send("lots")
        assert "number" in head1.text()
        await head1.send("1")
        await head1.press("owned")
        await head1.press("Yes")
        assert "3/3" in head1.text()
        # A correction of a done unit: keep the first answers, change the housing.
        await head1.press("✅ 102")
        await head1.press("Keep")
        await head1.press("Keep")
        await head1.press("public")
        await head1.press("Keep")
        assert "3/3" in head1.text()

        # Head N2 does one of two units, then the day before the deadline comes.
        await head2.send("/survey")
        await answer_unit(head2, "201", "4")
        before = (len(head1.inbox()), len(head2.inbox()), len(admin.inbox()))
        clock.advance(dt.timedelta(days=6, minutes=1))
        await bot.step()
        assert len(head1.inbox()) == before[0]
        assert len(admin.inbox()) == before[2]
        assert len(head2.inbox()) == before[1] + 1
        assert "N2: 1/2" in head2.text()
        await head2.press("Continue")
        await answer_unit(head2, "202", "3")
        assert "2/2" in head2.text()

        await admin.send("/coverage")
        assert "5/5 (100 %)" in admin.text()
        assert "North: 5/5 (100 %)" in admin.text()
        await head1.send("/coverage")
        assert "N1: 3/3 (100 %)" in head1.text()
        await admin.press("Export XLSX")
        document = admin.last
        assert document.document_name is not None and document.document_name.endswith(".xlsx")
        content = bot.server.files[document.document].content  # type: ignore[index]
        assert bot.server.calls_of("sendDocument")
        sheet = load_workbook(BytesIO(content)).active
        table = [tuple(c.value for c in row) for row in sheet.iter_rows()]
        assert table[0] == (
            "building",
            "unit",
            "status",
            "Standard address",
            "How many people live here?",
            "Housing type",
            "Does someone live alone?",
        )
        assert table[1:] == [
            ("N1", "101", "done", "Riverside 101", "1", "owned", "yes"),
            ("N1", "102", "done", "Riverside 102", "1", "public", "yes"),
            ("N1", "103", "done", "Riverside 103", "2", "rented", "yes"),
            ("N2", "201", "done", "Riverside 201", "4", "rented", "yes"),
            ("N2", "202", "done", "Riverside 202", "3", "rented", "yes"),
        ]
        # Residents have no way in.
        assert bot.server.violations == []


async def test_mydata_lists_the_sensitive_answers_about_the_person_and_nobody_elses(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    import json

    from tests.chat import World

    survey = await _started(sessions, town)
    async with sessions.begin() as s:
        await _answer_all(s, town.head_n1, survey, town.n1.id, "101")  # about Alice alone
    world = World(sessions)
    chats = {}
    for person in (town.alice, town.bob):
        chats[person.name] = world.chat(person.name)
        async with sessions.begin() as s:
            await link_identity(s, person, "test", chats[person.name].user_id)
    await chats["Alice"].send("/mydata")
    document = chats["Alice"].last.document
    assert document is not None and document.filename == "my-data.json"
    alice = json.loads(document.content)
    assert alice["name"] == "Alice"
    assert [(a["question"], a["answer"]) for a in alice["sensitive_answers"]] == [
        ("Does someone live alone?", "yes")
    ]
    await chats["Bob"].send("/mydata")
    bob_document = chats["Bob"].last.document
    assert bob_document is not None
    assert json.loads(bob_document.content)["sensitive_answers"] == []

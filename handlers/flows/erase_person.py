"""The office erases a person (/erase): a community admin or the street admin chooses a
resident or member of their community, confirms, and the store erases them; see erase_person.md.
"""

from __future__ import annotations

from handlers.flows.admin import PAGE
from handlers.flows.common import (
    ask_for_person,
    person_answered,
)
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.erasure import erase_person, people_an_admin_may_erase
from models.errors import N_
from models.people import Person, Role

ERASE_PERSON = "erase_person"
ERASE_CONFIRM = "erase_confirm"


@command("erase", N_("erase a person's data when they ask"), Role.ADMIN, Role.STREET_ADMIN)
async def erase(turn: Turn) -> None:
    await turn.start(FLOW, ERASE_PERSON, page=0)


async def _people(turn: Turn) -> list[Person]:
    assert turn.person is not None
    return await people_an_admin_may_erase(turn.session, turn.person)


async def ask_person(turn: Turn) -> None:
    t = turn.t
    people = await _people(turn)
    if not people:
        turn.end()
        turn.say(t("Nobody in your community can be erased."))
        return
    ask_for_person(turn, people, t("Whose data should be erased?"), PAGE)


async def answer_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: _people(turn))
    if chosen is None:
        return
    turn.remember(person_id=chosen.id, name=chosen.name)
    await turn.goto(ERASE_CONFIRM)


async def ask_confirm(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Erase {name}? Their name, phone, unit, wish texts, photos and answers go, and "
            "the bot forgets their chats. Counts and points stay. This cannot be undone.",
            name=turn.data["name"],
        ),
        [(turn.option(t.raw("Yes, erase"), "yes"),), turn.nav()],
    )


async def answer_confirm(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value != "yes":
        turn.say(turn.t("Please choose with the buttons."))
        return
    name = turn.data["name"]
    await erase_person(turn.session, turn.person, turn.data["person_id"])
    turn.end()
    turn.say(turn.t("{name} is erased.", name=name))


FLOW = register_flow(
    Flow(
        "erase_person",
        {
            ERASE_PERSON: Step(ask_person, answer_person),
            ERASE_CONFIRM: Step(ask_confirm, answer_confirm),
        },
    )
)

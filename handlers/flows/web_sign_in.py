"""Sign-in codes for the web chat: /web for oneself, /webcode for a resident one looks after
(the office prints it or texts it to someone who will never install Telegram)."""

from __future__ import annotations

from handlers.flows.admin import PAGE
from handlers.flows.common import (
    ask_for_person,
    person_answered,
)
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.errors import N_
from models.office_work import residents_reached
from models.people import Person, Role
from models.web_access import make_sign_in_code, shown_code

CODE_PERSON = "code_person"
LOOKS_AFTER = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)


@command("web", N_("a code to sign in to the web chat"))
async def web_code_for_me(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    code = await make_sign_in_code(turn.session, turn.person, turn.person)
    turn.say(
        t(
            "Your sign-in code: <b>{code}</b>\nOpen {url} and type it, or open {link}\n"
            "It works once, within 15 minutes.",
            code=shown_code(code),
            url=turn.config.web_url,
            link=f"{turn.config.web_url}/in/{code}",
        )
    )


@command("webcode", N_("a web sign-in code for a resident you look after"), *LOOKS_AFTER)
async def web_code_for_resident(turn: Turn) -> None:
    await turn.start(FLOW, CODE_PERSON, page=0)


async def people_looked_after(turn: Turn) -> list[Person]:
    # Heads their buildings; the office its grids, communities and street.
    return await residents_reached(turn.session, turn.reach(*LOOKS_AFTER))


async def ask_code_person(turn: Turn) -> None:
    t = turn.t
    people = await people_looked_after(turn)
    if not people:
        turn.end()
        turn.say(t("Nobody lives in the buildings you look after yet."))
        return
    ask_for_person(turn, people, t("Whose sign-in code?"), PAGE)


async def answer_code_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: people_looked_after(turn))
    if chosen is None:
        return
    assert turn.person is not None
    code = await make_sign_in_code(turn.session, turn.person, chosen)
    turn.end()
    turn.say(
        turn.t(
            "Sign-in code for {name}: <b>{code}</b>\nThey open {url} and type it. "
            "It works once, within 7 days. Print it or text it to them.",
            name=chosen.name,
            code=shown_code(code),
            url=turn.config.web_url,
        )
    )


FLOW = register_flow(Flow("web_sign_in", {CODE_PERSON: Step(ask_code_person, answer_code_person)}))

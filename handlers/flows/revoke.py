"""/revoke: an admin takes a role back (building head, grid worker, admin) in their communities.

Pick the person (paged, searchable), then one of their roles, then confirm; they are told.
"""

from __future__ import annotations

from handlers.flows.admin import role_name
from handlers.flows.common import (
    ask_for_person,
    person_answered,
    rows,
)
from handlers.menu import send_menu
from handlers.messages import Reply
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.directory import revoke_role
from models.errors import N_, NotFound
from models.office_work import revocable_grants
from models.people import Person, Role, RoleGrant
from models.reach import communities_run

PERSON = "person"
ROLE = "role"
CONFIRM = "confirm"
PAGE = 8


@command("revoke", N_("take a role back from someone"), Role.ADMIN, Role.STREET_ADMIN)
async def revoke(turn: Turn) -> None:
    await turn.start(FLOW, PERSON, page=0)


async def _grants(turn: Turn) -> list[tuple[RoleGrant, Person, str]]:
    return await revocable_grants(turn.session, await communities_run(turn.session, turn.grants))


async def _people(turn: Turn) -> list[Person]:
    return list({person.id: person for _, person, _ in await _grants(turn)}.values())


async def ask_person(turn: Turn) -> None:
    t = turn.t
    everyone = await _people(turn)
    if not everyone:
        turn.end()
        turn.say(t("Nobody in your community holds a role you could take back."))
        return
    ask_for_person(turn, everyone, t("Whose role should be taken back?"), PAGE, lambda p: p.name)


async def answer_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: _people(turn))
    if chosen is None:
        return
    turn.remember(person_id=chosen.id, person_name=chosen.name)
    await turn.goto(ROLE)


async def _roles_of_chosen(turn: Turn) -> list[tuple[RoleGrant, str]]:
    return [
        (grant, place)
        for grant, person, place in await _grants(turn)
        if person.id == turn.data["person_id"]
    ]


async def ask_role(turn: Turn) -> None:
    t = turn.t
    held = await _roles_of_chosen(turn)
    if not held:
        turn.end()
        turn.say(t("{name} holds no role you could take back now.", name=turn.data["person_name"]))
        return
    buttons = [
        turn.option(f"{role_name(t, grant.role)} · {place}", str(grant.id)) for grant, place in held
    ]
    turn.say(
        t("Which role of {name} should be taken back?", name=turn.data["person_name"]),
        [*rows(buttons, 1), turn.nav()],
    )


async def answer_role(turn: Turn) -> None:
    chosen = next((g for g in await _roles_of_chosen(turn) if str(g[0].id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose a role with the buttons."))
        return
    grant, place = chosen
    turn.remember(grant_id=grant.id, role=grant.role.value, place=place)
    await turn.goto(CONFIRM)


async def ask_confirm(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Take the role {role} of {place} away from {name}? They will be told.",
            role=role_name(t, Role(turn.data["role"])),
            place=turn.data["place"],
            name=turn.data["person_name"],
        ),
        [(turn.option(t.raw("Take it back"), "revoke"),), turn.nav()],
    )


async def answer_confirm(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    if turn.value != "revoke":
        turn.say(t("Please press Take it back, or Cancel."))
        return
    grant = await revoke_role(turn.session, turn.person, turn.data["grant_id"])
    person = await turn.session.get(Person, grant.person_id)
    if person is None:
        raise NotFound(N_("There is no such person."))
    role, place = Role(turn.data["role"]), turn.data["place"]
    turn.end()
    turn.say(
        t(
            "{name} is no longer {role} of {place}.",
            name=person.name,
            role=role_name(t, role),
            place=place,
        )
    )
    # Their command list and button bar lose the role's jobs at once.
    await send_menu(turn, person.id)
    if person.id == turn.person.id:
        await turn.reload_grants()
        return
    await turn.tell(
        person.id,
        lambda t: Reply(
            t(
                "You are no longer {role} of {place}. /help shows what you can do now.",
                role=role_name(t, role),
                place=place,
            )
        ),
    )


FLOW = register_flow(
    Flow(
        "revoke",
        {
            PERSON: Step(ask_person, answer_person),
            ROLE: Step(ask_role, answer_role),
            CONFIRM: Step(ask_confirm, answer_confirm),
        },
    )
)

"""/grant: an admin gives someone a role (building head, grid worker, admin) over a place.

Three steps: the person, the role, the place; the person is told and gets the role's menu.
"""

from __future__ import annotations

from handlers.flows.admin import FLOW, PAGE, role_name
from handlers.flows.common import page_of, person_answered, rows, search_lines, searched
from handlers.menu import send_menu
from handlers.messages import Reply
from handlers.router import command
from handlers.turn import Step, Turn, add_steps
from models import office_work
from models.directory import building_names, grant_role, holds_grant
from models.errors import N_, NotFound
from models.people import Person, Role

GRANT_PERSON = "grant_person"
GRANT_ROLE = "grant_role"
GRANT_SCOPE = "grant_scope"

# What /grant may give, and the kind of place each is given over.
GRANTABLE = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN)


@command("grant", N_("give someone a role: building head, grid worker, admin"), Role.ADMIN)
async def grant(turn: Turn) -> None:
    await turn.start(FLOW, GRANT_PERSON, page=0)


async def grantable_people(turn: Turn) -> list[Person]:
    return await office_work.grantable_people(
        turn.session, sorted(turn.reach(Role.ADMIN).communities)
    )


async def ask_grant_person(turn: Turn) -> None:
    t = turn.t
    everyone = await grantable_people(turn)
    if not everyone:
        turn.end()
        turn.say(t("Nobody is registered in your community yet."))
        return
    people = searched(turn, everyone)
    shown, paging, page_note = page_of(turn, people, PAGE)
    buildings = await building_names(
        turn.session, {p.building_id for p in shown if p.building_id is not None}
    )
    buttons = [
        turn.option(
            f"{p.name} · {buildings[p.building_id]} {p.unit or ''}".strip()
            if p.building_id in buildings
            else f"🤝 {p.name}",
            str(p.id),
        )
        for p in shown
    ]
    text, clear = search_lines(turn, t("Who gets a new role?"), len(people), page_note)
    turn.say(text, [*rows(buttons, 2), paging, clear, turn.nav(back=False)])


async def answer_grant_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: grantable_people(turn))
    if chosen is None:
        return
    turn.remember(person_id=chosen.id, person_name=chosen.name)
    await turn.goto(GRANT_ROLE)


async def ask_grant_role(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(role_name(t, role), role.value) for role in GRANTABLE]
    turn.say(
        t("Which role for {name}?", name=turn.data["person_name"]),
        [*rows(buttons, 1), turn.nav()],
    )


async def answer_grant_role(turn: Turn) -> None:
    if turn.value not in {role.value for role in GRANTABLE}:
        turn.say(turn.t("Please choose a role with the buttons."))
        return
    turn.remember(role=turn.value)
    places = await grant_places(turn, Role(turn.value))
    if len(places) == 1:
        await do_grant(turn, places[0][0])
        return
    await turn.goto(GRANT_SCOPE)


async def grant_places(turn: Turn, role: Role) -> list[tuple[int, str]]:
    """Where the role may be given: buildings, grids or the communities the caller runs."""
    return await office_work.grant_places(
        turn.session, sorted(turn.reach(Role.ADMIN).communities), role
    )


async def ask_grant_scope(turn: Turn) -> None:
    t = turn.t
    role = Role(turn.data["role"])
    places = await grant_places(turn, role)
    buttons = [turn.option(name, str(place_id)) for place_id, name in places]
    question = {
        Role.BUILDING_HEAD: N_("Head of which building?"),
        Role.GRID_WORKER: N_("Grid worker of which grid?"),
        Role.ADMIN: N_("Admin of which community?"),
    }[role]
    turn.say(t.raw(question), [*rows(buttons, 3), turn.nav()])


async def answer_grant_scope(turn: Turn) -> None:
    places = await grant_places(turn, Role(turn.data["role"]))
    chosen = next((place_id for place_id, _ in places if str(place_id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    await do_grant(turn, chosen)


async def do_grant(turn: Turn, scope_id: int) -> None:
    assert turn.person is not None
    role = Role(turn.data["role"])
    person = await turn.session.get(Person, turn.data["person_id"])
    if person is None:
        raise NotFound(N_("There is no such person."))
    place = dict(await grant_places(turn, role)).get(scope_id, "?")
    had = await holds_grant(turn.session, person.id, role, scope_id)
    await grant_role(turn.session, turn.person, person, role, scope_id)
    turn.end()
    t = turn.t
    if had:
        turn.say(
            t(
                "{name} is already {role} of {place}. Nothing changed.",
                name=person.name,
                role=role_name(t, role),
                place=place,
            )
        )
        return
    turn.say(
        t(
            "{name} is now {role} of {place}.",
            name=person.name,
            role=role_name(t, role),
            place=place,
        )
    )
    await turn.tell(
        person.id,
        # Named t, as everywhere: the extraction finds messages by the translator's name.
        lambda t: Reply(
            t(
                "You are now {role} of {place}. /help shows what you can do.",
                role=role_name(t, role),
                place=place,
            )
        ),
    )
    await send_menu(turn, person.id)  # their chat's command list gains the role's commands


add_steps(
    FLOW,
    {
        GRANT_PERSON: Step(ask_grant_person, answer_grant_person),
        GRANT_ROLE: Step(ask_grant_role, answer_grant_role),
        GRANT_SCOPE: Step(ask_grant_scope, answer_grant_scope),
    },
)

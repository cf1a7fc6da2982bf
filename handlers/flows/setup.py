"""The first start: whoever sends /start with the set-up code becomes the first admin.

They name the street, community, grids and buildings (or pick a community already imported).
"""

from __future__ import annotations

from handlers.flows.common import communities, rows, split_names, text_input
from handlers.flows.resident_list import start_import
from handlers.menu import send_menu
from handlers.turn import Flow, Step, Turn, register_flow
from models.clock import now
from models.community import Community
from models.directory import (
    add_building,
    add_community,
    add_grid,
    add_person,
    add_street,
    grant_role,
    link_identity,
)
from models.errors import N_
from models.invites import Invite
from models.people import Role

PICK = "pick"
STREET = "street"
COMMUNITY = "community"
GRIDS = "grids"
BUILDINGS = "buildings"

MAX_NAME = 100
MAX_LIST = 30


async def begin_setup(turn: Turn, invite: Invite) -> None:
    """Spend the code and make the sender a person; then ask about the community."""
    invite.used_at = now(turn.session)
    if turn.person is None:
        sender = turn.incoming.sender
        person = await add_person(turn.session, sender.name or "Admin", locale=turn.locale)
        await link_identity(turn.session, person, sender.platform, sender.user_id)
        turn.person = person
        turn.conversation.person_id = person.id
    invite.used_by_id = turn.person.id
    turn.say(turn.t("Welcome! You are the first admin of this bot. Let's set up your community."))
    existing = await communities(turn)
    await turn.start(FLOW, PICK if existing else STREET)


async def ask_pick(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(c.name, str(c.id)) for c in await communities(turn)]
    turn.say(
        t("Communities are already loaded. Which one do you run?"),
        [*rows(buttons, 1), (turn.option(t.raw("A new one"), "new"),), turn.nav(back=False)],
    )


async def answer_pick(turn: Turn) -> None:
    if turn.value == "new":
        await turn.goto(STREET)
        return
    chosen = next((c for c in await communities(turn) if str(c.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    await _make_admin(turn, chosen)


async def ask_street(turn: Turn) -> None:
    turn.say(
        turn.t("What is the street (sub-district) called?"),
        [turn.nav(back=bool(turn.data.get("_back")))],
    )


async def answer_street(turn: Turn) -> None:
    name = text_input(turn, limit=MAX_NAME, what=N_("the street's name"))
    if name:
        turn.remember(street=name)
        await turn.goto(COMMUNITY)


async def ask_community(turn: Turn) -> None:
    turn.say(turn.t("And the community?"), [turn.nav()])


async def answer_community(turn: Turn) -> None:
    name = text_input(turn, limit=MAX_NAME, what=N_("the community's name"))
    if name:
        turn.remember(community=name)
        await turn.goto(GRIDS)


async def ask_grids(turn: Turn) -> None:
    turn.say(
        turn.t("Name its grids, separated by commas (for example: North, South)."), [turn.nav()]
    )


async def answer_grids(turn: Turn) -> None:
    text = text_input(turn, limit=1000, what=N_("the grids"))
    if text is None:
        return
    names = split_names(text)
    if not names or len(names) > MAX_LIST or any(len(n) > MAX_NAME for n in names):
        turn.say(
            turn.t("Please give from 1 to {limit} names, separated by commas.", limit=MAX_LIST)
        )
        return
    turn.remember(grids=names, buildings={}, grid_index=0)
    await turn.goto(BUILDINGS)


async def ask_buildings(turn: Turn) -> None:
    grid = turn.data["grids"][turn.data["grid_index"]]
    turn.say(
        turn.t(
            "Which buildings belong to grid {grid}? Separate them by commas (for example: 1, 2, 3).",
            grid=grid,
        ),
        [turn.nav()],
    )


async def answer_buildings(turn: Turn) -> None:
    text = text_input(turn, limit=2000, what=N_("the buildings"))
    if text is None:
        return
    names = split_names(text)
    if not names or len(names) > 200 or any(len(n) > MAX_NAME for n in names):
        turn.say(turn.t("Please give from 1 to {limit} names, separated by commas.", limit=200))
        return
    grids: list[str] = turn.data["grids"]
    index: int = turn.data["grid_index"]
    turn.remember(buildings={**turn.data["buildings"], grids[index]: names}, grid_index=index + 1)
    if index + 1 < len(grids):
        # The same step again, for the next grid: a new token keeps old buttons apart.
        await turn.goto(BUILDINGS, remember_back=False)
        return
    street = await add_street(turn.session, turn.data["street"])
    community = await add_community(turn.session, street, turn.data["community"])
    for grid_name in grids:
        grid = await add_grid(turn.session, community, grid_name)
        for building_name in dict.fromkeys(turn.data["buildings"][grid_name]):
            await add_building(turn.session, grid, building_name)
    assert turn.person is not None
    await grant_role(turn.session, None, turn.person, Role.STREET_ADMIN, street.id)
    await _make_admin(turn, community)


async def _make_admin(turn: Turn, community: Community) -> None:
    assert turn.person is not None
    await grant_role(turn.session, None, turn.person, Role.ADMIN, community.id)
    await turn.reload_grants()
    await send_menu(turn, turn.person.id)
    turn.end()
    turn.say(
        turn.t(
            "{community} is ready, and you are its admin. Residents register with /start; "
            "/help lists your commands.",
            community=community.name,
        )
    )
    # The last step: the office's resident list, sent as a file (or later, with /import).
    await start_import(turn, after_setup=True)


FLOW = register_flow(
    Flow(
        "setup",
        {
            PICK: Step(ask_pick, answer_pick),
            STREET: Step(ask_street, answer_street),
            COMMUNITY: Step(ask_community, answer_community),
            GRIDS: Step(ask_grids, answer_grids),
            BUILDINGS: Step(ask_buildings, answer_buildings),
        },
    )
)

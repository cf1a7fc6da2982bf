"""/places: an admin adds grids and buildings to a community they run, and renames them.

Each change is stored at once and the list shown again; see places.md.
"""

from __future__ import annotations

from handlers.flows.common import (
    answer_community_run,
    ask_community_run,
    page_of,
    rows,
    split_names,
    text_input,
    turned_page,
)
from handlers.messages import Button
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.community import Building, Community
from models.errors import N_
from models.people import Role
from models.places import (
    add_buildings_to,
    add_grid_to,
    places_of,
    rename_building,
    rename_grid,
)
from models.reach import communities_run

COMMUNITY = "community"
MENU = "menu"
GRID_NAME = "grid_name"
PICK_GRID = "pick_grid"
BUILDING_NAMES = "building_names"
PICK_BUILDING = "pick_building"
NEW_NAME = "new_name"

ADD_BUILDINGS = "add_buildings"
RENAME_GRID = "rename_grid"
RENAME_BUILDING = "rename_building"
PAGE = 24  # buildings per page when picking one
MAX_NAME = 100


@command("places", N_("add or rename grids and buildings"), Role.ADMIN, Role.STREET_ADMIN)
async def places(turn: Turn) -> None:
    run = await communities_run(turn.session, turn.grants)
    if len(run) == 1:
        await turn.start(FLOW, MENU, community_id=run[0])
    else:
        await turn.start(FLOW, COMMUNITY)


async def ask_community(turn: Turn) -> None:
    await ask_community_run(turn, turn.t("Which community?"))


async def answer_community(turn: Turn) -> None:
    await answer_community_run(turn, MENU)


async def ask_menu(turn: Turn) -> None:
    t = turn.t
    community = await turn.session.get(Community, turn.data["community_id"])
    assert community is not None
    lines = [t("The grids and buildings of {community}:", community=community.name)]
    tree = await places_of(turn.session, community.id)
    for grid, buildings in tree:
        lines.append(
            t(
                "<b>{grid}</b>: {buildings}",
                grid=grid.name,
                buildings=", ".join(b.name for b in buildings) or "-",
            )
        )
    buttons: list[tuple[Button, ...]] = [(turn.option(t.raw("➕ Add a grid"), "add_grid"),)]
    if tree:
        buttons += [
            (turn.option(t.raw("➕ Add buildings"), ADD_BUILDINGS),),
            (
                turn.option(t.raw("✏️ Rename a grid"), RENAME_GRID),
                turn.option(t.raw("✏️ Rename a building"), RENAME_BUILDING),
            ),
        ]
    turn.say("\n".join(lines), [*buttons, (turn.option(t.raw("✔ Done"), "done"),)])


async def answer_menu(turn: Turn) -> None:
    value = turn.value
    if value == "done":
        turn.end()
        turn.say(turn.t("Done."))
    elif value == "add_grid":
        await turn.goto(GRID_NAME)
    elif value in (ADD_BUILDINGS, RENAME_GRID):
        turn.remember(doing=value)
        await turn.goto(PICK_GRID)
    elif value == RENAME_BUILDING:
        turn.remember(doing=value, page=0)
        await turn.goto(PICK_BUILDING)
    else:
        turn.say(turn.t("Please choose with the buttons."))


async def _back_to_menu(turn: Turn, said: str) -> None:
    turn.say(said)
    turn.remember(_back=[], doing=None)
    await turn.goto(MENU, remember_back=False)


async def ask_grid_name(turn: Turn) -> None:
    turn.say(turn.t("What is the new grid called?"), [turn.nav()])


async def answer_grid_name(turn: Turn) -> None:
    assert turn.person is not None
    name = text_input(turn, limit=MAX_NAME, what=N_("the grid's name"))
    if name is None:
        return
    grid = await add_grid_to(turn.session, turn.person, turn.data["community_id"], name)
    await _back_to_menu(turn, turn.t("Grid {grid} was added.", grid=grid.name))


async def ask_pick_grid(turn: Turn) -> None:
    t = turn.t
    tree = await places_of(turn.session, turn.data["community_id"])
    buttons = [turn.option(grid.name, str(grid.id)) for grid, _ in tree]
    question = (
        t("Which grid do the new buildings belong to?")
        if turn.data.get("doing") == ADD_BUILDINGS
        else t("Which grid gets a new name?")
    )
    turn.say(question, [*rows(buttons, 3), turn.nav()])


async def answer_pick_grid(turn: Turn) -> None:
    tree = await places_of(turn.session, turn.data["community_id"])
    chosen = next((g for g, _ in tree if str(g.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(grid_id=chosen.id, old_name=chosen.name)
    await turn.goto(BUILDING_NAMES if turn.data.get("doing") == ADD_BUILDINGS else NEW_NAME)


async def ask_building_names(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Which buildings should grid {grid} get? Separate them by commas (for example: 7, 8).",
            grid=turn.data["old_name"],
        ),
        [turn.nav()],
    )


async def answer_building_names(turn: Turn) -> None:
    assert turn.person is not None
    text = text_input(turn, limit=2000, what=N_("the buildings"))
    if text is None:
        return
    added = await add_buildings_to(
        turn.session, turn.person, turn.data["grid_id"], split_names(text)
    )
    await _back_to_menu(
        turn,
        turn.t(
            "Added to grid {grid}: {buildings}.",
            grid=turn.data["old_name"],
            buildings=", ".join(b.name for b in added),
        ),
    )


async def _buildings(turn: Turn) -> list[Building]:
    tree = await places_of(turn.session, turn.data["community_id"])
    return [b for _, buildings in tree for b in buildings]


async def ask_pick_building(turn: Turn) -> None:
    t = turn.t
    shown, paging, note = page_of(turn, await _buildings(turn), PAGE)
    buttons = [turn.option(b.name, str(b.id)) for b in shown]
    text = "\n".join(part for part in (t("Which building gets a new name?"), note) if part)
    turn.say(text, [*rows(buttons, 4), paging, turn.nav()])


async def answer_pick_building(turn: Turn) -> None:
    if await turned_page(turn):
        return
    chosen = next((b for b in await _buildings(turn) if str(b.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(building_id=chosen.id, old_name=chosen.name)
    await turn.goto(NEW_NAME)


async def ask_new_name(turn: Turn) -> None:
    turn.say(
        turn.t("What should {name} be called from now on?", name=turn.data["old_name"]),
        [turn.nav()],
    )


async def answer_new_name(turn: Turn) -> None:
    assert turn.person is not None
    name = text_input(turn, limit=MAX_NAME, what=N_("the new name"))
    if name is None:
        return
    if turn.data.get("doing") == RENAME_GRID:
        renamed: str = (
            await rename_grid(turn.session, turn.person, turn.data["grid_id"], name)
        ).name
    else:
        renamed = (
            await rename_building(turn.session, turn.person, turn.data["building_id"], name)
        ).name
    await _back_to_menu(
        turn, turn.t("{old} is now called {new}.", old=turn.data["old_name"], new=renamed)
    )


FLOW = register_flow(
    Flow(
        "places",
        {
            COMMUNITY: Step(ask_community, answer_community),
            MENU: Step(ask_menu, answer_menu),
            GRID_NAME: Step(ask_grid_name, answer_grid_name),
            PICK_GRID: Step(ask_pick_grid, answer_pick_grid),
            BUILDING_NAMES: Step(ask_building_names, answer_building_names),
            PICK_BUILDING: Step(ask_pick_building, answer_pick_building),
            NEW_NAME: Step(ask_new_name, answer_new_name),
        },
    )
)

"""Small disputes between neighbours: /dispute logs one, /disputes lists the open ones.

✅ Settle asks how it was settled; ⬆ To the grid worker passes an open one to the grid.
"""

from __future__ import annotations

from handlers.flows.common import building_name, button_number, rows, text_input
from handlers.flows.neighbourhood import FLOW, my_buildings
from handlers.i18n import Translator
from handlers.messages import Button, Reply
from handlers.router import action, command
from handlers.turn import Speaker, Step, Turn, action_button, add_steps
from models.disputes import (
    MAX_PARTIES,
    MAX_WHAT,
    disputes_for,
    escalate_dispute,
    get_dispute,
    log_dispute,
    settle_dispute,
)
from models.errors import N_
from models.neighbourhood import Dispute, DisputeStatus
from models.people import Role
from models.reach import holders, place_of_building

# /dispute and Settle
D_BUILDING = "dispute_building"
D_PARTIES = "dispute_parties"
D_WHAT = "dispute_what"
D_OUTCOME = "dispute_outcome"
D_SETTLE = "dispute_settle"

NOT_SETTLED = "unsettled"


@command("dispute", N_("log a small dispute between neighbours"), Role.BUILDING_HEAD)
async def dispute(turn: Turn) -> None:
    buildings = turn.scopes(Role.BUILDING_HEAD)
    if len(buildings) == 1:
        await turn.start(FLOW, D_PARTIES, building_id=buildings[0])
        return
    await turn.start(FLOW, D_BUILDING)


async def ask_dispute_building(turn: Turn) -> None:
    buttons = [turn.option(b.name, str(b.id)) for b in await my_buildings(turn, admin=False)]
    turn.say(turn.t("In which building?"), [*rows(buttons, 3), turn.nav(back=False)])


async def answer_dispute_building(turn: Turn) -> None:
    if turn.value is None or not turn.value.isdecimal():
        turn.say(turn.t("Please choose with the buttons."))
        return
    if int(turn.value) not in turn.scopes(Role.BUILDING_HEAD):
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(building_id=int(turn.value))
    await turn.goto(D_PARTIES)


async def ask_dispute_parties(turn: Turn) -> None:
    turn.say(
        turn.t("Between which units? (for example: 3-201 and 3-301)"),
        [turn.nav(back=len(turn.data.get("_back", [])) > 0)],
    )


async def answer_dispute_parties(turn: Turn) -> None:
    parties = text_input(turn, limit=MAX_PARTIES, what=N_("the parties' units"))
    if parties is not None:
        turn.remember(parties=parties)
        await turn.goto(D_WHAT)


async def ask_dispute_what(turn: Turn) -> None:
    turn.say(turn.t("What is it about?"), [turn.nav()])


async def answer_dispute_what(turn: Turn) -> None:
    what = text_input(turn, limit=MAX_WHAT, what=N_("what it is about"))
    if what is not None:
        turn.remember(what=what)
        await turn.goto(D_OUTCOME)


async def ask_dispute_outcome(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("How was it settled? Type the outcome, or choose:"),
        [(turn.option(t.raw("Not settled yet"), NOT_SETTLED),), turn.nav()],
    )


async def answer_dispute_outcome(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value == NOT_SETTLED:
        outcome = None
    else:
        outcome = text_input(turn, limit=MAX_WHAT, what=N_("the outcome"))
        if outcome is None:
            return
    logged = await log_dispute(
        turn.session,
        turn.person,
        turn.data["building_id"],
        turn.data["parties"],
        turn.data["what"],
        outcome,
    )
    turn.end()
    t = turn.t
    if logged.status == DisputeStatus.SETTLED:
        turn.say(t("Dispute #{id} is logged as settled. Thank you!", id=logged.id))
    else:
        turn.say(
            t("Dispute #{id} is logged. /disputes shows the open ones.", id=logged.id),
            [_dispute_buttons(turn, logged)],
        )


def _dispute_buttons(turn: Turn, item: Dispute) -> tuple[Button, ...]:
    t = turn.t
    settle = turn.action(t.raw("✅ Settle"), "dispute_settle", item.id)
    if item.status == DisputeStatus.OPEN and turn.has(Role.BUILDING_HEAD):
        return (settle, turn.action(t.raw("⬆ To the grid worker"), "dispute_up", item.id))
    return (settle,)


async def _dispute_text(turn: Speaker, t: Translator, item: Dispute) -> str:
    state = {
        DisputeStatus.OPEN: N_("open"),
        DisputeStatus.SETTLED: N_("settled"),
        DisputeStatus.ESCALATED: N_("with the grid worker"),
    }[item.status]
    return t(
        "<b>Dispute #{id}</b> · {building} · {state}\n{parties}: {what}",
        id=item.id,
        building=await building_name(turn, item.building_id),
        state=t.raw(state),
        parties=item.parties,
        what=item.what,
    )


@command("disputes", N_("open disputes: settle or pass on"), Role.BUILDING_HEAD, Role.GRID_WORKER)
async def disputes(turn: Turn) -> None:
    t = turn.t
    found = await disputes_for(
        turn.session, turn.scopes(Role.BUILDING_HEAD), (DisputeStatus.OPEN, DisputeStatus.ESCALATED)
    )
    grids = turn.reach(Role.GRID_WORKER)
    if not grids.empty:
        in_grids = await grids.building_ids(turn.session)
        seen = {d.id for d in found}
        found += [
            d
            for d in await disputes_for(turn.session, in_grids, (DisputeStatus.ESCALATED,))
            if d.id not in seen
        ]
    if not found:
        turn.say(t("No open disputes. /dispute logs one."))
        return
    for item in found:
        turn.say(await _dispute_text(turn, t, item), [_dispute_buttons(turn, item)])


@action("dispute_settle")
async def dispute_settle(turn: Turn, args: list[str]) -> None:
    item = await get_dispute(turn.session, button_number(args))
    if item.status == DisputeStatus.SETTLED:
        turn.say(turn.t("Dispute #{id} is settled already.", id=item.id))
        return
    await turn.start(FLOW, D_SETTLE, dispute_id=item.id)


async def ask_dispute_settle(turn: Turn) -> None:
    turn.say(
        turn.t("How was dispute #{id} settled?", id=turn.data["dispute_id"]),
        [turn.nav(back=False)],
    )


async def answer_dispute_settle(turn: Turn) -> None:
    assert turn.person is not None
    outcome = text_input(turn, limit=MAX_WHAT, what=N_("the outcome"))
    if outcome is None:
        return
    item = await settle_dispute(turn.session, turn.person, turn.data["dispute_id"], outcome)
    turn.end()
    turn.say(turn.t("Dispute #{id} is settled. Thank you!", id=item.id))


@action("dispute_up")
async def dispute_up(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    item = await escalate_dispute(turn.session, turn.person, button_number(args))
    place = await place_of_building(turn.session, item.building_id)
    workers = await holders(turn.session, place, Role.GRID_WORKER)
    building = await building_name(turn, item.building_id)

    def build(t: Translator) -> Reply:
        return Reply(
            t(
                "A building head passed dispute #{id} in {building} to you.\n{parties}: {what}",
                id=item.id,
                building=building,
                parties=item.parties,
                what=item.what,
            ),
            ((action_button(t.raw("✅ Settle"), "dispute_settle", item.id),),),
        )

    for person_id in dict.fromkeys(workers):
        await turn.tell(person_id, build)
    turn.say(turn.t("Dispute #{id} was passed to the grid worker.", id=item.id))


add_steps(
    FLOW,
    {
        D_BUILDING: Step(ask_dispute_building, answer_dispute_building),
        D_PARTIES: Step(ask_dispute_parties, answer_dispute_parties),
        D_WHAT: Step(ask_dispute_what, answer_dispute_what),
        D_OUTCOME: Step(ask_dispute_outcome, answer_dispute_outcome),
        D_SETTLE: Step(ask_dispute_settle, answer_dispute_settle),
    },
)

"""A team claim: an organisation's contact takes every place of a wish, then names who goes.

One step, asked again until every place has a name or nobody is left to send.
"""

from __future__ import annotations

from handlers.flows.common import button_number, rows
from handlers.flows.news import requester_side, tell
from handlers.flows.organisations import FLOW
from handlers.router import action
from handlers.turn import Step, Turn, action_button, add_steps
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.organisations import get_organisation, staff_of
from models.people import Person
from models.team_claims import (
    check_team_may_claim,
    claim_for_team,
    get_claim,
    name_for_team,
    named_for_claim,
)
from models.wish_moves import get_wish

HELPERS = "helpers"


@action("team")
async def team(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    if len(args) != 2:
        raise NotFound(N_("That button does not work any more."))
    wish = await get_wish(turn.session, button_number(args[:1]))
    organisation_id = button_number(args[1:])
    await check_team_may_claim(turn.session, turn.person, wish, organisation_id)
    claim = await claim_for_team(turn.session, turn.person, wish.id, organisation_id)
    organisation = await get_organisation(turn.session, organisation_id)
    turn.say(
        turn.t.plural(
            "You took the place of wish {code} for {name}.",
            "You took {n} places of wish {code} for {name}.",
            claim.places,
            code=wish.code,
            name=organisation.name,
        )
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("{name} took your wish {code}; they will tell you who comes."),
        name=organisation.name,
    )
    await turn.start(FLOW, HELPERS, claim_id=claim.id, code=wish.code)


@action("teamname")
async def team_name(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    claim = await get_claim(turn.session, button_number(args))
    organisation = await get_organisation(turn.session, claim.organisation_id)
    if organisation.contact_id != turn.person.id:
        raise NotAllowed(
            N_("Only the contact of {name} can do this for it."), name=organisation.name
        )
    wish = await get_wish(turn.session, claim.wish_id)
    if claim.unnamed <= 0:  # an old button: every place was named meanwhile
        raise InvalidInput(N_("Every place of wish {code} has a name already."), code=wish.code)
    await turn.start(FLOW, HELPERS, claim_id=claim.id, code=wish.code)


async def _candidates(turn: Turn) -> list[Person]:
    claim = await get_claim(turn.session, turn.data["claim_id"])
    named = set(await named_for_claim(turn.session, claim))
    wish = await get_wish(turn.session, claim.wish_id)
    return [
        p
        for p in await staff_of(turn.session, claim.organisation_id, approved=True)
        if p.id not in named and p.id != wish.requester_id
    ]


async def ask_helpers(turn: Turn) -> None:
    t = turn.t
    claim = await get_claim(turn.session, turn.data["claim_id"])
    people = await _candidates(turn)
    if not people:
        turn.end()
        turn.say(
            t("Nobody else of your organisation is approved to go. /org shows your staff link.")
        )
        return
    buttons = [turn.option(p.name, str(p.id)) for p in people]
    turn.say(
        t.plural(
            "Who goes for wish {code}? One place waits for a name.",
            "Who goes for wish {code}? {n} places wait for names; press one name at a time.",
            claim.unnamed,
            code=turn.data["code"],
        ),
        [*rows(buttons, 2), turn.nav(back=False)],
    )


async def answer_helpers(turn: Turn) -> None:
    assert turn.person is not None
    chosen = next((p for p in await _candidates(turn) if str(p.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose a person with the buttons."))
        return
    wish = await name_for_team(turn.session, turn.person, turn.data["claim_id"], chosen)
    claim = await get_claim(turn.session, turn.data["claim_id"])
    organisation = await get_organisation(turn.session, claim.organisation_id)
    await tell(
        turn,
        [chosen.id],
        wish,
        N_("{organisation} sends you for wish {code}. Thank you!"),
        lambda t: [[action_button(t.raw("✅ Report done"), "done", wish.id)]],
        organisation=organisation.name,
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("{name} of {organisation} will help with your wish {code}."),
        name=chosen.name,
        organisation=organisation.name,
    )
    if claim.unnamed > 0:
        turn.say(turn.t("{name} goes.", name=chosen.name))
        await turn.goto(HELPERS, remember_back=False)
        return
    turn.end()
    turn.say(
        turn.t(
            "{name} goes. Every place of wish {code} has a name.", name=chosen.name, code=wish.code
        )
    )


add_steps(
    FLOW,
    {
        HELPERS: Step(ask_helpers, answer_helpers),
    },
)

"""An admin registers an organisation paired with the community: name, kind, its contact.

The contact's one-use link is shown at the end; whoever opens it becomes the contact.
"""

from __future__ import annotations

from handlers.flows.common import answer_community_run, ask_community_run, rows, text_input
from handlers.flows.organisations import FLOW, KIND_NAMES, SKIP, link_for
from handlers.router import action
from handlers.turn import Step, Turn, add_steps
from models.errors import N_, NotAllowed
from models.organisations import OrganisationKind, register_organisation
from models.reach import communities_run_by_name

COMMUNITY = "community"
NAME = "name"
KIND = "kind"
CONTACT = "contact"
PHONE = "phone"


@action("orgnew")
async def register(turn: Turn, args: list[str]) -> None:
    found = await communities_run_by_name(turn.session, turn.grants)
    if not found:
        raise NotAllowed(N_("Only an admin of the community can register its organisations."))
    if len(found) == 1:
        await turn.start(FLOW, NAME, community_id=found[0].id)
    else:
        await turn.start(FLOW, COMMUNITY)


async def ask_community(turn: Turn) -> None:
    await ask_community_run(turn, turn.t("Which community is it paired with?"))


async def answer_community(turn: Turn) -> None:
    await answer_community_run(turn, NAME)


async def ask_name(turn: Turn) -> None:
    turn.say(
        turn.t("The organisation's name? (a school, a company, a hospital, a government unit)"),
        [turn.nav(back=bool(turn.data.get("_back")))],
    )


async def answer_name(turn: Turn) -> None:
    name = text_input(turn, limit=100, what=N_("a name"))
    if name is None:
        return
    turn.remember(name=name)
    await turn.goto(KIND)


async def ask_kind(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), kind.value) for kind, label in KIND_NAMES.items()]
    turn.say(t("What kind of organisation is it?"), [*rows(buttons, 2), turn.nav()])


async def answer_kind(turn: Turn) -> None:
    if turn.value not in {k.value for k in OrganisationKind}:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(kind=turn.value)
    await turn.goto(CONTACT)


async def ask_contact(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("Who is its contact person? Type their name, or skip."),
        [(turn.option(t.raw("Skip"), SKIP),), turn.nav()],
    )


async def answer_contact(turn: Turn) -> None:
    if turn.value == SKIP:
        turn.remember(contact=None)
    else:
        name = text_input(turn, limit=100, what=N_("a name"))
        if name is None:
            return
        turn.remember(contact=name)
    await turn.goto(PHONE)


async def ask_phone(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("The contact's phone number? Only the office will see it. Type it, or skip."),
        [(turn.option(t.raw("Skip"), SKIP),), turn.nav()],
    )


async def answer_phone(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value == SKIP:
        phone = None
    else:
        phone = text_input(turn, limit=40, what=N_("a phone number"))
        if phone is None:
            return
    organisation = await register_organisation(
        turn.session,
        turn.person,
        turn.data["community_id"],
        name=turn.data["name"],
        kind=OrganisationKind(turn.data["kind"]),
        contact_name=turn.data.get("contact"),
        contact_phone=phone,
    )
    turn.end()
    assert organisation.contact_code is not None
    turn.say(
        turn.t(
            "{name} is registered. Give its contact this link; whoever opens it becomes the "
            "contact (once):\n{link}",
            name=organisation.name,
            link=link_for(turn, organisation.contact_code),
        )
    )


add_steps(
    FLOW,
    {
        COMMUNITY: Step(ask_community, answer_community),
        NAME: Step(ask_name, answer_name),
        KIND: Step(ask_kind, answer_kind),
        CONTACT: Step(ask_contact, answer_contact),
        PHONE: Step(ask_phone, answer_phone),
    },
)

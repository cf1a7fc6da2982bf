"""Registration (/start): language, role, community, building and unit, phone only with consent.

A deep link (/start CODE) drops a resident straight into their building; see registration.md.
"""

from __future__ import annotations

from handlers.flows.common import (
    buildings_of,
    categories,
    category_name,
    communities,
    rows,
    text_input,
)
from handlers.i18n import LANGUAGE_NAMES, PRODUCT, SUPPORTED
from handlers.menu import main_jobs, send_menu
from handlers.router import command
from handlers.turn import Flow, Step, Turn, register_flow
from models.community import Building, Community
from models.directory import add_person, grant_role, link_identity, register_member
from models.errors import N_
from models.invites import InviteKind, find_invite
from models.people import Person, Role
from models.web_access import CODE_LENGTH, link_by_sign_in_code, normal_code

LANGUAGE = "language"
ROLE = "role"
COMMUNITY = "community"
BUILDING = "building"
UNIT = "unit"
PHONE = "phone"
SKILLS = "skills"
ORGANISATION = "organisation"
NAME = "name"

RESIDENT = "resident"
MEMBER = "member"
MAX_UNIT = 20
MAX_ORGANISATION = 100
MAX_NAME = 100


@command("start", N_("register, or see where you are"), registered=False)
async def start(turn: Turn) -> None:
    t = turn.t
    code = turn.incoming.args[0] if turn.incoming.args else None
    if code:
        from handlers.flows.org_join import begin_joining
        from models.organisations import organisation_by_code

        # An organisation's link: its contact's (once), or its staff's.
        by_link = await organisation_by_code(turn.session, code)
        if by_link is not None:
            await begin_joining(turn, *by_link)
            return
        invite = await find_invite(turn.session, code)
        if invite is None and turn.person is None and len(normal_code(code)) == CODE_LENGTH:
            # A sign-in code from the office (/webcode): this chat becomes that person's.
            sender = turn.incoming.sender
            person = await link_by_sign_in_code(turn.session, code, sender.platform, sender.user_id)
            turn.person = person
            turn.conversation.person_id = person.id
            await turn.reload_grants()
            t = turn.t  # now in their own language
            turn.say(
                t(
                    "Welcome, {name}! This chat is now yours: /help lists what you can do.",
                    name=person.name,
                ),
                rows(main_jobs(t, {g.role for g in turn.grants}, registered=True), 2),
            )
            await send_menu(turn, person.id)
            return
        if invite is None:
            turn.say(t("That code is not valid, or it was already used. Send /start to register."))
            return
        if invite.kind == InviteKind.SETUP:
            from handlers.flows.setup import begin_setup

            await begin_setup(turn, invite)
            return
        if turn.person is None and invite.building_id is not None:
            building = await turn.session.get(Building, invite.building_id)
            assert building is not None
            await turn.start(
                FLOW,
                LANGUAGE,
                role=RESIDENT,
                community_id=building.grid.community_id,
                building_id=building.id,
            )
            return
    if turn.person is not None:
        turn.say(
            t("Welcome back, {name}! /help lists what you can do.", name=turn.person.name),
            rows(main_jobs(t, {g.role for g in turn.grants}, registered=True), 2),
        )
        await send_menu(turn, turn.person.id)  # the chat's command list, up to date
        return
    await turn.start(FLOW, LANGUAGE)


async def ask_language(turn: Turn) -> None:
    buttons = [turn.option(LANGUAGE_NAMES[code], code) for code in SUPPORTED]
    turn.say(
        turn.t(
            "Welcome to {product}, where neighbours help neighbours. Which language?",
            product=turn.t.raw(PRODUCT),
        ),
        [buttons, turn.nav(back=False)],
    )


async def answer_language(turn: Turn) -> None:
    if turn.value not in SUPPORTED:
        turn.say(turn.t("Please choose a language with the buttons."))
        return
    turn.conversation.locale = turn.value
    if not turn.incoming.sender.name and not turn.data.get("name"):
        await turn.goto(NAME)  # a platform that tells no name (WeChat): asked once
        return
    await _after_name(turn)


async def ask_name(turn: Turn) -> None:
    turn.say(turn.t("What may we call you? Type your name, for example Wang Fang."), [turn.nav()])


async def answer_name(turn: Turn) -> None:
    name = text_input(turn, limit=MAX_NAME, what=N_("your name"))
    if name is None:
        return
    turn.remember(name=name)
    await _after_name(turn)


async def _after_name(turn: Turn) -> None:
    if turn.data.get("organisation_id"):
        await turn.goto(SKILLS)  # an organisation's link: its community is known
        return
    await turn.goto(UNIT if turn.data.get("building_id") else ROLE)


async def ask_role(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("How will you take part?"),
        [
            (turn.option(t.raw("🏠 I live here and may need help"), RESIDENT),),
            (turn.option(t.raw("🤝 I want to help as a volunteer"), MEMBER),),
            turn.nav(),
        ],
    )


async def answer_role(turn: Turn) -> None:
    if turn.value not in (RESIDENT, MEMBER):
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(role=turn.value)
    await turn.goto(COMMUNITY)


async def ask_community(turn: Turn) -> None:
    t = turn.t
    found = await communities(turn)
    if not found:
        turn.end()
        turn.say(t("No community is set up here yet. Please ask your community office."))
        return
    buttons = [turn.option(c.name, str(c.id)) for c in found]
    turn.say(t("Which community?"), [*rows(buttons, 1), turn.nav()])


async def answer_community(turn: Turn) -> None:
    ids = {str(c.id) for c in await communities(turn)}
    if turn.value not in ids:
        turn.say(turn.t("Please choose your community with the buttons."))
        return
    turn.remember(community_id=int(turn.value))
    await turn.goto(BUILDING if turn.data.get("role") == RESIDENT else SKILLS)


async def ask_building(turn: Turn) -> None:
    t = turn.t
    found = await buildings_of(turn, turn.data["community_id"])
    buttons = [turn.option(b.name, str(b.id)) for b in found]
    turn.say(t("Which building do you live in?"), [*rows(buttons, 3), turn.nav()])


async def answer_building(turn: Turn) -> None:
    ids = {str(b.id) for b in await buildings_of(turn, turn.data["community_id"])}
    if turn.value not in ids:
        turn.say(turn.t("Please choose your building with the buttons."))
        return
    turn.remember(building_id=int(turn.value))
    await turn.goto(UNIT)


async def ask_unit(turn: Turn) -> None:
    turn.say(
        turn.t("Which unit (flat) do you live in? Type it, for example 3-201."),
        [turn.nav(back=bool(turn.data.get("_back")))],
    )


async def answer_unit(turn: Turn) -> None:
    unit = text_input(turn, limit=MAX_UNIT, what=N_("your unit"))
    if unit is None:
        return
    turn.remember(unit=unit)
    await turn.goto(PHONE)


async def ask_phone(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "May the office keep your phone number, so that a helper can call you? "
            "We keep it only if you agree, and show it only to the people helping you."
        ),
        [(turn.option(t.raw("No, thanks"), "skip"),), turn.nav()],
        ask_phone=t.raw("📱 Share my phone number"),
    )


async def answer_phone(turn: Turn) -> None:
    if turn.incoming.phone:
        await finish_resident(turn, turn.incoming.phone[:40])
    elif turn.value == "skip":
        await finish_resident(turn, None)
    else:
        turn.say(turn.t("Please press “Share my phone number” or “No, thanks”."))


async def _new_person(
    turn: Turn, *, building: Building | None, unit: str | None, phone: str | None
) -> Person:
    sender = turn.incoming.sender
    person = await add_person(
        turn.session,
        sender.name or turn.data.get("name") or "?",
        building=building,
        unit=unit,
        phone=phone,
        phone_consent=phone is not None,
        locale=turn.locale,
    )
    await link_identity(turn.session, person, sender.platform, sender.user_id)
    turn.person = person
    turn.conversation.person_id = person.id
    return person


async def finish_resident(turn: Turn, phone: str | None) -> None:
    building = await turn.session.get(Building, turn.data["building_id"])
    assert building is not None
    person = await _new_person(turn, building=building, unit=turn.data["unit"], phone=phone)
    await grant_role(turn.session, None, person, Role.RESIDENT, building.id)
    unit = turn.data["unit"]
    turn.end()
    await turn.reload_grants()
    t = turn.t
    turn.say(
        t(
            "Welcome, {name}! You are registered in {building}, unit {unit}. "
            "Whenever you need a hand, press “Ask for help”.",
            name=person.name,
            building=building.name,
            unit=unit,
        ),
        rows(main_jobs(t, {g.role for g in turn.grants}, registered=True), 2),
    )
    await send_menu(turn, person.id)


async def ask_skills(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("skills", []))
    buttons = [
        turn.option(("✅ " if code in chosen else "") + category_name(t, code), f"skill:{code}")
        for code in await categories(turn)
    ]
    turn.say(
        t("What can you help with? Choose one or more, then press Done."),
        [*rows(buttons, 2), (turn.option(t.raw("Done"), "done"),), turn.nav()],
    )


async def answer_skills(turn: Turn) -> None:
    value = turn.value or ""
    if value.startswith("skill:") and value[6:] in await categories(turn):
        chosen = set(turn.data.get("skills", []))
        chosen ^= {value[6:]}
        turn.remember(skills=sorted(chosen))
        await turn.redraw()
    elif value == "done" and turn.data.get("skills") and turn.data.get("organisation_id"):
        await finish_member(turn, "")  # joined by the organisation's link
    elif value == "done" and turn.data.get("skills"):
        await turn.goto(ORGANISATION)
    elif value == "done":
        turn.say(turn.t("Please choose at least one thing you can help with."))
    else:
        turn.say(turn.t("Please choose with the buttons."))


async def ask_organisation(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Which organisation are you with (a company, a school, a party branch)? Type it, or skip."
        ),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_organisation(turn: Turn) -> None:
    if turn.value == "skip":
        organisation = ""
    else:
        typed = text_input(turn, limit=MAX_ORGANISATION, what=N_("your organisation"))
        if typed is None:
            return
        organisation = typed
    await finish_member(turn, organisation)


async def finish_member(turn: Turn, organisation: str) -> None:
    from handlers.flows.approve import tell_admins_about_member

    # A registered resident offering to help later (/volunteer) stays who they are.
    person = turn.person or await _new_person(turn, building=None, unit=None, phone=None)
    community_id = turn.data["community_id"]
    community = await turn.session.get(Community, community_id)
    assert community is not None
    await register_member(
        turn.session, person, community, skills=turn.data["skills"], organisation=organisation
    )
    if turn.data.get("organisation_id"):
        from handlers.flows.org_join import joined

        joining = (turn.data["organisation_id"], bool(turn.data.get("as_contact")))
        turn.end()
        await joined(turn, person, *joining)
        await send_menu(turn, person.id)
        return
    turn.end()
    await turn.reload_grants()
    t = turn.t
    turn.say(
        t(
            "Thank you, {name}! The office of {community} will approve you soon; "
            "then /tasks shows wishes you can help with.",
            name=person.name,
            community=community.name,
        ),
        rows(main_jobs(t, {g.role for g in turn.grants}, registered=True), 2),
    )
    await send_menu(turn, person.id)
    await tell_admins_about_member(turn, person, community_id)


FLOW = register_flow(
    Flow(
        "registration",
        {
            LANGUAGE: Step(ask_language, answer_language),
            NAME: Step(ask_name, answer_name),
            ROLE: Step(ask_role, answer_role),
            COMMUNITY: Step(ask_community, answer_community),
            BUILDING: Step(ask_building, answer_building),
            UNIT: Step(ask_unit, answer_unit),
            PHONE: Step(ask_phone, answer_phone),
            SKILLS: Step(ask_skills, answer_skills),
            ORGANISATION: Step(ask_organisation, answer_organisation),
        },
    )
)

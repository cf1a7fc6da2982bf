"""Organisations paired with the community: /org lists them with their numbers; an admin
registers one; its contact joins by link, invites staff, approves them, adds resources, takes
every place of a wish for the team and names who goes, and gets the yearly report.

See organisations.md for the steps.
"""

from __future__ import annotations

import asyncio

from handlers.flows.common import (
    button_number,
    categories,
    category_name,
    rows,
    text_input,
    wish_summary,
)
from handlers.flows.news import requester_side, tell
from handlers.i18n import Translator
from handlers.messages import Button, Document, Reply
from handlers.org_report_file import report_file_name, report_xlsx
from handlers.router import action, command
from handlers.turn import Flow, Step, Turn, action_button, register_flow
from models.clock import now
from models.commitments import (
    CommitmentUnit,
    commitment_of,
    local_year,
    progress_of,
    services_done,
)
from models.errors import N_, InvalidInput, NotAllowed, NotFound
from models.org_report import year_report
from models.organisations import (
    Organisation,
    OrganisationKind,
    contact_of,
    get_organisation,
    join_organisation,
    member_count,
    office_may_see_phone,
    organisation_of_member,
    organisations_seen_by,
    register_organisation,
    staff_of,
)
from models.people import MemberProfile, Person, Role
from models.reach import communities_run, communities_run_by_name
from models.resources import MAX_CAPACITY, ResourceWhere, add_resource, resources_of_organisation
from models.team_claims import (
    check_team_may_claim,
    claim_for_team,
    get_claim,
    name_for_team,
    named_for_claim,
    open_claims,
    organisation_points,
    wishes_for_team,
)
from models.wish_life import get_wish

COMMUNITY = "community"
NAME = "name"
KIND = "kind"
CONTACT = "contact"
PHONE = "phone"
HELPERS = "helpers"
SERVICE = "service"
COVERS = "covers"
CAPACITY = "capacity"
WEEKDAYS = "weekdays"
HOURS = "hours"
WHERE = "where"

SKIP = "skip"
DONE = "done"
SHOWN_WISHES = 5

KIND_NAMES = {
    OrganisationKind.SCHOOL: N_("school"),
    OrganisationKind.COMPANY: N_("company"),
    OrganisationKind.HOSPITAL: N_("hospital"),
    OrganisationKind.GOVERNMENT: N_("government unit"),
    OrganisationKind.OTHER: N_("other organisation"),
}
UNIT_NAMES = {CommitmentUnit.SERVICES: N_("services"), CommitmentUnit.HOURS: N_("hours")}
WHERE_NAMES = {ResourceWhere.SITE: N_("at its own site"), ResourceWhere.DOOR: N_("door to door")}
WEEKDAY_NAMES = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
OFFICE = (Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)


def link_for(turn: Turn, code: str) -> str:
    username = turn.config.bot_username
    return f"https://t.me/{username}?start={code}" if username else f"/start {code}"


# --- /org -------------------------------------------------------------------------------------


@command(
    "org",
    N_("the organisations paired with the community, and your team's"),
    Role.MEMBER,
    Role.GRID_WORKER,
    Role.ADMIN,
    Role.STREET_ADMIN,
)
async def org(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    seen = await organisations_seen_by(turn.session, turn.person)
    own = await organisation_of_member(turn.session, turn.person.id)
    if own is not None and own.id not in {o.id for o in seen}:
        seen.append(own)
    runs = await communities_run(turn.session, turn.grants)
    register = [(turn.action(t.raw("➕ Register an organisation"), "orgnew"),)] if runs else []
    if not seen:
        turn.say(t("No organisation is paired with the community yet."), register)
        return
    for organisation in seen:
        await _show(turn, organisation)
    if register:
        turn.say(t("Pair another organisation with the community:"), register)


async def _show(turn: Turn, organisation: Organisation) -> None:
    """One organisation with its numbers; its contact also gets their links and work."""
    assert turn.person is not None
    t = turn.t
    session = turn.session
    year = local_year(now(session), turn.config.timezone)
    services, _ = await services_done(
        session, year, turn.config.timezone, organisation_id=organisation.id
    )
    lines = [
        t(
            "<b>{name}</b> ({kind})",
            name=organisation.name,
            kind=t.raw(KIND_NAMES[organisation.kind]),
        ),
        t(
            "Members: {members} · services in {year}: {services} · points: {points}",
            members=t.number(await member_count(session, organisation.id)),
            year=year,
            services=t.number(services),
            points=t.number(await organisation_points(session, organisation.id)),
        ),
    ]
    lines.append(await commitment_line(turn, year, organisation_id=organisation.id))
    if organisation.contact_name:
        lines.append(t("Contact: {name}", name=organisation.contact_name))
    if organisation.contact_phone and await office_may_see_phone(
        session, turn.person, organisation
    ):
        lines.append(t("Phone (for the office): {phone}", phone=organisation.contact_phone))
    resources = await resources_of_organisation(session, organisation.id)
    if resources:
        lines.append(t("Offers:"))
        lines += [
            "· " + resource_text(t, r.service, r.categories, r.capacity_per_month, r.where)
            for r in resources
        ]
    buttons: list[tuple[Button, ...]] = []
    is_contact = organisation.contact_id == turn.person.id
    runs = organisation.community_id in await communities_run(session, turn.grants)
    office = runs or await office_may_see_phone(session, turn.person, organisation)
    if organisation.contact_id is None and organisation.contact_code and runs:
        lines.append(
            t(
                "Its contact has not joined yet. Give them this link: {link}",
                link=link_for(turn, organisation.contact_code),
            )
        )
    if is_contact:
        lines.append(
            t(
                "Your staff join with this link: {link}",
                link=link_for(turn, organisation.invite_code),
            )
        )
        buttons.append((turn.action(t.raw("➕ Add a resource"), "orgres", organisation.id),))
    if is_contact or office:
        buttons.append(
            (turn.action(t.raw("📄 Yearly report"), "orgreport", organisation.id, year),)
        )
    turn.say("\n".join(lines), buttons)
    if is_contact:
        await _team_work(turn, organisation)


async def _team_work(turn: Turn, organisation: Organisation) -> None:
    """The contact's places waiting for names, and open wishes the team could take."""
    assert turn.person is not None
    t = turn.t
    for claim, wish in await open_claims(turn.session, turn.person):
        if claim.organisation_id != organisation.id:
            continue
        turn.say(
            t.plural(
                "One place on wish {code} waits for a name.",
                "{n} places on wish {code} wait for names.",
                claim.unnamed,
                code=wish.code,
            ),
            [(turn.action(t.raw("👥 Name who goes"), "teamname", claim.id),)],
        )
    wishes = await wishes_for_team(turn.session, organisation, SHOWN_WISHES)
    if not wishes:
        return
    lines = [t("Open wishes your team could take:")]
    buttons: list[tuple[Button, ...]] = []
    for wish in wishes:
        lines.append(await wish_summary(turn, wish))
        free = wish.required_count - wish.taken_count
        buttons.append(
            (
                turn.action(
                    t.plural(
                        "👥 {code}: take the place",
                        "👥 {code}: take all {n} places",
                        free,
                        code=wish.code,
                    ),
                    "team",
                    wish.id,
                    organisation.id,
                ),
            )
        )
    turn.say("\n\n".join(lines), buttons)


async def commitment_line(
    turn: Turn, year: int, *, person_id: int | None = None, organisation_id: int | None = None
) -> str:
    t = turn.t
    found = await commitment_of(
        turn.session, year, person_id=person_id, organisation_id=organisation_id
    )
    if found is None:
        return t("No commitment for {year} yet (/commit).", year=year)
    progress = await progress_of(turn.session, found, turn.config.timezone)
    text = t(
        "Commitment for {year}: {done} of {target} {unit}.",
        year=year,
        done=t.number(progress.done),
        target=t.number(found.target),
        unit=t.raw(UNIT_NAMES[found.unit]),
    )
    if progress.behind:
        text += " " + t("About {expected} would be on track by now.", expected=progress.expected)
    return text


def resource_text(
    t: Translator, service: str, covers: list[str], capacity: int, where: ResourceWhere
) -> str:
    return t(
        "{service} ({categories}), {capacity} a month, {where}",
        service=service,
        categories=", ".join(category_name(t, c) for c in covers),
        capacity=t.number(capacity),
        where=t.raw(WHERE_NAMES[where]),
    )


# --- registering an organisation (an admin) ----------------------------------------------------


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
    found = await communities_run_by_name(turn.session, turn.grants)
    buttons = [turn.option(c.name, str(c.id)) for c in found]
    turn.say(
        turn.t("Which community is it paired with?"), [*rows(buttons, 2), turn.nav(back=False)]
    )


async def answer_community(turn: Turn) -> None:
    found = await communities_run_by_name(turn.session, turn.grants)
    chosen = next((c for c in found if str(c.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(community_id=chosen.id)
    await turn.goto(NAME)


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


# --- joining by link --------------------------------------------------------------------------


async def begin_joining(turn: Turn, organisation: Organisation, as_contact: bool) -> None:
    """/start with an organisation's link: a newcomer registers as a member first (language,
    skills); someone registered as a member joins at once."""
    if turn.person is not None:
        profile = await turn.session.get(MemberProfile, turn.person.id)
        if profile is not None:
            await joined(turn, turn.person, organisation.id, as_contact)
            return
    from handlers.flows import registration

    data = {
        "role": registration.MEMBER,
        "community_id": organisation.community_id,
        "organisation_id": organisation.id,
        "as_contact": as_contact,
    }
    step = registration.LANGUAGE if turn.person is None else registration.SKILLS
    await turn.start(registration.FLOW, step, **data)


async def joined(turn: Turn, person: Person, organisation_id: int, as_contact: bool) -> None:
    """The person belongs to the organisation now; staff wait for the contact's approval."""
    organisation = await get_organisation(turn.session, organisation_id)
    profile = await join_organisation(turn.session, person, organisation, as_contact=as_contact)
    await turn.reload_grants()
    t = turn.t
    if as_contact:
        turn.say(
            t(
                "You are the contact of {name} now. /org shows its link for your staff, "
                "its numbers and the wishes your team could take.",
                name=organisation.name,
            )
        )
        return
    if profile.approved:
        turn.say(t("You are a member of {name} now.", name=organisation.name))
        return
    turn.say(
        t(
            "Thank you, {name}! You joined {organisation}; its contact will approve you soon.",
            name=person.name,
            organisation=organisation.name,
        )
    )
    tell_ids = [organisation.contact_id] if organisation.contact_id else []
    if not tell_ids:
        from handlers.flows.admin import tell_admins_about_member

        await tell_admins_about_member(turn, person, organisation.community_id)
        return
    skills = list(profile.skills)

    def build(t: Translator) -> Reply:
        return Reply(
            t(
                "{name} joined {organisation} and can help with: {skills}",
                name=person.name,
                organisation=organisation.name,
                skills=", ".join(category_name(t, s) for s in skills) or "-",
            ),
            ((action_button(t.raw("✅ Approve"), "approve", person.id),),),
        )

    for contact_id in tell_ids:
        await turn.tell(contact_id, build)


# --- a team claim -----------------------------------------------------------------------------


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


# --- resources --------------------------------------------------------------------------------


@action("orgres")
async def resource(turn: Turn, args: list[str]) -> None:
    """Add a resource: of an organisation (its contact or admin), or 0: the member's own."""
    assert turn.person is not None
    organisation_id = button_number(args)
    if organisation_id:
        organisation = await get_organisation(turn.session, organisation_id)
        allowed = organisation.contact_id == turn.person.id or (
            organisation.community_id in await communities_run(turn.session, turn.grants)
        )
        if not allowed:
            raise NotAllowed(
                N_("Only the organisation's contact or an admin can add its resources.")
            )
        community_id = organisation.community_id
    else:
        member_of = turn.scopes(Role.MEMBER)
        if not member_of:
            raise NotAllowed(N_("Only members of this community can offer resources here."))
        community_id = member_of[0]
    await turn.start(
        FLOW, SERVICE, organisation_id=organisation_id or None, community_id=community_id
    )


@command("resource", N_("offer a service of your own (legal advice, repairs...)"), Role.MEMBER)
async def own_resource(turn: Turn) -> None:
    await resource(turn, ["0"])


async def ask_service(turn: Turn) -> None:
    turn.say(
        turn.t("What is offered? For example: free blood-pressure checks, legal advice."),
        [turn.nav(back=False)],
    )


async def answer_service(turn: Turn) -> None:
    service = text_input(turn, limit=100, what=N_("the service"))
    if service is None:
        return
    turn.remember(service=service, covers=[])
    await turn.goto(COVERS)


async def ask_covers(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("covers", []))
    buttons = [
        turn.option(("✅ " if code in chosen else "") + category_name(t, code), f"c:{code}")
        for code in await categories(turn)
    ]
    turn.say(
        t("Which kinds of wishes does it cover? Choose one or more, then press Done."),
        [*rows(buttons, 2), (turn.option(t.raw("Done"), DONE),), turn.nav()],
    )


async def answer_covers(turn: Turn) -> None:
    value = turn.value or ""
    if value.startswith("c:") and value[2:] in await categories(turn):
        turn.remember(covers=sorted(set(turn.data.get("covers", [])) ^ {value[2:]}))
        await turn.redraw()
    elif value == DONE and turn.data.get("covers"):
        await turn.goto(CAPACITY)
    elif value == DONE:
        turn.say(turn.t("Please choose at least one category the service covers."))
    else:
        turn.say(turn.t("Please choose with the buttons."))


async def ask_capacity(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(str(n), str(n)) for n in (1, 2, 4, 10, 20)]
    turn.say(
        t("How many times a month can it be given? Choose, or type a number."),
        [tuple(buttons), turn.nav()],
    )


async def answer_capacity(turn: Turn) -> None:
    raw = turn.value if turn.value is not None else (turn.incoming.text or "").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_CAPACITY:
        turn.say(turn.t("Please type a number from 0 to 10000."))
        return
    turn.remember(capacity=int(raw), weekdays=[])
    await turn.goto(WEEKDAYS)


async def ask_weekdays(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("weekdays", []))
    buttons = [
        turn.option(("✅ " if day in chosen else "") + t.raw(name), f"d:{day}")
        for day, name in enumerate(WEEKDAY_NAMES)
    ]
    turn.say(
        t("On which days? Choose them, then press Done (none chosen: any day)."),
        [tuple(buttons[:4]), tuple(buttons[4:]), (turn.option(t.raw("Done"), DONE),), turn.nav()],
    )


async def answer_weekdays(turn: Turn) -> None:
    value = turn.value or ""
    if value.startswith("d:") and value[2:].isdigit() and int(value[2:]) in range(7):
        turn.remember(weekdays=sorted(set(turn.data.get("weekdays", [])) ^ {int(value[2:])}))
        await turn.redraw()
    elif value == DONE:
        await turn.goto(HOURS)
    else:
        turn.say(turn.t("Please choose with the buttons."))


async def ask_hours(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("At what hours? Type them like 09:00-17:00, or skip (any time)."),
        [(turn.option(t.raw("Skip"), SKIP),), turn.nav()],
    )


async def answer_hours(turn: Turn) -> None:
    if turn.value == SKIP:
        turn.remember(hours="")
    else:
        hours = text_input(turn, limit=20, what=N_("the hours"))
        if hours is None:
            return
        from models.resources import HOURS as HOURS_PATTERN

        if not HOURS_PATTERN.match(hours):
            turn.say(turn.t("Hours look like 09:00-17:00."))
            return
        turn.remember(hours=hours)
    await turn.goto(WHERE)


async def ask_where(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), where.value) for where, label in WHERE_NAMES.items()]
    turn.say(t("Where is it given?"), [tuple(buttons), turn.nav()])


async def answer_where(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value not in {w.value for w in ResourceWhere}:
        turn.say(turn.t("Please choose with the buttons."))
        return
    data = turn.data
    found = await add_resource(
        turn.session,
        turn.person,
        community_id=data["community_id"],
        organisation_id=data.get("organisation_id"),
        service=data["service"],
        categories=data["covers"],
        capacity_per_month=data["capacity"],
        weekdays=data.get("weekdays", []),
        hours=data.get("hours", ""),
        where=ResourceWhere(turn.value),
    )
    turn.end()
    t = turn.t
    turn.say(
        t("Added to the supply list:")
        + "\n"
        + resource_text(t, found.service, found.categories, found.capacity_per_month, found.where)
    )


# --- the yearly report ------------------------------------------------------------------------


@action("orgreport")
async def report(turn: Turn, args: list[str]) -> None:
    """The organisation's year as an XLSX file, for its contact and its community's office."""
    assert turn.person is not None
    organisation = await get_organisation(turn.session, button_number(args[:1]))
    year = (
        button_number(args[1:])
        if len(args) > 1
        else local_year(now(turn.session), turn.config.timezone)
    )
    office = organisation.community_id in await communities_run(turn.session, turn.grants)
    office = office or await office_may_see_phone(turn.session, turn.person, organisation)
    if organisation.contact_id != turn.person.id and not office:
        raise NotAllowed(
            N_("Only the contact of {name} can do this for it."), name=organisation.name
        )
    found = await year_report(turn.session, organisation, year, turn.config.timezone)
    t = turn.t
    content = await asyncio.to_thread(report_xlsx, found, t)
    turn.say(
        t(
            "{name} in {year}: {services} services, {hours} hours, {people} people served.",
            name=organisation.name,
            year=year,
            services=t.number(found.services),
            hours=t.number(found.hours),
            people=t.number(len(found.people)),
        ),
        document=Document(report_file_name(found, organisation.id), content),
    )


async def contacts_organisations(turn: Turn) -> list[Organisation]:
    assert turn.person is not None
    return await contact_of(turn.session, turn.person.id)


FLOW = register_flow(
    Flow(
        "organisations",
        {
            COMMUNITY: Step(ask_community, answer_community),
            NAME: Step(ask_name, answer_name),
            KIND: Step(ask_kind, answer_kind),
            CONTACT: Step(ask_contact, answer_contact),
            PHONE: Step(ask_phone, answer_phone),
            HELPERS: Step(ask_helpers, answer_helpers),
            SERVICE: Step(ask_service, answer_service),
            COVERS: Step(ask_covers, answer_covers),
            CAPACITY: Step(ask_capacity, answer_capacity),
            WEEKDAYS: Step(ask_weekdays, answer_weekdays),
            HOURS: Step(ask_hours, answer_hours),
            WHERE: Step(ask_where, answer_where),
        },
    )
)

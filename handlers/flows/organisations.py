"""/org: the organisations paired with the community, each with its numbers and yearly report.

Also what the organisation rooms share: the words for kinds, units, days, and their conversation.
"""

from __future__ import annotations

import asyncio

from handlers.flows.common import button_number, category_name, wish_summary
from handlers.i18n import Translator
from handlers.messages import Button, Document
from handlers.org_report_file import report_file_name, report_xlsx
from handlers.router import action, command
from handlers.turn import Flow, Turn, register_flow
from models.clock import now
from models.commitments import CommitmentUnit, commitment_of, local_year, progress_of, services_done
from models.errors import N_, NotAllowed
from models.org_report import year_report
from models.organisations import (
    Organisation,
    OrganisationKind,
    contact_of,
    get_organisation,
    member_count,
    office_may_see_phone,
    organisation_of_member,
    organisations_seen_by,
)
from models.people import Role
from models.reach import communities_run
from models.resources import ResourceWhere, resources_of_organisation
from models.team_claims import open_claims, organisation_points, wishes_for_team

SKIP = "skip"
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

# The organisations' one conversation: its name and step names are stored in open chats, so it
# stays one flow; each room adds the steps it asks (org_register.py, org_team.py,
# org_resources.py).
FLOW = register_flow(Flow("organisations", {}))


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

"""/approve: new volunteers wait for an admin, or their organisation's contact, to approve them.

The admins hear of each newcomer with an Approve button; the store decides who may approve.
"""

from __future__ import annotations

from handlers.flows.common import button_number, category_name
from handlers.i18n import Translator
from handlers.menu import send_menu
from handlers.messages import Reply
from handlers.router import action, command
from handlers.turn import Turn, action_button
from models.community import Community
from models.directory import admin_of_member
from models.errors import N_, NotAllowed, NotFound
from models.office_work import volunteers_waiting
from models.organisations import approve_staff, may_approve_staff, organisation_name
from models.people import MemberProfile, Person, Role
from models.reach import holders_at


@command("approve", N_("approve new volunteers"), Role.ADMIN)
async def approve(turn: Turn) -> None:
    t = turn.t
    waiting = await volunteers_waiting(turn.session, sorted(turn.reach(Role.ADMIN).communities))
    if not waiting:
        turn.say(t("No volunteer is waiting for approval."))
        return
    turn.say(
        t.plural(
            "One volunteer waits for approval:", "{n} volunteers wait for approval:", len(waiting)
        )
    )
    for person, profile in waiting:
        organisation = await organisation_name(turn.session, profile)
        turn.say(
            member_text(t, person, profile, organisation),
            [(turn.action(t.raw("✅ Approve"), "approve", person.id),)],
        )


def member_text(
    t: Translator, person: Person, profile: MemberProfile, organisation: str = ""
) -> str:
    skills = ", ".join(category_name(t, s) for s in profile.skills) or "-"
    if organisation:
        return t(
            "<b>{name}</b> ({organisation}) can help with: {skills}",
            name=person.name,
            organisation=organisation,
            skills=skills,
        )
    return t("<b>{name}</b> can help with: {skills}", name=person.name, skills=skills)


@action("approve")
async def approve_button(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    person = await turn.session.get(Person, button_number(args))
    if person is None:
        raise NotFound(N_("There is no such person."))
    profile = await turn.session.get(MemberProfile, person.id)
    was_approved = profile is not None and profile.approved
    if was_approved:
        # Nothing to change, but only their own admins may learn that.
        if not (
            await admin_of_member(turn.session, turn.person, person)
            or await may_approve_staff(turn.session, turn.person, person)
        ):
            raise NotAllowed(N_("Only an admin of the member's community can approve them."))
        turn.say(turn.t("{name} is already approved.", name=person.name))
        return
    # An admin, or the contact of the organisation the volunteer joined (models decide).
    await approve_staff(turn.session, turn.person, person)
    turn.say(turn.t("{name} is approved and can take wishes now.", name=person.name))
    await turn.tell(
        person.id,
        lambda t: Reply(
            t(
                "Welcome aboard, {name}! You are approved as a volunteer: you can now see /tasks.",
                name=person.name,
            )
        ),
    )
    await send_menu(turn, person.id)


async def tell_admins_about_member(turn: Turn, person: Person, community_id: int) -> None:
    """A new volunteer waits for approval: the community's admins get an Approve button."""
    profile = await turn.session.get(MemberProfile, person.id)
    community = await turn.session.get(Community, community_id)
    if profile is None or community is None:
        return
    organisation = await organisation_name(turn.session, profile)
    for admin_id in await holders_at(turn.session, Role.ADMIN, community_id):
        if admin_id == person.id:
            continue

        def build(t: Translator) -> Reply:
            text = (
                t("A new volunteer for {community}:", community=community.name)
                + "\n"
                + member_text(t, person, profile, organisation)
            )
            return Reply(text, ((action_button(t.raw("✅ Approve"), "approve", person.id),),))

        await turn.tell(admin_id, build)

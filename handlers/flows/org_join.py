"""Joining an organisation by its link: its contact (once) or its staff, registering first.

Staff wait for the contact's approval; with no contact yet, the community's admins approve.
"""

from __future__ import annotations

from handlers.flows.common import category_name
from handlers.i18n import Translator
from handlers.messages import Reply
from handlers.turn import Turn, action_button
from models.organisations import Organisation, get_organisation, join_organisation
from models.people import MemberProfile, Person


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
        from handlers.flows.approve import tell_admins_about_member

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

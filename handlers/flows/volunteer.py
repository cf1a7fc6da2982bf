"""/volunteer: someone already registered (a resident) offers to help later.

The skills and organisation questions of registration, then the admins' approval as for
any new volunteer; see volunteer.md.
"""

from __future__ import annotations

from handlers.router import command
from handlers.turn import Turn
from models.directory import any_community
from models.errors import N_
from models.people import MemberProfile, Role
from models.reach import place_of_building


@command("volunteer", N_("offer to help your neighbours as a volunteer"))
async def volunteer(turn: Turn) -> None:
    from handlers.flows.registration import COMMUNITY, FLOW, MEMBER, SKILLS

    assert turn.person is not None
    t = turn.t
    if turn.has(Role.MEMBER):
        profile = await turn.session.get(MemberProfile, turn.person.id)
        if profile is not None and profile.approved:
            turn.say(t("You are a volunteer already: /tasks shows wishes you can help with."))
        else:
            turn.say(t("You offered to help already; the office will approve you soon."))
        return
    if turn.person.building_id is not None:
        place = await place_of_building(turn.session, turn.person.building_id)
        await turn.start(FLOW, SKILLS, role=MEMBER, community_id=place.community_id)
        return
    if not await any_community(turn.session):
        turn.say(t("No community is set up here yet. Please ask your community office."))
        return
    await turn.start(FLOW, COMMUNITY, role=MEMBER)

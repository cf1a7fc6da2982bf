"""Building heads' other work: the buildings a head (or admin) looks after, and /monthly.

The `neighbourhood` conversation, to which notices.py, disputes.py and visits.py add steps.
"""

from __future__ import annotations

from handlers.router import command
from handlers.turn import Flow, Turn, register_flow
from models.clock import now
from models.community import Building
from models.errors import N_, NotAllowed
from models.monthly_report import monthly_report
from models.people import Role

# The heads' one conversation: its name and step names are stored in open chats, so it stays
# one flow; each room adds the steps it asks (notices.py, disputes.py, visits.py).
FLOW = register_flow(Flow("neighbourhood", {}))


async def my_buildings(turn: Turn, *, admin: bool) -> list[Building]:
    """The buildings the caller heads, and (for notices) every building of their communities."""
    roles = (Role.BUILDING_HEAD, Role.ADMIN) if admin else (Role.BUILDING_HEAD,)
    return await turn.reach(*roles).building_list(turn.session)


# --- the monthly report --------------------------------------------------------------------


@command("monthly", N_("this month's report"), Role.GRID_WORKER, Role.ADMIN)
async def monthly(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    communities = await turn.reach(Role.ADMIN, Role.GRID_WORKER).community_ids(turn.session)
    if not communities:
        raise NotAllowed(N_("You may not see this community's report."))
    today = now(turn.session).astimezone(turn.config.timezone)
    for community_id in communities:
        report = await monthly_report(
            turn.session,
            turn.person,
            community_id,
            today.year,
            today.month,
            turn.config.timezone,
        )
        disputes = report["disputes"]
        turn.say(
            t(
                "<b>{month}</b>\n"
                "Wishes: {submitted} new, {closed} closed\n"
                "Disputes logged: {logged} ({open} open, {settled} settled, {escalated} with the grid worker)\n"
                "Notices sent: {notices}\n"
                "Visits made: {visits}; overdue now: {overdue}",
                month=f"{today.year}-{today.month:02d}",
                submitted=t.number(report["wishes_submitted"]),
                closed=t.number(report["wishes_closed"]),
                logged=t.number(report["disputes_logged"]),
                open=t.number(disputes["open"]),
                settled=t.number(disputes["settled"]),
                escalated=t.number(disputes["escalated"]),
                notices=t.number(report["notices"]),
                visits=t.number(report["visits"]),
                overdue=t.number(report["visits_overdue"]),
            )
        )

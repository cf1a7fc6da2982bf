"""Building heads' other work: notices with read counts, small disputes, key people to visit.

/notice, /notices, /dispute, /disputes, /monthly and /visits; see neighbourhood.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handlers.flows.common import building_name, button_number, rows, text_input
from handlers.i18n import Translator, escape
from handlers.messages import Button, Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import action, command
from handlers.turn import Flow, Speaker, Step, Turn, action_button, register_flow
from models.clock import now
from models.community import Building
from models.errors import N_, NotAllowed
from models.neighbourhood import Dispute, DisputeStatus, VisitPlan
from models.notices import Notice
from models.notices_and_visits import (
    MAX_NOTICE,
    MAX_PARTIES,
    MAX_REASON,
    MAX_UNIT,
    MAX_WHAT,
    audience,
    disputes_for,
    due_plan,
    escalate_dispute,
    flag_visits,
    get_dispute,
    get_notice,
    log_dispute,
    mark_read,
    monthly_report,
    notice_buildings,
    notices_sent_by,
    read_counts,
    record_visit,
    send_notice,
    settle_dispute,
    unread_people,
    visit_plans,
)
from models.people import Person, Role
from models.reach import holders, holders_at, place_of_building
from models.reminders import Reminder

# /notice
N_BUILDINGS = "notice_buildings"
N_TEXT = "notice_text"
N_CONFIRM = "notice_confirm"
# /dispute and Settle
D_BUILDING = "dispute_building"
D_PARTIES = "dispute_parties"
D_WHAT = "dispute_what"
D_OUTCOME = "dispute_outcome"
D_SETTLE = "dispute_settle"
# /visits
V_LIST = "visits"
V_BUILDING = "visit_building"
V_UNIT = "visit_unit"
V_REASON = "visit_reason"
V_EVERY = "visit_every"

EVERY_DAYS = (7, 14, 30)
NOT_SETTLED = "unsettled"


async def _my_buildings(turn: Turn, *, admin: bool) -> list[Building]:
    """The buildings the caller heads, and (for notices) every building of their communities."""
    roles = (Role.BUILDING_HEAD, Role.ADMIN) if admin else (Role.BUILDING_HEAD,)
    return await turn.reach(*roles).building_list(turn.session)


async def _names(turn: Speaker, building_ids: Sequence[int]) -> str:
    return ", ".join([await building_name(turn, b) for b in building_ids])


# --- notices -------------------------------------------------------------------------------


@command("notice", N_("send a notice to your building's residents"), Role.BUILDING_HEAD, Role.ADMIN)
async def notice(turn: Turn) -> None:
    buildings = await _my_buildings(turn, admin=turn.has(Role.ADMIN))
    if len(buildings) == 1:
        await turn.start(FLOW, N_TEXT, buildings=[buildings[0].id])
        return
    await turn.start(FLOW, N_BUILDINGS, buildings=[])


async def ask_notice_buildings(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("buildings", []))
    buttons = [
        turn.option(("☑ " if b.id in chosen else "☐ ") + b.name, str(b.id))
        for b in await _my_buildings(turn, admin=turn.has(Role.ADMIN))
    ]
    turn.say(
        t("Which buildings is the notice for? Tap to choose, then Next."),
        [*rows(buttons, 3), (turn.option(t.raw("Next ➡"), "next"),), turn.nav(back=False)],
    )


async def answer_notice_buildings(turn: Turn) -> None:
    chosen: list[int] = list(turn.data.get("buildings", []))
    if turn.value == "next":
        if not chosen:
            turn.say(turn.t("Choose at least one building."))
            return
        await turn.goto(N_TEXT)
        return
    mine = {b.id for b in await _my_buildings(turn, admin=turn.has(Role.ADMIN))}
    if turn.value is None or not turn.value.isdecimal() or int(turn.value) not in mine:
        turn.say(turn.t("Please choose with the buttons."))
        return
    building_id = int(turn.value)
    chosen = (
        [b for b in chosen if b != building_id] if building_id in chosen else [*chosen, building_id]
    )
    turn.remember(buildings=sorted(chosen))
    await turn.ask()


async def ask_notice_text(turn: Turn) -> None:
    turn.say(
        turn.t(
            'Type the notice for {buildings}. Every resident will get it with an "I\'ve read it" button.',
            buildings=await _names(turn, turn.data["buildings"]),
        ),
        [turn.nav(back=len(turn.data.get("_back", [])) > 0)],
    )


async def answer_notice_text(turn: Turn) -> None:
    text = text_input(turn, limit=MAX_NOTICE, what=N_("the notice"))
    if text is not None:
        turn.remember(text=text)
        await turn.goto(N_CONFIRM)


async def ask_notice_confirm(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "To {buildings}:\n\n{text}\n\nSend it?",
            buildings=await _names(turn, turn.data["buildings"]),
            text=turn.data["text"],
        ),
        [(turn.option(t.raw("📨 Send"), "send"),), turn.nav()],
    )


async def answer_notice_confirm(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value != "send":
        turn.say(turn.t("Please choose with the buttons."))
        return
    sent = await send_notice(turn.session, turn.person, turn.data["buildings"], turn.data["text"])
    turn.end()
    people = await audience(turn.session, sent)
    for person_id in people:
        await _tell_notice(turn, person_id, sent, reminder=False)
    turn.say(turn.t.plural("Sent to {n} resident.", "Sent to {n} residents.", len(people)))


async def _tell_notice(turn: Speaker, person_id: int, sent: Notice, *, reminder: bool) -> None:
    author = await turn.session.get(Person, sent.sender_id)
    author_name = author.name if author else "?"

    def build(t: Translator) -> Reply:
        heading = (
            t("🔔 A reminder, from {sender}:", sender=author_name)
            if reminder
            else t("📢 A notice from {sender}:", sender=author_name)
        )
        return Reply(
            heading + "\n\n" + escape(sent.text),
            ((action_button(t.raw("👍 I've read it"), "notice_read", sent.id),),),
        )

    await turn.tell(person_id, build)


@action("notice_read")
async def notice_read(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    await mark_read(turn.session, turn.person, button_number(args))
    turn.say(turn.t("Thank you!"))


@command("notices", N_("your recent notices and who has read them"), Role.BUILDING_HEAD, Role.ADMIN)
async def notices(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    sent = await notices_sent_by(turn.session, turn.person)
    if not sent:
        turn.say(t("You have sent no notices yet. /notice sends one."))
        return
    for item in sent:
        read, total = await read_counts(turn.session, turn.person, item.id)
        buttons: list[tuple[Button, ...]] = []
        if read < total:
            buttons.append((turn.action(t.raw("🔔 Remind the others"), "notice_remind", item.id),))
        turn.say(
            t(
                "{when} · {buildings}\n{text}\n<b>Read: {read} / {total}</b>",
                when=t.when(item.created_at),
                buildings=await _names(turn, await notice_buildings(turn.session, item.id)),
                text=_short(item.text),
                read=t.number(read),
                total=t.number(total),
            ),
            buttons,
        )


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@action("notice_remind")
async def notice_remind(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    sent = await get_notice(turn.session, button_number(args))
    people = await unread_people(turn.session, turn.person, sent.id)
    for person_id in people:
        await _tell_notice(turn, person_id, sent, reminder=True)
    turn.say(
        turn.t.plural(
            "Reminded {n} resident who has not read it.",
            "Reminded {n} residents who have not read it.",
            len(people),
        )
    )


# --- disputes ------------------------------------------------------------------------------


@command("dispute", N_("log a small dispute between neighbours"), Role.BUILDING_HEAD)
async def dispute(turn: Turn) -> None:
    buildings = turn.scopes(Role.BUILDING_HEAD)
    if len(buildings) == 1:
        await turn.start(FLOW, D_PARTIES, building_id=buildings[0])
        return
    await turn.start(FLOW, D_BUILDING)


async def ask_dispute_building(turn: Turn) -> None:
    buttons = [turn.option(b.name, str(b.id)) for b in await _my_buildings(turn, admin=False)]
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


# --- key people: visits --------------------------------------------------------------------


@command("visits", N_("neighbours to visit regularly"), Role.BUILDING_HEAD)
async def visits(turn: Turn) -> None:
    await turn.start(FLOW, V_LIST)


def visited_button(t: Translator, plan: VisitPlan) -> Button:
    return action_button(t.raw("✅ Visited"), "visited", plan.id, int(plan.next_due_at.timestamp()))


async def ask_visits(turn: Turn) -> None:
    t = turn.t
    plans = await visit_plans(turn.session, turn.scopes(Role.BUILDING_HEAD))
    if not plans:
        turn.say(t("No units are flagged for regular visits yet."))
    for plan in plans:
        turn.say(
            t(
                "<b>{unit}</b> · {building} · {reason}\nEvery {every} days; next visit {when}",
                unit=plan.unit,
                building=await building_name(turn, plan.building_id),
                reason=plan.reason,
                every=plan.every_days,
                when=t.when(plan.next_due_at),
            ),
            [(visited_button(t, plan),)],
        )
    turn.say(
        t("Flag a unit that needs regular visits (an elderly neighbour living alone, say)?"),
        [(turn.option(t.raw("➕ Flag a unit"), "add"),), turn.nav(back=False)],
    )


async def answer_visits(turn: Turn) -> None:
    if turn.value != "add":
        turn.say(turn.t("Please choose with the buttons."))
        return
    buildings = turn.scopes(Role.BUILDING_HEAD)
    if len(buildings) == 1:
        turn.remember(building_id=buildings[0])
        await turn.goto(V_UNIT)
        return
    await turn.goto(V_BUILDING)


async def ask_visit_building(turn: Turn) -> None:
    buttons = [turn.option(b.name, str(b.id)) for b in await _my_buildings(turn, admin=False)]
    turn.say(turn.t("In which building?"), [*rows(buttons, 3), turn.nav()])


async def answer_visit_building(turn: Turn) -> None:
    if (
        turn.value is None
        or not turn.value.isdecimal()
        or int(turn.value) not in turn.scopes(Role.BUILDING_HEAD)
    ):
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(building_id=int(turn.value))
    await turn.goto(V_UNIT)


async def ask_visit_unit(turn: Turn) -> None:
    turn.say(turn.t("Which unit (flat)?"), [turn.nav()])


async def answer_visit_unit(turn: Turn) -> None:
    unit = text_input(turn, limit=MAX_UNIT, what=N_("the unit"))
    if unit is not None:
        turn.remember(unit=unit)
        await turn.goto(V_REASON)


async def ask_visit_reason(turn: Turn) -> None:
    turn.say(turn.t("Why do they need visits? (for example: lives alone, 86)"), [turn.nav()])


async def answer_visit_reason(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_REASON, what=N_("the reason"))
    if reason is not None:
        turn.remember(reason=reason)
        await turn.goto(V_EVERY)


async def ask_visit_every(turn: Turn) -> None:
    t = turn.t
    buttons = [
        turn.option(t.plural("Every {n} day", "Every {n} days", n), str(n)) for n in EVERY_DAYS
    ]
    turn.say(t("How often?"), [tuple(buttons), turn.nav()])


async def answer_visit_every(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value is None or not turn.value.isdecimal() or int(turn.value) not in EVERY_DAYS:
        turn.say(turn.t("Please choose with the buttons."))
        return
    plan = await flag_visits(
        turn.session,
        turn.person,
        turn.data["building_id"],
        turn.data["unit"],
        turn.data["reason"],
        int(turn.value),
    )
    turn.end()
    turn.say(
        turn.t(
            "{unit} is flagged. I will remind you of the first visit on {when}.",
            unit=plan.unit,
            when=turn.t.when(plan.next_due_at),
        )
    )


@action("visited")
async def visited(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    plan_id = button_number(args)
    due = None
    if len(args) > 1 and args[1].isdecimal():
        due = dt.datetime.fromtimestamp(int(args[1]), dt.UTC)
    visit = await record_visit(turn.session, turn.person, plan_id, due=due)
    plan = await turn.session.get(VisitPlan, visit.plan_id)
    assert plan is not None
    turn.say(
        turn.t(
            "Thank you! The visit to {unit} is recorded; the next is due {when}.",
            unit=plan.unit,
            when=turn.t.when(plan.next_due_at),
        )
    )


@reminder_kind("visit.due")
async def _visit_due(speaker: Speaker, reminder: Reminder) -> None:
    plan = await due_plan(speaker.session, reminder)
    if plan is None:
        return  # visited already, or no longer planned
    heads: list[int | None] = [
        *await holders_at(speaker.session, Role.BUILDING_HEAD, plan.building_id)
    ] or [reminder.target_person_id]
    building = await building_name(speaker, plan.building_id)
    for head_id in dict.fromkeys(heads):
        if head_id is None:
            continue
        await speaker.tell(
            head_id,
            lambda t: Reply(
                t(
                    "Time to visit {unit} in {building} ({reason}).",
                    unit=plan.unit,
                    building=building,
                    reason=plan.reason,
                ),
                ((visited_button(t, plan),),),
            ),
        )


FLOW = register_flow(
    Flow(
        "neighbourhood",
        {
            N_BUILDINGS: Step(ask_notice_buildings, answer_notice_buildings),
            N_TEXT: Step(ask_notice_text, answer_notice_text),
            N_CONFIRM: Step(ask_notice_confirm, answer_notice_confirm),
            D_BUILDING: Step(ask_dispute_building, answer_dispute_building),
            D_PARTIES: Step(ask_dispute_parties, answer_dispute_parties),
            D_WHAT: Step(ask_dispute_what, answer_dispute_what),
            D_OUTCOME: Step(ask_dispute_outcome, answer_dispute_outcome),
            D_SETTLE: Step(ask_dispute_settle, answer_dispute_settle),
            V_LIST: Step(ask_visits, answer_visits),
            V_BUILDING: Step(ask_visit_building, answer_visit_building),
            V_UNIT: Step(ask_visit_unit, answer_visit_unit),
            V_REASON: Step(ask_visit_reason, answer_visit_reason),
            V_EVERY: Step(ask_visit_every, answer_visit_every),
        },
    )
)

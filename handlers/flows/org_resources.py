"""A resource on the supply list: an organisation's (its contact or an admin) or a member's own.

What is offered, the kinds of wishes it covers, how often, on which days and hours, and where.
"""

from __future__ import annotations

from handlers.flows.common import button_number, categories, category_name, rows, text_input
from handlers.flows.organisations import FLOW, SKIP, WEEKDAY_NAMES, WHERE_NAMES, resource_text
from handlers.router import action, command
from handlers.turn import Step, Turn, add_steps
from models.errors import N_, NotAllowed
from models.organisations import get_organisation
from models.people import Role
from models.reach import communities_run
from models.resources import MAX_CAPACITY, ResourceWhere, add_resource

SERVICE = "service"
COVERS = "covers"
CAPACITY = "capacity"
WEEKDAYS = "weekdays"
HOURS = "hours"
WHERE = "where"

DONE = "done"


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


add_steps(
    FLOW,
    {
        SERVICE: Step(ask_service, answer_service),
        COVERS: Step(ask_covers, answer_covers),
        CAPACITY: Step(ask_capacity, answer_capacity),
        WEEKDAYS: Step(ask_weekdays, answer_weekdays),
        HOURS: Step(ask_hours, answer_hours),
        WHERE: Step(ask_where, answer_where),
    },
)

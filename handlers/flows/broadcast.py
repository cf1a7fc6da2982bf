"""/broadcast: an admin's message to a building, a grid, everyone with a role, or the community.

The audience, the place, the text, then the count to confirm; the outbox sends it at its pace.
"""

from __future__ import annotations

from handlers.flows.admin import FLOW, rest_of_command, role_name
from handlers.flows.common import rows, text_input
from handlers.flows.grant import grant_places
from handlers.router import command
from handlers.turn import Step, Turn, add_steps
from models.broadcasts import (
    BUILDING,
    COMMUNITY,
    GRID,
    MAX_TEXT,
    ROLES,
    count_recipients,
    start_broadcast,
)
from models.errors import N_
from models.people import Role

BROADCAST_AUDIENCE = "broadcast_audience"
BROADCAST_PLACE = "broadcast_place"
BROADCAST_TEXT = "broadcast_text"
BROADCAST_CONFIRM = "broadcast_confirm"

MAX_BROADCAST = MAX_TEXT  # the store's limit
ROLE_AUDIENCE = "role"
AUDIENCE_LABELS = {
    COMMUNITY: N_("🏘 The whole community"),
    GRID: N_("🧭 A grid"),
    BUILDING: N_("🏠 A building"),
    ROLE_AUDIENCE: N_("👥 Everyone with a role"),
}


@command(
    "broadcast", N_("send a message to a building, a grid, a role or the community"), Role.ADMIN
)
async def broadcast(turn: Turn) -> None:
    text = rest_of_command(turn, 0)
    if len(text) > MAX_BROADCAST:
        turn.say(
            turn.t(
                "That is too long (at most {limit} characters). Please shorten it.",
                limit=MAX_BROADCAST,
            )
        )
        return
    await turn.start(FLOW, BROADCAST_AUDIENCE, text=text)


async def ask_broadcast_audience(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), kind) for kind, label in AUDIENCE_LABELS.items()]
    turn.say(t("Who should read it?"), [*rows(buttons, 2), turn.nav(back=False)])


async def answer_broadcast_audience(turn: Turn) -> None:
    kind = turn.value or ""
    if kind not in AUDIENCE_LABELS:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    turn.remember(kind=kind)
    places = await broadcast_places(turn, kind)
    if len(places) == 1:  # one community: nothing to choose
        await broadcast_to(turn, *places[0])
        return
    await turn.goto(BROADCAST_PLACE)


async def broadcast_places(turn: Turn, kind: str) -> list[tuple[str, str]]:
    """(value, label) of every place or role of this kind in the caller's communities."""
    if kind == ROLE_AUDIENCE:
        communities = await grant_places(turn, Role.ADMIN)
        return [
            (
                f"{role.value}:{community_id}",
                role_name(turn.t, role) + (f" · {name}" if len(communities) > 1 else ""),
            )
            for community_id, name in communities
            for role in ROLES
        ]
    role = {COMMUNITY: Role.ADMIN, GRID: Role.GRID_WORKER, BUILDING: Role.BUILDING_HEAD}[kind]
    return [(str(place_id), name) for place_id, name in await grant_places(turn, role)]


async def ask_broadcast_place(turn: Turn) -> None:
    t = turn.t
    places = await broadcast_places(turn, turn.data["kind"])
    buttons = [turn.option(label, value) for value, label in places]
    turn.say(t("Who should read it?"), [*rows(buttons, 3), turn.nav()])


async def answer_broadcast_place(turn: Turn) -> None:
    places = dict(await broadcast_places(turn, turn.data["kind"]))
    if turn.value not in places:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    await broadcast_to(turn, turn.value, places[turn.value])


async def broadcast_to(turn: Turn, value: str, label: str) -> None:
    if turn.data["kind"] == ROLE_AUDIENCE:
        role, _, community_id = value.partition(":")
        turn.remember(audience=role, scope_id=int(community_id), place=label)
    else:
        turn.remember(audience=turn.data["kind"], scope_id=int(value), place=label)
    await turn.goto(BROADCAST_CONFIRM if turn.data.get("text") else BROADCAST_TEXT)


async def ask_broadcast_text(turn: Turn) -> None:
    turn.say(turn.t("What should they read? Type the message."), [turn.nav()])


async def answer_broadcast_text(turn: Turn) -> None:
    text = text_input(turn, limit=MAX_BROADCAST, what=N_("the message"))
    if text is None:
        return
    turn.remember(text=text)
    await turn.goto(BROADCAST_CONFIRM)


async def broadcast_count(turn: Turn) -> int:
    assert turn.person is not None
    return await count_recipients(
        turn.session, turn.person, turn.data["audience"], turn.data["scope_id"]
    )


async def ask_broadcast_confirm(turn: Turn) -> None:
    t = turn.t
    count = await broadcast_count(turn)
    to = t("To: {place}", place=turn.data["place"])
    if count == 0:
        turn.say(to + "\n" + t("Nobody there can be reached by the bot."), [turn.nav()])
        return
    turn.say(
        to
        + "\n"
        + t.plural(
            "This goes to one person:\n\n{text}",
            "This goes to {n} people:\n\n{text}",
            count,
            text=turn.data["text"],
        ),
        [(turn.option(t.raw("📢 Send"), "send"),), turn.nav()],
    )


async def answer_broadcast_confirm(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value != "send":
        turn.say(turn.t("Please press Send, or Cancel."))
        return
    count = await broadcast_count(turn)
    data = turn.data
    await start_broadcast(
        turn.session, turn.person, data["audience"], data["scope_id"], data["text"]
    )
    turn.end()
    # The outbox sends it at the platform's pace; the runtime reports half way and at the end.
    turn.say(
        turn.t.plural(
            "Sending to one person; you will get a report.",
            "Sending to {n} people; you will get a report.",
            count,
        )
    )


add_steps(
    FLOW,
    {
        BROADCAST_AUDIENCE: Step(ask_broadcast_audience, answer_broadcast_audience),
        BROADCAST_PLACE: Step(ask_broadcast_place, answer_broadcast_place),
        BROADCAST_TEXT: Step(ask_broadcast_text, answer_broadcast_text),
        BROADCAST_CONFIRM: Step(ask_broadcast_confirm, answer_broadcast_confirm),
    },
)

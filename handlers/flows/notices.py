"""Notices: /notice sends one to a building's residents with 👍 I've read it; /notices counts.

Steps notice_buildings, notice_text, notice_confirm; 🔔 Remind the others tells who has not read.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.flows.common import building_name, button_number, rows, text_input
from handlers.flows.neighbourhood import FLOW, my_buildings
from handlers.i18n import Translator, escape
from handlers.messages import Button, Reply
from handlers.router import action, command
from handlers.turn import Speaker, Step, Turn, action_button, add_steps
from models.errors import N_
from models.notice_reads import (
    MAX_NOTICE,
    audience,
    get_notice,
    mark_read,
    notice_buildings,
    notices_sent_by,
    read_counts,
    send_notice,
    unread_people,
)
from models.notices import Notice
from models.people import Person, Role

# /notice
N_BUILDINGS = "notice_buildings"
N_TEXT = "notice_text"
N_CONFIRM = "notice_confirm"


async def _names(turn: Speaker, building_ids: Sequence[int]) -> str:
    return ", ".join([await building_name(turn, b) for b in building_ids])


@command("notice", N_("send a notice to your building's residents"), Role.BUILDING_HEAD, Role.ADMIN)
async def notice(turn: Turn) -> None:
    buildings = await my_buildings(turn, admin=turn.has(Role.ADMIN))
    if len(buildings) == 1:
        await turn.start(FLOW, N_TEXT, buildings=[buildings[0].id])
        return
    await turn.start(FLOW, N_BUILDINGS, buildings=[])


async def ask_notice_buildings(turn: Turn) -> None:
    t = turn.t
    chosen = set(turn.data.get("buildings", []))
    buttons = [
        turn.option(("☑ " if b.id in chosen else "☐ ") + b.name, str(b.id))
        for b in await my_buildings(turn, admin=turn.has(Role.ADMIN))
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
    mine = {b.id for b in await my_buildings(turn, admin=turn.has(Role.ADMIN))}
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


add_steps(
    FLOW,
    {
        N_BUILDINGS: Step(ask_notice_buildings, answer_notice_buildings),
        N_TEXT: Step(ask_notice_text, answer_notice_text),
        N_CONFIRM: Step(ask_notice_confirm, answer_notice_confirm),
    },
)

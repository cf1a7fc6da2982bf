"""The contact relay: a member who took a wish and the person who asked write to each other
through the bot, names only, never numbers, until the wish ends; see relay.md.

Each message goes to the other side's chats through the outbox, with a button to reply.
"""

from __future__ import annotations

from handlers.flows.common import button_number, text_input
from handlers.i18n import Translator
from handlers.messages import Button, Reply
from handlers.router import action, refusal_text
from handlers.turn import Flow, Step, Turn, action_button, register_flow
from models.errors import N_, StoreError
from models.relay import MAX_MESSAGE, Relay, relay_for
from models.wishes import Urgency, Wish

RELAY_TEXT = "relay_text"


def relay_button(
    t: Translator, wish: Wish, *, to_helper: bool, written_by: int | None = None
) -> tuple[Button, ...]:
    """The row under a wish card that starts a message to the other side. Under a passed-on
    message it also names who wrote it, so that erasing them finds their words (RELAYED_BY)."""
    label = t.raw("✉️ Message the helper") if to_helper else t.raw("✉️ Message the resident")
    extra = () if written_by is None else (written_by,)
    return (action_button(label, "relay", wish.id, *extra),)


@action("relay")
async def start_relay(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    relay = await relay_for(turn.session, turn.person, button_number(args))
    await turn.start(FLOW, RELAY_TEXT, wish_id=relay.wish.id, code=relay.wish.code)


async def ask_text(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    relay = await _relay_or_end(turn)
    if relay is None:
        return
    turn.say(
        t(
            "Type your message about wish {code} for {names}. It is passed on with your name "
            "only, never your phone number.",
            code=turn.data["code"],
            names=", ".join(relay.names) or "—",
        ),
        [turn.nav(back=False)],
    )


async def answer_text(turn: Turn) -> None:
    assert turn.person is not None
    text = text_input(turn, limit=MAX_MESSAGE, what=N_("your message"))
    if text is None:
        return
    relay = await _relay_or_end(turn)
    if relay is None:
        return
    sender, writer = turn.person.name, turn.person.id
    wish = relay.wish

    def build(t: Translator) -> Reply:
        return Reply(
            t(
                "✉️ {name} writes about wish {code}:\n{text}",
                name=sender,
                code=wish.code,
                text=text,
            ),
            (relay_button(t, wish, to_helper=relay.from_helper, written_by=writer),),
        )

    for person_id in relay.to:
        await turn.tell(person_id, build, urgent=wish.urgency == Urgency.URGENT)
    turn.end()
    turn.say(
        turn.t("Passed on to {names}.", names=", ".join(relay.names) or "—"),
        [relay_button(turn.t, wish, to_helper=not relay.from_helper)],
    )


async def _relay_or_end(turn: Turn) -> Relay | None:
    """The relay, if it is still open; otherwise the conversation ends with the wish's state."""
    assert turn.person is not None
    try:
        return await relay_for(turn.session, turn.person, turn.data["wish_id"])
    except StoreError as refused:
        turn.end()
        turn.say(refusal_text(turn.t, refused))
        return None


FLOW = register_flow(Flow("relay", {RELAY_TEXT: Step(ask_text, answer_text)}))

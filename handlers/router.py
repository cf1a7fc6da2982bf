"""The way every incoming message goes: command, step button, action button, or step input.

A refusal from the store rolls back this turn's changes and answers in the person's language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.messages import Incoming, Outgoing
from handlers.turn import (
    ACTION_PREFIX,
    BACK,
    QUIT,
    STEP_PREFIX,
    Config,
    Turn,
    keyboard_open,
    typed_answer,
)
from models.conversations import conversation_for
from models.directory import person_and_grants
from models.errors import N_, InvalidInput, NotFound, StoreError
from models.people import Role
from models.text import is_unbounded_number, kept_text, quiet_text

log = logging.getLogger("wishbot.router")

MAX_TEXT = 2000
# "a:cmd:<name>": a button that runs a command as if it had been typed (the main menu).
COMMAND_ACTION = "cmd"
Handler = Callable[[Turn], Awaitable[None]]
ActionHandler = Callable[[Turn, list[str]], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    run: Handler
    summary: str  # a msgid, shown by /help
    roles: frozenset[Role] | None = None  # None: anyone registered
    registered: bool = True


COMMANDS: dict[str, Command] = {}
ACTIONS: dict[str, ActionHandler] = {}


def command(
    name: str, summary: str, *roles: Role, registered: bool = True
) -> Callable[[Handler], Handler]:
    def register(run: Handler) -> Handler:
        assert name not in COMMANDS, f"/{name} is registered twice"
        COMMANDS[name] = Command(name, run, summary, frozenset(roles) or None, registered)
        return run

    return register


def action(name: str) -> Callable[[ActionHandler], ActionHandler]:
    def register(run: ActionHandler) -> ActionHandler:
        assert name not in ACTIONS, f"action {name} is registered twice"
        ACTIONS[name] = run
        return run

    return register


def allowed(cmd: Command, roles: Collection[Role], *, registered: bool) -> bool:
    """Whether someone (registered or not) with these roles may use the command."""
    if cmd.registered and not registered:
        return False
    return cmd.roles is None or any(role in cmd.roles for role in roles)


def may_use(turn: Turn, cmd: Command) -> bool:
    return allowed(cmd, {g.role for g in turn.grants}, registered=turn.person is not None)


async def handle(session: AsyncSession, incoming: Incoming, config: Config) -> list[Outgoing]:
    """Handle one message inside the caller's transaction; return what to send."""
    import handlers.flows  # noqa: F401  (registers every command, action and flow)

    conversation = await conversation_for(session, incoming.sender.platform, incoming.chat_id)
    sender = incoming.sender
    person, grants = await person_and_grants(session, sender.platform, sender.user_id)
    if person is not None and person.unreachable:
        person.unreachable = False  # they wrote: they can be reached again
    turn = Turn(
        session=session,
        incoming=incoming,
        conversation=conversation,
        person=person,
        config=config,
        grants=grants,
    )
    keyboard_shown = keyboard_open(conversation)
    try:
        turn.incoming = cleaned(incoming)
        async with session.begin_nested():
            await _dispatch(turn)
    except StoreError as refused:
        # The savepoint is gone: the conversation and the store are as before this message.
        await session.refresh(conversation)
        turn.replies.clear()
        if turn.answering and not isinstance(refused, InvalidInput) and conversation.flow:
            # Refused for a reason typing again cannot change (the wish moved on, not
            # allowed): the conversation ends here, and the next message is a fresh one.
            turn.end()
        turn.say(refusal_text(turn.t, refused))
    if keyboard_shown and not keyboard_open(conversation):
        _take_keyboard_away(turn)
    return turn.replies


def _take_keyboard_away(turn: Turn) -> None:
    """The question with a keyboard is answered: the first reply to the chat removes it."""
    own = [
        i
        for i, o in enumerate(turn.replies)
        if o.chat_id == turn.incoming.chat_id and not o.reply.ask_phone
    ]
    # A message may carry one markup: prefer one without buttons of its own.
    plain = [i for i in own if not turn.replies[i].reply.buttons]
    for index in (plain or own)[:1]:
        item = turn.replies[index]
        turn.replies[index] = replace(item, reply=replace(item.reply, remove_keyboard=True))


def cleaned(incoming: Incoming) -> Incoming:
    """What a person sent, as the store may keep it: the one place their text comes in.

    Text with NUL or a lone surrogate is refused, other control characters are dropped; a button
    carrying such a character or a number no id could be is an old or forged button.
    """
    button = incoming.button
    if button is not None and (
        quiet_text(button) != button or any(is_unbounded_number(p) for p in button.split(":"))
    ):
        raise NotFound(N_("That button does not work any more."))
    sender = incoming.sender
    return replace(
        incoming,
        sender=replace(sender, name=quiet_text(sender.name), user_id=quiet_text(sender.user_id)),
        chat_id=quiet_text(incoming.chat_id),
        text=None if incoming.text is None else kept_text(incoming.text),
        command=None if incoming.command is None else kept_text(incoming.command),
        args=tuple(a for a in (kept_text(arg) for arg in incoming.args) if a),
        phone=None if incoming.phone is None else kept_text(incoming.phone),
        photo=None if incoming.photo is None else quiet_text(incoming.photo),
        document=None if incoming.document is None else quiet_text(incoming.document),
        document_name=None if incoming.document_name is None else kept_text(incoming.document_name),
    )


async def _dispatch(turn: Turn) -> None:
    incoming = turn.incoming
    t = turn.t
    if incoming.command is not None:
        cmd = COMMANDS.get(incoming.command)
        if cmd is None:
            turn.say(
                t(
                    "I don't know the command /{name}. /help lists what you can do.",
                    name=incoming.command,
                )
            )
            return
        if cmd.registered and turn.person is None:
            turn.say(t("Please send /start first, so I know who you are."))
            return
        if not may_use(turn, cmd):
            turn.say(
                t("Sorry, /{name} is not for you. /help lists what you can do.", name=cmd.name)
            )
            return
        if turn.conversation.flow and cmd.name != "help":
            turn.end()  # a new command leaves the conversation that was going on
        await cmd.run(turn)
        return

    if incoming.button is not None:
        await _button(turn, incoming.button)
        return

    pressed = typed_answer(turn.conversation, incoming.text)
    if pressed is not None:
        await _button(turn, pressed)
        return
    flow = turn.flow
    if flow is not None and turn.conversation.step in flow.steps:
        if incoming.text is not None and len(incoming.text) > MAX_TEXT:
            turn.say(
                t(
                    "That message is too long (at most {limit} characters). Please shorten it.",
                    limit=MAX_TEXT,
                )
            )
            return
        turn.answering = True
        await flow.steps[turn.conversation.step].answer(turn)
        return
    if incoming.unsupported is not None or incoming.photo is not None or incoming.document:
        turn.say(t("I can't do anything with that here. /help lists what you can do."))
    else:
        turn.say(t("I didn't understand that. /help lists what you can do."))


async def _button(turn: Turn, data: str) -> None:
    try:
        await _press(turn, data)
    except (ValueError, OverflowError) as error:
        # Our own buttons carry well-formed values: this one was forged or garbled.
        log.warning("a button with a malformed value: %s", type(error).__name__)
        raise NotFound(N_("That button does not work any more.")) from None


async def _press(turn: Turn, data: str) -> None:
    t = turn.t
    prefix, _, rest = data.partition(":")
    if prefix == STEP_PREFIX:
        token, _, value = rest.partition(":")
        flow = turn.flow
        if flow is None or token != turn.conversation.token:
            turn.say(t("That button belongs to an earlier question."))
            await turn.ask()  # show where we are now
            return
        if value == BACK:
            await turn.back()
            return
        if value == QUIT:
            turn.end()
            turn.say(t("Stopped. Nothing was saved."))
            return
        turn.value = value
        step = turn.conversation.step
        if step in flow.steps:
            turn.answering = True
            await flow.steps[step].answer(turn)
        return
    if prefix == ACTION_PREFIX and rest.startswith(COMMAND_ACTION + ":"):
        # A menu button: the command runs as if typed, with the same checks.
        name = rest.split(":")[1]
        turn.incoming = replace(turn.incoming, button=None, command=name, args=())
        await _dispatch(turn)
        return
    if prefix == ACTION_PREFIX and turn.person is not None:
        name, *args = rest.split(":")
        run = ACTIONS.get(name)
        if run is not None:
            await run(turn, args)
            return
    log.info("unknown button pressed")
    turn.say(t("That button does not work any more."))


def refusal_text(t: Translator, refused: StoreError) -> str:
    """What the store refused, in the person's words (the HTML subset, values escaped)."""
    return t(refused.key, **_readable(t, refused.params))


def _readable(t: Translator, params: dict[str, object]) -> dict[str, object]:
    """Store errors name states and roles by their codes; say them in the person's words."""
    names = {"status": STATUS_NAMES, "role": ROLE_NAMES}
    readable: dict[str, object] = {}
    for key, value in params.items():
        if key in names and str(value) in names[key]:
            readable[key] = t.raw(names[key][str(value)])
        elif key == "what":  # a phrase the store marked for translation
            readable[key] = t.raw(str(value))
        else:
            readable[key] = value
    return readable


ROLE_NAMES = {
    "resident": N_("resident"),
    "building_head": N_("building head"),
    "member": N_("member"),
    "grid_worker": N_("grid worker"),
    "admin": N_("community admin"),
    "street_admin": N_("street admin"),
    "partner": N_("partner"),
}

STATUS_NAMES = {
    "submitted": N_("waiting for the building head"),
    "open": N_("looking for a helper"),
    "accepted": N_("a helper is on it"),
    "done": N_("done, waiting for confirmation"),
    "closed": N_("closed"),
    "rejected": N_("rejected"),
    "cancelled": N_("cancelled"),
    "escalated": N_("passed on to the office"),
}

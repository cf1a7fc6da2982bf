"""One turn of a conversation: the incoming message, the person, their language, the replies.

Flows are named steps (ask, then answer); buttons carry the step token to catch stale presses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator, pick_locale
from handlers.i18n import translator as translator_for
from handlers.messages import Button, Document, Incoming, Outgoing, Reply
from models.clock import now
from models.conversations import Conversation, new_token
from models.directory import has_chat
from models.people import Person, Role, RoleGrant
from models.reach import Reach, grants_of, reach_of

# Button data: "c:<token>:<value>" belongs to the conversation's current step;
# "a:<action>:<args>" is an action that stands on its own (verify W-1, accept W-2 ...).
STEP_PREFIX = "c"
ACTION_PREFIX = "a"
BACK = "back"
QUIT = "quit"
TYPED = "_typed"  # the labels a keyboard question accepts as typed text


FetchFile = Callable[[str, str], Awaitable[bytes]]


@dataclass(frozen=True)
class Config:
    """What handlers need from the settings."""

    default_locale: str
    timezone: ZoneInfo
    bot_username: str | None = None  # for t.me deep links, once Telegram has told us
    web_url: str = "http://127.0.0.1:8080"  # where the web chat answers, for sign-in links
    # The bytes of a file a person sent: (platform, reference) -> content; the adapters'.
    fetch_file: FetchFile | None = None
    # Where a building invite's QR poster opens (a platform that scans into a chat: WeChat),
    # the invite code appended; None when no such platform is served.
    poster_url: str | None = None


@dataclass(frozen=True)
class Step:
    ask: Callable[[Turn], Awaitable[None]]
    answer: Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True)
class Flow:
    name: str
    steps: dict[str, Step]


FLOWS: dict[str, Flow] = {}


def register_flow(flow: Flow) -> Flow:
    FLOWS[flow.name] = flow
    return flow


def add_steps(flow: Flow, steps: dict[str, Step]) -> None:
    """A room's steps join a conversation that several modules share (its name and step
    names are stored in open chats, so they stay as they were); no step is added twice."""
    taken = steps.keys() & flow.steps.keys()
    assert not taken, f"steps {sorted(taken)} of {flow.name} are added twice"
    flow.steps.update(steps)


@dataclass(kw_only=True)
class Speaker:
    """Who speaks to people: a turn answering someone, or the scheduler on its own."""

    session: AsyncSession
    config: Config
    person: Person | None = None  # the one who acted; they are not told of their own act
    replies: list[Outgoing] = field(default_factory=list)

    async def tell(
        self, person_id: int, build: Callable[[Translator], Reply], *, urgent: bool = False
    ) -> None:
        """Tell another person, in their own language, on every platform they use."""
        person = await self.session.get(Person, person_id)
        if person is None or person.unreachable:
            return
        if not await has_chat(self.session, person_id):
            return  # someone the building head speaks for: the head tells them
        translator = translator_for(
            pick_locale(person.locale, default=self.config.default_locale), self.config.timezone
        )
        self.replies.append(Outgoing(build(translator), person_id=person_id, urgent=urgent))


@dataclass(kw_only=True)
class Turn(Speaker):
    incoming: Incoming
    conversation: Conversation
    grants: Sequence[RoleGrant] = ()
    # The value of a pressed step button, once the router has checked its token.
    value: str | None = None
    # True while the conversation's step answers this message: a refusal then ends it.
    answering: bool = False
    # While a picker is redrawn, what is said replaces the message whose button was pressed.
    _in_place: bool = False

    # --- language -------------------------------------------------------------------------

    @property
    def locale(self) -> str:
        return pick_locale(
            self.person.locale if self.person else None,
            self.conversation.locale,
            self.incoming.sender.language,
            default=self.config.default_locale,
        )

    @property
    def t(self) -> Translator:
        return translator_for(self.locale, self.config.timezone)

    # --- who -----------------------------------------------------------------------------

    def has(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    def scopes(self, role: Role) -> list[int]:
        return [g.scope_id for g in self.grants if g.role == role]

    def reach(self, *roles: Role) -> Reach:
        """The buildings the caller reaches in these roles (models/reach.py decides)."""
        return reach_of(self.grants, *roles)

    async def reload_grants(self) -> None:
        self.grants = await grants_of(self.session, self.person) if self.person else ()

    # --- conversation state -----------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    def remember(self, **values: Any) -> None:
        # A new dict, so the JSON column sees the change.
        self.conversation.data = {**self.conversation.data, **values}

    @property
    def flow(self) -> Flow | None:
        return FLOWS.get(self.conversation.flow or "")

    async def start(self, flow: Flow, step: str, **data: Any) -> None:
        self.conversation.flow = flow.name
        self.conversation.data = dict(data)
        await self.goto(step, remember_back=False)

    async def goto(self, step: str, *, remember_back: bool = True) -> None:
        """Move to a step and ask its question; the previous step is kept for Back."""
        history = list(self.data.get("_back", []))
        if remember_back and self.conversation.step and self.conversation.step != step:
            history.append(self.conversation.step)
        self.remember(_back=history)
        self.conversation.step = step
        self.conversation.token = new_token()
        self.conversation.updated_at = now(self.session)
        await self.ask()

    async def back(self) -> None:
        history = list(self.data.get("_back", []))
        if not history:
            await self.ask()
            return
        step = history.pop()
        self.remember(_back=history)
        self.conversation.step = step
        self.conversation.token = new_token()
        await self.ask()

    async def ask(self) -> None:
        flow = self.flow
        if flow is not None and self.conversation.step in flow.steps:
            await flow.steps[self.conversation.step].ask(self)

    async def redraw(self) -> None:
        """Ask the same step again in the message whose button was pressed (a picker's
        keyboard updated in place, not a new copy of it)."""
        self._in_place = self.incoming.pressed_message is not None
        try:
            await self.ask()
        finally:
            self._in_place = False

    def end(self) -> None:
        self.conversation.flow = None
        self.conversation.step = None
        self.conversation.data = {}
        self.conversation.token = new_token()
        self.conversation.updated_at = now(self.session)

    # --- replies ----------------------------------------------------------------------------

    def option(self, label: str, value: str) -> Button:
        """A button answering the current step."""
        return Button(label, f"{STEP_PREFIX}:{self.conversation.token}:{value}")

    def action(self, label: str, name: str, *args: object) -> Button:
        """A button that works on its own, whatever the conversation (checked by the store)."""
        return action_button(label, name, *args)

    def nav(self, back: bool = True) -> tuple[Button, ...]:
        """The way back and the way out, under every question."""
        row = [self.option(self.t.raw("« Back"), BACK)] if back else []
        row.append(self.option(self.t.raw("✖ Cancel"), QUIT))
        return tuple(row)

    def say(
        self,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        photo: str | None = None,
        document: Document | None = None,
        ask_phone: str | None = None,
        card: str | None = None,
        qr: str | None = None,
    ) -> None:
        reply = Reply(
            text=text,
            buttons=tuple(tuple(row) for row in buttons if row),
            photo=photo,
            document=document,
            ask_phone=ask_phone,
            card=card,
            edit_message=self.incoming.pressed_message if self._in_place else None,
            qr=qr,
        )
        if ask_phone:
            # A platform may offer these choices as keyboard buttons that send their label:
            # the label then answers as the button would (see typed_answer).
            labels = {b.label: b.data for row in reply.buttons for b in row}
            self.remember(**{TYPED: {"step": self.conversation.step, "labels": labels}})
        self._in_place = False  # one message is redrawn; anything more comes anew
        self.replies.append(
            Outgoing(reply, platform=self.incoming.sender.platform, chat_id=self.incoming.chat_id)
        )


def typed_answer(conversation: Conversation, text: str | None) -> str | None:
    """The button a typed label stands for, in the conversation that showed the keyboard.

    A label of an earlier step's keyboard gives that step's button: it is then refused as old.
    """
    typed = conversation.data.get(TYPED)
    if text is None or not typed:
        return None
    found = typed["labels"].get(text)
    return found if isinstance(found, str) else None


def keyboard_open(conversation: Conversation) -> bool:
    """Whether the chat's last question showed a platform keyboard that is still wanted."""
    typed = conversation.data.get(TYPED)
    return bool(conversation.flow and typed and typed.get("step") == conversation.step)


def action_button(label: str, name: str, *args: object) -> Button:
    return Button(label, ":".join([ACTION_PREFIX, name, *(str(a) for a in args)]))


def local_time(moment: dt.datetime | None, translator: Translator) -> str:
    return translator.when(moment)

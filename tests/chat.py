"""People chatting with the handlers through the neutral message type, no platform at all.

Each Chat sends Incoming messages through the router in its own transaction and keeps
what came back; notifications for a person land in that person's Chat.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.messages import Button, Incoming, Menu, Outgoing, Reply, Sender
from handlers.router import handle
from handlers.turn import Config
from models.directory import link_identity
from models.people import Identity, Person

CONFIG = Config(default_locale="en", timezone=ZoneInfo("Asia/Shanghai"))
_ids = itertools.count(5000)


@dataclass
class Chat:
    world: World
    name: str
    language: str | None
    user_id: str = field(default_factory=lambda: str(next(_ids)))
    received: list[Reply] = field(default_factory=list)
    # The chat's menu each time it changed (a menu-only reply is no message to read).
    menus: list[Menu] = field(default_factory=list)

    @property
    def last(self) -> Reply:
        assert self.received, f"{self.name} received nothing"
        return self.received[-1]

    def receive(self, reply: Reply) -> None:
        """A new message; or an edit of a card this chat got (then the card reads anew, with
        the new buttons), as a platform that edits shows it. A menu-only reply changes the
        chat's menu and is no message to read."""
        if reply.menu is not None and not reply.text:
            self.menus.append(reply.menu)
            return
        if reply.edit_card is None:
            self.received.append(reply)
            return
        for index in range(len(self.received) - 1, -1, -1):
            if self.received[index].card == reply.edit_card:
                self.received[index] = replace(reply, card=reply.edit_card, edit_card=None)
                return

    def texts(self) -> list[str]:
        return [r.text for r in self.received]

    async def send(self, text: str) -> list[Reply]:
        if text.startswith("/"):
            name, *args = text[1:].split()
            return await self.deliver(command=name.lower(), args=tuple(args), text=text)
        return await self.deliver(text=text)

    async def press(self, label: str) -> list[Reply]:
        """Press the newest button whose label contains the given text."""
        return await self.deliver(button=self.button(label).data)

    def button(self, label: str) -> Button:
        for reply in reversed(self.received):
            for row in reply.buttons:
                for button in row:
                    if label in button.label:
                        return button
        raise AssertionError(f"{self.name} has no button {label!r}")

    async def deliver(self, **fields: object) -> list[Reply]:
        incoming = Incoming(
            sender=Sender("test", self.user_id, self.name, self.language),
            chat_id=self.user_id,
            **fields,  # type: ignore[arg-type]
        )
        return await self.world.handle(self, incoming)


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    chats: dict[str, Chat] = field(default_factory=dict)
    config: Config = CONFIG

    def chat(self, name: str, language: str | None = "en") -> Chat:
        chat = Chat(self, name, language)
        self.chats[chat.user_id] = chat
        return chat

    async def as_person(self, person: Person, language: str | None = "en") -> Chat:
        """A chat that the store knows as this person's (their identity on the test platform)."""
        chat = self.chat(person.name, language)
        async with self.sessions.begin() as s:
            await link_identity(s, person, "test", chat.user_id)
        return chat

    async def handle(self, chat: Chat, incoming: Incoming) -> list[Reply]:
        async with self.sessions.begin() as session:
            outgoing = await handle(session, incoming, self.config)
            mine = [
                o.reply
                for o in outgoing
                if o.chat_id == chat.user_id and o.reply.text and not o.is_edit
            ]
            for item in outgoing:
                await self._route(session, chat, item)
        return mine

    async def _route(self, session: AsyncSession, sender: Chat, item: Outgoing) -> None:
        if item.chat_id is not None:
            self.chats[item.chat_id].receive(item.reply)
            return
        users = (
            await session.scalars(
                select(Identity.external_id).where(
                    Identity.person_id == item.person_id, Identity.platform == "test"
                )
            )
        ).all()
        for user_id in users:
            if user_id in self.chats:
                self.chats[user_id].receive(item.reply)


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, 23, hour, tzinfo=ZoneInfo("Asia/Shanghai"))

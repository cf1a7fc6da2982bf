"""The small platform-neutral message type: what a person sent, and what the bot answers.

Adapters (bot/telegram.py, the web chat) translate to and from these; handlers see nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_FILE = 5 * 1024 * 1024  # the largest file a person may send the bot to read


class FileUnavailable(Exception):
    """A sent file could not be fetched: gone, too large, or the platform unreachable."""


@dataclass(frozen=True)
class Sender:
    platform: str
    user_id: str
    name: str
    language: str | None = None  # the platform's hint, e.g. "zh-hans"


@dataclass(frozen=True)
class Incoming:
    sender: Sender
    chat_id: str
    text: str | None = None
    command: str | None = None  # without the slash, lower case
    args: tuple[str, ...] = ()
    button: str | None = None  # a pressed button's data
    photo: str | None = None  # the platform's file reference
    document: str | None = (
        None  # a sent file: the platform's reference (Config.fetch_file reads it)
    )
    document_name: str | None = None  # the file's name as sent
    phone: str | None = None  # a shared contact
    location: tuple[float, float] | None = None
    unsupported: str | None = None  # what it was, when it is nothing we read (a sticker...)
    # The platform's reference of the message whose button was pressed (Telegram: message_id).
    pressed_message: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Menu:
    """A person's menu in one chat: every command they may use (name, what it does), and their
    main jobs as buttons. Telegram sets it as the chat's command list; the web draws a bar."""

    commands: tuple[tuple[str, str], ...]
    jobs: tuple[Button, ...]


@dataclass(frozen=True)
class Reply:
    """Text in the small HTML subset (b, i, code); every value put into it is escaped."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: str | None = None
    document: Document | None = None
    ask_phone: str | None = None  # the label of the platform's "share my phone" button
    menu: Menu | None = None  # with no text: only the chat's menu changes
    # The chat showed a keyboard for an earlier question: this answer takes it away.
    remove_keyboard: bool = False
    # A card: the key a later reply uses to edit this message in each chat it went to.
    card: str | None = None
    # This reply replaces an earlier message (its text and buttons) instead of coming anew:
    # a card, by key (nothing is sent if it cannot be edited), or a pressed message (a picker
    # redrawn; sent anew if it cannot be edited).
    edit_card: str | None = None
    edit_message: str | None = None
    # A short text (a reward's collection code) the platform may also draw as a QR code.
    qr: str | None = None

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
        }
        if self.photo:
            payload["photo"] = self.photo
        if self.document:
            payload["document"] = {
                "filename": self.document.filename,
                "content": self.document.content.hex(),
            }
        if self.ask_phone:
            payload["ask_phone"] = self.ask_phone
        if self.menu:
            payload["menu"] = {
                "commands": [list(c) for c in self.menu.commands],
                "jobs": [[b.label, b.data] for b in self.menu.jobs],
            }
        if self.remove_keyboard:
            payload["remove_keyboard"] = True
        for key in ("card", "edit_card", "edit_message", "qr"):
            if getattr(self, key):
                payload[key] = getattr(self, key)
        return payload

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Reply:
        document = payload.get("document")
        menu = payload.get("menu")
        return cls(
            text=payload["text"],
            buttons=tuple(
                tuple(Button(label, data) for label, data in row) for row in payload["buttons"]
            ),
            photo=payload.get("photo"),
            document=Document(document["filename"], bytes.fromhex(document["content"]))
            if document
            else None,
            ask_phone=payload.get("ask_phone"),
            menu=Menu(
                tuple((name, about) for name, about in menu["commands"]),
                tuple(Button(label, data) for label, data in menu["jobs"]),
            )
            if menu
            else None,
            remove_keyboard=bool(payload.get("remove_keyboard")),
            card=payload.get("card"),
            edit_card=payload.get("edit_card"),
            edit_message=payload.get("edit_message"),
            qr=payload.get("qr"),
        )


@dataclass(frozen=True)
class Outgoing:
    """A reply bound for a chat: the sender's own, or every chat of another person."""

    reply: Reply
    platform: str | None = None
    chat_id: str | None = None
    person_id: int | None = None
    # Urgent news goes out in quiet hours too; other news to a person waits for the morning.
    urgent: bool = False

    @property
    def is_edit(self) -> bool:
        return bool(self.reply.edit_card or self.reply.edit_message)

"""A Telegram update in the neutral form: which chat it belongs to, and what the person sent.

Only reading: the adapter (bot/telegram.py) stores updates and sends replies.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from handlers.messages import Incoming, Sender

PLATFORM = "telegram"


def chat_key(update: dict[str, Any]) -> str:
    """Which chat an update belongs to, so that one chat's updates keep their order."""
    message = update.get("message") or update.get("edited_message")
    if message:
        return f"{PLATFORM}:{message['chat']['id']}"
    query = update.get("callback_query")
    if query:
        chat = (query.get("message") or {}).get("chat") or query["from"]
        return f"{PLATFORM}:{chat['id']}"
    return f"{PLATFORM}:update"


def to_incoming(update: Update) -> Incoming | None:
    """The neutral form of an update; None for kinds we do not handle (edits, joins...)."""
    if update.callback_query is not None:
        query = update.callback_query
        user = query.from_user
        chat = query.message.chat.id if query.message else user.id
        return Incoming(
            sender=_sender(user),
            chat_id=str(chat),
            button=query.data or "",
            pressed_message=str(query.message.message_id) if query.message else None,
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    sender = _sender(message.from_user)
    chat_id = str(message.chat.id)
    if message.text is not None:
        entity = message.entities[0] if message.entities else None
        if entity is not None and entity.type == "bot_command" and entity.offset == 0:
            name = message.text[1 : entity.length].split("@")[0].lower()
            args = tuple(message.text[entity.length :].split())
            return Incoming(sender, chat_id, text=message.text, command=name, args=args)
        return Incoming(sender, chat_id, text=message.text)
    if message.photo:
        return Incoming(sender, chat_id, photo=message.photo[-1].file_id, text=message.caption)
    if message.document is not None:
        return Incoming(
            sender,
            chat_id,
            document=message.document.file_id,
            document_name=message.document.file_name or "",
            text=message.caption,
        )
    if message.contact is not None:
        own = message.contact.user_id in (None, message.from_user.id)
        return Incoming(
            sender,
            chat_id,
            phone=message.contact.phone_number if own else None,
            unsupported=None if own else "contact",
        )
    if message.location is not None:
        return Incoming(
            sender, chat_id, location=(message.location.latitude, message.location.longitude)
        )
    kind = next(
        (
            k
            for k in ("sticker", "voice", "video", "document", "animation", "audio")
            if getattr(message, k, None)
        ),
        "message",
    )
    return Incoming(sender, chat_id, unsupported=kind)


def _sender(user: Any) -> Sender:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Sender(PLATFORM, str(user.id), name, user.language_code)

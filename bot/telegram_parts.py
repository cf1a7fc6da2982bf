"""The Bot API calls one reply takes, in order: its texts cut to Telegram's length, a photo by
Telegram's id or uploaded, a document, the keyboards, the chat's command menu."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.photo_store import PhotoStore
from bot.telegram_text import MAX_CAPTION, cut_text, visible_length
from handlers.messages import Reply
from models.photos import stored_photo_id

log = logging.getLogger("wishbot.telegram")

# One Bot API call, made when awaited (and made again on a retry).
Part = Callable[[], Awaitable[object]]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard under its message (none without buttons)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


def reply_parts(bot: Bot, photos: PhotoStore | None, chat_id: int, reply: Reply) -> list[Part]:
    """The Bot API calls one reply takes, in order; each is sent (and retried) on its own."""
    if reply.menu is not None:
        # The chat's own command list (the "/" menu): what this person may use.
        commands = [BotCommand(name, about[:256]) for name, about in reply.menu.commands]
        menu = _call(bot.set_my_commands, commands[:100], scope=BotCommandScopeChat(chat_id))
        if not reply.text:
            return [menu]
        return [menu, *reply_parts(bot, photos, chat_id, dataclasses.replace(reply, menu=None))]
    markup = keyboard(reply)
    html_mode = ParseMode.HTML
    if reply.ask_phone:
        # One message: a message has one keyboard, so the choices join the contact button
        # as keyboard buttons that send their label (the handlers take it as the press).
        contact = ReplyKeyboardMarkup(
            [
                [KeyboardButton(reply.ask_phone, request_contact=True)],
                *([KeyboardButton(b.label) for b in row] for row in reply.buttons),
            ],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
        return [
            _call(
                bot.send_message,
                chat_id,
                reply.text,
                parse_mode=html_mode,
                reply_markup=contact,
            )
        ]
    if reply.remove_keyboard and reply.photo is None and not reply.document:
        return _keyboard_removed(bot, chat_id, reply.text, markup)
    fits_caption = visible_length(reply.text) <= MAX_CAPTION
    if reply.document is not None:
        document = _call(
            bot.send_document,
            chat_id,
            reply.document.content,
            filename=reply.document.filename,
            caption=reply.text if fits_caption else None,
            parse_mode=html_mode,
            reply_markup=markup,
        )
        return (
            [document] if fits_caption else [document, *_text_parts(bot, chat_id, reply.text, None)]
        )
    if reply.photo is not None and fits_caption:
        return [_photo(bot, photos, chat_id, reply.photo, reply.text, markup)]
    photo = (
        [_photo(bot, photos, chat_id, reply.photo, None, None)] if reply.photo is not None else []
    )
    return photo + _text_parts(bot, chat_id, reply.text, markup)


def _photo(
    bot: Bot,
    store: PhotoStore | None,
    chat_id: int,
    reference: str,
    caption: str | None,
    markup: InlineKeyboardMarkup | None,
) -> Part:
    """Send a photo: a Telegram file id as it is; a stored photo by the id Telegram gave
    it, or else uploaded (and its new id remembered). One erased meanwhile, or one Telegram
    refuses (its size or shape), goes as its text alone: the card matters more."""

    async def send() -> object:
        try:
            return await photo()
        except BadRequest as refused:
            log.warning("Telegram refused a photo: %s", refused.message)
            if caption is None:
                return None
            return await bot.send_message(
                chat_id, caption, parse_mode=ParseMode.HTML, reply_markup=markup
            )

    async def photo() -> object:
        def with_photo(photo: str | InputFile) -> Awaitable[object]:
            return bot.send_photo(
                chat_id, photo, caption=caption, parse_mode=ParseMode.HTML, reply_markup=markup
            )

        if stored_photo_id(reference) is None:
            return await with_photo(reference)
        kept, telegram_id = (
            await store.telegram_file(reference) if store is not None else (False, None)
        )
        if telegram_id:
            try:
                return await with_photo(telegram_id)
            except BadRequest:
                pass  # an id this bot cannot use (another bot's token): upload the bytes
        stored = await store.read(reference) if store is not None and kept else None
        if stored is None:
            if caption is None:
                return None
            return await bot.send_message(
                chat_id, caption, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        sent = await with_photo(InputFile(stored.content, filename="photo"))
        sizes = getattr(sent, "photo", None)
        if store is not None and sizes:
            try:
                await store.remember(reference, sizes[-1].file_id)
            except Exception as error:  # it went; the next send uploads it again
                log.warning("Telegram's id for a photo was not kept: %s", type(error).__name__)
        return sent

    return send


def _keyboard_removed(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> list[Part]:
    """A text that takes the reply keyboard away. A message carries one keyboard, so when
    the text has buttons too they are added to that same message by an edit."""
    if markup is None:
        return _text_parts(bot, chat_id, text, ReplyKeyboardRemove())
    chunks = cut_text(text)
    if len(chunks) > 1:  # several messages anyway: the first removes, the last has buttons
        first = _call(
            bot.send_message,
            chat_id,
            chunks[0],
            parse_mode=ParseMode.HTML,
            reply_markup=ReplyKeyboardRemove(),
        )
        return [first, *_text_parts(bot, chat_id, "\n".join(chunks[1:]), markup)]
    sent: list[Message] = []

    async def the_text() -> object:
        sent.append(
            await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove()
            )
        )
        return sent[-1]

    async def its_buttons() -> object:
        if sent:
            return await bot.edit_message_reply_markup(
                chat_id, sent[-1].message_id, reply_markup=markup
            )
        # A retry after the text went (its id went with the failed try): the buttons
        # come in a message of their own rather than the text twice.
        return await bot.send_message(chat_id, "⬇️", reply_markup=markup)

    return [the_text, its_buttons]


def _text_parts(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | ReplyKeyboardRemove | None
) -> list[Part]:
    chunks = cut_text(text)
    return [
        _call(
            bot.send_message,
            chat_id,
            chunk,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if index == len(chunks) - 1 else None,
        )
        for index, chunk in enumerate(chunks)
    ]


def _call(method: Callable[..., Awaitable[object]], *args: Any, **kwargs: Any) -> Part:
    """One Bot API call, made when awaited (and again on a retry)."""

    def make() -> Awaitable[object]:
        return method(*args, **kwargs)

    return make

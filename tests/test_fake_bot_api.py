"""The fake Bot API server, driven by the real python-telegram-bot Bot and Application.

Proves that PTB parses its answers and that it enforces the rules the real Bot API enforces.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fake_bot_api import Call, FakeBotApi, Limits, Violation, parse_html

ALICE = 1001


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as real_bot:
        yield real_bot


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs]
    )


def sent(method: str, chat_id: int) -> Callable[[Call], bool]:
    def predicate(call: Call) -> bool:
        return call.method == method and call.params.get("chat_id") == chat_id

    return predicate


# -- basics ------------------------------------------------------------------------------------


async def test_get_me_and_send_message_with_keyboard(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice", language_code="zh-hans")

    message = await bot.send_message(ALICE, "Pick one", reply_markup=keyboard(("Yes", "y")))

    assert bot.username == "small_wishes_test_bot"
    assert [call.method for call in server.calls] == ["getMe", "sendMessage"]
    call = server.calls[1]
    assert call.params["chat_id"] == ALICE
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]
    }
    assert call.ok
    assert message.message_id == 1
    assert message.chat.id == ALICE and message.chat.first_name == "Alice"
    assert message.from_user is not None and message.from_user.is_bot
    assert message.reply_markup == keyboard(("Yes", "y"))
    last = server.last_message(ALICE)
    assert last is not None
    assert last.text == "Pick one"
    assert last.buttons == [[("Yes", "y")]]
    assert server.violations == []


async def test_message_ids_increase_per_chat(server: FakeBotApi, bot: Bot) -> None:
    alice, bob = server.user(ALICE, "Alice"), server.user(1002, "Bob")
    alice.send("hello")
    first = await bot.send_message(ALICE, "one")
    second = await bot.send_message(ALICE, "two")
    other = await bot.send_message(bob.id, "one")
    assert (first.message_id, second.message_id, other.message_id) == (2, 3, 1)
    assert [m.text for m in server.sent_to(ALICE)] == ["one", "two"]


async def test_reply_keyboard_is_recorded_but_not_echoed(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    markup = ReplyKeyboardMarkup([["Building 1", "Building 2"], ["Cancel"]])
    message = await bot.send_message(ALICE, "Which building?", reply_markup=markup)
    assert message.reply_markup is None
    last = server.last_message(ALICE)
    assert last is not None
    assert last.keyboard == [["Building 1", "Building 2"], ["Cancel"]]


async def test_json_form_and_query_encodings(server: FakeBotApi) -> None:
    server.user(ALICE, "Alice")
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    url = f"{server.base_url}{server.token}/sendMessage"
    async with ClientSession() as session:
        async with session.post(
            url, json={"chat_id": ALICE, "text": "json", "reply_markup": markup}
        ) as response:
            assert response.status == 200
        form = {"chat_id": str(ALICE), "text": "123", "reply_markup": '{"inline_keyboard": []}'}
        async with session.post(url, data=form) as response:
            assert response.status == 200
        async with session.get(url, params={"chat_id": str(ALICE), "text": "query"}) as response:
            assert (await response.json())["result"]["text"] == "query"
    texts = [m.text for m in server.sent_to(ALICE)]
    assert texts == ["json", "123", "query"]  # a numeric text stays a string
    assert server.sent_to(ALICE)[0].buttons == [[("Go", "go")]]


# -- updates -------------------------------------------------------------------------------------


async def test_get_updates_returns_scripted_message_with_command_entity(
    server: FakeBotApi, bot: Bot
) -> None:
    alice = server.user(ALICE, "Alice", language_code="zh-hans")
    alice.send("/start hello")

    updates = await bot.get_updates()

    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start hello"
    assert message.chat.id == ALICE and message.chat.type == "private"
    assert message.from_user is not None and message.from_user.language_code == "zh-hans"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.parse_entities() == {message.entities[0]: "/start"}


async def test_offset_confirms_and_drops_updates(server: FakeBotApi, bot: Bot) -> None:
    alice = server.user(ALICE, "Alice")
    for text in ("one", "two", "three"):
        alice.send(text)

    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    again = await bot.get_updates(offset=first[1].update_id)
    assert [u.update_id for u in again] == [first[1].update_id, first[2].update_id]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in again]
    assert await bot.get_updates(offset=first[2].update_id + 1) == ()
    assert server.pending_updates() == []
    alice.send("four")
    (latest,) = await bot.get_updates()
    assert latest.update_id == first[2].update_id + 1


async def test_get_updates_limit(server: FakeBotApi, bot: Bot) -> None:
    alice = server.user(ALICE, "Alice")
    for text in ("a", "b", "c"):
        alice.send(text)
    assert len(await bot.get_updates(limit=2)) == 2


async def test_long_poll_wakes_up_on_a_new_update(server: FakeBotApi, bot: Bot) -> None:
    alice = server.user(ALICE, "Alice")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda call: call.method == "getUpdates", answered=False)
    alice.send("wake up")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert time.monotonic() - started < 4


async def test_long_poll_times_out_empty(server: FakeBotApi, bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == ()


async def test_other_user_actions(server: FakeBotApi, bot: Bot) -> None:
    alice = server.user(ALICE, "Alice")
    alice.send_photo(file_id="PHOTO-1", caption="broken light")
    alice.send_sticker()
    alice.send_contact("+86 138 0000 0000")
    alice.send_location(31.23, 121.47)
    alice.send_document(b"a,b\n", "list.csv", "text/csv")
    server.add_update({"my_chat_member": _my_chat_member(ALICE)})

    photo, sticker, contact, location, document, member = await bot.get_updates()

    assert photo.message is not None and photo.message.photo[-1].file_id == "PHOTO-1"
    assert photo.message.caption == "broken light"
    assert sticker.message is not None and sticker.message.sticker is not None
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == ALICE
    assert location.message is not None and location.message.location is not None
    assert location.message.location.latitude == pytest.approx(31.23)
    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "list.csv"
    assert member.my_chat_member is not None
    file = await bot.get_file("PHOTO-1")
    assert (await file.download_as_bytearray()).startswith(b"\xff\xd8")
    doc = await document.message.document.get_file()
    assert await doc.download_as_bytearray() == b"a,b\n"


def _my_chat_member(chat_id: int) -> dict[str, object]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Alice"}
    bot_user = {"id": 123456, "is_bot": True, "first_name": "Small Wishes"}
    return {
        "chat": {"id": chat_id, "type": "private", "first_name": "Alice"},
        "from": user,
        "date": 0,
        "old_chat_member": {"status": "member", "user": bot_user},
        "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0},
    }


# -- callback queries ----------------------------------------------------------------------------


async def test_press_answer_and_answer_twice(server: FakeBotApi, bot: Bot) -> None:
    alice = server.user(ALICE, "Alice")
    await bot.send_message(ALICE, "Accept?", reply_markup=keyboard(("Yes", "yes"), ("No", "no")))
    await bot.send_message(ALICE, "Later")
    query_id = alice.press("yes")

    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id
    assert query.data == "yes"
    assert query.message is not None and query.message.message_id == 1
    assert server.unanswered_callbacks() == [query_id]
    assert await query.answer("Thanks") is True
    assert server.unanswered_callbacks() == []

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    assert [v.method for v in server.violations] == ["answerCallbackQuery"] * 2
    with pytest.raises(LookupError):
        alice.press("maybe")
    forged = alice.press_forged("admin:grant:1001")
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query is not None and update.callback_query.id == forged
    assert update.callback_query.data == "admin:grant:1001"


async def test_edit_and_delete(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    message = await bot.send_message(ALICE, "Wish #1: open", reply_markup=keyboard(("Take", "t")))
    edited = await bot.edit_message_text("Wish #1: taken", chat_id=ALICE, message_id=1)
    assert isinstance(edited, type(message)) and edited.edit_date is not None
    last = server.last_message(ALICE)
    assert last is not None and last.text == "Wish #1: taken" and last.buttons == [] and last.edited

    await bot.edit_message_reply_markup(ALICE, 1, reply_markup=keyboard(("Done", "d")))
    last = server.last_message(ALICE)
    assert last is not None and last.buttons == [[("Done", "d")]]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Wish #1: taken", chat_id=ALICE, message_id=1, reply_markup=keyboard(("Done", "d"))
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=99)

    assert await bot.delete_message(ALICE, 1) is True
    assert server.sent_to(ALICE) == []
    assert len(server.sent_to(ALICE, include_deleted=True)) == 1
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ALICE, 1)


# -- rule checks ---------------------------------------------------------------------------------


async def test_callback_data_over_64_bytes_is_rejected(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    data = "é" * 33  # 33 characters, 66 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "Pick", reply_markup=keyboard(("Go", data)))
    assert server.violations == [Violation("sendMessage", "Bad Request: BUTTON_DATA_INVALID")]
    assert server.sent_to(ALICE) == []
    await bot.send_message(ALICE, "Pick", reply_markup=keyboard(("Go", "é" * 32)))
    assert len(server.violations) == 1


async def test_button_without_text_is_rejected(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(ALICE, "Pick", reply_markup=keyboard(("", "x")))
    assert len(server.violations) == 1


async def test_text_length_limits(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    await bot.send_message(ALICE, "x" * 4096)
    await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert server.violations == []
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ALICE, "   ")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(ALICE, b"\xff\xd8 fake", caption="c" * 1025)
    assert [v.method for v in server.violations] == ["sendMessage", "sendMessage", "sendPhoto"]


@pytest.mark.parametrize(
    "text",
    ["<div>hi</div>", "<b>unclosed", "<b><i>crossed</b></i>", "a </b> b", "<br/>", "x < y"],
)
async def test_bad_html_is_rejected(server: FakeBotApi, bot: Bot, text: str) -> None:
    server.user(ALICE, "Alice")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ALICE, text, parse_mode=ParseMode.HTML)
    assert len(server.violations) == 1


async def test_good_html_becomes_text_and_entities(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    message = await bot.send_message(
        ALICE,
        '<b>Wish</b> &amp; <a href="https://example.org">link</a> '
        "<tg-spoiler>1 &lt; 2</tg-spoiler>",
        parse_mode=ParseMode.HTML,
    )
    assert message.text == "Wish & link 1 < 2"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 4),
        ("text_link", 7, 4),
        ("spoiler", 12, 5),
    ]
    assert message.entities[1].url == "https://example.org"


def test_parse_html_details() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>😀<i>é</i>')
    assert text == "x = 1😀é"
    assert {"type": "pre", "offset": 0, "length": 5, "language": "python"} in entities
    assert {"type": "italic", "offset": 7, "length": 1} in entities  # 😀 is 2 UTF-16 units


async def test_unknown_chat_is_rejected(server: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello?")
    assert server.violations == [Violation("sendMessage", "Bad Request: chat not found")]


async def test_chat_action_and_commands(server: FakeBotApi, bot: Bot) -> None:
    server.user(ALICE, "Alice")
    assert await bot.send_chat_action(ALICE, "typing") is True
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(ALICE, "dancing")

    commands = [BotCommand("start", "Start"), BotCommand("my", "My wishes")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.set_my_commands([BotCommand("start", "开始")], language_code="zh") is True
    assert list(await bot.get_my_commands()) == commands
    assert list(await bot.get_my_commands(language_code="zh")) == [BotCommand("start", "开始")]
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start!", "Start")])
    assert len(server.violations) == 2


# -- flood limits and blocking -------------------------------------------------------------------


# PTB warns, when building RetryAfter, that retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_surfaces_as_retry_after(bot: Bot, server: FakeBotApi) -> None:
    clock = ManualClock()
    server.clock = clock
    server.limits = Limits(per_chat_per_second=1, global_per_second=30)
    server.user(ALICE, "Alice")
    await bot.send_message(ALICE, "one")
    clock.now += 0.25
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "two")
    assert caught.value.retry_after in (1, dt.timedelta(seconds=1))
    response = server.calls[-1].response
    assert response is not None and response["parameters"] == {"retry_after": 1}
    assert server.calls[-1].status == 429
    clock.now += 1
    await bot.send_message(ALICE, "two")
    assert server.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_global_rate_limit(bot: Bot, server: FakeBotApi) -> None:
    clock = ManualClock()
    server.clock = clock
    server.limits = Limits(per_chat_per_second=None, global_per_second=2)
    for user_id in (1, 2, 3):
        server.user(user_id, f"U{user_id}")
    await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "c")
    clock.now += 1.5
    await bot.send_message(3, "c")


async def test_blocked_chat_is_forbidden(bot: Bot, server: FakeBotApi) -> None:
    server.user(ALICE, "Alice")
    server.blocked.add(ALICE)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ALICE, "hello")
    assert server.sent_to(ALICE) == []
    assert server.violations == []


# -- files ---------------------------------------------------------------------------------------


async def test_upload_document_and_download_it(bot: Bot, server: FakeBotApi) -> None:
    server.user(ALICE, "Alice")
    content = b"PK\x03\x04 a spreadsheet"
    message = await bot.send_document(
        ALICE, content, filename="wishes.xlsx", caption="<b>Export</b>", parse_mode="HTML"
    )
    assert message.document is not None and message.document.file_name == "wishes.xlsx"
    assert message.caption == "Export"
    last = server.last_message(ALICE)
    assert last is not None and last.document_name == "wishes.xlsx"
    assert last.document == message.document.file_id
    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_send_photo_upload_and_by_file_id(bot: Bot, server: FakeBotApi) -> None:
    alice = server.user(ALICE, "Alice")
    uploaded = await bot.send_photo(ALICE, b"\xff\xd8 a photo", caption="Done")
    assert uploaded.photo and uploaded.caption == "Done"
    alice.send_photo(file_id="FROM-ALICE")
    again = await bot.send_photo(ALICE, "FROM-ALICE")
    assert again.photo[-1].file_id == "FROM-ALICE"
    assert [m.photo for m in server.sent_to(ALICE)] == [uploaded.photo[-1].file_id, "FROM-ALICE"]
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(ALICE, "NOT-A-FILE")


# -- webhook -------------------------------------------------------------------------------------


async def test_webhook_delivery_with_secret_and_retry(bot: Bot, server: FakeBotApi) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    answers = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=answers.pop(0))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        port = runner.addresses[0][1]
        alice = server.user(ALICE, "Alice")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict):
            await bot.get_updates()
        alice.send("/start")
        alice.send("second")
        assert (await bot.get_webhook_info()).pending_update_count == 2

        assert await server.deliver_webhook() == 2

        assert [secret for secret, _ in received] == ["s3cret"] * 3
        assert received[0][1] == received[1][1]  # the first update, retried after the 500
        assert [u["message"]["text"] for _, u in received[1:]] == ["/start", "second"]  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500"
        assert await bot.delete_webhook() is True
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()
    assert server.violations == [
        Violation(
            "getUpdates",
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    ]


# -- the whole Application -----------------------------------------------------------------------


async def test_application_answers_start_and_stops_cleanly(server: FakeBotApi) -> None:
    alice = server.user(ALICE, "Alice", language_code="zh-hans")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(
            f"Hello, <b>{update.effective_user.first_name}</b>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(("Make a wish", "wish:new")),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("What do you need?")

    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed, pattern="^wish:"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        alice.send("/start")
        reply = await server.wait_for(sent("sendMessage", ALICE))
        assert reply.ok
        last = server.last_message(ALICE)
        assert last is not None
        assert last.text == "Hello, Alice" and last.buttons == [[("Make a wish", "wish:new")]]

        alice.press("wish:new")
        await server.wait_for(sent("editMessageText", ALICE))
        await app.updater.stop()
        await app.stop()

    assert server.last_message(ALICE) is not None
    assert [m.text for m in server.sent_to(ALICE)] == ["What do you need?"]
    assert server.unanswered_callbacks() == []
    assert server.pending_updates() == []  # the last getUpdates confirmed everything
    assert server.violations == []
    assert not app.running


async def test_wait_for_times_out_with_a_useful_message(server: FakeBotApi) -> None:
    with pytest.raises(TimeoutError, match=r"(?i)no matching call"):
        await server.wait_for(lambda call: call.method == "sendMessage", timeout=0.05)


async def test_errors_are_telegram_errors(server: FakeBotApi) -> None:
    async with Bot(server.token, base_url=server.base_url) as real_bot:
        with pytest.raises(TelegramError):
            await real_bot.do_api_request("fooBar")
    assert server.violations == [Violation("fooBar", "Not Found: method not found")]
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=server.base_url):
            pass

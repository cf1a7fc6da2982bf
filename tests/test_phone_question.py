"""The phone question on Telegram: one message with its keyboard, and the keyboard gone after.

Telegram allows one keyboard per message, so the choices sit on the share-phone keyboard as
buttons that send their label; whatever the answer, the next message removes the keyboard.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.people import Person
from tests.fake_bot_api import SentMessage
from tests.telegram_bot import Person as TelegramUser
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town

LABELS = {
    "en": (
        "English",
        "I live here",
        "No, thanks",
        "« Back",
        "✖ Cancel",
        "📱 Share my phone number",
    ),
    "zh": ("中文", "我住在这里", "不用了", "« 返回", "✖ 取消", "📱 分享我的电话号码"),
}


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


def _markup(bot: TelegramBot, message: SentMessage) -> dict[str, object]:
    """The reply_markup the bot sent with a message (a keyboard, a removal, or nothing)."""
    for call in bot.server.calls_of("sendMessage"):
        result = (call.response or {}).get("result") or {}
        if result.get("message_id") == message.message_id and (
            result.get("chat", {}).get("id") == message.chat_id
        ):
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            return dict(markup or {})
    raise AssertionError(f"no sendMessage call made message {message.message_id}")


async def _to_the_phone_question(user: TelegramUser, language: str) -> list[SentMessage]:
    english, resident, *_ = LABELS[language]
    await user.send("/start")
    await user.press(english)
    await user.press(resident)
    await user.press("Sunflower")
    await user.press("N1")
    return await user.send("5-502")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_phone_question_is_one_message_and_no_thanks_takes_the_keyboard_away(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    language: str,
) -> None:
    _, _, no_thanks, back, cancel, share = LABELS[language]
    async with telegram_bot(_url(app), clock) as bot:
        erin = bot.user(3200, "Erin", "zh-hans" if language == "zh" else "en")
        asked = await _to_the_phone_question(erin, language)

        assert len(asked) == 1, [m.text for m in asked]
        question = asked[0]
        assert "⬇️" not in (question.text or "")
        assert question.keyboard == [[share], [no_thanks], [back, cancel]]
        assert _markup(bot, question)["keyboard"][0][0]["request_contact"] is True  # type: ignore[index]

        # "No, thanks" on the keyboard sends its label as text: it answers the question.
        answered = await erin.send(no_thanks)
        assert len(answered) == 1
        assert "5-502" in (answered[0].text or "")
        assert _markup(bot, answered[0]) == {"remove_keyboard": True}
        # The same message then carries the main jobs' buttons (added by an edit: a message
        # is sent with one keyboard), so nothing comes as a second, empty message.
        assert answered[0].buttons and answered[0].buttons[0][0][1] == "a:cmd:wish"
        assert bot.server.violations == []

    async with sessions() as s:
        person = await s.scalar(select(Person).where(Person.name == "Erin"))
        assert person is not None and person.phone is None and not person.phone_consent


async def test_a_shared_phone_or_cancel_also_takes_the_keyboard_away(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        erin = bot.user(3201, "Erin")
        await _to_the_phone_question(erin, "en")
        erin.user.send_contact("+8613800001111")
        await bot.step()
        assert "5-502" in (erin.last.text or "")
        assert _markup(bot, erin.last) == {"remove_keyboard": True}

        finn = bot.user(3202, "Finn")
        await _to_the_phone_question(finn, "en")
        # Typing something else keeps the question (and its keyboard) open.
        kept = await finn.send("maybe later")
        assert "No, thanks" in (kept[-1].text or "")
        assert "remove_keyboard" not in _markup(bot, kept[-1])
        stopped = await finn.send("✖ Cancel")
        assert "Stopped" in (stopped[-1].text or "")
        assert _markup(bot, stopped[-1]) == {"remove_keyboard": True}
        assert bot.server.violations == []

    async with sessions() as s:
        erin_row = await s.scalar(select(Person).where(Person.name == "Erin"))
        assert erin_row is not None and erin_row.phone_consent
        assert await s.scalar(select(Person).where(Person.name == "Finn")) is None


async def test_a_keyboard_button_of_an_earlier_question_is_refused_as_old(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        gus = bot.user(3203, "Gus")
        await _to_the_phone_question(gus, "en")
        back = await gus.send("« Back")
        assert "Which unit" in (back[-1].text or "")
        # The keyboard of the phone question may still be reachable: its "No, thanks" is not
        # taken as the unit, it is an old button.
        stale = await gus.send("No, thanks")
        assert "earlier question" in (stale[0].text or "")
        assert "Which unit" in (stale[-1].text or "")
        await gus.send("7-707")
        finished = await gus.press("No, thanks")
        assert "7-707" in (finished[-1].text or "")
        assert bot.server.violations == []

    async with sessions() as s:
        person = await s.scalar(select(Person).where(Person.name == "Gus"))
        assert person is not None and person.unit == "7-707"

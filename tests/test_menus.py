"""Every role's main job one tap away, over Telegram through the real PTB and the fake Bot API.

The chat's own command list follows the person's roles; /start and /help offer the main jobs
as buttons; a building head lists what waits for them; the verify card says who asks, where.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from models.clock import ManualClock
from models.directory import link_identity
from models.people import Person
from models.wish_asking import submit_wish
from models.wishes import Wish, WishStatus
from tests.telegram_bot import Person as TelegramPerson
from tests.telegram_bot import TelegramBot, telegram_bot
from tests.town import Town
from tests.wishes import wish_in


def _url(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


async def _on_telegram(
    sessions: async_sessionmaker[AsyncSession], *people: tuple[Person, int]
) -> None:
    async with sessions.begin() as s:
        for person, user_id in people:
            found = await s.get(Person, person.id)
            assert found is not None
            found.locale = "en"
            await link_identity(s, found, "telegram", str(user_id))


def chat_commands(bot: TelegramBot, who: TelegramPerson) -> list[str]:
    """The command list Telegram shows in this person's chat (set with a chat scope)."""
    for (scope, _language), commands in bot.server.commands.items():
        found = json.loads(scope)
        if found.get("type") == "chat" and int(found.get("chat_id", 0)) == who.chat_id:
            return [c["command"] for c in commands]
    return []


def labels(who: TelegramPerson) -> list[str]:
    return [label for row in who.last.buttons for label, _ in row]


async def test_a_granted_and_revoked_role_changes_the_chat_command_list(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, (town.admin, 4201), (town.bob, 4202))
    async with telegram_bot(_url(app), clock) as bot:
        admin = bot.user(4201, "Admin")
        bob = bot.user(4202, "Bob")
        await bob.send("/start")
        before = chat_commands(bot, bob)
        assert {"wish", "my", "help"} <= set(before), before
        assert "pending" not in before and "onbehalf" not in before
        assert before[:2] == ["wish", "my"]  # the main jobs first

        await admin.send("/grant")
        await admin.press("Bob")
        await admin.press("building head")
        await admin.press("N2")
        assert "You are now" in bob.text()
        after = chat_commands(bot, bob)
        assert {"pending", "onbehalf", "wish", "my"} <= set(after), after
        # Only Bob's chat changed: the admin's own list is the admin's.
        assert "wish" not in chat_commands(bot, admin)

        # Taken back, the role's commands leave Bob's chat at once.
        await admin.send("/revoke")
        await admin.send("Bob")
        await admin.press("Bob")
        await admin.press("building head")
        await admin.press("Take it back")
        assert "You are no longer building head" in bob.text()
        revoked = chat_commands(bot, bob)
        assert {"wish", "my"} <= set(revoked), revoked
        assert "pending" not in revoked and "onbehalf" not in revoked
        assert bot.server.violations == []


async def test_approval_sets_a_new_volunteers_command_list(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, (town.admin, 4211), (town.newbie, 4212))
    async with telegram_bot(_url(app), clock) as bot:
        admin = bot.user(4211, "Admin")
        newbie = bot.user(4212, "Newbie")
        assert chat_commands(bot, newbie) == []
        await admin.send("/approve")
        await admin.press("Approve")
        assert "approved" in newbie.text()
        assert {"tasks", "points"} <= set(chat_commands(bot, newbie))
        assert "wish" not in chat_commands(bot, newbie)


async def test_start_and_help_offer_the_main_jobs_as_buttons(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, (town.alice, 4221), (town.fixer, 4222))
    async with telegram_bot(_url(app), clock) as bot:
        alice = bot.user(4221, "Alice")
        await alice.send("/start")
        assert "Welcome back, Alice" in alice.text()
        assert "🙋 Ask for help" in labels(alice) and "📋 My wishes" in labels(alice)
        # Pressing the job starts it, as typing /wish would.
        await alice.press("Ask for help")
        assert "Repairs" in " ".join(labels(alice)), alice.text()

        await alice.send("/help")
        shown = labels(alice)
        assert "🙋 Ask for help" in shown and "📋 My wishes" in shown
        # Every command the list names is a button too; nothing of the office's.
        assert "/mydata" in shown and "/language" in shown
        assert not any("pending" in label or "grant" in label for label in shown)
        await alice.press("/language")
        assert "Which language?" in alice.text()

        # A volunteer's main jobs are their own.
        fixer = bot.user(4222, "Fixer")
        await fixer.send("/start")
        assert "🤝 Tasks" in labels(fixer) and "🙋 Ask for help" not in labels(fixer)
        await fixer.press("Tasks")
        assert "No wish is waiting for a helper" in fixer.text()
        assert bot.server.unanswered_callbacks() == []


async def test_a_newcomer_is_never_asked_to_type_a_command(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with telegram_bot(_url(app), clock) as bot:
        # Before anyone registers, the bot's own list offers what anyone may use, per language.
        default = json.dumps({"type": "default"}, sort_keys=True)
        for language, start in (("", "register, or see where you are"), ("zh", "注册")):
            newcomers = {
                c["command"]: c["description"] for c in bot.server.commands[default, language]
            }
            assert set(newcomers) == {"start", "help", "language"}, newcomers
            assert start in newcomers["start"]
        erin = bot.user(4231, "Erin")
        await erin.send("/start")
        await erin.press("English")
        await erin.press("I live here")
        await erin.press("Sunflower")
        await erin.press("N1")
        await erin.send("7-701")
        await erin.press("No, thanks")
        assert "registered in N1" in erin.text()
        assert {"wish", "my"} <= set(chat_commands(bot, erin))
        await erin.press("Ask for help")
        await erin.press("Repairs")
        assert "Please describe" in erin.text() or "describe" in erin.text().lower()


async def test_a_head_lists_what_waits_for_them_and_only_their_buildings(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    waiting = await wish_in(sessions, town, WishStatus.SUBMITTED)
    under_way = await wish_in(sessions, town, WishStatus.ACCEPTED)
    async with sessions.begin() as s:
        other = await submit_wish(
            s,
            town.bob,
            building_id=town.n2.id,
            category="repair",
            description="Bob's window",
        )
    await _on_telegram(sessions, (town.head_n1, 4241))
    async with telegram_bot(_url(app), clock) as bot:
        head = bot.user(4241, "Head")
        said = await head.send("/pending")
        text = "\n".join(m.text or m.caption or "" for m in said)
        assert "not for you" not in text
        assert waiting.code in text and under_way.code in text
        assert other.code not in text and "Bob" not in text
        card = next(m for m in said if waiting.code in (m.text or m.caption or ""))
        assert "Alice" in (card.text or "") and "unit 101" in (card.text or "")
        await head.press("Verify")
        async with sessions() as s:
            status = await s.scalar(select(Wish.status).where(Wish.id == waiting.id))
        assert status == WishStatus.OPEN


async def test_the_verify_card_shows_the_photo_the_name_and_the_unit(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await _on_telegram(sessions, (town.alice, 4251), (town.head_n1, 4252))
    async with telegram_bot(_url(app), clock) as bot:
        alice = bot.user(4251, "Alice")
        head = bot.user(4252, "Head")
        await alice.send("/wish")
        await alice.press("Repairs")
        await alice.send("The bike shed door is stuck")
        await alice.send_photo("photo-shed")
        await alice.press("Any time")
        await alice.press("Send")
        card = head.last
        assert "from Alice (unit 101)" in (card.caption or card.text or "")
        assert card.photo is not None, "the card came without the photo"
        assert "Verify" in " ".join(label for row in card.buttons for label, _ in row)

        # The reminder re-sends the same card (at 21:00 in the community, before quiet hours).
        clock.advance(dt.timedelta(hours=12))
        await bot.step()
        reminder = head.last
        assert "Reminder" in (reminder.caption or "") and "Alice (unit 101)" in (
            reminder.caption or ""
        )
        assert reminder.photo is not None
        assert bot.server.violations == []

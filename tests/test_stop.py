"""SIGTERM in the middle of a burst of updates: the bot stops taking updates, finishes the one in
hand, sends what is due and exits in time; every update is handled (its answer sent) or still
in the inbox (or still at Telegram), and the next start answers the rest, each once.

The real `wishbot run` process against the fake Bot API server (long polling).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, ask_to_stop, build_app
from bot.settings import load_settings
from handlers.messages import Reply
from models.clock import ManualClock
from models.inbox import InboxUpdate
from models.outbox import MESSAGE, queue_message
from models.reminders import Reminder, ReminderStatus
from tests.databases import fresh_database
from tests.fake_bot_api import FakeBotApi
from tests.telegram_bot import telegram_bot

ROOT = Path(__file__).resolve().parent.parent
BURST = 80


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, asyncio.Task[bytes]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log = ""
    while "is running" not in log:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
        assert line, log
        log += line
    return process, asyncio.create_task(process.stderr.read())


async def handled_at_least(url: str, count: int) -> None:
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
    try:
        deadline = time.monotonic() + 60
        while True:
            async with app.sessions() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(InboxUpdate)
                    .where(InboxUpdate.handled_at.is_not(None))
                )
            if (done or 0) >= count:
                return
            assert time.monotonic() < deadline, "the bot handled nothing"
            await asyncio.sleep(0.01)
    finally:
        await app.close()


@pytest.mark.parametrize(
    ("rate", "stop_seconds"),
    [
        ("1000", "10"),  # Telegram keeps up: every due answer goes out before the exit
        ("1", "2"),  # a slow Telegram: sending stops at the bound, the rest waits in the outbox
    ],
)
async def test_sigterm_mid_burst_leaves_every_update_handled_or_waiting(
    tmp_path: Path, rate: str, stop_seconds: str
) -> None:
    async with fresh_database(tmp_path) as url, FakeBotApi() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
        env.update(
            {
                "WISHBOT_DATABASE_URL": url,
                "WISHBOT_TELEGRAM_TOKEN": server.token,
                "WISHBOT_TELEGRAM_BASE_URL": server.base_url,
                "WISHBOT_SWEEP_SECONDS": "0.2",
                "WISHBOT_WEB_PORT": str(_port()),
                "WISHBOT_STOP_SECONDS": stop_seconds,
                "WISHBOT_TELEGRAM_RATE": rate,
                "WISHBOT_LOCALE": "en",
            }
        )
        process, rest = await start(env)
        try:
            users = [
                server.user(user_id=5000 + n, first_name=f"N{n}", language_code="en")
                for n in range(BURST)
            ]
            half = BURST // 2
            sent = [user.send("/help") for user in users[:half]]
            # The burst is being worked through (ten handled): the rest of it arrives and the
            # stop comes at once, so some of it is surely not handled yet, however fast the
            # bot got through the first half (on a busy machine it may have finished it).
            await handled_at_least(url, 10)
            sent += [user.send("/help") for user in users[half:]]
            process.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
            took = time.monotonic() - asked
            await rest
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        # The bound, plus the send in flight and closing down (on a busy machine).
        assert took < float(stop_seconds) + 10, f"took {took:.1f} s to stop"

        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            async with app.sessions() as session:
                inbox = (await session.scalars(select(InboxUpdate))).all()
                outbox = (
                    await session.scalars(select(Reminder).where(Reminder.kind == MESSAGE))
                ).all()
        finally:
            await app.close()
        kept = {row.update_id: row for row in inbox}
        at_telegram = {u["update_id"] for u in server.pending_updates()}
        # Every update is in the inbox or still at Telegram: none was lost.
        assert set(sent) <= set(kept) | at_telegram
        handled = [row for row in inbox if row.handled_at is not None]
        waiting = [row for row in inbox if row.handled_at is None]
        assert handled and (waiting or at_telegram), "the stop did not land mid-burst"
        assert all(row.error is None for row in handled)
        # A handled update's answer is queued with it: sent (once) or waiting in the outbox.
        # A waiting update has no answer yet. Nothing is half-done.
        answers = {int(row.chat_id or 0): row for row in outbox}
        assert len(answers) == len(outbox)
        checked_at = dt.datetime.now(dt.UTC)
        for row in handled:
            answer = answers[int(row.payload["message"]["chat"]["id"])]
            # Not leased to the stopped process (a row once tried keeps claimed_until, in the
            # past, as the head of its chat's line: models/outbox.py claim_messages).
            assert answer.claimed_until is None or answer.claimed_until <= checked_at
            went = len(server.sent_to(int(answer.chat_id or 0)))
            assert (answer.status, went) in ((ReminderStatus.SENT, 1), (ReminderStatus.PENDING, 0))
        for row in waiting:
            chat = int(row.payload["message"]["chat"]["id"])
            assert chat not in answers and server.sent_to(chat) == []
        unsent = [a for a in outbox if a.status == ReminderStatus.PENDING]
        if rate == "1000":
            assert unsent == []  # every due answer went out
        else:
            assert unsent, "the slow Telegram should have left answers for the next start"

        # The next start (Telegram quick again) answers the rest: everyone once.
        env["WISHBOT_TELEGRAM_RATE"] = "1000"
        process, rest = await start(env)
        try:
            deadline = time.monotonic() + 60
            while any(len(server.sent_to(u.chat_id)) == 0 for u in users):
                assert time.monotonic() < deadline, "the rest was not answered"
                await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
            await rest
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert [len(server.sent_to(u.chat_id)) for u in users] == [1] * BURST
        assert server.violations == []


async def test_after_a_stop_sending_goes_on_until_the_bound_and_no_longer(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    url = app.settings.database_url.render_as_string(hide_password=False)
    async with telegram_bot(url, clock, extra={"WISHBOT_STOP_SECONDS": "10"}) as bot:
        person = bot.user(6001, "Odile")

        async def news(text: str) -> None:
            async with sessions.begin() as session:
                await queue_message(
                    session,
                    platform="telegram",
                    chat_id=str(person.chat_id),
                    payload=Reply(text).to_json(),
                )

        ask_to_stop(bot.app)
        await news("first")
        clock.advance(dt.timedelta(seconds=9))
        assert await bot.runtime.send_outbox() == 1  # within the bound: due news still goes
        await news("second")
        clock.advance(dt.timedelta(seconds=2))
        assert await bot.runtime.send_outbox() == 0  # past it: nothing new starts
        assert [m.text for m in person.inbox()] == ["first"]
        async with sessions() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.status == ReminderStatus.PENDING)
            )
        assert waiting == 1  # the next start sends it

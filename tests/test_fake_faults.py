"""The fake Bot API server's faults, as the real python-telegram-bot Bot meets them.

5xx, a hang past the client's timeout, a cut connection, the n-th call, a long outage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fake_bot_api import FakeBotApi, Fault

ALICE = 1001


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        fake.user(ALICE, "Alice")
        yield fake


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=0.5)
    async with Bot(server.token, base_url=server.base_url, request=request) as real_bot:
        yield real_bot


def texts(server: FakeBotApi) -> list[str | None]:
    return [m.text for m in server.sent_to(ALICE)]


async def test_fail_next_answers_5xx_and_sends_nothing(server: FakeBotApi, bot: Bot) -> None:
    server.fail_next("sendMessage", times=2, kind=503)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Service Unavailable"):
            await bot.send_message(ALICE, "one")
    await bot.send_message(ALICE, "two")
    assert texts(server) == ["two"]
    assert [c.fault for c in server.calls_of("sendMessage")] == ["503", "503", None]


async def test_fail_nth_fails_only_that_call(server: FakeBotApi, bot: Bot) -> None:
    server.fail_nth("sendMessage", 2)
    await bot.send_message(ALICE, "one")
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "two")
    await bot.send_message(ALICE, "three")
    assert texts(server) == ["one", "three"]


async def test_a_hang_outlasts_the_client_and_is_never_carried_out(
    server: FakeBotApi, bot: Bot
) -> None:
    server.fail_next("sendMessage", kind=Fault.HANG)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "lost in the hang")
    call = await server.wait_for(lambda c: c.abandoned, answered=False)
    assert call.fault == "hang" and call.status is None
    await bot.send_message(ALICE, "after")
    assert texts(server) == ["after"]


async def test_a_dropped_connection_is_a_network_error(server: FakeBotApi, bot: Bot) -> None:
    server.fail_next("sendMessage", kind=Fault.DROP)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "dropped")
    await bot.send_message(ALICE, "after")
    assert texts(server) == ["after"]


async def test_an_outage_fails_every_call_until_ended_or_its_time_passes() -> None:
    moment = [0.0]
    async with FakeBotApi(clock=lambda: moment[0]) as server:
        server.user(ALICE, "Alice")
        async with Bot(server.token, base_url=server.base_url) as other:
            outage = server.outage(502, methods=["sendMessage"], until=900)
            for second in (0, 300, 899):
                moment[0] = second
                with pytest.raises(NetworkError, match="Bad Gateway"):
                    await other.send_message(ALICE, f"at {second}")
            assert await other.get_me()  # other methods still answer
            moment[0] = 900
            await other.send_message(ALICE, "back")
            assert outage.played == 3
            ended = server.outage(429)
            with pytest.raises(RetryAfter):
                await other.send_message(ALICE, "slow down")
            ended.end()
            await other.send_message(ALICE, "again")
            assert [m.text for m in server.sent_to(ALICE)] == ["back", "again"]

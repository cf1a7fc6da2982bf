"""The WeChat adapter at its edges: the callback refuses what is not WeChat's (forged, replayed,
malformed) and keeps WeChat's retries once; replies keep WeChat's limits; news outside the
48-hour window goes as a template notification with a one-time sign-in link."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.settings import SettingsError, load_settings
from handlers.messages import Button, Document, Reply
from models.clock import ManualClock
from models.directory import link_identity, person_by_identity
from models.inbox import InboxUpdate
from models.invites import Invite, InviteKind, building_invite
from models.outbox import queue_message
from models.people import Person
from models.reminders import Reminder, ReminderStatus
from models.web_access import keep_photo, make_sign_in_code
from models.wishes import Wish, WishStatus
from tests.fake_wechat_api import MAX_TEXT_BYTES
from tests.snapshot import STORE, snapshot
from tests.test_photos import PNG
from tests.town import Town
from tests.wechat_bot import WeChatBot, wechat_bot
from tests.wishes import wish_in


async def on_wechat(
    sessions: async_sessionmaker[AsyncSession], person: Person, openid: str, locale: str = "en"
) -> None:
    async with sessions.begin() as s:
        await link_identity(s, person, "wechat", openid)
        found = await s.get(Person, person.id)
        assert found is not None
        found.locale = locale


async def kept_updates(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


async def tell(bot: WeChatBot, openid: str, reply: Reply) -> None:
    """A message for the chat, written to the outbox as the handlers' replies are; sent."""
    async with bot.app.sessions.begin() as s:
        await queue_message(s, platform="wechat", chat_id=openid, payload=reply.to_json())
    await bot.step()


async def test_the_callback_url_answers_wechats_check_only_when_signed(
    app: App, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with wechat_bot(app, clock) as bot:
        query = bot.callback.query()
        answer = await bot.get(**query, echostr="echo-4711")
        assert (answer.status, await answer.text()) == (200, "echo-4711")
        forged = {**bot.callback.query(), "signature": "0" * 40}
        answer = await bot.get(**forged, echostr="echo-4711")
        assert answer.status == 403 and "echo-4711" not in await answer.text()


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe-mode"])
async def test_forged_replayed_and_malformed_callbacks_change_nothing_and_a_retry_counts_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock, safe: bool
) -> None:
    await on_wechat(sessions, town.alice, "o-alice")
    async with wechat_bot(app, clock, safe=safe) as bot:
        alice = bot.server.follower("o-alice", bot.callback)
        alice.following = True
        before = await snapshot(sessions, STORE)
        xml = alice._xml("text", "<Content><![CDATA[/my]]></Content>")

        # Forged: signed with another token.
        forger = type(bot.callback)(bot.session, bot.callback.url, clock.now, safe, "nottheirs")
        assert (await forger.post(xml)).status == 403
        # Replayed: an old timestamp, or a nonce already used.
        old = int((clock.now() - dt.timedelta(minutes=10)).timestamp())
        assert (await bot.callback.post(xml, timestamp=old)).status == 403
        assert (await bot.callback.post(xml, nonce="once-only")).status == 200
        assert (
            await bot.callback.post(xml.replace("/my", "/help"), nonce="once-only")
        ).status == 403
        # Malformed: not XML, XML that is no message, and (safe mode) a tampered envelope.
        for body in ("<xml><Content>", "<html></html>", "{}"):
            query = bot.callback.query()
            if safe:
                envelope = bot.callback.wrap(body, query)
                assert (
                    await bot.callback.post_raw(envelope[:60] + "x" + envelope[61:], query)
                ).status == 400
            else:
                assert (await bot.callback.post_raw(body, query)).status == 400
        # Far larger than anything WeChat sends.
        huge = bot.callback.query()
        assert (await bot.callback.post_raw("<xml>" + "x" * 300_000 + "</xml>", huge)).status == 413
        # In safe mode a plain body is refused too: it is not from WeChat's encrypted channel.
        if safe:
            plain = bot.callback.query()
            assert (await bot.callback.post_raw(xml, plain)).status == 400

        # Only the one good message was kept and answered; the store is as it was.
        assert await kept_updates(sessions) == 1
        answers = len(alice.inbox())
        assert answers == 1
        assert await snapshot(sessions, STORE) == before

        # WeChat's retries of a message (same MsgId, fresh signatures): handled once.
        await alice.send("/help")
        assert len(alice.inbox()) == 2
        for _ in range(2):
            retry = await alice.retry_last()
            assert (retry.status, await retry.text()) == (200, "success")
        assert len(alice.inbox()) == 2
        assert await kept_updates(sessions) == 2


async def test_replies_keep_wechats_limits(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_wechat(sessions, town.alice, "o-alice")
    async with wechat_bot(app, clock) as bot:
        alice = bot.follower("o-alice")
        await alice.follow()
        start = len(alice.inbox())

        # A long text comes in pieces within WeChat's 2048 bytes, nothing lost.
        long = "\n".join(f"第{n}行：水龙头漏水，请帮忙看看。" for n in range(200))
        await tell(bot, "o-alice", Reply(long))
        pieces = alice.inbox()[start:]
        assert len(pieces) > 1 and all(p.kind == "text" for p in pieces)
        assert all(len(p.text.encode()) <= MAX_TEXT_BYTES for p in pieces)
        assert "\n".join(p.text for p in pieces) == long

        # The small HTML subset is read as plain text.
        await tell(bot, "o-alice", Reply("Wish <b>W-1</b> &amp; more"))
        assert alice.text() == "Wish W-1 & more"

        # More choices than a menu message carries: numbered in the text, answered by number.
        buttons = tuple(
            (Button(f"Choice {n}", f"a:cmd:{'help' if n == 12 else 'my'}"),) for n in range(1, 13)
        )
        await tell(bot, "o-alice", Reply("Pick one", buttons))
        assert alice.inbox()[-1].kind == "text" and "12. Choice 12" in alice.text()
        await alice.send("12")
        assert "/wish" in alice.text() or "help" in alice.text().lower()

        # A stored photo goes up as an image, then its text.
        async with sessions.begin() as s:
            reference = await keep_photo(s, "web:x", "image/png", PNG)
        await tell(bot, "o-alice", Reply("Look", photo=reference))
        image, text = alice.inbox()[-2:]
        assert image.kind == "image" and bot.server.media[image.body["image"]["media_id"]] == PNG
        assert text.text == "Look"

        # A file cannot go on WeChat: the text says where to get it.
        await tell(
            bot, "o-alice", Reply("The demand list", document=Document("demand.csv", b"a,b"))
        )
        assert alice.text().startswith("The demand list") and "/chat" in alice.text()

        # One access token for all of it.
        assert bot.server.token_calls == 1


async def test_typed_numbers_answer_a_menu_message(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with wechat_bot(app, clock) as bot:
        erin = bot.follower("o-erin")
        await erin.follow()
        await erin.send("2")  # "2. English", typed rather than tapped
        assert "What may we call you" in erin.text()
        await erin.send("Erin")
        # A number where no choice was offered is just text: the name is "Erin", then 1 = resident.
        await erin.send("1")
        assert "Which community" in erin.text()
        await erin.tap("Sunflower")
        await erin.tap("N1")
        await erin.send("5-502")
        # WeChat shares no contacts: the phone question asks for it typed, and takes it so.
        assert "type it" in erin.text()
        await erin.send("138 0013 8000")
        assert "Welcome, Erin" in erin.text()
    async with sessions() as s:
        erin_row = await person_by_identity(s, "wechat", "o-erin")
        assert erin_row is not None and erin_row.phone == "138 0013 8000"


async def test_slow_down_waits_unfollowing_ends_it_and_the_menu_is_set_once(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_wechat(sessions, town.alice, "o-alice")
    async with wechat_bot(app, clock) as bot:
        alice = bot.follower("o-alice")
        await alice.follow()
        sent = len(alice.inbox())

        # The daily quota is used up (45009): the message waits, then goes.
        bot.server.fail_next("message/custom/send", 45009)
        await tell(bot, "o-alice", Reply("Your wish was verified"))
        assert len(alice.inbox()) == sent
        clock.advance(dt.timedelta(minutes=11))
        await bot.step()
        assert alice.text() == "Your wish was verified"

        # WeChat unreachable (a 502) or busy (-1): the message waits and goes when it is back.
        for fault in ({"errcode": 0, "status": 502}, {"errcode": -1}):
            bot.server.fail_next("message/custom/send", **fault)
            before = len(alice.inbox())
            await tell(bot, "o-alice", Reply(f"Fault {fault}"))
            assert len(alice.inbox()) == before
            clock.advance(dt.timedelta(minutes=2))
            await bot.step()
            assert alice.text() == f"Fault {fault}"

        # An access token that expired is renewed once, and the message goes.
        calls = bot.server.token_calls
        clock.advance(dt.timedelta(hours=3))
        alice.last_wrote = clock.now()
        await tell(bot, "o-alice", Reply("After the token expired"))
        assert alice.text() == "After the token expired" and bot.server.token_calls == calls + 1

        # The menu is set at start only when it changed.
        assert bot.server.menu_sets == 1
        await bot.adapter.start()
        assert bot.server.menu_sets == 1

        # Unfollowing: she is unreachable (WeChat was her only way); news to her ends there.
        await alice.unfollow()
        async with sessions() as s:
            person = await s.get(Person, town.alice.id)
            assert person is not None and person.unreachable
        await tell(bot, "o-alice", Reply("News"))
        async with sessions() as s:
            last = await s.scalar(select(Reminder).order_by(Reminder.id.desc()))
            assert last is not None and last.status == ReminderStatus.FAILED
            assert "43004" in (last.last_error or "")


@pytest.mark.parametrize("wrote_hours_before", [72, 12])
async def test_a_reminder_outside_the_window_is_a_notification_that_signs_in_once(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    wrote_hours_before: int,
) -> None:
    await on_wechat(sessions, town.fixer, "o-fixer")
    async with wechat_bot(app, clock) as bot:
        fixer = bot.follower("o-fixer")
        await fixer.follow()
        await wish_in(sessions, town, WishStatus.ACCEPTED)  # "are you still on it?" in 3 days
        clock.advance(dt.timedelta(hours=72 - wrote_hours_before))
        await fixer.send("/points")
        sent = len(fixer.inbox())
        tried = len(bot.server.calls_of("message/custom/send"))
        clock.advance(dt.timedelta(hours=wrote_hours_before, minutes=1))
        await bot.step()
        news = fixer.inbox()[sent:]
        assert len(news) == 1
        if wrote_hours_before < 48:
            # Within the window: a customer-service menu message, answered with a tap.
            assert news[0].kind == "msgmenu" and "still on wish" in news[0].text
            await fixer.tap("Still on it")
            assert not bot.server.calls_of("message/template/send")
            return
        # Outside it: one template notification naming the news, linking to a sign-in; no
        # customer-service message was even tried (the outbox knew the window had closed).
        assert news[0].kind == "template"
        assert len(bot.server.calls_of("message/custom/send")) == tried
        assert "still on wish" in news[0].body["data"]["keyword1"]["value"]
        link = news[0].body["url"]
        found = re.search(r"/in/([A-Z0-9]{8})$", link)
        assert found, link
        visitor = await bot.site.visitor()
        code = found.group(1)
        status, page = await visitor.get(f"/in/{code}")
        assert status == 200 and f"{code[:4]}-{code[4:]}" in page  # the link fills the form
        first = await visitor.sign_in(found.group(1))
        assert first.status == 302 and first.headers["Location"] == "/chat"
        # The web chat has the whole message, and its buttons answer it there.
        await bot.step()
        await visitor.say("/points")
        assert any("still on wish" in line["html"] for line in visitor.lines), visitor.lines
        await visitor.press("Still on it")
        async with sessions() as s:
            wish = await s.scalar(select(Wish).order_by(Wish.id.desc()))
            assert wish is not None
            due = await s.scalar(
                select(Reminder.due_at).where(
                    Reminder.wish_id == wish.id,
                    Reminder.kind == "wish.auto_release",
                    Reminder.status == ReminderStatus.PENDING,
                )
            )
        assert due is None  # answered: the wish is not given back
        # The same link a second time (forwarded, or opened by someone else) does not sign in.
        other = await bot.site.visitor()
        second = await other.sign_in(found.group(1))
        assert second.status == 400


async def test_a_follower_links_with_the_offices_code_or_a_buildings_poster(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    async with sessions.begin() as s:
        head = await s.get(Person, town.head_n1.id)
        alice = await s.get(Person, town.alice.id)
        assert head is not None and alice is not None
        alice.locale = "en"
        code = await make_sign_in_code(s, head, alice)
        poster = await building_invite(s, town.n1.id, head.id)
    await on_wechat(sessions, town.head_n1, "o-head")
    async with wechat_bot(app, clock) as bot:
        # Alice was registered by her head; the head's code makes this WeChat chat hers.
        follower = bot.follower("o-alice")
        await follower.follow()
        await follower.send(f"/start {code[:4]}-{code[4:]}")
        assert "Welcome, Alice" in follower.text()
        await follower.send("/my")
        assert "That code" not in follower.text()
        async with sessions() as s:
            linked = await person_by_identity(s, "wechat", "o-alice")
            assert linked is not None and linked.id == town.alice.id
        # The same code again, from another follower: refused, and nobody is linked.
        stranger = bot.follower("o-stranger")
        await stranger.follow()
        await stranger.send(f"/start {code}")
        assert "登录码无效" in stranger.text()  # not registered: the default language
        async with sessions() as s:
            assert await person_by_identity(s, "wechat", "o-stranger") is None

        # A building's poster: /invite gives the head its QR code, whose scene is the invite.
        head_chat = bot.follower("o-head")
        await head_chat.follow()
        await head_chat.send("/invite")
        found = re.search(r"/wechat/poster/(\S+)", head_chat.text())
        assert found is not None and found.group(1) == poster, head_chat.text()
        shown = await bot.session.get(bot.callback.url + "/poster/" + poster, allow_redirects=False)
        assert shown.status == 302 and "showqrcode?ticket=" in shown.headers["Location"]
        ticket = shown.headers["Location"].split("ticket=")[1]
        assert bot.server.qr_scenes[unquote(ticket)] == poster
        # No poster for any other code (the set-up code makes an admin).
        setup = "setup-not-a-poster"
        async with sessions.begin() as s:
            s.add(Invite(code=setup, kind=InviteKind.SETUP, created_at=clock.now()))
        refused = await bot.session.get(
            bot.callback.url + "/poster/" + setup, allow_redirects=False
        )
        assert refused.status == 404 and len(bot.server.qr_scenes) == 1
        newcomer = bot.follower("o-newcomer")
        await newcomer.follow(scene=poster)
        await newcomer.tap("English")
        await newcomer.send("Nina")
        assert "Which unit" in newcomer.text()  # no community or building to choose
        await newcomer.send("7-701")
        await newcomer.tap("No, thanks")
        async with sessions() as s:
            nina = await person_by_identity(s, "wechat", "o-newcomer")
            assert nina is not None and nina.building_id == town.n1.id and nina.name == "Nina"


async def test_events_with_nothing_to_answer_are_not_kept_and_open_no_window(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_wechat(sessions, town.alice, "o-alice")
    async with wechat_bot(app, clock) as bot:
        alice = bot.follower("o-alice")
        alice.following = True
        for event in (
            "<Event><![CDATA[LOCATION]]></Event><Latitude>31.2</Latitude>"
            "<Longitude>121.4</Longitude><Precision>65</Precision>",
            "<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://x.example]]></EventKey>",
        ):
            answer = await bot.callback.post(alice._xml("event", event, msg_id=False))
            assert (answer.status, await answer.text()) == (200, "success")
        assert await kept_updates(sessions) == 0
        # A message she sent on the map is one, though.
        await alice.send_location(31.2, 121.4)
        assert await kept_updates(sessions) == 1 and alice.inbox()


async def test_heads_and_helpers_get_their_own_account_menu(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    await on_wechat(sessions, town.head_n1, "o-head")
    await on_wechat(sessions, town.fixer, "o-fixer")
    await on_wechat(sessions, town.alice, "o-alice")
    async with wechat_bot(app, clock) as bot:
        people = {openid: bot.follower(openid) for openid in ("o-head", "o-fixer", "o-alice")}
        for follower in people.values():
            await follower.follow()  # /start: welcome back, and their menu again

        def first_button(openid: str) -> str:
            menu = bot.server.menu_for(openid)
            assert menu is not None
            return str(menu["button"][0]["key"])

        assert first_button("o-head") == "a:cmd:pending"
        assert first_button("o-fixer") == "a:cmd:tasks"
        assert first_button("o-alice") == "a:cmd:wish"
        # The head's "Waiting for me" is a command button: a tap runs /pending.
        await people["o-head"].click("a:cmd:pending")
        assert "waiting" in people["o-head"].text().lower() or "W-" in people["o-head"].text()
        # Within WeChat's limits (top buttons 16 bytes, sub-buttons 60), in Chinese too.
        for menu in [bot.server.menu, *bot.server.conditional]:
            assert menu is not None
            for button in menu["button"]:
                assert len(button["name"].encode()) <= 16, button["name"]
                for sub in button.get("sub_button", []):
                    assert len(sub["name"].encode()) <= 60, sub["name"]
        # A restart sets nothing again: the menus are as they should be.
        sets, conditional = bot.server.menu_sets, len(bot.server.conditional)
        await bot.adapter.start()
        assert (bot.server.menu_sets, len(bot.server.conditional)) == (sets, conditional) == (1, 2)


def test_wechat_settings_go_together_and_are_checked() -> None:
    base = {"WISHBOT_DATABASE_URL": "sqlite:///x.db"}
    assert load_settings(base).wechat is None
    full = {
        **base,
        "WISHBOT_WECHAT_APP_ID": "wx1",
        "WISHBOT_WECHAT_APP_SECRET": "secret",
        "WISHBOT_WECHAT_TOKEN": "token123",
    }
    account = load_settings(full).wechat
    assert account is not None and account.aes_key is None
    assert account.base_url == "https://api.weixin.qq.com"
    with pytest.raises(SettingsError, match="go together"):
        load_settings({**base, "WISHBOT_WECHAT_APP_ID": "wx1"})
    with pytest.raises(SettingsError, match="EncodingAESKey"):
        load_settings({**full, "WISHBOT_WECHAT_AES_KEY": "short"})
    with pytest.raises(SettingsError, match="TOKEN"):
        load_settings({**full, "WISHBOT_WECHAT_TOKEN": "a b"})
    with pytest.raises(SettingsError, match="BASE_URL"):
        load_settings({**full, "WISHBOT_WECHAT_BASE_URL": "ftp://x"})

"""Everything the bot says to a Chinese-speaking town is in Chinese: no English slips through.

Every person of the town chats in zh_Hans (the bot's default language stays English, so a message
built in the default language instead of the person's shows up too). Each role walks every
command it may use, pressing the buttons it is shown and answering the questions; a wish lives
its whole life; the rule reminders fire. Each reply's text and button labels must hold no run of
English words beyond the names the town itself chose. Every message translated on the way must
also be one the extraction (scripts/update_locales.py) finds, so none escapes the catalogue.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.broadcast_report import broadcast_news
from handlers.i18n import Translator
from handlers.messages import Reply
from handlers.reminders import fire
from handlers.router import COMMANDS
from models.campaign_definitions import parse_question, parse_question_line
from models.clock import ManualClock
from models.community import Building, Community, Grid, Street
from models.conversations import Conversation
from models.directory import link_identity
from models.invites import setup_code
from models.outbox import claim_messages, mark_sent
from models.people import Person, Role
from models.reminders import ReminderStatus
from models.schedule import claim_due_reminders, plan_for_role
from models.surveys import QuestionKind
from models.wish_asking import submit_wish, verify_wish
from models.wish_taking import accept_wish
from models.wishes import Wish, WishStatus
from tests.chat import Chat, World
from tests.town import Town
from tests.wishes import wish_in

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from update_locales import KEYWORDS, extract

S = WishStatus
# What may stay in Latin letters in a Chinese message: codes, commands, addresses and a few
# names the world writes in English.
ALLOWED = re.compile(
    r"https?://\S+"  # a link
    r"|/start [\w-]+"  # an invitation: the command with its code
    r"|\bbuilding, unit, name\b"  # the English column names a roster file may use
    r"|/[a-z_]+"  # a command
    r"|\bW-\d+\b"  # a wish code
    r"|\b[A-Z0-9]{4}-?[A-Z0-9]{4}\b"  # a web sign-in code
    r"|\b[A-Z0-9]{6}\b"  # a reward's collection code
    r"|\bEnglish\b"  # the language's own name, on the button that picks it
    r"|\b(?:OK|Open311|CSV|XLSX|API|ID|Telegram|PIN)\b"
)
WORD = re.compile(r"[A-Za-z]{2,}")
TYPED_IN_ENGLISH = ("The corridor light on floor 3 is out", "Replaced the bulb")  # tests/wishes.py
TYPED = "请帮忙看看"  # what people type at a question: Chinese, like everything they read
# Answers to the questions that want text, in turn: words, then a number, a date, a list.
ANSWERS = (TYPED, "3", "2026-12-20", "数字：这里住了几个人？", "N1", "13800001111")


def english_in(text: str, names: list[str]) -> list[str]:
    """The English words of a message, after the town's own names and the allowed codes."""
    # Codes first: a random code may hold a name of the town ("N2" in "CN2J-H2E6").
    plain = ALLOWED.sub(" ", html.unescape(re.sub(r"<[^>]+>", " ", text)))
    for name in names:
        plain = plain.replace(name, " ")
    return WORD.findall(plain)


@pytest.fixture
def translated() -> Iterator[set[str]]:
    """Every msgid translated while the test runs."""
    seen: set[str] = set()
    call, raw, plural = Translator.__call__, Translator.raw, Translator.plural

    def spy_call(self: Translator, message: str, /, **params: object) -> str:
        seen.add(message)
        return call(self, message, **params)

    def spy_raw(self: Translator, message: str) -> str:
        seen.add(message)
        return raw(self, message)

    def spy_plural(self: Translator, singular: str, many: str, n: int, /, **params: object) -> str:
        seen.add(singular)
        return plural(self, singular, many, n, **params)

    Translator.__call__ = spy_call  # type: ignore[method-assign]
    Translator.raw = spy_raw  # type: ignore[method-assign]
    Translator.plural = spy_plural  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Translator.__call__ = call  # type: ignore[method-assign]
        Translator.raw = raw  # type: ignore[method-assign]
        Translator.plural = plural  # type: ignore[method-assign]


async def _town_names(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """What the town wrote itself: names of people and places, and the wishes' own texts."""
    async with sessions() as s:
        names: list[str] = [*TYPED_IN_ENGLISH]
        for model in (Person, Building, Grid, Community, Street):
            names += [n for n in (await s.scalars(select(model.name))).all() if n]
    return sorted(set(names), key=len, reverse=True)


async def _in_chinese(world: World, person: Person) -> Chat:
    chat = world.chat(person.name, "zh-hans")
    async with world.sessions.begin() as s:
        await link_identity(s, person, "test", chat.user_id)
        await s.execute(update(Person).where(Person.id == person.id).values(locale="zh_Hans"))
    return chat


def _buttons(reply: Reply) -> list[str]:
    return [b.data for row in reply.buttons for b in row]


async def _where(chat: Chat) -> tuple[str | None, str | None]:
    """The chat's conversation: its flow and step token (None when none is going on)."""
    async with chat.world.sessions() as s:
        found = await s.scalar(
            select(Conversation).where(
                Conversation.platform == "test", Conversation.chat_id == chat.user_id
            )
        )
    return (found.flow, found.token) if found else (None, None)


async def _walk(chat: Chat, command: str | None, presses: int = 24) -> None:
    """Start a command (or go on from the last question) and follow the conversation: press
    what is shown, type when asked. A question that wants text gets the answers in turn until
    one moves the conversation on.
    """
    replies = await chat.send(command) if command else [chat.last]
    pressed: set[str] = set()
    answers = iter(ANSWERS)
    for _ in range(presses):
        flow, token = await _where(chat)
        # The main jobs' buttons start other commands: the walk follows this conversation.
        fresh = [
            d
            for r in replies
            for d in _buttons(r)
            if d not in pressed and not d.startswith("a:cmd:")
        ]
        nav = [d for d in fresh if d.endswith((":back", ":quit"))]
        choices = [d for d in fresh if d not in nav]
        answer = next(answers, None) if flow and not choices else None
        if choices or (answer is None and nav):
            data = (choices or nav)[0]
            pressed.add(data)
            replies = await chat.deliver(button=data)
        elif answer is not None:
            replies = await chat.send(answer)
        else:
            return
        if (await _where(chat))[1] != token:
            answers = iter(ANSWERS)  # a new question: try the answers from the first again
        if not replies:
            return


async def _walk_command(chat: Chat, name: str, codes: list[str]) -> None:
    await _walk(chat, "/" + name)
    if "不是给您用的" in chat.last.text:
        return  # refused to this role: the variants would be refused the same way
    # Commands about one wish: with a code, and with a code and a reason.
    await _walk(chat, f"/{name} {codes[1]}")
    await _walk(chat, f"/{name} {codes[2]} {TYPED}")


async def _send_outbox(world: World) -> int:
    """What the runtime sends from the outbox (broadcasts), then the senders' reports."""
    sent = 0
    while True:
        async with world.sessions.begin() as s:
            rows, _ = await claim_messages(s, "test", dt.timedelta(minutes=1))
            if not rows:
                break
            row = rows[0]
            if row.chat_id in world.chats:
                world.chats[row.chat_id].received.append(Reply.from_json(row.payload))
            assert row.claimed_until is not None
            await mark_sent(s, row.id, row.claimed_until)
            sent += 1
    async with world.sessions.begin() as s:
        for item in await broadcast_news(s, world.config):
            await world._route(s, next(iter(world.chats.values())), item)
    return sent


async def _fire_reminders(world: World, clock: ManualClock, rounds: int = 12) -> int:
    fired = 0
    for _ in range(rounds):
        clock.advance(dt.timedelta(hours=12))
        async with world.sessions.begin() as s:
            today = clock.now().astimezone(world.config.timezone).date()
            await plan_for_role(s, Role.ADMIN, "digest", today)
            await plan_for_role(s, Role.BUILDING_HEAD, "head_prompt", today)
        while True:
            async with world.sessions.begin() as s:
                due = await claim_due_reminders(s)
                if not due:
                    break
                due[0].status = ReminderStatus.SENT
                for item in await fire(s, due[0], world.config):
                    await world._route(s, next(iter(world.chats.values())), item)
                fired += 1
    return fired


async def test_a_chinese_town_reads_only_chinese(
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    clock: ManualClock,
    translated: set[str],
) -> None:
    names = await _town_names(sessions)  # before anyone is erased
    world = World(sessions)
    chats = {p.id: await _in_chinese(world, p) for p in town.everyone()}
    for status in (S.SUBMITTED, S.OPEN, S.ACCEPTED, S.DONE, S.CLOSED):
        await wish_in(sessions, town, status)
    # A wish wanted by 09:00 tomorrow: its helper is reminded before, in their own language
    # (the bot's default is English), with the date as Chinese readers write it.
    async with sessions.begin() as s:
        assert town.bob.building_id is not None
        wanted = await submit_wish(
            s,
            town.bob,
            building_id=town.bob.building_id,
            category="errand",
            description=TYPED,
            preferred_time=clock.now() + dt.timedelta(days=1),
        )
        await verify_wish(s, town.head_n2, wanted.id)
        await accept_wish(s, town.runner, wanted.id)
    assert await _fire_reminders(world, clock, rounds=2) > 0
    assert any("2026年11月24日 09:00" in text for text in chats[town.runner.id].texts())

    # A newcomer registers, asks for help with a photo, and the wish lives its life.
    newcomer = world.chat("王阿姨", "zh-hans")
    await newcomer.send("/start")
    for label in ("中文", "我住在这里", "Sunflower", "N1"):
        await newcomer.press(label)
    await newcomer.send("5-502")
    await newcomer.press("不用了")
    await newcomer.send("/wish")
    await newcomer.press("维修")
    await newcomer.send(TYPED)
    await newcomer.deliver(photo="photo-of-the-tap")
    await newcomer.press("一天内")
    await newcomer.press("发送")
    head = chats[town.head_n1.id]
    await head.press("审核通过")
    fixer = chats[town.fixer.id]
    await fixer.send("/tasks")
    await fixer.press("我来认领")
    await fixer.press("报告完成")
    await fixer.send(TYPED)
    await fixer.press("跳过")
    await newcomer.press("已经办好了")
    await newcomer.press("⭐⭐⭐⭐⭐")
    await newcomer.press("跳过")

    # A newcomer offers to help; the admins hear of it.
    helper = world.chat("李师傅", "zh-hans")
    await helper.send("/start")
    await helper.press("中文")
    await helper.press("🤝")
    await helper.press("Sunflower")
    await _walk(helper, None)
    assert "会尽快审核" in helper.last.text, helper.texts()

    # The office makes a new building head: the new head is told in their language.
    admin = chats[town.admin.id]
    walker = chats[town.walker.id]
    async with sessions.begin() as s:
        await s.execute(update(Person).where(Person.id == town.walker.id).values(locale="zh_Hans"))
    await admin.send("/grant")
    await admin.press("Walker")
    for _ in range(2):  # the first role offered, then the first place
        await admin.deliver(button=_buttons(admin.last)[0])

    # Every role walks every command it may use.
    walkers = [
        town.alice,
        town.head_n1,
        town.gw_north,
        town.admin,
        town.street_admin,
        town.fixer,
        town.newbie,
    ]
    async with sessions() as s:
        codes = [w.code for w in (await s.scalars(select(Wish).order_by(Wish.id))).all()]
    for person in walkers:
        # The buttons on what they were told (news, offers, reminders): one press each.
        for reply in list(chats[person.id].received):
            for data in _buttons(reply)[:1]:
                if data.startswith("a:"):
                    await chats[person.id].deliver(button=data)
    # Erasing comes last: after it, the erased person has nothing left to walk.
    last = ("erase", "forget")
    for person, name in [(p, n) for p in walkers for n in sorted(COMMANDS) if n not in last]:
        await _walk_command(chats[person.id], name, codes)
    # The broadcasts go out, and their sender hears how it went.
    assert await _send_outbox(world) > 0
    assert any("群发完成" in text for text in admin.texts())
    assert await _fire_reminders(world, clock) > 0
    for person, name in [(p, n) for n in last for p in walkers]:
        await _walk_command(chats[person.id], name, codes)

    leaks: list[str] = []
    shown = 0
    for chat in [*world.chats.values()]:
        for reply in chat.received:
            shown += 1
            for text in (reply.text, *(b.label for row in reply.buttons for b in row)):
                words = english_in(text, names)
                if words:
                    leaks.append(f"{chat.name}: {words} in {text[:160]!r}")
    assert shown > 300
    assert not leaks, f"{len(leaks)} replies hold English:\n" + "\n".join(leaks[:40])
    assert walker.received, "the new head was not told"

    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    # The walk reaches far: most of what the chat can say was said (in Chinese) on the way.
    assert len(translated & extracted) > 250
    missed = sorted(translated - extracted)
    assert not missed, f"translated but not extracted (so never translated): {missed[:20]}"


async def test_the_first_admin_sets_up_in_chinese(
    sessions: async_sessionmaker[AsyncSession], translated: set[str]
) -> None:
    async with sessions.begin() as s:
        code = await setup_code(s)
    assert code is not None
    world = World(sessions)
    office = world.chat("张主任", "zh-hans")
    await office.send(f"/start {code}")
    for answer in ("幸福街道", "阳光社区", "北区，南区", "1号楼，2号楼", "3号楼"):
        await office.send(answer)
    await _walk(office, "/help")
    words = [english_in(r.text, []) for r in office.received]
    assert not any(words), [(w, r.text) for w, r in zip(words, office.received, strict=True) if w]
    assert any("阳光社区 已经设置好" in text for text in office.texts())
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    assert not translated - extracted


def test_campaign_questions_are_written_as_the_chinese_help_shows_them() -> None:
    assert parse_question_line("数字：这里住了几个人？")["kind"] == "数字"
    choice = parse_question(parse_question_line("选择：住房类型 = 自有，租住，公房"))
    assert choice.kind == QuestionKind.CHOICE and choice.choices == ("自有", "租住", "公房")
    alone = parse_question(parse_question_line("是否：是否有人独居？ !"))
    assert alone.kind == QuestionKind.YES_NO and alone.sensitive


def _translator_names(node: ast.AST) -> set[str]:
    """The names a function or lambda gives its translator (annotated, or a `tell` lambda's)."""
    if isinstance(node, ast.Lambda):
        return {a.arg for a in node.args.args}
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return {
        a.arg
        for a in [*node.args.args, *node.args.kwonlyargs]
        if a.annotation is not None and ast.unparse(a.annotation) == "Translator"
    }


def test_every_translator_call_with_a_message_is_one_the_extraction_reads() -> None:
    """A message given to a translator under another name (`tr(...)`) is never extracted."""
    root = Path(__file__).resolve().parent.parent
    wrong = []
    for path in sorted(p for d in ("bot", "handlers", "models") for p in (root / d).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        scopes: list[ast.AST] = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        scopes += [
            arg
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "tell"
            for arg in call.args
            if isinstance(arg, ast.Lambda)
        ]
        for scope in scopes:
            names = _translator_names(scope)
            for call in ast.walk(scope):
                if not (isinstance(call, ast.Call) and call.args):
                    continue
                first = call.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    continue
                func = call.func
                if isinstance(func, ast.Name) and func.id in names:
                    called = func.id
                elif (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id in names
                ):
                    called = func.attr
                else:
                    continue
                if called not in KEYWORDS:
                    wrong.append(f"{path.relative_to(root)}:{call.lineno} {called}(...)")
    assert not wrong, f"translations the extraction cannot see: {wrong}"

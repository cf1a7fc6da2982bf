"""What every scenario stands on: the fake server's replies as they arrive, bot processes, databases.

Bots run as real processes (`python -m bot run`, `python -m bench.echo_bot`) on loopback only.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.migrate import migrate
from bot.settings import load_settings
from tests.fake_bot_api import Call, FakeBotApi

SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup"})
START_SECONDS = 120  # a bot process must poll within this
ROOT = Path(__file__).resolve().parent.parent


class Broken(Exception):
    """An invariant does not hold (a duplicate, a lost reply, a wrong count): bench-quick fails."""


@dataclass
class Reply:
    chat_id: int
    time: float
    method: str
    status: int
    text: str


@dataclass
class Replies:
    """Every answered send and edit, per chat, read incrementally from ``server.calls``.

    ``pump()`` runs beside a scenario: it follows the calls as the server answers them and
    wakes whoever waits on a chat. Only the fake server's public records are read.
    """

    server: FakeBotApi
    cursor: int = 0
    by_chat: dict[int, list[Reply]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    _events: dict[int, asyncio.Event] = field(default_factory=dict)
    _any: asyncio.Event = field(default_factory=asyncio.Event)

    def advance(self) -> bool:
        calls = self.server.calls
        moved = False
        while self.cursor < len(calls):
            call = calls[self.cursor]
            if call.method in SENDS or call.method in EDITS:
                if call.status is None and not call.abandoned:
                    break  # still in flight: take it up next time
                self._take(call)
            self.cursor += 1
            moved = True
        return moved

    def _take(self, call: Call) -> None:
        if call.status is None:
            return
        self.statuses[call.status] += 1
        try:
            chat_id = int(call.params.get("chat_id", 0))
        except (TypeError, ValueError):
            chat_id = 0
        words = call.params.get("text") or call.params.get("caption") or ""
        reply = Reply(chat_id, call.time, call.method, call.status, str(words))
        self.by_chat.setdefault(chat_id, []).append(reply)
        event = self._events.pop(chat_id, None)
        if event is not None:
            event.set()
        self._any.set()
        self._any = asyncio.Event()

    async def pump(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await self.server.wait_until(lambda: self.advance() or stop.is_set() or None, 0.5)

    def delivered(self, chat_id: int) -> list[Reply]:
        return [r for r in self.by_chat.get(chat_id, []) if r.status == 200]

    async def wait_chat(
        self,
        chat_id: int,
        probe: Callable[[], float | None],
        seconds: float,
    ) -> float:
        """Until ``probe()`` gives a time (checked after each reply to the chat); bounded."""
        deadline = time.monotonic() + seconds
        while True:
            found = probe()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise Broken(f"chat {chat_id}: no expected reply within {seconds:.0f} s")
            event = self._events.setdefault(chat_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)

    def first_after(self, chat_id: int, moment: float) -> float | None:
        for reply in self.by_chat.get(chat_id, []):
            if reply.status == 200 and reply.time >= moment:
                return reply.time
        return None

    async def until(self, probe: Callable[[], bool], seconds: float) -> bool:
        """Until ``probe()`` holds (checked after each answered send), at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while not probe():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._any.wait(), min(left, 1.0))
        return True

    async def quiet(self, seconds: float, limit: float) -> None:
        """Until no send has been answered for ``seconds`` (at most ``limit`` seconds)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            event = self._any
            try:
                await asyncio.wait_for(event.wait(), seconds)
            except TimeoutError:
                return


def duplicates(replies: Replies, chats: set[int] | None = None) -> int:
    """Messages delivered twice to one chat with the same text (an outbox row sent twice)."""
    extra = 0
    for chat_id, sent in replies.by_chat.items():
        if chats is not None and chat_id not in chats:
            continue
        seen = Counter(r.text for r in sent if r.status == 200 and r.method in SENDS)
        extra += sum(n - 1 for n in seen.values() if n > 1)
    return extra


def normal(words: str) -> str:
    """A reply with its numbers and codes blurred, to compare one user's replies with another's."""
    return re.sub(r"[0-9]+", "#", words)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes ------------------------------------------------------------------------------


@dataclass
class Process:
    """A bot process, with when it was started and when it first polled (monotonic)."""

    process: asyncio.subprocess.Process
    started: float
    polling: float

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ours_env(url: str, server: FakeBotApi, tag: str, rate: float | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env.update(
        {
            "WISHBOT_DATABASE_URL": url,
            "WISHBOT_TELEGRAM_TOKEN": server.token,
            "WISHBOT_TELEGRAM_BASE_URL": server.base_url_for(tag),
            "WISHBOT_WEB_PORT": str(free_port()),
            "WISHBOT_LOCALE": "en",
            "WISHBOT_CONFIG": str(quiet_hours_off()),
            "PYTHONPATH": str(ROOT),
        }
    )
    if rate is not None:
        env["WISHBOT_TELEGRAM_RATE"] = str(rate)
    return env


def quiet_hours_off() -> Path:
    """A config file with no quiet hours: news must not wait for the morning mid-benchmark."""
    path = Path(tempfile.gettempdir()) / "wishbot-bench-config.toml"
    path.write_text('[rules]\nquiet_start = "00:00"\nquiet_end = "00:00"\n')
    return path


async def _first_poll(server: FakeBotApi, tag: str, process: asyncio.subprocess.Process) -> float:
    def polled() -> float | None:
        for call in server.calls:
            if call.method == "getUpdates" and call.client == tag:
                return call.time
        return None

    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise Broken(f"the {tag} process exited with {process.returncode} before it polled")
        with contextlib.suppress(TimeoutError):
            return await server.wait_until(polled, timeout=1)
    raise Broken(f"the {tag} process did not poll within {START_SECONDS} s")


@contextlib.asynccontextmanager
async def running(
    server: FakeBotApi, tag: str, argv: list[str], env: dict[str, str]
) -> AsyncIterator[Process]:
    """A bot process, yielded once it polls the fake server; stopped (SIGTERM, then kill)."""
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=log, stderr=log, cwd=str(ROOT)
        )
        try:
            polling = await _first_poll(server, tag, process)
            yield Process(process, started, polling)
            if process.returncode is not None:
                raise Broken(f"the {tag} process died during the run")
        except Broken:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            print(f"--- {tag} log (tail) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def compiled() -> None:
    """The project's byte-code, compiled as an install compiles it (make run, the Containerfile):
    with PYTHONDONTWRITEBYTECODE set, every start would compile ~120 modules again."""
    for package in ("bot", "handlers", "models"):
        compileall.compile_dir(ROOT / package, quiet=1)


def ours(server: FakeBotApi, url: str, rate: float | None = 100000) -> Any:
    compiled()  # cheap once done: each file's byte-code is checked, not rebuilt
    return running(
        server, "ours", [sys.executable, "-m", "bot", "run"], ours_env(url, server, "ours", rate)
    )


def echo(server: FakeBotApi) -> Any:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "bench.echo_bot", server.token, server.base_url_for("echo")]
    return running(server, "echo", argv, env)


# --- databases ------------------------------------------------------------------------------


_templates: dict[str, str] = {}  # migrated once per run: a SQLite file, a PostgreSQL database


async def _sqlite_template() -> str:
    if "sqlite" not in _templates:
        folder = tempfile.mkdtemp(prefix="wishbot-bench-template-")
        path = f"{folder}/template.db"
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": f"sqlite:///{path}"}))
        try:
            await migrate(app.engine)
        finally:
            await app.close()
        _templates["sqlite"] = path
    return _templates["sqlite"]


async def _postgres_template(postgres: str, admin: AsyncEngine) -> str:
    if postgres not in _templates:
        name = f"wishbot_bench_template_{uuid.uuid4().hex[:8]}"
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
        app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
        try:
            await migrate(app.engine)
        finally:
            await app.close()
        _templates[postgres] = name
    return _templates[postgres]


async def drop_templates() -> None:
    """Remove the migrated templates made during this run."""
    from bot.database import create_engine

    for key, template in list(_templates.items()):
        if key == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
        else:
            admin = create_engine(load_settings({"WISHBOT_DATABASE_URL": key}).database_url)
            admin = admin.execution_options(isolation_level="AUTOCOMMIT")
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            await admin.dispose()
        del _templates[key]


@contextlib.asynccontextmanager
async def database(postgres: str | None) -> AsyncIterator[App]:
    """A fresh database at the newest schema (a copy of one migrated template); dropped after."""
    if postgres is None:
        template = await _sqlite_template()
        with tempfile.TemporaryDirectory(prefix="wishbot-bench-") as folder:
            shutil.copyfile(template, f"{folder}/bench.db")
            app = build_app(load_settings({"WISHBOT_DATABASE_URL": f"sqlite:///{folder}/bench.db"}))
            try:
                yield app
            finally:
                await app.close()
        return
    from bot.database import create_engine

    name = f"wishbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(load_settings({"WISHBOT_DATABASE_URL": postgres}).database_url)
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    template = await _postgres_template(postgres, admin)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    app = build_app(load_settings({"WISHBOT_DATABASE_URL": url}))
    try:
        yield app
    finally:
        await app.close()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def url_of(app: App) -> str:
    return app.settings.database_url.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fake(limits: object = None) -> AsyncIterator[tuple[FakeBotApi, Replies]]:
    """A fresh fake Bot API server on loopback, with its replies followed as they come."""
    async with FakeBotApi(limits=limits) as server:  # type: ignore[arg-type]
        replies = Replies(server)
        stop = asyncio.Event()
        pump = asyncio.create_task(replies.pump(stop))
        try:
            yield server, replies
        finally:
            stop.set()
            await pump

"""build_app(settings): the one place that wires the store, the clock and the adapters.

The command line and the tests both start from here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.database import create_engine, create_sessionmaker
from bot.settings import Settings
from models.clock import Clock, SystemClock

log = logging.getLogger("wishbot")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Once asked to stop: due messages go out until this moment (on the clock), no later.
    flush_until: dt.datetime | None = None

    def may_still_send(self) -> bool:
        """False once a stop was asked and its time for sending what is due is over."""
        return self.flush_until is None or self.clock.now() < self.flush_until

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    return App(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine, clock, settings.rules),
        clock=clock,
    )


def ask_to_stop(app: App) -> None:
    """Stop taking updates; those in hand finish, what is due goes out for stop_seconds."""
    if not app.stopping.is_set():
        app.flush_until = app.clock.now() + dt.timedelta(seconds=app.settings.stop_seconds)
        app.stopping.set()


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM; the adapters hang off this loop as they arrive."""
    from bot.demo import empty_store
    from bot.runtime import Runtime
    from models.invites import setup_code

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, ask_to_stop, app)
    async with app.sessions.begin() as session:
        code = await setup_code(session)
    if code:
        # Shown once per start until somebody uses it: only who reads this log can become admin.
        log.info("First start: send  /start %s  to the bot to become its first admin.", code)
    if app.settings.telegram_token:
        log.info("Serving Telegram through %s", app.settings.telegram_base_url.split("/bot")[0])
    else:
        log.info(
            "No Telegram token: the web chat serves every role (set WISHBOT_TELEGRAM_TOKEN "
            "to serve Telegram too)."
        )
    async with app.sessions.begin() as session:
        empty = await empty_store(session)
    if empty:
        log.info(
            "The database is empty: open %s and press 'Load the demo community', "
            "or run  wishbot seed-demo.",
            app.settings.web_address,
        )
    await Runtime(app).run()
    log.info("Stopping.")

"""The `wishbot` command line: run, migrate, seed-demo, import, export.

Every failure a person can cause ends in one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from sqlalchemy.exc import DBAPIError

from bot.app import App, build_app, serve
from bot.migrate import migrate
from bot.settings import Settings, SettingsError, load_settings
from models.errors import StoreError

T = TypeVar("T")
LIST_NAMES = ("demand", "supply", "service", "points")


class CommandError(Exception):
    """A wrong argument or file given on the command line; the message is the one line shown."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the person sees what to fix.
        self.exit(2, f"wishbot: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wishbot", description="Small Wishes community bot")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="migrate the database and start the bot")
    sub.add_parser("migrate", help="bring the database to the newest schema")
    sub.add_parser("seed-demo", help="load a demo community to try every role")

    imp = sub.add_parser("import", help="import residents and buildings from the office's CSV")
    imp.add_argument("file", type=Path, help="CSV with columns building, unit, name, phone")
    imp.add_argument("--community", required=True, help="community the buildings belong to")
    imp.add_argument("--street", help="street of the community, if it is new")
    imp.add_argument("--grid", help="grid for new buildings (default: the community's first)")

    exp = sub.add_parser("export", help="export a list as CSV or XLSX")
    exp.add_argument("list", choices=LIST_NAMES, help="which list")
    exp.add_argument("--community", required=True, help="community name")
    exp.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
    exp.add_argument("--to", dest="end", type=_date, help="last day (YYYY-MM-DD)")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    exp.add_argument("--output", type=Path, required=True, help="file to write")
    return parser


async def _with_app(settings: Settings, work: Callable[[App], Awaitable[T]]) -> T:
    try:
        app = build_app(settings)
        async with app.engine.connect():
            pass
    except Exception as e:  # whatever the driver raises, the person must fix the URL or server
        raise CommandError(_database_error(settings, e)) from None
    try:
        return await work(app)
    finally:
        await app.close()


async def _run(app: App) -> None:
    await migrate(app.engine)
    await serve(app)


async def _migrate(app: App) -> None:
    await migrate(app.engine)
    logging.getLogger("wishbot").info("The database is up to date.")


async def _seed_demo(app: App) -> None:
    from bot.demo import seed_demo

    await migrate(app.engine)
    async with app.sessions.begin() as session:
        summary = await seed_demo(session)
    print(summary)


async def _import(app: App, args: argparse.Namespace) -> None:
    from bot.roster_import import import_roster

    await migrate(app.engine)
    async with app.sessions.begin() as session:
        report = await import_roster(
            session, args.file, community=args.community, street=args.street, grid=args.grid
        )
    print(report)


async def _export(app: App, args: argparse.Namespace) -> None:
    from bot.lists_export import export_list

    if args.start and args.end and args.start > args.end:
        raise CommandError(f"--from {args.start} is after --to {args.end}")
    await migrate(app.engine)
    async with app.sessions() as session:
        count = await export_list(
            session,
            args.list,
            community=args.community,
            start=args.start,
            end=args.end,
            file_format=args.format,
            output=args.output,
            timezone=app.settings.timezone,
        )
    print(f"Wrote {count} rows to {args.output}")


def _database_error(settings: Settings, error: Exception) -> str:
    url = settings.database_url.render_as_string(hide_password=True)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"cannot use the database at WISHBOT_DATABASE_URL ({url}): {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic narrates every step at INFO; we say "up to date" ourselves.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except SettingsError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 2
    commands: dict[str, Callable[[App], Awaitable[None]]] = {
        "run": _run,
        "migrate": _migrate,
        "seed-demo": _seed_demo,
        "import": lambda app: _import(app, args),
        "export": lambda app: _export(app, args),
    }
    try:
        asyncio.run(_with_app(settings, commands[args.command]))
    except CommandError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 1
    except DBAPIError as e:
        print(_database_error(settings, e), file=sys.stderr)
        return 1
    except OSError as e:
        # A file the command was given (import, export).
        print(f"wishbot: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0

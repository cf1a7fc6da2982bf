"""The `wishbot` command line: run, migrate, seed-demo, import, export.

Every failure a person can cause ends in one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import gc

# Starting imports some 1,000 modules whose objects all live on: collecting garbage meanwhile
# finds none and costs a fifth of the start. Paused here; after the imports those objects are
# set aside for good (gc.freeze) so that no later collection walks them again.
_collecting = gc.isenabled()
gc.disable()

from bot.bot_api_client import prepare_tls

prepare_tls()  # the Bot API's TLS context is made on another core while the bot imports

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
from bot.logs import keep_secret, set_up_logging, use_time_zone
from bot.migrate import migrate
from bot.runtime import CannotListen
from bot.settings import Settings, SettingsError, load_settings
from models.errors import StoreError

gc.freeze()
if _collecting:
    gc.enable()

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
    run = sub.add_parser("run", help="check, migrate a new database and start the bot")
    run.add_argument(
        "--migrate", action="store_true", help="bring an older database to the newest schema first"
    )
    sub.add_parser("migrate", help="bring the database to the newest schema")
    sub.add_parser("seed-demo", help="load a demo community to try every role")

    imp = sub.add_parser("import", help="import residents and buildings from the office's CSV")
    imp.add_argument("file", type=Path, help="CSV with columns building, unit, name, phone")
    imp.add_argument("--community", required=True, help="community the buildings belong to")
    imp.add_argument("--street", help="street of the community, if it is new")
    imp.add_argument("--grid", help="grid for new buildings (default: the community's first)")

    camp = sub.add_parser("campaign", help="start a campaign defined in a YAML or CSV file")
    camp.add_argument("file", type=Path, help="the campaign: .yaml/.yml or .csv")
    camp.add_argument("--community", required=True, help="community that runs it")
    camp.add_argument("--admin", help="name of the admin who starts it (default: the first)")
    camp.add_argument("--title", help="title (over the file's)")
    camp.add_argument("--buildings", help="building names, comma-separated (over the file's)")
    camp.add_argument("--deadline", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM (over the file's)")

    exp = sub.add_parser("export", help="export a list as CSV or XLSX")
    exp.add_argument("list", choices=LIST_NAMES, help="which list")
    exp.add_argument("--community", required=True, help="community name")
    exp.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
    exp.add_argument("--to", dest="end", type=_date, help="last day (YYYY-MM-DD)")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    exp.add_argument("--output", type=Path, required=True, help="file to write")
    sub.add_parser("check", help="check the settings, database, migrations and Telegram token")
    bak = sub.add_parser("backup", help="write a consistent copy of the database (bot may run)")
    bak.add_argument("file", type=Path, help="the backup file to write (must not exist)")
    res = sub.add_parser("restore", help="check a backup, then put it in place (bot stopped)")
    res.add_argument("file", type=Path, help="a file written by wishbot backup")
    cp = sub.add_parser("copy-db", help="copy the whole store into a new, empty database")
    cp.add_argument(
        "from_url", metavar="FROM_URL", help="the database to copy (e.g. sqlite:///data/wishbot.db)"
    )
    cp.add_argument(
        "to_url",
        metavar="TO_URL",
        help="an empty database (e.g. postgresql://wishbot@localhost/wishbot)",
    )
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


async def _run(app: App, allow_migrate: bool = False) -> None:
    from bot.checks import all_findings, schema_state

    findings = await all_findings(app.settings, app.engine)
    older = next((f for f in findings if f.name == "migrations" and not f.ok), None)
    if (
        older is not None
        and not allow_migrate
        and (await schema_state(app.settings, app.engine))[0]
    ):
        # A database from an older version: upgrading is the operator's step, after a backup.
        # (A new, empty one is simply migrated: a newcomer's first start.)
        raise CommandError(
            older.says.replace(
                "run wishbot migrate", "run wishbot migrate (or wishbot run --migrate)"
            )
        )
    failed = [f for f in findings if not f.ok and f.name != "migrations"]
    for finding in failed:
        print(f"wishbot: {finding.line()}", file=sys.stderr)
    if failed:
        raise CommandError("not starting: fix what failed above (wishbot check shows every check)")
    await migrate(app.engine)  # a new database, or an older one with --migrate
    await serve(app)


async def _check(settings: Settings) -> int:
    from bot.checks import all_findings

    findings = await all_findings(settings)
    for finding in findings:
        print(finding.line())
    return 0 if all(f.ok for f in findings) else 1


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup, restore
    from models.clock import SystemClock

    try:
        if args.command == "backup":
            print(backup(settings, args.file))
        else:
            print(asyncio.run(restore(settings, args.file, SystemClock().now())))
    except BackupError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"wishbot: {e.strerror or e}: {e.filename or args.file}", file=sys.stderr)
        return 1
    return 0


def _copy_db(args: argparse.Namespace) -> int:
    from bot.copy_db import CopyError, copy_database

    try:
        copied = asyncio.run(copy_database(args.from_url, args.to_url))
    except CopyError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 2
    print(copied.summary())
    return 0


def _check_settings() -> int:
    from bot.checks import setting_findings

    findings = setting_findings()
    for finding in findings:
        print(finding.line())
    if all(f.ok for f in findings):
        return 0
    print("SKIP database, migrations, catalogues, telegram: fix the settings first")
    return 1


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


async def _campaign(app: App, args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from bot.campaign_file import load_definition
    from models.campaign_answers import start_campaign
    from models.campaign_definitions import parse_definition
    from models.campaign_results import coverage
    from models.community import Community
    from models.people import Person, Role, RoleGrant

    data = load_definition(args.file)
    for key in ("title", "buildings", "deadline"):
        if getattr(args, key):
            data[key] = getattr(args, key)
    definition = parse_definition(data, app.settings.timezone)
    await migrate(app.engine)
    async with app.sessions.begin() as session:
        communities = (
            await session.scalars(select(Community).where(Community.name == args.community))
        ).all()
        if len(communities) != 1:
            raise CommandError(f"there is no single community called {args.community!r}")
        admins = (
            select(Person)
            .join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == Role.ADMIN, RoleGrant.scope_id == communities[0].id)
        )
        if args.admin:
            admins = admins.where(Person.name == args.admin)
        admin = await session.scalar(admins.order_by(Person.id).limit(1))
        if admin is None:
            raise CommandError(f"{args.community!r} has no admin {args.admin or ''}".rstrip())
        survey = await start_campaign(session, admin, communities[0].id, definition)
        share = await coverage(session, survey.id)
    print(
        f"Started campaign {survey.id} {survey.title!r}: {share.total} units in "
        f"{len(share.buildings)} buildings, until {definition.deadline.isoformat()}"
    )


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
    set_up_logging()
    if args.command == "check":
        code = _check_settings()
        if code:
            return code
    try:
        settings = load_settings()
    except SettingsError as e:
        print(f"wishbot: {e}", file=sys.stderr)
        return 2
    keep_secret(settings.telegram_token, settings.webhook_secret, settings.database_url.password)
    if settings.log_format != "text":
        set_up_logging(log_format=settings.log_format)
    use_time_zone(settings.timezone)
    if args.command == "check":
        return asyncio.run(_check(settings))
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args)
    if args.command == "copy-db":
        return _copy_db(args)
    commands: dict[str, Callable[[App], Awaitable[None]]] = {
        "run": lambda app: _run(app, args.migrate),
        "migrate": _migrate,
        "seed-demo": _seed_demo,
        "import": lambda app: _import(app, args),
        "export": lambda app: _export(app, args),
        "campaign": lambda app: _campaign(app, args),
    }
    try:
        asyncio.run(_with_app(settings, commands[args.command]))
    except (CommandError, CannotListen) as e:
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

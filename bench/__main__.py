"""`python -m bench [--quick] [--postgres URL] [--write docs/BENCHMARKS.md]`: run, print, report.

Ours and the echo bot alternate in pairs; medians and per-pair ratios; a broken invariant exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bench import scenarios as s
from bench.harness import Broken, drop_templates
from bench.report import Row, write_report


@dataclass(frozen=True)
class Sizes:
    pairs: int
    first_contacts: int
    conversations: int
    steady_users: int
    during_broadcast: int
    writers: int
    broadcast: int
    pending: int
    due: int
    members: int
    asks: int
    residents: int
    askers: int
    start_pairs: int
    rankings: int = 200


QUICK = Sizes(
    pairs=1,
    first_contacts=50,
    conversations=3,
    steady_users=30,
    during_broadcast=60,
    writers=2,
    broadcast=100,
    pending=2_000,
    due=100,
    members=1_000,
    asks=5,
    residents=2_000,
    askers=50,
    start_pairs=1,
    rankings=30,
)
FULL = Sizes(
    pairs=3,
    first_contacts=300,
    conversations=12,
    steady_users=200,
    during_broadcast=2_000,
    writers=5,
    broadcast=1_500,
    pending=100_000,
    due=1_000,
    members=10_000,
    asks=20,
    residents=100_000,
    askers=200,
    start_pairs=3,
    rankings=200,
)


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    only: str = ""  # run only the scenarios whose title contains this (--only)

    def skips(self, what: str) -> bool:
        return self.only.lower() not in what.lower()


Bench = Callable[[str], Awaitable[s.Run]]


# What a throughput scenario reports: (measure, unit, higher is better).
THROUGHPUT = [
    ("updates_per_s", "updates/s", True),
    ("p50_ms", "ms", False),
    ("p99_ms", "ms", False),
    ("cpu_ms_per_update", "CPU ms", False),
]


async def paired(
    outcome: Outcome,
    db: str,
    what: str,
    pairs: int,
    run: Bench,
    metrics: list[tuple[str, str, bool]],
) -> None:
    """``pairs`` times ours then echo; a row per metric: medians and each pair's ratio.

    A metric is (name, unit, higher_is_better); the ratio is always ours / echo.
    """
    if outcome.skips(what):
        return
    ours: list[s.Run] = []
    echo: list[s.Run] = []
    for number in range(pairs):
        for kind, runs in (("ours", ours), ("echo", echo)):
            try:
                started = time.monotonic()
                runs.append(await run(kind))
            except Broken as broken:
                outcome.failures.append(f"{db} {what} ({kind}): {broken}")
                print(f"  BROKEN {db} {what} ({kind}): {broken}", flush=True)
                return
            shown = {k: round(v, 1) for k, v in runs[-1].numbers.items()}
            seconds = time.monotonic() - started
            print(f"  {db} {what} [{kind} {number + 1}] {shown} ({seconds:.0f} s)", flush=True)
            for problem in runs[-1].broken:
                outcome.failures.append(f"{db} {what} ({kind}): {problem}")
                print(f"  BROKEN {db} {what} ({kind}): {problem}", flush=True)
    for name, unit, _ in metrics:
        ratios = [
            o.numbers[name] / e.numbers[name]
            for o, e in zip(ours, echo, strict=True)
            if e.numbers.get(name)
        ]
        outcome.rows.append(
            Row(
                db,
                what,
                f"{name} ({unit})",
                s.median(ours, name),
                s.median(echo, name),
                ratios,
            )
        )


async def alone(outcome: Outcome, db: str, what: str, run: Callable[[], Awaitable[s.Run]]) -> None:
    if outcome.skips(what):
        return
    try:
        started = time.monotonic()
        result = await run()
    except Broken as broken:
        outcome.failures.append(f"{db} {what}: {broken}")
        print(f"  BROKEN {db} {what}: {broken}", flush=True)
        return
    shown = {k: round(v, 2) for k, v in result.numbers.items()}
    print(f"  {db} {what} {shown} ({time.monotonic() - started:.0f} s)", flush=True)
    for name, value in result.numbers.items():
        outcome.rows.append(Row(db, what, name, value, None, []))
    for problem in result.broken:
        outcome.failures.append(f"{db} {what}: {problem}")
        print(f"  BROKEN {db} {what}: {problem}", flush=True)


async def everything(sizes: Sizes, postgres: str | None, outcome: Outcome) -> None:
    try:
        await measure(sizes, postgres, outcome)
    finally:
        await drop_templates()


async def measure(sizes: Sizes, postgres: str | None, outcome: Outcome) -> None:
    databases: list[tuple[str, str | None]] = [("SQLite", None)]
    if postgres:
        databases.append(("PostgreSQL", postgres))
    for db, url in databases:
        print(f"== {db} ==", flush=True)
        await paired(
            outcome,
            db,
            f"first contacts: {sizes.first_contacts} newcomers send /start at once",
            sizes.pairs,
            partial(s.first_contacts, users=sizes.first_contacts, postgres=url),
            THROUGHPUT,
        )
        await paired(
            outcome,
            db,
            f"full conversations: {sizes.conversations} at once, 21 updates each",
            sizes.pairs,
            partial(s.conversations, count=sizes.conversations, postgres=url),
            THROUGHPUT,
        )
        await paired(
            outcome,
            db,
            f"steady: {sizes.steady_users} registered residents, 20 /help a second",
            1,
            partial(s.steady, users=sizes.steady_users, per_second=20, postgres=url),
            [("p50_ms", "ms", False), ("p99_ms", "ms", False)],
        )
        await alone(
            outcome,
            db,
            f"/help while a {sizes.during_broadcast:,}-person broadcast drains at 30/s",
            partial(s.broadcast, sizes.during_broadcast, sizes.writers, url),
        )
        await alone(
            outcome,
            db,
            f"broadcast to {sizes.broadcast:,} at Telegram's limits",
            partial(s.broadcast, sizes.broadcast, 0, url),
        )
        await alone(
            outcome,
            db,
            f"reminders: {sizes.due:,} fall due among {sizes.pending:,} pending",
            partial(s.reminder_sweep, sizes.pending, sizes.due, url),
        )
        await alone(
            outcome,
            db,
            f"dispatch: /assign among {sizes.members:,} members, {sizes.asks} times",
            partial(s.dispatch, sizes.members, sizes.asks, url),
        )
        await alone(
            outcome,
            db,
            f"dispatch ranking (store): top 5 among {sizes.members:,} members, "
            f"{sizes.rankings} times (target p99 20 ms)",
            partial(s.dispatch_ranking, sizes.members, sizes.rankings, url),
        )
        await paired(
            outcome,
            db,
            f"memory: {sizes.residents:,} residents, then {sizes.askers} ask /help",
            1,
            partial(s.memory, residents=sizes.residents, writers=sizes.askers, postgres=url),
            [("idle_mib", "MiB", False), ("loaded_mib", "MiB", False)],
        )
        await paired(
            outcome,
            db,
            "start-up: process start to the answer of a /start that waited",
            sizes.start_pairs,
            partial(s.start_up, postgres=url),
            [("first_reply_s", "s", False)],
        )


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} memory, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes; for CI")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WISHBOT_TEST_POSTGRES_URL") or None,
        help="a PostgreSQL server URL (default: $WISHBOT_TEST_POSTGRES_URL); unset, SQLite only",
    )
    parser.add_argument("--write", type=Path, help="write the report (Markdown) here")
    parser.add_argument("--broadcast", type=int, help="recipients of the broadcast at the limits")
    parser.add_argument(
        "--only",
        default="",
        help='only the scenarios whose title contains this, e.g. --only "dispatch ranking"',
    )
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    sizes = QUICK if args.quick else FULL
    if args.broadcast:
        sizes = Sizes(**{**sizes.__dict__, "broadcast": args.broadcast})
    outcome = Outcome(only=args.only)
    started = time.monotonic()
    when = dt.datetime.now(dt.UTC)
    about = machine()
    print(f"bench: {'quick' if args.quick else 'full'}; {about}", flush=True)
    asyncio.run(everything(sizes, args.postgres, outcome))
    seconds = time.monotonic() - started
    print(f"bench: {seconds:.0f} s; {len(outcome.failures)} broken invariants")
    for failure in outcome.failures:
        print(f"  BROKEN: {failure}")
    if args.write:
        command = "make bench" + (" (scripts/with-postgres make bench)" if args.postgres else "")
        write_report(
            args.write, outcome.rows, outcome.failures, command, about, when, seconds, sizes
        )
        print(f"bench: wrote {args.write}")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Tests that need something a fresh machine may lack (Chromium, PostgreSQL): marked, skipped
with one line per group saying how to run them, and failed instead under WISHBOT_TEST_REQUIRE_ALL=1.

Hooks for conftest.py: `@pytest.mark.chromium` and `@pytest.mark.postgres` mark the tests.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass

import pytest

REQUIRE_ALL = "WISHBOT_TEST_REQUIRE_ALL"


@dataclass(frozen=True)
class Absent:
    """Why a group cannot run here; `missing` is False when it runs elsewhere (another pass)."""

    reason: str
    missing: bool = True


def _chromium() -> Absent | None:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return None
    return Absent(
        "Chromium is not installed: apt-get install chromium, then make test runs them"
        " (.ci/run does both)"
    )


def _postgres() -> Absent | None:
    if os.environ.get("WISHBOT_TEST_DATABASE_URL"):
        return None
    if os.environ.get("WISHBOT_TEST_POSTGRES_URL"):
        return Absent("they run in the suite's PostgreSQL pass", missing=False)
    return Absent(
        "no PostgreSQL: apt-get install postgresql, then make test runs them"
        " (or scripts/with-postgres make test)"
    )


def _systemd() -> Absent | None:
    if shutil.which("systemd-analyze"):
        return None
    return Absent("systemd-analyze is not installed: apt-get install systemd (.ci/run does it)")


def _hadolint() -> Absent | None:
    if shutil.which("hadolint"):
        return None
    # Not in Debian's packages: never required, even by WISHBOT_TEST_REQUIRE_ALL.
    return Absent(
        "hadolint is not installed (https://github.com/hadolint/hadolint/releases)", missing=False
    )


NEEDS = {
    "chromium": ("drive Chromium", _chromium),
    "postgres": ("need PostgreSQL", _postgres),
    "systemd": ("check the systemd unit", _systemd),
    "hadolint": ("lint the Containerfile", _hadolint),
}
_skipped: Counter[str] = Counter()
_reasons: dict[str, Absent] = {}


def pytest_configure(config: pytest.Config) -> None:
    for name, (what, _) in NEEDS.items():
        config.addinivalue_line("markers", f"{name}: tests that {what}")


def _drives_chromium(module: object) -> bool:
    """A test module that imports from tests/browser.py drives Chromium, marked or not."""
    return any(getattr(v, "__module__", None) == "tests.browser" for v in vars(module).values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and _drives_chromium(module):
            item.add_marker(pytest.mark.chromium)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, (_, check) in NEEDS.items():
        if item.get_closest_marker(name) is None:
            continue
        absent = check()
        if absent is None:
            continue
        if absent.missing and os.environ.get(REQUIRE_ALL):
            pytest.fail(f"{REQUIRE_ALL} is set but {absent.reason}", pytrace=False)
        _skipped[name] += 1
        _reasons[name] = absent
        pytest.skip(absent.reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, count in sorted(_skipped.items()):
        what = NEEDS[name][0]
        terminalreporter.write_line(
            f"NOT RUN: {count} tests that {what}: {_reasons[name].reason}",
            yellow=True,
            bold=True,
        )

"""`make test` on a fresh machine: tests needing Chromium or PostgreSQL are skipped with one line
per group saying how to run them, and WISHBOT_TEST_REQUIRE_ALL=1 (CI) turns that into a failure.

Runs a small suite with the hooks of tests/needs.py in a pytest subprocess, with a PATH that has
no Chromium (or a stand-in one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = """
import pytest

@pytest.mark.chromium
def test_in_the_browser():
    pass

@pytest.mark.chromium
def test_in_the_browser_again():
    pass

@pytest.mark.postgres
def test_two_processes():
    pass

def test_plain():
    pass
"""


def run_suite(tmp_path: Path, *, chromium: bool = False, **env: str) -> tuple[int, str]:
    (tmp_path / "conftest.py").write_text(
        "from tests.needs import pytest_configure, pytest_runtest_setup, pytest_terminal_summary\n"
    )
    (tmp_path / "test_groups.py").write_text(SUITE)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if chromium:
        (bin_dir / "chromium").write_text("#!/bin/sh\n")
        (bin_dir / "chromium").chmod(0o755)
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WISHBOT_TEST_") and k not in ("PATH", "PYTHONPATH", "PYTEST_ADDOPTS")
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={**clean, "PATH": str(bin_dir), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_without_chromium_or_postgres_the_suite_passes_and_says_how_to_run_the_rest(
    tmp_path: Path,
) -> None:
    code, out = run_suite(tmp_path)
    assert code == 0, out
    assert "1 passed, 3 skipped" in out
    lines = [line for line in out.splitlines() if line.startswith("NOT RUN: ")]
    assert lines == [
        "NOT RUN: 2 tests that drive Chromium: Chromium is not installed: apt-get install "
        "chromium, then make test runs them (.ci/run does both)",
        "NOT RUN: 1 tests that need PostgreSQL: no PostgreSQL: apt-get install postgresql, "
        "then make test runs them (or scripts/with-postgres make test)",
    ]


def test_require_all_turns_each_such_skip_into_a_failure(tmp_path: Path) -> None:
    code, out = run_suite(tmp_path, WISHBOT_TEST_REQUIRE_ALL="1")
    assert code == 1, out
    assert "1 passed, 3 errors" in out
    assert "WISHBOT_TEST_REQUIRE_ALL is set but Chromium is not installed" in out
    assert "WISHBOT_TEST_REQUIRE_ALL is set but no PostgreSQL" in out


def test_what_is_present_runs(tmp_path: Path) -> None:
    # Chromium on the PATH; the SQLite pass of a run whose PostgreSQL pass comes next.
    code, out = run_suite(
        tmp_path,
        chromium=True,
        WISHBOT_TEST_REQUIRE_ALL="1",
        WISHBOT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/postgres",
    )
    assert code == 0, out
    assert "3 passed, 1 skipped" in out
    assert "they run in the suite's PostgreSQL pass" in out

    code, out = run_suite(
        tmp_path,
        WISHBOT_TEST_REQUIRE_ALL="1",
        WISHBOT_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres",
        chromium=True,
    )
    assert code == 0, out
    assert "4 passed" in out

"""`wishbot run` with no token: migrates, says how to go further, stays up, stops cleanly.

The real process, started as `make run` starts it, stopped with SIGTERM as a service manager would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_run_without_a_token_stays_up_until_stopped(tmp_path: Path) -> None:
    database = tmp_path / "data" / "wishbot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WISHBOT_")}
    env["WISHBOT_DATABASE_URL"] = f"sqlite:///{database}"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        said = []
        # Read what it logs until it says it is running; an early exit ends the loop with "".
        for line in iter(process.stderr.readline, ""):
            said.append(line)
            if "is running" in line:
                break
        log = "".join(said)
        assert "is running" in log, log
        assert "WISHBOT_TELEGRAM_TOKEN" in log
        assert "http://127.0.0.1:8080" in log
        assert process.poll() is None, "the bot exited on its own"
        # It created and migrated its database on the way up.
        with sqlite3.connect(database) as db:
            assert db.execute("select count(*) from categories").fetchone()[0] > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

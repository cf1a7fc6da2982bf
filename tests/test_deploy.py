"""The deployment files: the systemd unit passes `systemd-analyze verify` and is hardened, the
Containerfile installs with the same commands as `make run` (hadolint lints it where present),
and the Caddy example proxies to the web port and keeps /metrics inside.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "wishbot.service"
CONTAINERFILE = DEPLOY / "Containerfile"


def _installed_unit(tmp_path: Path) -> Path:
    """The unit with /opt/wishbot pointing at a stand-in install (verify wants the program)."""
    install = tmp_path / "opt-wishbot"
    program = install / ".venv" / "bin" / "wishbot"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    unit = tmp_path / "wishbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/wishbot", str(install)))
    return unit


@pytest.mark.systemd
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = _installed_unit(tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "wishbot.service" not in done.stderr, done.stderr  # no warnings about our unit


@pytest.mark.systemd
def test_the_unit_is_hardened(tmp_path: Path) -> None:
    text = UNIT.read_text()
    for line in (
        "User=wishbot",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "ExecStart=/opt/wishbot/.venv/bin/wishbot run",
    ):
        assert f"\n{line}\n" in text, line
    # systemd's own score of what the service is exposed to (0-100; 100 is everything).
    done = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=yes",
            "--threshold=20",
            str(_installed_unit(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


def _make_run_install() -> list[str]:
    """The commands of the Makefile's .installed-run recipe, with its variables filled in."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(RUN_STAMP): pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    values = {"$(PYTHON)": "python3", "$(VENV)": ".venv", "$(BIN)": ".venv/bin"}
    commands = []
    for line in recipe.splitlines():
        command = line.strip()
        for name, value in values.items():
            command = command.replace(name, value)
        if not command.startswith("touch "):
            commands.append(command)
    return commands


def _containerfile_runs() -> list[str]:
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    runs = [
        line.removeprefix("RUN ").strip() for line in text.splitlines() if line.startswith("RUN ")
    ]
    return [re.sub(r"\s+", " ", part).strip() for run in runs for part in run.split("&&")]


def test_the_container_installs_as_make_run_does() -> None:
    commands = _make_run_install()
    assert commands == [
        "python3 -m venv .venv",
        ".venv/bin/pip install --quiet --upgrade pip",
        ".venv/bin/pip install --quiet -e .",
        ".venv/bin/python -m compileall -q bot handlers models",
    ]
    runs = _containerfile_runs()
    start = runs.index(commands[0])
    assert runs[start : start + len(commands)] == commands
    text = CONTAINERFILE.read_text()
    assert "\nUSER 10001:10001\n" in text and "-slim" in text  # wishbot, by number
    # What running reads from the tree: the packages, the migrations with them, the catalogues.
    for needed in ("bot", "handlers", "models", "locales", "pyproject.toml", "README.md"):
        assert re.search(rf"^COPY .*\b{re.escape(needed)}\b", text, re.MULTILINE), needed
    assert 'CMD ["/opt/wishbot/.venv/bin/wishbot", "run"]' in text


@pytest.mark.hadolint
def test_hadolint_finds_nothing_in_the_containerfile() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint is not None
    done = subprocess.run(
        [hadolint, str(CONTAINERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_caddy_example_proxies_the_web_port_and_keeps_metrics_in() -> None:
    text = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy 127.0.0.1:8080" in text
    assert "respond /metrics 404" in text

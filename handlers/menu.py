"""Each person's main menu: their main jobs as buttons, and every command they may use.

Built from the commands' registry and the person's roles; sent as a Menu whenever roles change.
"""

from __future__ import annotations

from collections.abc import Collection

from handlers.i18n import Translator
from handlers.messages import Button, Menu, Reply
from handlers.router import COMMAND_ACTION, COMMANDS, allowed
from handlers.turn import Speaker, action_button
from models.errors import N_
from models.people import Role
from models.reach import grants_of

# The main jobs, most asked-for first; each is a command, shown to whoever may use it.
JOBS: tuple[tuple[str, str], ...] = (
    ("start", N_("👋 Start")),
    ("wish", N_("🙋 Ask for help")),
    ("my", N_("📋 My wishes")),
    ("tasks", N_("🤝 Tasks")),
    ("pending", N_("⏳ Waiting for me")),
    ("onbehalf", N_("📝 Ask for a neighbour")),
    ("escalated", N_("⬆ Passed up to me")),
    ("approve", N_("✅ New volunteers")),
    ("points", N_("⭐ My points")),
    ("help", N_("❓ Help")),
)


def command_button(label: str, name: str) -> Button:
    """A button that runs a command, as if it had been typed."""
    return action_button(label, COMMAND_ACTION, name)


def main_jobs(
    t: Translator, roles: Collection[Role], *, registered: bool, without: Collection[str] = ()
) -> list[Button]:
    """The main jobs of someone with these roles, as buttons (Start only before registering)."""
    jobs = []
    for name, label in JOBS:
        if name in without or (name == "start" and registered):
            continue
        cmd = COMMANDS.get(name)
        if cmd is not None and allowed(cmd, roles, registered=registered):
            jobs.append(command_button(t.raw(label), name))
    return jobs


def menu_of(t: Translator, roles: Collection[Role], *, registered: bool) -> Menu:
    """Every command the person may use (the main jobs first), and their main jobs."""
    first = [name for name, _ in JOBS if name != "start"]
    usable = sorted(
        (c for c in COMMANDS.values() if allowed(c, roles, registered=registered)),
        key=lambda c: (first.index(c.name) if c.name in first else len(first), c.name),
    )
    return Menu(
        commands=tuple((c.name, t.raw(c.summary)) for c in usable),
        jobs=tuple(main_jobs(t, roles, registered=registered)),
    )


async def send_menu(speaker: Speaker, person_id: int) -> None:
    """The person's roles changed (or they asked): their menu, to every chat they use.
    Urgent, so quiet hours never leave a new building head without their commands."""
    roles = {g.role for g in await grants_of(speaker.session, person_id)}
    await speaker.tell(
        person_id, lambda t: Reply("", menu=menu_of(t, roles, registered=True)), urgent=True
    )

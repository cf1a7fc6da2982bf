"""/help lists only the commands the caller may use, each a button; /language switches language.

The list comes from the registered commands and their roles, so it never goes stale.
"""

from __future__ import annotations

from handlers.flows.common import rows
from handlers.i18n import LANGUAGE_NAMES, SUPPORTED
from handlers.menu import command_button, main_jobs
from handlers.router import COMMANDS, command, may_use
from handlers.turn import Flow, Step, Turn, register_flow
from models.errors import N_

CHOOSE = "choose"


@command("help", N_("what you can do here"), registered=False)
async def help_(turn: Turn) -> None:
    t = turn.t
    lines = [t("Here is what you can do:")]
    # The main jobs come first as big buttons; every other command is a button too.
    jobs = main_jobs(
        t, {g.role for g in turn.grants}, registered=turn.person is not None, without=("help",)
    )
    listed = {job.data.rsplit(":", 1)[-1] for job in jobs}
    others = []
    for cmd in sorted(COMMANDS.values(), key=lambda c: c.name):
        if may_use(turn, cmd):
            lines.append(t("/{name} — {summary}", name=cmd.name, summary=t.raw(cmd.summary)))
            if cmd.name not in listed and cmd.name != "help":
                others.append(command_button("/" + cmd.name, cmd.name))
    if turn.person is None:
        lines.append(t("Send /start to register first."))
    turn.say("\n".join(lines), [*rows(jobs, 2), *rows(others, 3)])


@command("language", N_("choose your language"), registered=False)
async def language(turn: Turn) -> None:
    await turn.start(FLOW, CHOOSE)


async def ask_choose(turn: Turn) -> None:
    buttons = [turn.option(LANGUAGE_NAMES[code], code) for code in SUPPORTED]
    turn.say(turn.t("Which language?"), [buttons, turn.nav(back=False)])


async def answer_choose(turn: Turn) -> None:
    if turn.value not in SUPPORTED:
        turn.say(turn.t("Please choose a language with the buttons."))
        return
    turn.conversation.locale = turn.value
    if turn.person is not None:
        turn.person.locale = turn.value
    turn.end()
    turn.say(turn.t("Done. I will speak {language} with you.", language=LANGUAGE_NAMES[turn.value]))


FLOW = register_flow(Flow("language", {CHOOSE: Step(ask_choose, answer_choose)}))

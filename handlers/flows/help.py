"""/help lists only the commands the caller may use; /language switches the language.

The list comes from the registered commands and their roles, so it never goes stale.
"""

from __future__ import annotations

from handlers.i18n import LANGUAGE_NAMES, SUPPORTED
from handlers.router import COMMANDS, command, may_use
from handlers.turn import Flow, Step, Turn, register_flow
from models.errors import N_

CHOOSE = "choose"


@command("help", N_("what you can do here"), registered=False)
async def help_(turn: Turn) -> None:
    t = turn.t
    lines = [t("Here is what you can do:")]
    for cmd in sorted(COMMANDS.values(), key=lambda c: c.name):
        if may_use(turn, cmd):
            lines.append(t("/{name} — {summary}", name=cmd.name, summary=t.raw(cmd.summary)))
    if turn.person is None:
        lines.append(t("Send /start to register first."))
    turn.say("\n".join(lines))


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

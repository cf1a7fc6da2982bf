"""/points: a member's balance, level, rank and yearly commitment, and the latest ledger rows.

Levels by balance (level_of); the buttons to rewards, the statement and rankings (standing.py).
"""

from __future__ import annotations

from handlers.flows.standing import level_lines, place_lines, points_buttons, rules_of
from handlers.flows.tasks import acting_member
from handlers.i18n import Markup, Translator
from handlers.router import command
from handlers.turn import Turn
from models.errors import N_
from models.people import Role
from models.points import PointsEntry, PointsKind
from models.points_ledger import latest_entries

LEDGER_SHOWN = 5

# Levels by balance, lowest first: (points needed, name).
LEVELS = (
    (0, N_("Seedling 🌱")),
    (30, N_("Sprout 🌿")),
    (100, N_("Tree 🌳")),
    (300, N_("Forest 🌲")),
)

KIND_NAMES = {
    PointsKind.AWARD: N_("award"),
    PointsKind.ADJUSTMENT: N_("correction by the office"),
    PointsKind.REDEMPTION: N_("reward"),
}


def level_of(balance: int) -> tuple[str, tuple[int, str] | None]:
    """The level reached (a msgid) and the next one (points needed, msgid), if any."""
    reached = LEVELS[0][1]
    for needed, name in LEVELS:
        if balance >= needed:
            reached = name
        else:
            return reached, (needed, name)
    return reached, None


@command("points", N_("your points, level and rank"), Role.MEMBER)
async def points(turn: Turn) -> None:
    me = acting_member(turn)
    t = turn.t
    balance = me.points_balance
    lines = [t.plural("You have {n} point.", "You have {n} points.", balance)]
    lines += level_lines(t, await rules_of(turn), balance)
    lines += await place_lines(turn, me)
    from handlers.flows.commitments import points_line

    lines.append(await points_line(turn))

    entries = await latest_entries(turn.session, me.id, LEDGER_SHOWN)
    if entries:
        lines.append("")
        lines.append(t("Latest changes:"))
        for entry, code in entries:
            sign = "+" if entry.amount > 0 else "−"
            lines.append(
                t(
                    "{when} · {amount} · {what}",
                    when=t.when(entry.at),
                    amount=sign + t.number(abs(entry.amount)),
                    what=code or _entry_note(t, entry),
                )
            )
    else:
        lines.append("")
        lines.append(t("No points yet: they come when a wish you helped with is confirmed."))
    turn.say("\n".join(lines), await points_buttons(turn, me))


def _entry_note(t: Translator, entry: PointsEntry) -> str:
    """What a row without a wish was: a correction (with its reason) or a reward."""
    kind = t.raw(KIND_NAMES.get(entry.kind, entry.kind.value))
    if entry.kind == PointsKind.REDEMPTION and entry.amount > 0:
        kind = t.raw(N_("reward not collected: points back"))
    if not entry.note:
        return kind
    return Markup(t("{kind}: {note}", kind=kind, note=entry.note))

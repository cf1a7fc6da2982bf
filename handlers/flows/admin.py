"""The office's desk: /pending and /stats, and the ground the office's rooms share.

Scope, role names, the wish named on the command line; the admin conversation (see admin.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from handlers.flows.common import status_name, wish_summary
from handlers.flows.same_wish import merge_buttons, same_as, same_note
from handlers.flows.verification import head_pending
from handlers.i18n import Translator
from handlers.messages import Button
from handlers.router import ROLE_NAMES, command
from handlers.turn import Flow, Turn, register_flow
from models.clock import now
from models.errors import N_
from models.office_work import level_over_wish, office_counts, waiting_for_office
from models.people import Role
from models.wish_moves import MAX_NOTE, wish_by_code
from models.wishes import FINAL_STATUSES, Wish, WishStatus

S = WishStatus

SHOWN = 20  # wishes listed by /pending
PAGE = 8  # people per page in /grant

# The office's one conversation: its name and step names are stored in open chats, so it stays
# one flow; each room adds the steps it asks (assign.py, escalate.py, grant.py, broadcast.py,
# export.py).
FLOW = register_flow(Flow("admin", {}))


# --- scope -----------------------------------------------------------------------------------


async def level_over(turn: Turn, wish: Wish) -> int:
    """The highest rung the caller holds over the wish's building (0: none)."""
    return await level_over_wish(turn.session, turn.grants, wish)


def rest_of_command(turn: Turn, skip: int) -> str:
    """What was typed after the command and its first `skip` words, line breaks kept."""
    text = (turn.incoming.text or "").strip()
    if text.startswith("/"):
        parts = text.split(maxsplit=skip + 1)
        return parts[skip + 1].strip() if len(parts) > skip + 1 else ""
    return " ".join(turn.incoming.args[skip:]).strip()


async def wish_from_command(turn: Turn, example: str) -> Wish | None:
    """The wish named by the command's first word; without one, say how to name it."""
    if not turn.incoming.args:
        turn.say(
            turn.t("Which wish? Add its code, for example: {example}", example=turn.t.raw(example))
        )
        return None
    return await wish_by_code(turn.session, turn.incoming.args[0])


def role_name(t: Translator, role: Role) -> str:
    return t.raw(ROLE_NAMES.get(role, role.value))


async def wish_and_text(
    turn: Turn,
    example: str,
    check: Callable[[Turn, Wish], Awaitable[None]],
    ask: tuple[Flow, str],
    do: Callable[[Turn, int, str], Awaitable[None]],
) -> None:
    """`/command CODE text`: checked at once; without the text, a step asks for it."""
    wish = await wish_from_command(turn, example)
    if wish is None:
        return
    await check(turn, wish)
    text = rest_of_command(turn, 1)
    if not text:
        await turn.start(ask[0], ask[1], wish_id=wish.id, code=wish.code)
    elif len(text) > MAX_NOTE:
        turn.say(
            turn.t(
                "That is too long (at most {limit} characters). Please shorten it.", limit=MAX_NOTE
            )
        )
    else:
        await do(turn, wish.id, text)


# --- /pending --------------------------------------------------------------------------------


@command("pending", N_("wishes waiting for you"), Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN)
async def pending(turn: Turn) -> None:
    if not turn.has(Role.GRID_WORKER, Role.ADMIN):
        await head_pending(turn)  # a building head: their buildings' wishes
        return
    t = turn.t
    waiting = await waiting_for_office(
        turn.session, turn.reach(Role.GRID_WORKER, Role.ADMIN), turn.grants
    )
    if not waiting:
        turn.say(t("Nothing is waiting. Well done!"))
        return
    turn.say(t.plural("One wish is waiting:", "{n} wishes are waiting:", len(waiting)))
    for wish in waiting[:SHOWN]:
        # A wish that looks like an earlier one says so, with a merge button (same_wish.md).
        same = await same_as(turn, wish) if wish.status in (S.SUBMITTED, S.OPEN) else []
        note = same_note(same)
        turn.say(
            await wish_summary(turn, wish) + ("\n" + note(t) if note else ""),
            [wish_buttons(turn, wish), *([tuple(merge_buttons(t, wish, same))] if same else [])],
        )
    if len(waiting) > SHOWN:
        more = len(waiting) - SHOWN
        turn.say(t.plural("…and one more.", "…and {n} more.", more))


def wish_actions(t: Translator, status: S) -> list[tuple[str, str]]:
    """The office's buttons for a wish in this state, as (label, action name); the chat's
    /pending and the web dashboard both offer these."""
    first: list[tuple[str, str]] = []
    if status == S.SUBMITTED:
        first.append((t.raw("✅ Verify"), "verify"))
    elif status == S.OPEN:
        first.append((t.raw("👤 Assign"), "assign"))
    elif status == S.ESCALATED:
        first.append((t.raw("💬 Answer"), "resolve"))
    if status in FINAL_STATUSES or status == S.DONE:
        return first
    return [*first, (t.raw("⬆ Escalate"), "escalate")]


def wish_buttons(turn: Turn, wish: Wish) -> tuple[Button, ...]:
    return tuple(
        turn.action(label, name, wish.id) for label, name in wish_actions(turn.t, wish.status)
    )


# --- /stats ----------------------------------------------------------------------------------


@command(
    "stats", N_("how many wishes, in which state; points awarded"), Role.GRID_WORKER, Role.ADMIN
)
async def stats(turn: Turn) -> None:
    t = turn.t
    moment = now(turn.session).astimezone(turn.config.timezone)
    monday = moment.date() - dt.timedelta(days=moment.weekday())
    week_start = dt.datetime.combine(monday, dt.time.min, tzinfo=turn.config.timezone)
    counts = await office_counts(turn.session, turn.reach(Role.GRID_WORKER, Role.ADMIN), week_start)
    lines = [t("<b>Wishes</b>: {total}", total=t.number(counts.total))]
    for status in S:
        lines.append(
            t(
                "{status}: {count}",
                status=status_name(t, status.value),
                count=t.number(counts.by_status.get(status, 0)),
            )
        )
    lines.append(t("Closed this week: {count}", count=t.number(counts.closed_since)))
    lines.append(t("Points awarded: {points}", points=t.number(counts.points_awarded)))
    turn.say("\n".join(lines))

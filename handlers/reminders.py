"""What a due reminder does: reload its wish, check it still applies, nudge or act.

Called by the runtime inside the transaction that claimed the reminder, so it acts once.
"""

from __future__ import annotations

# First, before the flows' news module: flows that import reminder_kind from here (while this
# module is still being imported, through handlers.flows) find it already defined.
from handlers.reminder_kinds import OTHER_REMINDERS, reminder_kind

# isort: split

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.flows.news import (
    heads_of,
    helpers_of,
    ladder_holders,
    requester_side,
    spend_card,
    tell,
)
from handlers.flows.same_wish import merge_buttons, same_as, same_note
from handlers.flows.suggested import TOP, candidate_line, resource_lines
from handlers.flows.verification import ask_heads_to_check
from handlers.i18n import Markup, Translator
from handlers.messages import Button, Outgoing, Reply
from handlers.turn import Config, Speaker, action_button
from models.cards import CONFIRM
from models.clock import now
from models.dispatch import rank_supply
from models.errors import N_
from models.office_work import digest_counts
from models.people import Role
from models.permissions import LADDER
from models.reach import reach
from models.reminders import Reminder
from models.schedule import WISH_PREFIX, add_reminder, rules_for_building, waiting_hours
from models.wish_closing import auto_confirm
from models.wish_escalation import auto_escalate, climb
from models.wish_taking import auto_release
from models.wishes import Wish, WishStatus

S = WishStatus
Fire = Callable[[Speaker, Wish, Reminder], Awaitable[None]]

# Which state each kind of wish reminder belongs to; in any other state it no longer applies.
APPLIES = {
    "verify_head": S.SUBMITTED,
    "verify_grid": S.SUBMITTED,
    "open_grid": S.OPEN,
    "open_escalate": S.OPEN,
    "before_time": S.ACCEPTED,
    "time_passed": S.ACCEPTED,
    "still_on_it": S.ACCEPTED,
    "auto_release": S.ACCEPTED,
    "confirm_remind": S.DONE,
    "auto_confirm": S.DONE,
    "escalated_climb": S.ESCALATED,
    "escalated_top": S.ESCALATED,
}


async def fire(session: AsyncSession, reminder: Reminder, config: Config) -> list[Outgoing]:
    """Do what the reminder is for, if it still applies; return what to send."""
    speaker = Speaker(session=session, config=config)
    if reminder.kind.startswith(WISH_PREFIX):
        kind = reminder.kind.removeprefix(WISH_PREFIX)
        wish = await session.get(Wish, reminder.wish_id, populate_existing=True)
        stale = (
            wish is None
            or APPLIES.get(kind) != wish.status
            or reminder.payload.get("version") not in (None, wish.version)
        )
        if wish is not None and not stale:
            await WISH_REMINDERS[kind](speaker, wish, reminder)
    elif reminder.kind in OTHER_REMINDERS:
        await OTHER_REMINDERS[reminder.kind](speaker, reminder)
    return speaker.replies


# Reminders that are not about one wish (digests, campaigns, visits) are registered by kind
# with @reminder_kind, kept in handlers/reminder_kinds.py so that flows can import it freely.


def _buttons(*pairs: tuple[str, str, int]) -> Callable[[Translator], list[list[Button]]]:
    return lambda t: [[action_button(t.raw(label), name, arg) for label, name, arg in pairs]]


async def _verify_head(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    await ask_heads_to_check(
        speaker,
        await heads_of(speaker, wish.building_id),
        wish,
        N_("Reminder: wish {code} from {name} (unit {unit}) is still waiting for your check."),
    )


async def _verify_grid(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    same = await same_as(speaker, wish)
    verify = _buttons((N_("✅ Verify"), "verify", wish.id))
    await tell(
        speaker,
        await ladder_holders(speaker, wish, Role.GRID_WORKER),
        wish,
        N_("Wish {code} has waited a long time for the building head's check."),
        lambda t: [*verify(t), *([merge_buttons(t, wish, same)] if same else [])],
        extra=same_note(same),
    )


async def _open_grid(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    ranked, resources = await rank_supply(
        speaker.session, wish, TOP, timezone=speaker.config.timezone
    )

    def who_could(t: Translator) -> Markup:
        lines = [candidate_line(t, number, c) for number, c in enumerate(ranked, start=1)]
        lines += resource_lines(t, resources)
        return Markup("\n" + "\n".join(lines) if lines else "-")

    await tell(
        speaker,
        await ladder_holders(speaker, wish, Role.GRID_WORKER),
        wish,
        N_("Nobody has taken wish {code} yet. Members who could: {names}"),
        _buttons((N_("👤 Assign"), "assign", wish.id)),
        names=who_could,
    )


async def _open_escalate(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    wish = await auto_escalate(speaker.session, wish.id, "No member took it in time")
    await tell(
        speaker,
        await ladder_holders(speaker, wish, Role.ADMIN),
        wish,
        N_("Nobody took wish {code} for days; it is now with you, the community admin."),
        _buttons((N_("👤 Assign"), "assign", wish.id), (N_("💬 Answer"), "resolve", wish.id)),
    )
    await tell(
        speaker,
        requester_side(wish),
        wish,
        N_("Your wish {code} has been passed on to the community office."),
    )


async def _before_time(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    await tell(
        speaker,
        await helpers_of(speaker, wish),
        wish,
        N_("Reminder: wish {code} is due at {when}."),
        when=wish.preferred_time,
    )


async def _time_passed(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    await tell(
        speaker,
        await helpers_of(speaker, wish),
        wish,
        N_("The time for wish {code} has passed. Done? Report it, or give it back."),
        _buttons(
            (N_("✅ Report done"), "done", wish.id), (N_("↩ Give it back"), "release", wish.id)
        ),
    )


async def _still_on_it(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    rules = await rules_for_building(speaker.session, wish.building_id)
    await add_reminder(
        speaker.session,
        f"{WISH_PREFIX}auto_release",
        now(speaker.session) + dt.timedelta(hours=rules.answer_hours),
        wish=wish,
    )
    await tell(
        speaker,
        await helpers_of(speaker, wish),
        wish,
        N_("Are you still on wish {code}? If we hear nothing, it goes back to the others."),
        _buttons(
            (N_("👍 Still on it"), "still_on", wish.id), (N_("↩ Give it back"), "release", wish.id)
        ),
    )


async def _auto_release(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    helpers = await helpers_of(speaker, wish)
    wish = await auto_release(speaker.session, wish.id)
    await tell(
        speaker, helpers, wish, N_("We heard nothing, so wish {code} went back to the others.")
    )
    await tell(
        speaker, requester_side(wish), wish, N_("We are looking for a new helper for wish {code}.")
    )


async def _confirm_remind(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    await tell(
        speaker,
        requester_side(wish),
        wish,
        N_("Wish {code} was reported done. Is it? Please confirm."),
        _buttons(
            (N_("⭐ It's done"), "confirm", wish.id), (N_("Not done yet"), "dispute", wish.id)
        ),
    )


async def _auto_confirm(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    helpers = await helpers_of(speaker, wish)
    wish = await auto_confirm(speaker.session, wish.id)
    await tell(
        speaker, helpers, wish, N_("Wish {code} was confirmed. Your points have grown: /points")
    )
    await tell(
        speaker, requester_side(wish), wish, N_("We took wish {code} as done and closed it.")
    )
    # The "It's done / Not done yet" card no longer applies: it says so, without buttons.
    await spend_card(
        speaker, requester_side(wish), wish, CONFIRM, N_("⭐ Wish {code} is confirmed and closed.")
    )


async def _escalated_climb(speaker: Speaker, wish: Wish, _: Reminder) -> None:
    wish = await climb(speaker.session, wish.id, "Nobody answered in time")
    role = LADDER[(wish.escalation_level or len(LADDER)) - 1]
    await tell(
        speaker,
        await ladder_holders(speaker, wish, role),
        wish,
        N_("Nobody below answered wish {code} in time; it is now with you."),
        _buttons((N_("💬 Answer"), "resolve", wish.id)),
    )


async def _escalated_top(speaker: Speaker, wish: Wish, reminder: Reminder) -> None:
    """The top rung has nobody above: remind its holders again, a few times."""
    rules = await rules_for_building(speaker.session, wish.building_id)
    round_ = int(reminder.payload.get("round", 1))
    if round_ < rules.top_reminders:
        await add_reminder(
            speaker.session,
            reminder.kind,
            now(speaker.session) + rules.escalated_hours * waiting_hours(wish, rules),
            wish=wish,
            key=f"{reminder.kind}:{wish.id}:{wish.version}:{round_ + 1}",
            payload={"round": round_ + 1},
        )
    await tell(
        speaker,
        await ladder_holders(speaker, wish, LADDER[-1]),
        wish,
        N_("Reminder: wish {code} still waits for your answer."),
        _buttons((N_("💬 Answer"), "resolve", wish.id)),
    )


WISH_REMINDERS: dict[str, Fire] = {
    "verify_head": _verify_head,
    "verify_grid": _verify_grid,
    "open_grid": _open_grid,
    "open_escalate": _open_escalate,
    "before_time": _before_time,
    "time_passed": _time_passed,
    "still_on_it": _still_on_it,
    "auto_release": _auto_release,
    "confirm_remind": _confirm_remind,
    "auto_confirm": _auto_confirm,
    "escalated_climb": _escalated_climb,
    "escalated_top": _escalated_top,
}


@reminder_kind("digest")
async def _digest(speaker: Speaker, reminder: Reminder) -> None:
    """The admin's morning: new, open, overdue, closed yesterday, in their communities."""
    session = speaker.session
    admin_id = reminder.target_person_id
    assert admin_id is not None
    counts = await digest_counts(session, await reach(session, admin_id, Role.ADMIN), now(session))
    numbers = asdict(counts)
    await speaker.tell(
        admin_id,
        lambda t: Reply(
            t(
                "Good morning! Since yesterday: {new} new wishes, {closed} closed. "
                "Waiting now: {open}; overdue: {overdue}. /pending shows them.",
                **{k: t.number(v) for k, v in numbers.items()},
            )
        ),
    )


@reminder_kind("head_prompt")
async def _head_prompt(speaker: Speaker, reminder: Reminder) -> None:
    head_id = reminder.target_person_id
    assert head_id is not None
    await speaker.tell(
        head_id,
        lambda t: Reply(
            t("Anything new in your building this week? /onbehalf enters a wish for a neighbour.")
        ),
    )

"""/commit: a member (or an organisation's contact, for it) commits to a number of services or
hours this year; the progress shows in /points and /org, and in the last quarter those behind
get one gentle reminder. See commitments.md for the steps.
"""

from __future__ import annotations

from handlers.flows.organisations import UNIT_NAMES, commitment_line, contacts_organisations
from handlers.messages import Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import command
from handlers.turn import Flow, Speaker, Step, Turn, register_flow
from models.clock import now
from models.commitments import (
    BEHIND_KIND,
    Commitment,
    CommitmentUnit,
    commit,
    local_year,
    progress_of,
)
from models.errors import N_
from models.people import Role
from models.reminders import Reminder

WHO = "who"
UNIT = "unit"
TARGET = "target"
MYSELF = "me"
SUGGESTED = (6, 12, 24, 52)


@command("commit", N_("commit to a number of services or hours this year"), Role.MEMBER)
async def commit_command(turn: Turn) -> None:
    if await contacts_organisations(turn):
        await turn.start(FLOW, WHO)
    else:
        await turn.start(FLOW, UNIT, organisation_id=None)


async def ask_who(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw("🙋 For myself"), MYSELF)]
    buttons += [turn.option(o.name, str(o.id)) for o in await contacts_organisations(turn)]
    turn.say(t("Who commits?"), [tuple(buttons), turn.nav(back=False)])


async def answer_who(turn: Turn) -> None:
    ids = {str(o.id): o.id for o in await contacts_organisations(turn)}
    if turn.value == MYSELF:
        turn.remember(organisation_id=None)
    elif turn.value in ids:
        turn.remember(organisation_id=ids[turn.value])
    else:
        turn.say(turn.t("Please choose with the buttons."))
        return
    await turn.goto(UNIT)


async def ask_unit(turn: Turn) -> None:
    t = turn.t
    year = local_year(now(turn.session), turn.config.timezone)
    buttons = [turn.option(t.raw(label), unit.value) for unit, label in UNIT_NAMES.items()]
    turn.say(
        t("What do you commit to in {year}: a number of services, or of hours?", year=year),
        [tuple(buttons), turn.nav(back=bool(turn.data.get("_back")))],
    )


async def answer_unit(turn: Turn) -> None:
    if turn.value not in {u.value for u in CommitmentUnit}:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(unit=turn.value)
    await turn.goto(TARGET)


async def ask_target(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(str(n), str(n)) for n in SUGGESTED]
    turn.say(
        t("How many this year? Choose, or type a number."),
        [tuple(buttons), turn.nav()],
    )


async def answer_target(turn: Turn) -> None:
    assert turn.person is not None
    raw = turn.value if turn.value is not None else (turn.incoming.text or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        turn.say(turn.t("Please type a number from 1 to 10000."))
        return
    year = local_year(now(turn.session), turn.config.timezone)
    organisation_id = turn.data.get("organisation_id")
    await commit(
        turn.session,
        turn.person,
        target=int(raw),
        unit=CommitmentUnit(turn.data["unit"]),
        year=year,
        organisation_id=organisation_id,
    )
    turn.end()
    owner = (
        {"organisation_id": organisation_id}
        if organisation_id is not None
        else {"person_id": turn.person.id}
    )
    turn.say(
        turn.t("Thank you! Your commitment is noted.")
        + "\n"
        + await commitment_line(turn, year, **owner)
    )


async def points_line(turn: Turn) -> str:
    """The member's own commitment, for /points."""
    assert turn.person is not None
    year = local_year(now(turn.session), turn.config.timezone)
    return await commitment_line(turn, year, person_id=turn.person.id)


@reminder_kind(BEHIND_KIND)
async def remind_behind(speaker: Speaker, reminder: Reminder) -> None:
    """Last quarter, behind the pace: one gentle word (still behind when it fires)."""
    commitment_id = reminder.payload.get("commitment_id")
    person_id = reminder.target_person_id
    if not isinstance(commitment_id, int) or person_id is None:
        return
    found = await speaker.session.get(Commitment, commitment_id)
    if found is None:
        return
    progress = await progress_of(speaker.session, found, speaker.config.timezone)
    if not progress.behind:
        return
    unit = UNIT_NAMES[found.unit]
    await speaker.tell(
        person_id,
        lambda t: Reply(
            t(
                "A gentle reminder: this year's commitment is {target} {unit}, and {done} are "
                "done so far. Every wish you take counts; /tasks shows the open ones.",
                target=t.number(found.target),
                unit=t.raw(unit),
                done=t.number(progress.done),
            )
        ),
    )


FLOW = register_flow(
    Flow(
        "commitments",
        {
            WHO: Step(ask_who, answer_who),
            UNIT: Step(ask_unit, answer_unit),
            TARGET: Step(ask_target, answer_target),
        },
    )
)

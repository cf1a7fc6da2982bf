"""Where a member stands: their level by the community's thresholds, their place this month and
all time (in the community and their grid), the rankings of those who agreed, /statement.
"""

from __future__ import annotations

from handlers.flows.common import button_number
from handlers.i18n import Translator
from handlers.menu import command_button
from handlers.messages import Button, Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import action, command
from handlers.turn import Speaker, Turn, action_button
from models.clock import now
from models.community import Community
from models.errors import N_, NotAllowed
from models.organisations import organisation_of_member
from models.people import MemberProfile, Person, Role
from models.point_rules import PointRules, point_rules
from models.reminders import Reminder
from models.standings import (
    Standing,
    choose_ranking,
    grid_of,
    month_bounds,
    place_of,
    ranking,
    shown_in_rankings,
    statement,
)

# Level names, lowest first; each community sets the points each needs (PointRules.levels).
LEVEL_NAMES = (N_("Seedling 🌱"), N_("Sprout 🌿"), N_("Tree 🌳"), N_("Forest 🌲"))
TOP = 10


def ordinal(t: Translator, place: int) -> str:
    """1st, 2nd, 3rd, 4th ... (第1名 ...)."""
    if place % 100 not in (11, 12, 13) and place % 10 in (1, 2, 3):
        form = {1: N_("{n}st"), 2: N_("{n}nd"), 3: N_("{n}rd")}[place % 10]
    else:
        form = N_("{n}th")
    return t(form, n=place)


async def rules_of(turn: Turn) -> PointRules:
    communities = turn.scopes(Role.MEMBER)
    return await point_rules(turn.session, communities[0]) if communities else PointRules()


def level_lines(t: Translator, rules: PointRules, balance: int) -> list[str]:
    reached, following = rules.level(balance)
    lines = [t("Level: {level}", level=t.raw(LEVEL_NAMES[min(reached, len(LEVEL_NAMES) - 1)]))]
    if following is None:
        lines.append(t("That is the highest level. Thank you!"))
    else:
        name = LEVEL_NAMES[min(reached + 1, len(LEVEL_NAMES) - 1)]
        lines.append(
            t.plural(
                "{n} point more to reach {level}.",
                "{n} points more to reach {level}.",
                following - balance,
                level=t.raw(name),
            )
        )
    return lines


async def place_lines(turn: Turn, me: Person) -> list[str]:
    """ "You are 4th in your grid this month" and the like, for each community the member
    serves; ranked among the members who agreed to appear, and themself."""
    t = turn.t
    profile = await turn.session.get(MemberProfile, me.id)
    if profile is None or not profile.approved:
        return [t("You are ranked once an admin has approved you.")]
    month, _ = month_bounds(now(turn.session), 0, turn.config.timezone)
    grid = await grid_of(turn.session, me)
    organisation = await organisation_of_member(turn.session, me.id)
    lines = []
    for community_id in turn.scopes(Role.MEMBER):
        community = await turn.session.get(Community, community_id)
        if community is None:
            continue
        for since, when in ((month, N_("this month")), (None, N_("of all time"))):
            everyone = await ranking(turn.session, community_id, since=since, everyone=True)
            place = place_of(everyone, me.id)
            lines.append(
                t(
                    "You are {place} of {n} in {community} {when}.",
                    place=ordinal(t, place or len(everyone)),
                    n=len(everyone),
                    community=community.name,
                    when=t.raw(when),
                )
            )
        if organisation is not None and organisation.community_id == community_id:
            # "You are 3rd of 5 in Riverside Youth this month." (its staff, themself included)
            for since, when in ((month, N_("this month")), (None, N_("of all time"))):
                staff = await ranking(
                    turn.session,
                    community_id,
                    since=since,
                    everyone=True,
                    organisation_id=organisation.id,
                )
                lines.append(
                    t(
                        "You are {place} of {n} in {community} {when}.",
                        place=ordinal(t, place_of(staff, me.id) or len(staff)),
                        n=len(staff),
                        community=organisation.name,
                        when=t.raw(when),
                    )
                )
        if grid is not None and grid.community_id == community_id:
            in_grid = await ranking(
                turn.session, community_id, grid_id=grid.id, since=month, everyone=True
            )
            lines.append(
                t(
                    "You are {place} in your grid this month.",
                    place=ordinal(t, place_of(in_grid, me.id) or len(in_grid)),
                )
            )
    return lines


async def points_buttons(turn: Turn, me: Person) -> list[tuple[Button, ...]]:
    t = turn.t
    shown = await shown_in_rankings(turn.session, me.id)
    return [
        (
            command_button(t("🎁 Rewards"), "rewards"),
            command_button(t("📄 Statement"), "statement"),
        ),
        (
            action_button(t("🏆 Rankings"), "rankings", 0),
            action_button(
                t("🙈 Hide me from rankings") if shown else t("👁 Show me in rankings"),
                "rank_show",
                0 if shown else 1,
            ),
        ),
    ]


@action("rank_show")
async def rank_show(turn: Turn, args: list[str]) -> None:
    if turn.person is None or not turn.has(Role.MEMBER):
        raise NotAllowed(N_("Only members of this community can take wishes."))
    shown = button_number(args) == 1
    await choose_ranking(turn.session, turn.person, shown)
    first = turn.person.name.split(" ")[0]
    turn.say(
        turn.t("Others now see you in the rankings as {name}.", name=first)
        if shown
        else turn.t("You no longer appear in the rankings others see.")
    )


@action("rankings")
async def rankings(turn: Turn, args: list[str]) -> None:
    """The top members of the member's communities, this month and all time; then of the
    member's organisation (its staff who agreed to appear)."""
    if turn.person is None or not turn.has(Role.MEMBER):
        raise NotAllowed(N_("Only members of this community can take wishes."))
    t = turn.t
    month, _ = month_bounds(now(turn.session), 0, turn.config.timezone)
    lines: list[str] = []
    served = turn.scopes(Role.MEMBER)
    for community_id in served:
        community = await turn.session.get(Community, community_id)
        if community is None:
            continue
        for since, when in ((month, N_("this month")), (None, N_("of all time"))):
            top = (await ranking(turn.session, community_id, since=since))[:TOP]
            lines += _top_lines(t, community.name, when, top)
    organisation = await organisation_of_member(turn.session, turn.person.id)
    if organisation is not None and organisation.community_id in served:
        for since, when in ((month, N_("this month")), (None, N_("of all time"))):
            top = (
                await ranking(
                    turn.session,
                    organisation.community_id,
                    since=since,
                    organisation_id=organisation.id,
                )
            )[:TOP]
            lines += _top_lines(t, organisation.name, when, top)
    turn.say("\n".join(lines) or t("Nobody has agreed to appear yet."))


def _top_lines(t: Translator, where: str, when: str, top: list[Standing]) -> list[str]:
    """ "🏆 Sunflower, this month:" and its top members, or that nobody agreed yet."""
    lines = [t("🏆 {community}, {when}:", community=where, when=t.raw(when))]
    for standing in top:
        lines.append(
            t(
                "{place}. {name} · {points}",
                place=place_of(top, standing.person_id),
                name=standing.name,
                points=t.plural("{n} point", "{n} points", standing.points),
            )
        )
    if not top:
        lines.append(t("Nobody has agreed to appear yet."))
    return lines


@reminder_kind("points_statement")
async def monthly_statement(speaker: Speaker, reminder: Reminder) -> None:
    """On the first of the month: the member's statement of the month just ended, when
    anything moved or there are points to spend."""
    person_id = reminder.target_person_id
    assert person_id is not None
    start, end = month_bounds(now(speaker.session), 1, speaker.config.timezone)
    found = await statement(speaker.session, person_id, start, end)
    if not (found.earned or found.spent or found.balance):
        return
    await speaker.tell(
        person_id,
        lambda t: Reply(
            "\n".join(
                (
                    t("Your points in {month}:", month=start.strftime("%Y-%m")),
                    t(
                        "Earned {earned} · spent {spent} · balance {balance}",
                        earned=t.number(found.earned),
                        spent=t.number(found.spent),
                        balance=t.number(found.balance),
                    ),
                    t("/rewards shows what they are worth."),
                )
            )
        ),
    )


@command("statement", N_("your points this month and last month: earned, spent, balance"))
async def statement_command(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    moment = now(turn.session)
    lines = []
    for back, label in ((0, N_("This month ({month})")), (1, N_("Last month ({month})"))):
        start, end = month_bounds(moment, back, turn.config.timezone)
        found = await statement(turn.session, turn.person.id, start, end)
        lines.append(t(label, month=start.strftime("%Y-%m")))
        lines.append(
            t(
                "Earned {earned} · spent {spent} · balance {balance}",
                earned=t.number(found.earned),
                spent=t.number(found.spent),
                balance=t.number(found.balance),
            )
        )
    turn.say("\n".join(lines))

"""Admins and grid workers: /pending, /assign, /escalate, /approve, /grant, /broadcast, /stats, /export.

Each sees only their scope (a grid worker their grid, an admin their community); the store
checks every change again. See admin.md for the /grant and /assign conversations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from io import BytesIO

from handlers.flows.common import (
    button_number,
    category_name,
    page_of,
    person_answered,
    rows,
    search_lines,
    searched,
    status_name,
    text_input,
    wish_summary,
)
from handlers.flows.news import helpers_of, ladder_holders, requester_side, tell
from handlers.flows.same_wish import merge_buttons, same_as, same_note
from handlers.flows.suggested import TOP, candidate_line, resource_lines
from handlers.flows.tasks import task_buttons
from handlers.flows.verification import head_pending
from handlers.i18n import Translator
from handlers.menu import send_menu
from handlers.messages import Button, Document, Reply
from handlers.router import ROLE_NAMES, action, command
from handlers.sheet_words import sheet_in_words
from handlers.turn import Flow, Step, Turn, action_button, register_flow
from models import office_work
from models.broadcasts import (
    BUILDING,
    COMMUNITY,
    GRID,
    MAX_TEXT,
    ROLES,
    count_recipients,
    start_broadcast,
)
from models.clock import now
from models.community import Community
from models.directory import (
    admin_of_member,
    building_names,
    grant_role,
    holds_grant,
)
from models.dispatch import rank_supply
from models.errors import N_, IllegalTransition, NotAllowed, NotFound
from models.office_work import (
    communities_reached,
    level_over_wish,
    office_counts,
    volunteers_waiting,
    waiting_for_office,
)
from models.organisations import approve_staff, may_approve_staff, organisation_name
from models.people import MemberProfile, Person, Role
from models.permissions import LADDER
from models.reach import holders_at
from models.service_lists import LISTS, Cell, Sheet
from models.wish_life import (
    MAX_NOTE,
    assign_wish,
    escalate_wish,
    escalation_target,
    get_wish,
    wish_by_code,
)
from models.wishes import FINAL_STATUSES, Wish, WishStatus

S = WishStatus

# Steps of the admin conversations.
ASSIGN_MEMBER = "assign_member"
ESCALATE_REASON = "escalate_reason"
GRANT_PERSON = "grant_person"
GRANT_ROLE = "grant_role"
GRANT_SCOPE = "grant_scope"
BROADCAST_AUDIENCE = "broadcast_audience"
BROADCAST_PLACE = "broadcast_place"
BROADCAST_TEXT = "broadcast_text"
BROADCAST_CONFIRM = "broadcast_confirm"
EXPORT_LIST = "export_list"

SUGGESTED = TOP  # members offered for one wish
SHOWN = 20  # wishes listed by /pending
PAGE = 8  # people per page in /grant
MAX_BROADCAST = MAX_TEXT  # the store's limit

# The rungs of the ladder, as people read them.
# What /grant may give, and the kind of place each is given over.
GRANTABLE = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN)

LIST_LABELS = {
    "demand": N_("📋 Demand: the wishes"),
    "supply": N_("🤝 Supply: the members"),
    "service": N_("✅ Service: who did what"),
    "points": N_("⭐ Points: the ledger"),
    "resources": N_("🏫 Supply: organisations and resources"),
    "commitments": N_("🎯 Commitments this year"),
}


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


# --- /assign ---------------------------------------------------------------------------------


@command("assign", N_("suggest who fits a wish, and assign it"), Role.GRID_WORKER, Role.ADMIN)
async def assign(turn: Turn) -> None:
    wish = await wish_from_command(turn, N_("/assign W-000123"))
    if wish is not None and len(turn.incoming.args) > 1:
        # /assign W-000123 3: the wish needs three helpers (handlers/flows/hands.py).
        from handlers.flows.hands import helpers_from_command

        wish = await helpers_from_command(turn, wish)
    if wish is not None:
        await start_assigning(turn, wish)


@action("assign")
async def assign_button(turn: Turn, args: list[str]) -> None:
    await start_assigning(turn, await get_wish(turn.session, button_number(args)))


async def start_assigning(turn: Turn, wish: Wish) -> None:
    """Refuse at once what the store would refuse at the end: out of scope, not open."""
    if await level_over(turn, wish) < 2:
        raise NotAllowed(N_("Only a grid worker or an admin can assign wishes here."))
    if wish.status != S.OPEN:
        raise IllegalTransition(
            N_("Wish {code} is {status}: that cannot be done now."),
            code=wish.code,
            status=status_name(turn.t, wish.status.value),
        )
    await turn.start(FLOW, ASSIGN_MEMBER, wish_id=wish.id, code=wish.code)


async def ask_assign_member(turn: Turn) -> None:
    t = turn.t
    wish = await get_wish(turn.session, turn.data["wish_id"])
    ranked, resources = await rank_supply(
        turn.session, wish, SUGGESTED, timezone=turn.config.timezone
    )
    if not ranked:
        turn.end()
        turn.say(
            t(
                "No approved member can take wish {code} now. "
                "Approve volunteers with /approve, or escalate it with /escalate {code}.",
                code=wish.code,
            )
        )
        return
    turn.remember(members=[c.id for c in ranked])
    lines = [t("Who should help with this wish? The best fits come first.")]
    lines.append(await wish_summary(turn, wish))
    lines += [candidate_line(t, number, c) for number, c in enumerate(ranked, start=1)]
    lines += resource_lines(t, resources)
    buttons = [
        turn.option(f"{number}. {c.name}", str(c.id)) for number, c in enumerate(ranked, start=1)
    ]
    turn.say("\n".join(lines), [*rows(buttons, 1), turn.nav(back=False)])


async def answer_assign_member(turn: Turn) -> None:
    assert turn.person is not None
    offered = [str(i) for i in turn.data.get("members", [])]
    if turn.value not in offered:
        turn.say(turn.t("Please choose a member with the buttons."))
        return
    member = await turn.session.get(Person, int(turn.value))
    if member is None:
        raise NotFound(N_("There is no such person."))
    wish_id = turn.data["wish_id"]
    turn.end()
    await assign_and_tell(turn, wish_id, member)


@action("assign_to")
async def assign_to_button(turn: Turn, args: list[str]) -> None:
    """The dashboard's ranked drop-down: the wish and the member chosen there, in one press."""
    wish_id = button_number(args)
    member = await turn.session.get(Person, button_number(args[1:]))
    if member is None:
        raise NotFound(N_("There is no such person."))
    await assign_and_tell(turn, wish_id, member)


async def assign_and_tell(turn: Turn, wish_id: int, member: Person) -> None:
    """Assign (the store checks who may, and whom), then tell the member and the requester."""
    assert turn.person is not None
    wish = await assign_wish(turn.session, turn.person, wish_id, member)
    turn.say(turn.t("Wish {code} is assigned to {name}.", code=wish.code, name=member.name))
    await tell(
        turn,
        [member.id],
        wish,
        N_("The office asks you to help with wish {code}. Thank you!"),
        lambda tr: [task_buttons(tr, wish)],
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Good news: {name} will help with your wish {code}."),
        name=member.name,
    )


# --- /escalate -------------------------------------------------------------------------------


@command(
    "escalate",
    N_("pass a wish up to the next rung, with a reason"),
    Role.BUILDING_HEAD,
    Role.GRID_WORKER,
    Role.ADMIN,
)
async def escalate(turn: Turn) -> None:
    await wish_and_text(
        turn,
        N_("/escalate W-000123 needs the water company"),
        check_may_escalate,
        (FLOW, ESCALATE_REASON),
        do_escalate,
    )


@action("escalate")
async def escalate_button(turn: Turn, args: list[str]) -> None:
    wish = await get_wish(turn.session, button_number(args))
    await check_may_escalate(turn, wish)
    await turn.start(FLOW, ESCALATE_REASON, wish_id=wish.id, code=wish.code)


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


async def check_may_escalate(turn: Turn, wish: Wish) -> None:
    if await level_over(turn, wish) < 1:
        raise NotAllowed(N_("Only the building head or an admin can escalate this wish."))
    assert turn.person is not None
    await escalation_target(turn.session, turn.person, wish)  # gone above them, at the top


async def ask_escalate_reason(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Why does wish {code} go up a rung? Type the reason; whoever answers it will read it.",
            code=turn.data["code"],
        ),
        [turn.nav(back=False)],
    )


async def answer_escalate_reason(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_NOTE, what=N_("the reason"))
    if reason is None:
        return
    await do_escalate(turn, turn.data["wish_id"], reason)


async def do_escalate(turn: Turn, wish_id: int, reason: str) -> None:
    assert turn.person is not None
    before = await get_wish(turn.session, wish_id)
    helpers = await helpers_of(turn, before)
    wish = await escalate_wish(turn.session, turn.person, wish_id, reason)
    turn.end()
    level = wish.escalation_level or len(LADDER)
    role = LADDER[min(level, len(LADDER)) - 1]
    t = turn.t
    turn.say(
        t(
            "Wish {code} was passed up to the {role}. They were told.",
            code=wish.code,
            role=role_name(t, role),
        )
    )
    await tell(
        turn,
        await ladder_holders(turn, wish, role),
        wish,
        N_("Wish {code} was passed up to you: {reason}"),
        lambda tr: [[action_button(tr.raw("💬 Answer"), "resolve", wish.id)]],
        reason=reason,
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Your wish {code} was passed on to the office above; they will answer you."),
    )
    await tell(
        turn,
        helpers,
        wish,
        N_("Wish {code} was passed on to the office above; you no longer need to do it."),
    )


# --- /approve --------------------------------------------------------------------------------


@command("approve", N_("approve new volunteers"), Role.ADMIN)
async def approve(turn: Turn) -> None:
    t = turn.t
    waiting = await volunteers_waiting(turn.session, sorted(turn.reach(Role.ADMIN).communities))
    if not waiting:
        turn.say(t("No volunteer is waiting for approval."))
        return
    turn.say(
        t.plural(
            "One volunteer waits for approval:", "{n} volunteers wait for approval:", len(waiting)
        )
    )
    for person, profile in waiting:
        organisation = await organisation_name(turn.session, profile)
        turn.say(
            member_text(t, person, profile, organisation),
            [(turn.action(t.raw("✅ Approve"), "approve", person.id),)],
        )


def member_text(
    t: Translator, person: Person, profile: MemberProfile, organisation: str = ""
) -> str:
    skills = ", ".join(category_name(t, s) for s in profile.skills) or "-"
    if organisation:
        return t(
            "<b>{name}</b> ({organisation}) can help with: {skills}",
            name=person.name,
            organisation=organisation,
            skills=skills,
        )
    return t("<b>{name}</b> can help with: {skills}", name=person.name, skills=skills)


@action("approve")
async def approve_button(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    person = await turn.session.get(Person, button_number(args))
    if person is None:
        raise NotFound(N_("There is no such person."))
    profile = await turn.session.get(MemberProfile, person.id)
    was_approved = profile is not None and profile.approved
    if was_approved:
        # Nothing to change, but only their own admins may learn that.
        if not (
            await admin_of_member(turn.session, turn.person, person)
            or await may_approve_staff(turn.session, turn.person, person)
        ):
            raise NotAllowed(N_("Only an admin of the member's community can approve them."))
        turn.say(turn.t("{name} is already approved.", name=person.name))
        return
    # An admin, or the contact of the organisation the volunteer joined (models decide).
    await approve_staff(turn.session, turn.person, person)
    turn.say(turn.t("{name} is approved and can take wishes now.", name=person.name))
    await turn.tell(
        person.id,
        lambda t: Reply(
            t(
                "Welcome aboard, {name}! You are approved as a volunteer: you can now see /tasks.",
                name=person.name,
            )
        ),
    )
    await send_menu(turn, person.id)


async def tell_admins_about_member(turn: Turn, person: Person, community_id: int) -> None:
    """A new volunteer waits for approval: the community's admins get an Approve button."""
    profile = await turn.session.get(MemberProfile, person.id)
    community = await turn.session.get(Community, community_id)
    if profile is None or community is None:
        return
    organisation = await organisation_name(turn.session, profile)
    for admin_id in await holders_at(turn.session, Role.ADMIN, community_id):
        if admin_id == person.id:
            continue

        def build(t: Translator) -> Reply:
            text = (
                t("A new volunteer for {community}:", community=community.name)
                + "\n"
                + member_text(t, person, profile, organisation)
            )
            return Reply(text, ((action_button(t.raw("✅ Approve"), "approve", person.id),),))

        await turn.tell(admin_id, build)


# --- /grant ----------------------------------------------------------------------------------


@command("grant", N_("give someone a role: building head, grid worker, admin"), Role.ADMIN)
async def grant(turn: Turn) -> None:
    await turn.start(FLOW, GRANT_PERSON, page=0)


async def grantable_people(turn: Turn) -> list[Person]:
    return await office_work.grantable_people(
        turn.session, sorted(turn.reach(Role.ADMIN).communities)
    )


async def ask_grant_person(turn: Turn) -> None:
    t = turn.t
    everyone = await grantable_people(turn)
    if not everyone:
        turn.end()
        turn.say(t("Nobody is registered in your community yet."))
        return
    people = searched(turn, everyone)
    shown, paging, page_note = page_of(turn, people, PAGE)
    buildings = await building_names(
        turn.session, {p.building_id for p in shown if p.building_id is not None}
    )
    buttons = [
        turn.option(
            f"{p.name} · {buildings[p.building_id]} {p.unit or ''}".strip()
            if p.building_id in buildings
            else f"🤝 {p.name}",
            str(p.id),
        )
        for p in shown
    ]
    text, clear = search_lines(turn, t("Who gets a new role?"), len(people), page_note)
    turn.say(text, [*rows(buttons, 2), paging, clear, turn.nav(back=False)])


async def answer_grant_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: grantable_people(turn))
    if chosen is None:
        return
    turn.remember(person_id=chosen.id, person_name=chosen.name)
    await turn.goto(GRANT_ROLE)


async def ask_grant_role(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(role_name(t, role), role.value) for role in GRANTABLE]
    turn.say(
        t("Which role for {name}?", name=turn.data["person_name"]),
        [*rows(buttons, 1), turn.nav()],
    )


async def answer_grant_role(turn: Turn) -> None:
    if turn.value not in {role.value for role in GRANTABLE}:
        turn.say(turn.t("Please choose a role with the buttons."))
        return
    turn.remember(role=turn.value)
    places = await grant_places(turn, Role(turn.value))
    if len(places) == 1:
        await do_grant(turn, places[0][0])
        return
    await turn.goto(GRANT_SCOPE)


async def grant_places(turn: Turn, role: Role) -> list[tuple[int, str]]:
    """Where the role may be given: buildings, grids or the communities the caller runs."""
    return await office_work.grant_places(
        turn.session, sorted(turn.reach(Role.ADMIN).communities), role
    )


async def ask_grant_scope(turn: Turn) -> None:
    t = turn.t
    role = Role(turn.data["role"])
    places = await grant_places(turn, role)
    buttons = [turn.option(name, str(place_id)) for place_id, name in places]
    question = {
        Role.BUILDING_HEAD: N_("Head of which building?"),
        Role.GRID_WORKER: N_("Grid worker of which grid?"),
        Role.ADMIN: N_("Admin of which community?"),
    }[role]
    turn.say(t.raw(question), [*rows(buttons, 3), turn.nav()])


async def answer_grant_scope(turn: Turn) -> None:
    places = await grant_places(turn, Role(turn.data["role"]))
    chosen = next((place_id for place_id, _ in places if str(place_id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    await do_grant(turn, chosen)


async def do_grant(turn: Turn, scope_id: int) -> None:
    assert turn.person is not None
    role = Role(turn.data["role"])
    person = await turn.session.get(Person, turn.data["person_id"])
    if person is None:
        raise NotFound(N_("There is no such person."))
    place = dict(await grant_places(turn, role)).get(scope_id, "?")
    had = await holds_grant(turn.session, person.id, role, scope_id)
    await grant_role(turn.session, turn.person, person, role, scope_id)
    turn.end()
    t = turn.t
    if had:
        turn.say(
            t(
                "{name} is already {role} of {place}. Nothing changed.",
                name=person.name,
                role=role_name(t, role),
                place=place,
            )
        )
        return
    turn.say(
        t(
            "{name} is now {role} of {place}.",
            name=person.name,
            role=role_name(t, role),
            place=place,
        )
    )
    await turn.tell(
        person.id,
        # Named t, as everywhere: the extraction finds messages by the translator's name.
        lambda t: Reply(
            t(
                "You are now {role} of {place}. /help shows what you can do.",
                role=role_name(t, role),
                place=place,
            )
        ),
    )
    await send_menu(turn, person.id)  # their chat's command list gains the role's commands


# --- /broadcast ------------------------------------------------------------------------------

ROLE_AUDIENCE = "role"
AUDIENCE_LABELS = {
    COMMUNITY: N_("🏘 The whole community"),
    GRID: N_("🧭 A grid"),
    BUILDING: N_("🏠 A building"),
    ROLE_AUDIENCE: N_("👥 Everyone with a role"),
}


@command(
    "broadcast", N_("send a message to a building, a grid, a role or the community"), Role.ADMIN
)
async def broadcast(turn: Turn) -> None:
    text = rest_of_command(turn, 0)
    if len(text) > MAX_BROADCAST:
        turn.say(
            turn.t(
                "That is too long (at most {limit} characters). Please shorten it.",
                limit=MAX_BROADCAST,
            )
        )
        return
    await turn.start(FLOW, BROADCAST_AUDIENCE, text=text)


async def ask_broadcast_audience(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(label), kind) for kind, label in AUDIENCE_LABELS.items()]
    turn.say(t("Who should read it?"), [*rows(buttons, 2), turn.nav(back=False)])


async def answer_broadcast_audience(turn: Turn) -> None:
    kind = turn.value or ""
    if kind not in AUDIENCE_LABELS:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    turn.remember(kind=kind)
    places = await broadcast_places(turn, kind)
    if len(places) == 1:  # one community: nothing to choose
        await broadcast_to(turn, *places[0])
        return
    await turn.goto(BROADCAST_PLACE)


async def broadcast_places(turn: Turn, kind: str) -> list[tuple[str, str]]:
    """(value, label) of every place or role of this kind in the caller's communities."""
    if kind == ROLE_AUDIENCE:
        communities = await grant_places(turn, Role.ADMIN)
        return [
            (
                f"{role.value}:{community_id}",
                role_name(turn.t, role) + (f" · {name}" if len(communities) > 1 else ""),
            )
            for community_id, name in communities
            for role in ROLES
        ]
    role = {COMMUNITY: Role.ADMIN, GRID: Role.GRID_WORKER, BUILDING: Role.BUILDING_HEAD}[kind]
    return [(str(place_id), name) for place_id, name in await grant_places(turn, role)]


async def ask_broadcast_place(turn: Turn) -> None:
    t = turn.t
    places = await broadcast_places(turn, turn.data["kind"])
    buttons = [turn.option(label, value) for value, label in places]
    turn.say(t("Who should read it?"), [*rows(buttons, 3), turn.nav()])


async def answer_broadcast_place(turn: Turn) -> None:
    places = dict(await broadcast_places(turn, turn.data["kind"]))
    if turn.value not in places:
        turn.say(turn.t("Please choose a place with the buttons."))
        return
    await broadcast_to(turn, turn.value, places[turn.value])


async def broadcast_to(turn: Turn, value: str, label: str) -> None:
    if turn.data["kind"] == ROLE_AUDIENCE:
        role, _, community_id = value.partition(":")
        turn.remember(audience=role, scope_id=int(community_id), place=label)
    else:
        turn.remember(audience=turn.data["kind"], scope_id=int(value), place=label)
    await turn.goto(BROADCAST_CONFIRM if turn.data.get("text") else BROADCAST_TEXT)


async def ask_broadcast_text(turn: Turn) -> None:
    turn.say(turn.t("What should they read? Type the message."), [turn.nav()])


async def answer_broadcast_text(turn: Turn) -> None:
    text = text_input(turn, limit=MAX_BROADCAST, what=N_("the message"))
    if text is None:
        return
    turn.remember(text=text)
    await turn.goto(BROADCAST_CONFIRM)


async def broadcast_count(turn: Turn) -> int:
    assert turn.person is not None
    return await count_recipients(
        turn.session, turn.person, turn.data["audience"], turn.data["scope_id"]
    )


async def ask_broadcast_confirm(turn: Turn) -> None:
    t = turn.t
    count = await broadcast_count(turn)
    to = t("To: {place}", place=turn.data["place"])
    if count == 0:
        turn.say(to + "\n" + t("Nobody there can be reached by the bot."), [turn.nav()])
        return
    turn.say(
        to
        + "\n"
        + t.plural(
            "This goes to one person:\n\n{text}",
            "This goes to {n} people:\n\n{text}",
            count,
            text=turn.data["text"],
        ),
        [(turn.option(t.raw("📢 Send"), "send"),), turn.nav()],
    )


async def answer_broadcast_confirm(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value != "send":
        turn.say(turn.t("Please press Send, or Cancel."))
        return
    count = await broadcast_count(turn)
    data = turn.data
    await start_broadcast(
        turn.session, turn.person, data["audience"], data["scope_id"], data["text"]
    )
    turn.end()
    # The outbox sends it at the platform's pace; the runtime reports half way and at the end.
    turn.say(
        turn.t.plural(
            "Sending to one person; you will get a report.",
            "Sending to {n} people; you will get a report.",
            count,
        )
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


# --- /export ---------------------------------------------------------------------------------


@command("export", N_("the four lists as spreadsheets"), Role.GRID_WORKER, Role.ADMIN)
async def export(turn: Turn) -> None:
    await turn.start(FLOW, EXPORT_LIST)


async def ask_export_list(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(LIST_LABELS[name]), name) for name in LISTS]
    turn.say(t("Which list?"), [*rows(buttons, 1), turn.nav(back=False)])


async def answer_export_list(turn: Turn) -> None:
    name = turn.value or ""
    query = LISTS.get(name)
    if query is None:
        turn.say(turn.t("Please choose a list with the buttons."))
        return
    t = turn.t
    turn.end()
    day = now(turn.session).astimezone(turn.config.timezone).date().isoformat()
    # Each community the caller works for, narrowed to their reach: a grid worker's lists
    # hold their grid's wishes only.
    reach = turn.reach(Role.GRID_WORKER, Role.ADMIN)
    for community in await communities_reached(turn.session, reach):
        community_id = community.id
        sheet = await query(
            turn.session,
            community_id,
            None,
            None,
            turn.config.timezone,
            buildings=reach.buildings(community_id=community_id),
        )
        sheet = sheet_in_words(t, name, sheet)
        content = await asyncio.to_thread(xlsx_bytes, sheet, sheet.title, sheet.header)
        turn.say(
            t.plural(
                "The {list} list of {community}: one row.",
                "The {list} list of {community}: {n} rows.",
                len(sheet.rows),
                list=sheet.title,
                community=community.name,
            ),
            document=Document(f"{name}-{community_id}-{day}.xlsx", content),
        )


XLSX_TIME = "yyyy-mm-dd hh:mm"


def xlsx_bytes(sheet: Sheet, title: str, header: Sequence[str]) -> bytes:
    """The sheet as an XLSX file in memory; text stays text, even when it starts with '='."""
    # Imported here: openpyxl costs a tenth of a second at every start, for a rare export.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet"
    for column, name in enumerate(header, start=1):
        ws.cell(row=1, column=column, value=name)
    for row_number, row in enumerate(sheet.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = ws.cell(row=row_number, column=column, value=_cell(value))
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, dt.datetime):
                cell.number_format = XLSX_TIME
    ws.freeze_panes = "A2"
    # A filter button on every heading: Excel's own sorting and filtering, ready.
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{len(sheet.rows) + 1}"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Cell) -> str | int | dt.datetime | None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # local wall-clock time: Excel has no time zones
    if isinstance(value, str):
        cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        return cleaned
    return value


FLOW = register_flow(
    Flow(
        "admin",
        {
            ASSIGN_MEMBER: Step(ask_assign_member, answer_assign_member),
            ESCALATE_REASON: Step(ask_escalate_reason, answer_escalate_reason),
            GRANT_PERSON: Step(ask_grant_person, answer_grant_person),
            GRANT_ROLE: Step(ask_grant_role, answer_grant_role),
            GRANT_SCOPE: Step(ask_grant_scope, answer_grant_scope),
            BROADCAST_AUDIENCE: Step(ask_broadcast_audience, answer_broadcast_audience),
            BROADCAST_PLACE: Step(ask_broadcast_place, answer_broadcast_place),
            BROADCAST_TEXT: Step(ask_broadcast_text, answer_broadcast_text),
            BROADCAST_CONFIRM: Step(ask_broadcast_confirm, answer_broadcast_confirm),
            EXPORT_LIST: Step(ask_export_list, answer_export_list),
        },
    )
)

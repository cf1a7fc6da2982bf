"""Members: /tasks (their own tasks, then open wishes that fit), accept, give back, report done.

/points shows the balance, the level and the rank in the community; see tasks.md for the steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handlers.flows.common import button_number, status_name, text_input, wish_summary
from handlers.flows.news import (
    ButtonsFor,
    heads_of,
    helpers_of,
    requester_side,
    tell,
    wish_photo,
    with_co_requesters,
)
from handlers.flows.relay import relay_button
from handlers.flows.standing import level_lines, place_lines, points_buttons, rules_of
from handlers.flows.suggested import why_it_fits
from handlers.flows.verification import offer_to_members
from handlers.i18n import Markup, Translator
from handlers.messages import Button, Reply
from handlers.router import action, command
from handlers.turn import Flow, Step, Turn, action_button, register_flow
from models.cards import CONFIRM, wish_card
from models.community import Building
from models.dispatch import reasons_for_member
from models.errors import N_, NotAllowed
from models.open_tasks import holds_place, open_wishes_page, tasks_of
from models.people import MemberProfile, Person, Role
from models.point_awards import rules_of_wish
from models.points import PointsEntry, PointsKind
from models.points_ledger import latest_entries, rank_among_members
from models.privacy import phone_for_helpers
from models.wish_life import (
    MAX_HOURS,
    MAX_NOTE,
    accept_wish,
    get_wish,
    release_wish,
    report_done,
    still_on_it,
)
from models.wishes import Wish, WishStatus

RELEASE = "release"
NOTE = "note"
PHOTO = "photo"
HOURS = "hours"  # asked only where the community pays points per hour

S = WishStatus
PAGE_SIZE = 5
LEDGER_SHOWN = 5
# Pages past 9999 were never reached by pressing "More".
MAX_PAGE_DIGITS = 4

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


# --- who may ----------------------------------------------------------------------------------


def _me(turn: Turn) -> Person:
    """The member pressing or typing; a button from anyone else is refused."""
    if turn.person is None or not turn.has(Role.MEMBER):
        raise NotAllowed(N_("Only members of this community can take wishes."))
    return turn.person


async def _approved(turn: Turn) -> bool:
    profile = await turn.session.get(MemberProfile, _me(turn).id)
    return profile is not None and profile.approved


def _not_approved(turn: Turn) -> None:
    turn.say(
        turn.t(
            "An admin has not approved you yet. Once they have, /tasks shows the wishes "
            "you can help with."
        )
    )


async def _holds(turn: Turn, wish: Wish) -> bool:
    return await holds_place(turn.session, wish.id, _me(turn).id)


async def _held_wish(turn: Turn, args: Sequence[str]) -> Wish:
    """The wish of the button, if the presser holds a place on it; refused otherwise."""
    wish = await get_wish(turn.session, button_number(args))
    if not await _holds(turn, wish):
        raise NotAllowed(N_("You have not taken wish {code}."), code=wish.code)
    return wish


# --- /tasks -------------------------------------------------------------------------------------


@command("tasks", N_("wishes you can help with, and your own tasks"), Role.MEMBER)
async def tasks(turn: Turn) -> None:
    if not await _approved(turn):
        _not_approved(turn)
        return
    await _my_tasks(turn)
    await _open_page(turn, 0)


@action("tasks_page")
async def tasks_page(turn: Turn, args: list[str]) -> None:
    """The "More »" button: the next page of open wishes."""
    _me(turn)
    if not await _approved(turn):
        _not_approved(turn)
        return
    if not args or not args[0].isdecimal() or len(args[0]) > MAX_PAGE_DIGITS:
        turn.say(turn.t("That button does not work any more."))
        return
    await _open_page(turn, int(args[0]))


def task_buttons(t: Translator, wish: Wish) -> tuple[Button, ...]:
    """What the member who holds the wish can do with it now."""
    give_back = action_button(t.raw("↩ Give it back"), "release", wish.id)
    message = relay_button(t, wish, to_helper=False)
    if wish.status == S.ACCEPTED:
        return (action_button(t.raw("✅ Report done"), "done", wish.id), give_back, *message)
    if wish.status == S.OPEN:
        return (give_back, *message)
    if wish.status == S.DONE:
        return message
    return ()


async def _my_tasks(turn: Turn) -> None:
    me = _me(turn)
    mine = await tasks_of(turn.session, me.id)
    t = turn.t
    for i, wish in enumerate(mine):
        head = t.plural("Your task:", "Your {n} tasks:", len(mine)) + "\n\n" if i == 0 else ""
        turn.say(
            head + await _details(turn, wish),
            [task_buttons(turn.t, wish)],
            photo=wish_photo(wish),
        )


async def _open_wishes(turn: Turn, page: int) -> tuple[list[Wish], int]:
    """One page of the open wishes the member may take, fitting first, then nearest, oldest."""
    return await open_wishes_page(turn.session, _me(turn), turn.reach(Role.MEMBER), page, PAGE_SIZE)


async def _open_page(turn: Turn, page: int) -> None:
    t = turn.t
    found, total = await _open_wishes(turn, page)
    if not found:
        if page == 0:
            turn.say(
                t(
                    "No wish is waiting for a helper right now. Thank you for being ready; "
                    "I will tell you when a neighbour needs a hand."
                )
            )
        else:
            turn.say(t("That was all: no more open wishes."))
        return
    first = page * PAGE_SIZE + 1
    why = await reasons_for_member(turn.session, _me(turn), found, turn.config.timezone)
    for i, wish in enumerate(found):
        head = ""
        if i == 0 and page == 0:
            head = (
                t.plural(
                    "{n} wish is waiting for a helper:",
                    "{n} wishes are waiting for a helper:",
                    total,
                )
                + "\n\n"
            )
        button = turn.action(t.raw("🙋 I'll do it"), "accept", wish.id)
        fits = why_it_fits(t, why[wish.id])
        turn.say(
            head + await _details(turn, wish) + ("\n" + fits if fits else ""),
            [(button,)],
            photo=wish_photo(wish),
        )
    last = first + len(found) - 1
    if last < total:
        turn.say(
            t("Shown {first}–{last} of {total}.", first=first, last=last, total=total),
            [(turn.action(t.raw("More »"), "tasks_page", page + 1),)],
        )


async def _details(turn: Turn, wish: Wish) -> str:
    """The wish summary, with the wanted time and the places when it needs several helpers."""
    t = turn.t
    lines = [await wish_summary(turn, wish)]
    if wish.preferred_time is not None:
        lines.append(t("Wanted by: {when}", when=t.when(wish.preferred_time)))
    if wish.required_count > 1:
        lines.append(
            t("Helpers: {taken} of {needed}", taken=wish.taken_count, needed=wish.required_count)
        )
    return "\n".join(lines)


# --- accept -------------------------------------------------------------------------------------


@action("accept")
async def accept(turn: Turn, args: list[str]) -> None:
    me = _me(turn)
    t = turn.t
    wish = await get_wish(turn.session, button_number(args))
    if await _holds(turn, wish):
        turn.say(
            t("You have already taken wish {code}.", code=wish.code),
            [task_buttons(turn.t, wish)],
        )
        return
    if wish.status in (S.ACCEPTED, S.DONE) or (
        wish.status == S.OPEN and wish.taken_count >= wish.required_count
    ):
        turn.say(
            t(
                "Thank you! Somebody else took wish {code} first. /tasks shows what is still open.",
                code=wish.code,
            )
        )
        return
    if wish.status != S.OPEN:
        turn.say(
            t(
                "Wish {code} is {status}: it cannot be taken now. /tasks shows what is open.",
                code=wish.code,
                status=status_name(t, wish.status.value),
            )
        )
        return
    wish = await accept_wish(turn.session, me, wish.id)
    requester = await turn.session.get(Person, wish.requester_id)
    assert requester is not None
    building = await turn.session.get(Building, wish.building_id)
    assert building is not None

    # Only the member who took the wish sees where it is and, with consent, the phone.
    lines: list[str] = []
    if requester.unit:
        lines.append(
            t(
                "Where: {building}, unit {unit} ({name})",
                building=building.name,
                unit=requester.unit,
                name=requester.name,
            )
        )
    else:
        lines.append(t("Where: {building} ({name})", building=building.name, name=requester.name))
    if (phone := phone_for_helpers(requester)) is not None:
        lines.append(t("Phone (shared with consent): {phone}", phone=phone))
    else:
        lines.append(t("The building head will put you in touch with {name}.", name=requester.name))
    remaining = wish.required_count - wish.taken_count
    if wish.status == S.OPEN and remaining > 0:
        lines.append(
            t.plural(
                "It still needs {n} more helper.", "It still needs {n} more helpers.", remaining
            )
        )
    turn.say(
        t("You took wish {code}. Thank you!", code=wish.code)
        + "\n\n"
        + await _details(turn, wish)
        + "\n\n"
        + "\n".join(lines),
        [task_buttons(turn.t, wish)],
    )

    side = requester_side(wish)
    await tell(
        turn,
        side,
        wish,
        N_("Good news: {helper} will help with your wish {code}."),
        lambda t: [relay_button(t, wish, to_helper=True)],
        helper=me.name,
    )
    heads = [h for h in await heads_of(turn, wish.building_id) if h not in side]
    await tell(turn, heads, wish, N_("{helper} took wish {code} in your building."), helper=me.name)


# --- give it back -------------------------------------------------------------------------------


@action("release")
async def release(turn: Turn, args: list[str]) -> None:
    wish = await _held_wish(turn, args)
    if wish.status not in (S.OPEN, S.ACCEPTED):
        t = turn.t
        turn.say(
            t(
                "Wish {code} is {status}: it cannot be given back now.",
                code=wish.code,
                status=status_name(t, wish.status.value),
            )
        )
        return
    await turn.start(FLOW, RELEASE, wish_id=wish.id, code=wish.code)


async def ask_release(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Give wish {code} back? It will be open for other helpers again.",
            code=turn.data["code"],
        ),
        [
            (
                turn.option(t.raw("Yes, give it back"), "yes"),
                turn.option(t.raw("No, I'll keep it"), "no"),
            ),
            turn.nav(back=False),
        ],
    )


async def answer_release(turn: Turn) -> None:
    me = _me(turn)
    t = turn.t
    if turn.value == "no":
        code = turn.data["code"]
        turn.end()
        turn.say(t("Good: wish {code} stays with you.", code=code))
        return
    if turn.value != "yes":
        turn.say(t("Please choose with the buttons."))
        return
    wish = await release_wish(turn.session, me, turn.data["wish_id"])
    turn.end()
    turn.say(
        t(
            "Thank you for saying so in time. Wish {code} is open for other helpers again.",
            code=wish.code,
        )
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("{helper} cannot do your wish {code} after all. We are looking for another helper."),
        helper=me.name,
    )
    await offer_to_members(turn, wish)


# --- report done --------------------------------------------------------------------------------


@action("done")
async def done(turn: Turn, args: list[str]) -> None:
    wish = await _held_wish(turn, args)
    if wish.status != S.ACCEPTED:
        t = turn.t
        turn.say(
            t(
                "Wish {code} is {status}: it cannot be reported done now.",
                code=wish.code,
                status=status_name(t, wish.status.value),
            )
        )
        return
    await turn.start(FLOW, NOTE, wish_id=wish.id, code=wish.code)


async def ask_note(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Well done! A short note about wish {code} for the neighbour? Type it, or skip.",
            code=turn.data["code"],
        ),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav(back=False)],
    )


async def answer_note(turn: Turn) -> None:
    if turn.value == "skip":
        turn.remember(note=None)
    else:
        note = text_input(turn, limit=MAX_NOTE, what=N_("a note"))
        if note is None:
            return
        turn.remember(note=note)
    wish = await get_wish(turn.session, turn.data["wish_id"])
    await turn.goto(HOURS if (await rules_of_wish(turn.session, wish)).per_hour else PHOTO)


async def ask_hours(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("How many hours did it take? Type a number like 2 or 1.5, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_hours(turn: Turn) -> None:
    if turn.value == "skip":
        turn.remember(hours=None)
    else:
        try:
            hours = float((turn.incoming.text or "").strip().replace(",", "."))
        except ValueError:
            hours = -1.0
        if not 0 < hours <= MAX_HOURS:
            turn.say(turn.t("Please type the hours as a number like 2 or 1.5, or press Skip."))
            return
        turn.remember(hours=hours)
    await turn.goto(PHOTO)


async def ask_photo(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t("A photo of the result? Send one, or skip."),
        [(turn.option(t.raw("Skip"), "skip"),), turn.nav()],
    )


async def answer_photo(turn: Turn) -> None:
    if turn.incoming.photo:
        await _report(turn, turn.incoming.photo[:200])
    elif turn.value == "skip":
        await _report(turn, None)
    else:
        turn.say(turn.t("Please send a photo, or press Skip."))


def _confirm_buttons(wish: Wish) -> ButtonsFor:
    return lambda t: [
        [
            action_button(t.raw("⭐ It's done"), "confirm", wish.id),
            action_button(t.raw("Not done yet"), "dispute", wish.id),
        ]
    ]


async def _report(turn: Turn, photo: str | None) -> None:
    me = _me(turn)
    note: str | None = turn.data.get("note")
    hours = turn.data.get("hours")
    wish = await report_done(
        turn.session, me, turn.data["wish_id"], note, photo, float(hours) if hours else None
    )
    turn.end()
    turn.say(
        turn.t(
            "Thank you! Wish {code} is reported done. Your points arrive when it is confirmed; "
            "/points shows them.",
            code=wish.code,
        )
    )
    side = requester_side(wish)
    if photo:
        await _tell_photo(turn, side, wish, photo, me.name)
    if note:
        message = N_(
            "{helper} says your wish {code} is done: “{note}”. "
            "Please confirm it, or say what is still missing."
        )
    else:
        message = N_(
            "{helper} says your wish {code} is done. Please confirm it, or say what is still missing."
        )
    await tell(
        turn,
        side,
        wish,
        message,
        _confirm_buttons(wish),
        card=wish_card(wish.id, CONFIRM),
        helper=me.name,
        note=note or "",
    )
    others = [h for h in await helpers_of(turn, wish) if h not in side]
    await tell(turn, others, wish, N_("{helper} reported wish {code} done."), helper=me.name)


async def _tell_photo(
    turn: Turn, people: Iterable[int], wish: Wish, photo: str, helper: str
) -> None:
    """The photo on its own, before the message with the buttons (captions are short)."""
    actor = turn.person.id if turn.person else None
    for person_id in await with_co_requesters(turn, wish, people):
        if person_id == actor:
            continue

        def build(t: Translator) -> Reply:
            return Reply(
                t("The photo {helper} sent for wish {code}", helper=helper, code=wish.code),
                photo=photo,
            )

        await turn.tell(person_id, build)


# --- /points ------------------------------------------------------------------------------------


def level_of(balance: int) -> tuple[str, tuple[int, str] | None]:
    """The level reached (a msgid) and the next one (points needed, msgid), if any."""
    reached = LEVELS[0][1]
    for needed, name in LEVELS:
        if balance >= needed:
            reached = name
        else:
            return reached, (needed, name)
    return reached, None


async def _rank(turn: Turn, community_id: int, balance: int) -> tuple[int, int]:
    """(place, of how many) among the approved members of the community, by balance."""
    return await rank_among_members(turn.session, community_id, balance)


@command("points", N_("your points, level and rank"), Role.MEMBER)
async def points(turn: Turn) -> None:
    me = _me(turn)
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


FLOW = register_flow(
    Flow(
        "tasks",
        {
            RELEASE: Step(ask_release, answer_release),
            NOTE: Step(ask_note, answer_note),
            PHOTO: Step(ask_photo, answer_photo),
            HOURS: Step(ask_hours, answer_hours),
        },
    )
)


@action("still_on")
async def still_on(turn: Turn, args: list[str]) -> None:
    """The answer to "are you still on it?": the wish stays with the member."""
    assert turn.person is not None
    wish = await still_on_it(turn.session, turn.person, button_number(args))
    turn.say(turn.t("Thank you! Wish {code} stays with you.", code=wish.code))

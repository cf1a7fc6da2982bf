"""Members: /tasks (their own tasks, then open wishes that fit), More », 🙋 I'll do it.

Who may take wishes, the task buttons, still on it; the `tasks` conversation (see tasks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.flows.common import button_number, status_name, wish_summary
from handlers.flows.news import heads_of, requester_side, tell, wish_photo
from handlers.flows.relay import relay_button
from handlers.flows.suggested import why_it_fits
from handlers.i18n import Translator
from handlers.messages import Button
from handlers.router import action, command
from handlers.turn import Flow, Turn, action_button, register_flow
from models.community import Building
from models.dispatch import reasons_for_member
from models.errors import N_, NotAllowed
from models.open_tasks import holds_place, open_wishes_page, tasks_of
from models.people import MemberProfile, Person, Role
from models.privacy import phone_for_helpers
from models.wish_moves import get_wish
from models.wish_taking import accept_wish, still_on_it
from models.wishes import Wish, WishStatus

S = WishStatus
PAGE_SIZE = 5
# Pages past 9999 were never reached by pressing "More".
MAX_PAGE_DIGITS = 4

# The members' one conversation: its name and step names are stored in open chats, so it stays
# one flow; each room adds the steps it asks (give_back.py, report_done.py).
FLOW = register_flow(Flow("tasks", {}))


# --- who may ----------------------------------------------------------------------------------


def acting_member(turn: Turn) -> Person:
    """The member pressing or typing; a button from anyone else is refused."""
    if turn.person is None or not turn.has(Role.MEMBER):
        raise NotAllowed(N_("Only members of this community can take wishes."))
    return turn.person


async def _approved(turn: Turn) -> bool:
    profile = await turn.session.get(MemberProfile, acting_member(turn).id)
    return profile is not None and profile.approved


def _not_approved(turn: Turn) -> None:
    turn.say(
        turn.t(
            "An admin has not approved you yet. Once they have, /tasks shows the wishes "
            "you can help with."
        )
    )


async def _holds(turn: Turn, wish: Wish) -> bool:
    return await holds_place(turn.session, wish.id, acting_member(turn).id)


async def held_wish(turn: Turn, args: Sequence[str]) -> Wish:
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
    acting_member(turn)
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
    me = acting_member(turn)
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
    return await open_wishes_page(
        turn.session, acting_member(turn), turn.reach(Role.MEMBER), page, PAGE_SIZE
    )


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
    why = await reasons_for_member(turn.session, acting_member(turn), found, turn.config.timezone)
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
    me = acting_member(turn)
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


@action("still_on")
async def still_on(turn: Turn, args: list[str]) -> None:
    """The answer to "are you still on it?": the wish stays with the member."""
    assert turn.person is not None
    wish = await still_on_it(turn.session, turn.person, button_number(args))
    turn.say(turn.t("Thank you! Wish {code} stays with you.", code=wish.code))

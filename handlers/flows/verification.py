"""Building heads: new wishes from their building arrive with Verify / Reject buttons.

A rejection asks for a reason; /onbehalf asks for a resident who does not use the bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handlers.flows.common import (
    ask_for_person,
    button_number,
    rows,
    text_input,
    turned_page,
    typed_search,
    wish_summary,
)
from handlers.flows.news import (
    ButtonsFor,
    accept_button,
    fitting_members,
    heads_of,
    requester_side,
    spend_card,
    tell,
    wish_photo,
)
from handlers.flows.same_wish import merge_buttons, same_as, same_note
from handlers.i18n import Translator
from handlers.messages import Button
from handlers.router import action, command
from handlers.turn import Flow, Speaker, Step, Turn, action_button, register_flow
from models.cards import VERIFY, wish_card
from models.community import Building
from models.directory import add_person, building_names
from models.errors import N_
from models.invites import building_invite
from models.office_work import residents_reached, waiting_for_head
from models.people import Person, Role
from models.wish_asking import reject_wish, verify_wish
from models.wish_moves import check_applies, get_wish
from models.wishes import Urgency, Wish, WishStatus

SHOWN = 10  # wishes listed by a head's /pending, of each kind
REASON = "reason"
RESIDENT = "resident"
NEW_NAME = "new_name"
NEW_UNIT = "new_unit"
INVITE = "invite"
PAGE = 10  # residents per page in /onbehalf

REASONS = (
    N_("This is not something the community can do"),
    N_("Already done"),
    N_("Asked twice"),
)


async def tell_heads_about(turn: Speaker, wish: Wish) -> None:
    """A new wish: heads verify it; one a head entered is offered to members at once.
    (The chat's /wish and Open311's filing both say it this way.)"""
    if wish.status == WishStatus.SUBMITTED:
        await ask_heads_to_check(
            turn,
            await heads_of(turn, wish.building_id),
            wish,
            N_(
                "New wish {code} in your building, from {name} (unit {unit}). "
                "Is it real and reasonable?"
            ),
        )
    elif wish.status == WishStatus.OPEN:
        await offer_to_members(turn, wish)


def head_buttons(t: Translator, wish: Wish) -> list[Button]:
    """A head may pass the wish up to the grid worker, or mark it urgent (once)."""
    buttons = [action_button(t.raw("⬆ Escalate"), "escalate", wish.id)]
    if wish.urgency == Urgency.NORMAL:
        buttons.append(action_button(t.raw("🚨 It's urgent"), "urgent", wish.id))
    return buttons


async def requester_of(turn: Speaker, wish: Wish) -> tuple[str, str]:
    """Who asked, as the verify card shows them to the building's heads: name and unit."""
    person = await turn.session.get(Person, wish.requester_id)
    return (person.name, person.unit or "-") if person else ("?", "-")


def check_buttons(wish: Wish, same: Sequence[Wish] = ()) -> ButtonsFor:
    """Verify / Reject, the head's own buttons, and a merge for each wish it looks like."""
    return lambda t: [
        [
            action_button(t.raw("✅ Verify"), "verify", wish.id),
            action_button(t.raw("✖ Reject"), "reject", wish.id),
        ],
        [action_button(t.raw("👥 Needs several helpers"), "hands", wish.id)],
        head_buttons(t, wish),
        *([merge_buttons(t, wish, same)] if same else []),
    ]


async def ask_heads_to_check(turn: Speaker, heads: Iterable[int], wish: Wish, message: str) -> None:
    """The verify card: the message (naming {code}, {name} and {unit}), the wish in brief,
    its photo, and Verify / Reject. New wishes and the reminder send it alike."""
    name, unit = await requester_of(turn, wish)
    same = await same_as(turn, wish)
    await tell(
        turn,
        heads,
        wish,
        message,
        check_buttons(wish, same),
        photo=wish_photo(wish),
        card=wish_card(wish.id, VERIFY),
        extra=same_note(same),
        name=name,
        unit=unit,
    )


async def head_pending(turn: Turn) -> None:
    """A building head's /pending: their buildings' wishes waiting for their check (each a
    verify card), then the ones still under way."""
    t = turn.t
    to_check, under_way = await waiting_for_head(turn.session, turn.reach(Role.BUILDING_HEAD))
    if not to_check and not under_way:
        turn.say(t("Nothing is waiting. Well done!"))
        return
    if to_check:
        turn.say(
            t.plural(
                "One wish waits for your check:", "{n} wishes wait for your check:", len(to_check)
            )
        )
    for wish in to_check[:SHOWN]:
        name, unit = await requester_of(turn, wish)
        same = await same_as(turn, wish)
        note = same_note(same)
        turn.say(
            t("From {name} (unit {unit})", name=name, unit=unit)
            + ("\n" + note(t) if note else "")
            + "\n"
            + await wish_summary(turn, wish),
            check_buttons(wish, same)(t),
            photo=wish_photo(wish),
            card=wish_card(wish.id, VERIFY),
        )
    if under_way:
        lines = [
            t.plural(
                "One more wish of your building is under way:",
                "{n} more wishes of your buildings are under way:",
                len(under_way),
            )
        ]
        lines += [await wish_summary(turn, wish) for wish in under_way[:SHOWN]]
        turn.say("\n\n".join(lines))
    hidden = max(0, len(to_check) - SHOWN) + max(0, len(under_way) - SHOWN)
    if hidden:
        turn.say(t.plural("…and one more.", "…and {n} more.", hidden))


async def offer_to_members(turn: Speaker, wish: Wish) -> None:
    await tell(
        turn,
        await fitting_members(turn, wish),
        wish,
        N_("A neighbour needs a hand: {code}. Can you help?"),
        accept_button(wish),
        photo=wish_photo(wish),
    )


@action("verify")
async def verify(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    wish = await verify_wish(turn.session, turn.person, button_number(args))
    await verified(turn, wish)


async def verified(turn: Turn, wish: Wish) -> None:
    """The head verified: the card is spent, the requester told, members offered it."""
    assert turn.person is not None
    turn.say(turn.t("Thank you! Wish {code} is now open for helpers.", code=wish.code))
    await spend_card(
        turn,
        await heads_of(turn, wish.building_id),
        wish,
        VERIFY,
        N_("✅ Wish {code} was verified by {name}."),
        name=turn.person.name,
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Your wish {code} was checked; we are looking for a helper."),
    )
    await offer_to_members(turn, wish)


@action("reject")
async def reject(turn: Turn, args: list[str]) -> None:
    assert turn.person is not None
    wish = await get_wish(turn.session, button_number(args))
    await check_applies(turn.session, turn.person, wish, "reject")  # a stale card: refused now
    await turn.start(FLOW, REASON, wish_id=wish.id, code=wish.code)


async def ask_reason(turn: Turn) -> None:
    t = turn.t
    buttons = [turn.option(t.raw(reason), str(i)) for i, reason in enumerate(REASONS)]
    turn.say(
        t(
            "Why is wish {code} rejected? Choose, or type the reason; the resident will see it.",
            code=turn.data["code"],
        ),
        [*rows(buttons, 1), turn.nav(back=False)],
    )


async def answer_reason(turn: Turn) -> None:
    assert turn.person is not None
    if turn.value is not None and turn.value.isdigit() and int(turn.value) < len(REASONS):
        reason = turn.t.raw(REASONS[int(turn.value)])
    else:
        typed = text_input(turn, limit=500, what=N_("the reason"))
        if typed is None:
            return
        reason = typed
    wish = await reject_wish(turn.session, turn.person, turn.data["wish_id"], reason)
    turn.end()
    turn.say(turn.t("Wish {code} was rejected. The resident was told why.", code=wish.code))
    await spend_card(
        turn,
        await heads_of(turn, wish.building_id),
        wish,
        VERIFY,
        N_("✖ Wish {code} was rejected by {name}."),
        name=turn.person.name,
    )
    await tell(
        turn,
        requester_side(wish),
        wish,
        N_("Your wish {code} was not accepted: {reason}"),
        reason=reason,
    )


@command("onbehalf", N_("ask for help for a resident without the bot"), Role.BUILDING_HEAD)
async def onbehalf(turn: Turn) -> None:
    await turn.start(FLOW, RESIDENT, page=0)


async def _residents(turn: Turn) -> list[Person]:
    return await residents_reached(turn.session, turn.reach(Role.BUILDING_HEAD))


async def ask_resident(turn: Turn) -> None:
    t = turn.t
    ask_for_person(
        turn,
        await _residents(turn),
        t("For whom? Choose the resident, or add someone not listed."),
        PAGE,
        lambda p: f"{p.unit or '?'} · {p.name}",
        [(turn.option(t.raw("➕ Someone not listed"), "new"),)],
    )


async def answer_resident(turn: Turn) -> None:
    from handlers.flows.wish import start_for

    if turn.value == "new":
        await turn.goto(NEW_NAME)
        return
    if await turned_page(turn) or await typed_search(turn):
        return
    chosen = next((p for p in await _residents(turn) if str(p.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    await start_for(turn, chosen)


async def ask_new_name(turn: Turn) -> None:
    turn.say(turn.t("The resident's name?"), [turn.nav()])


async def answer_new_name(turn: Turn) -> None:
    name = text_input(turn, limit=100, what=N_("a name"))
    if name:
        turn.remember(name=name)
        await turn.goto(NEW_UNIT)


async def ask_new_unit(turn: Turn) -> None:
    t = turn.t
    buildings = turn.scopes(Role.BUILDING_HEAD)
    if len(buildings) > 1 and "building_id" not in turn.data:
        names = [
            turn.option(name, f"b:{building_id}")
            for building_id, name in (await building_names(turn.session, buildings)).items()
        ]
        turn.say(t("Which building?"), [*rows(names, 3), turn.nav()])
        return
    turn.say(t("Their unit (flat)?"), [turn.nav()])


async def answer_new_unit(turn: Turn) -> None:
    from handlers.flows.wish import start_for

    buildings = turn.scopes(Role.BUILDING_HEAD)
    if turn.value and turn.value.startswith("b:") and int(turn.value[2:]) in buildings:
        turn.remember(building_id=int(turn.value[2:]))
        await turn.ask()
        return
    unit = text_input(turn, limit=20, what=N_("the unit"))
    if unit is None:
        return
    building = await turn.session.get(Building, turn.data.get("building_id", buildings[0]))
    assert building is not None
    person = await add_person(turn.session, turn.data["name"], building=building, unit=unit)
    from models.directory import grant_role

    await grant_role(turn.session, None, person, Role.RESIDENT, building.id)
    await start_for(turn, person)


__all__ = ["get_wish", "offer_to_members", "tell_heads_about"]


@command(
    "invite",
    N_("a link that brings residents straight into a building"),
    Role.BUILDING_HEAD,
    Role.ADMIN,
)
async def invite(turn: Turn) -> None:
    """A head gets their building's link; an admin chooses the building first."""
    heads = turn.scopes(Role.BUILDING_HEAD)
    if len(heads) == 1 and not turn.has(Role.ADMIN):
        await _send_invite(turn, heads[0])
        return
    await turn.start(FLOW, INVITE)


async def _invite_buildings(turn: Turn) -> list[Building]:
    from handlers.flows.common import buildings_of

    found = {b.id: b for c in turn.scopes(Role.ADMIN) for b in await buildings_of(turn, c)}
    for building_id in turn.scopes(Role.BUILDING_HEAD):
        building = await turn.session.get(Building, building_id)
        if building is not None:
            found[building.id] = building
    return sorted(found.values(), key=lambda b: b.name)


async def ask_invite(turn: Turn) -> None:
    buttons = [turn.option(b.name, str(b.id)) for b in await _invite_buildings(turn)]
    turn.say(turn.t("Which building is the link for?"), [*rows(buttons, 3), turn.nav(back=False)])


async def answer_invite(turn: Turn) -> None:
    chosen = next((b for b in await _invite_buildings(turn) if str(b.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.end()
    await _send_invite(turn, chosen.id)


async def _send_invite(turn: Turn, building_id: int) -> None:
    assert turn.person is not None
    code = await building_invite(turn.session, building_id, turn.person.id)
    building = await turn.session.get(Building, building_id)
    assert building is not None
    username = turn.config.bot_username
    link = f"https://t.me/{username}?start={code}" if username else f"/start {code}"
    text = turn.t(
        "Residents of {building} join with this link (or by sending the bot: /start {code}):\n{link}",
        building=building.name,
        code=code,
        link=link,
    )
    if turn.config.poster_url:
        text += "\n" + turn.t(
            "The QR code for the building's poster (residents scan it on WeChat): {url}",
            url=f"{turn.config.poster_url}/{code}",
        )
    turn.say(text)


FLOW = register_flow(
    Flow(
        "verification",
        {
            INVITE: Step(ask_invite, answer_invite),
            REASON: Step(ask_reason, answer_reason),
            RESIDENT: Step(ask_resident, answer_resident),
            NEW_NAME: Step(ask_new_name, answer_new_name),
            NEW_UNIT: Step(ask_new_unit, answer_new_unit),
        },
    )
)

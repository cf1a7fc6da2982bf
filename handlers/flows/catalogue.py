"""The office in chat: /newpartner and /newreward keep the catalogue, /adjust corrects points
with a reason (the person is told). See catalogue.md for the steps.
"""

from __future__ import annotations

from handlers.flows.common import (
    answer_community_run,
    ask_community_run,
    ask_for_person,
    person_answered,
    rows,
    text_input,
)
from handlers.messages import Reply
from handlers.router import command
from handlers.turn import Flow, Speaker, Step, Turn, register_flow
from models.catalogue import add_partner, add_reward, partners_in
from models.errors import N_, InvalidInput
from models.office_work import grantable_people
from models.people import Person, Role
from models.points_ledger import adjust_points
from models.reach import communities_run
from models.rewards import Partner

# /newpartner
P_COMMUNITY = "p_community"
P_NAME = "p_name"
P_CONTACT = "p_contact"
# /newreward
R_PARTNER = "r_partner"
R_NAME = "r_name"
R_COST = "r_cost"
R_STOCK = "r_stock"
R_WHERE = "r_where"
R_PHOTO = "r_photo"
# /adjust
A_PERSON = "a_person"
A_AMOUNT = "a_amount"
A_REASON = "a_reason"

SKIP = "skip"
UNLIMITED = "unlimited"
PAGE = 8
MAX_NAME = 200
MAX_WHERE = 500


def _actor(turn: Turn) -> Person:
    assert turn.person is not None  # the commands are for registered roles only
    return turn.person


async def _run(turn: Turn) -> list[int]:
    return await communities_run(turn.session, turn.grants)


def _number(text: str | None, *, signed: bool = False) -> int | None:
    typed = (text or "").strip().replace("＋", "+").replace("－", "-").replace("−", "-")
    body = typed[1:] if signed and typed.startswith(("+", "-")) else typed
    if not body.isdigit() or len(body) > 7:
        return None
    return int(typed)


# --- /newpartner ---------------------------------------------------------------------------


@command("newpartner", N_("register a partner that gives rewards"), Role.ADMIN, Role.STREET_ADMIN)
async def newpartner(turn: Turn) -> None:
    run = await _run(turn)
    if len(run) == 1:
        await turn.start(FLOW, P_NAME, community_id=run[0], page=0)
    else:
        await turn.start(FLOW, P_COMMUNITY, page=0)


async def ask_p_community(turn: Turn) -> None:
    await ask_community_run(turn, turn.t("For which community?"))


async def answer_p_community(turn: Turn) -> None:
    await answer_community_run(turn, P_NAME)


async def ask_p_name(turn: Turn) -> None:
    turn.say(
        turn.t("The partner's name (a shop, a barber, the charity shop)?"),
        [turn.nav(back=False)],
    )


async def answer_p_name(turn: Turn) -> None:
    name = text_input(turn, limit=MAX_NAME, what=N_("a name"))
    if name is not None:
        turn.remember(name=name)
        await turn.goto(P_CONTACT)


async def _people(turn: Turn) -> list[Person]:
    return await grantable_people(turn.session, [int(turn.data["community_id"])])


async def ask_p_contact(turn: Turn) -> None:
    t = turn.t
    ask_for_person(
        turn,
        await _people(turn),
        t("Who confirms hand-overs for {name}? They get the partner role.", name=turn.data["name"]),
        PAGE,
        extra=[(turn.option(t("Nobody yet (the office confirms)"), SKIP),)],
    )


async def answer_p_contact(turn: Turn) -> None:
    contact = None
    if turn.value != SKIP:
        contact = await person_answered(turn, lambda: _people(turn))
        if contact is None:
            return
    partner = await add_partner(
        turn.session,
        _actor(turn),
        int(turn.data["community_id"]),
        str(turn.data["name"]),
        contact=contact,
    )
    turn.end()
    turn.say(
        turn.t("Partner {name} is registered. /newreward adds its rewards.", name=partner.name)
    )
    if contact is not None:
        await turn.tell(
            contact.id,
            lambda t: Reply(
                t(
                    "You now confirm hand-overs for {name}: when a member shows a code, "
                    "send /handover and the code.",
                    name=partner.name,
                )
            ),
        )


# --- /newreward ----------------------------------------------------------------------------


@command("newreward", N_("add a reward to the catalogue"), Role.ADMIN, Role.STREET_ADMIN)
async def newreward(turn: Turn) -> None:
    if not await partners_in(turn.session, await _run(turn)):
        turn.say(turn.t("Register a partner first: /newpartner"))
        return
    await turn.start(FLOW, R_PARTNER)


async def ask_r_partner(turn: Turn) -> None:
    partners = [p for p in await partners_in(turn.session, await _run(turn)) if p.active]
    buttons = [turn.option(p.name, str(p.id)) for p in partners]
    turn.say(turn.t("Which partner gives it?"), [*rows(buttons, 2), turn.nav(back=False)])


async def answer_r_partner(turn: Turn) -> None:
    partners = await partners_in(turn.session, await _run(turn))
    chosen = next((p for p in partners if str(p.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(partner_id=chosen.id)
    await turn.goto(R_NAME)


async def ask_r_name(turn: Turn) -> None:
    turn.say(turn.t("What is the reward (a haircut, a meal, 5 kg of rice)?"), [turn.nav()])


async def answer_r_name(turn: Turn) -> None:
    name = text_input(turn, limit=MAX_NAME, what=N_("a name"))
    if name is not None:
        turn.remember(name=name)
        await turn.goto(R_COST)


async def ask_r_cost(turn: Turn) -> None:
    turn.say(turn.t("How many points does it cost?"), [turn.nav()])


async def answer_r_cost(turn: Turn) -> None:
    cost = _number(turn.incoming.text)
    if cost is None or cost < 1:
        turn.say(turn.t("Please type a whole number of points, like 50."))
        return
    turn.remember(cost=cost)
    await turn.goto(R_STOCK)


async def ask_r_stock(turn: Turn) -> None:
    turn.say(
        turn.t("How many are there? Type a number, or press Unlimited."),
        [(turn.option(turn.t("♾ Unlimited"), UNLIMITED),), turn.nav()],
    )


async def answer_r_stock(turn: Turn) -> None:
    if turn.value == UNLIMITED:
        turn.remember(stock=None)
    else:
        stock = _number(turn.incoming.text)
        if stock is None:
            turn.say(turn.t("Please type a whole number, like 10, or press Unlimited."))
            return
        turn.remember(stock=stock)
    await turn.goto(R_WHERE)


async def ask_r_where(turn: Turn) -> None:
    turn.say(
        turn.t("Where and when is it collected (address, opening hours)?"),
        [(turn.option(turn.t("Skip"), SKIP),), turn.nav()],
    )


async def answer_r_where(turn: Turn) -> None:
    where = None
    if turn.value != SKIP:
        where = text_input(turn, limit=MAX_WHERE, what=N_("where and when"))
        if where is None:
            return
    turn.remember(where=where)
    await turn.goto(R_PHOTO)


async def ask_r_photo(turn: Turn) -> None:
    turn.say(
        turn.t("A photo of the reward helps members choose. Send one now, or skip."),
        [(turn.option(turn.t("Skip"), SKIP),), turn.nav()],
    )


async def answer_r_photo(turn: Turn) -> None:
    if not turn.incoming.photo and turn.value != SKIP:
        turn.say(turn.t("Please send a photo, or press Skip."))
        return
    stock = turn.data.get("stock")
    reward = await add_reward(
        turn.session,
        _actor(turn),
        int(turn.data["partner_id"]),
        str(turn.data["name"]),
        int(turn.data["cost"]),
        stock=int(stock) if stock is not None else None,
        collect_at=turn.data.get("where"),
        photo=turn.incoming.photo,
    )
    partner = await turn.session.get(Partner, reward.partner_id)
    turn.end()
    turn.say(
        turn.t(
            "{reward} from {partner} is in the catalogue: members see it in /rewards.",
            reward=reward.name,
            partner=partner.name if partner else "-",
        )
    )


# --- /adjust -------------------------------------------------------------------------------


@command("adjust", N_("add or take away someone's points, with a reason"), Role.ADMIN)
async def adjust(turn: Turn) -> None:
    await turn.start(FLOW, A_PERSON, page=0)


async def _adjustable(turn: Turn) -> list[Person]:
    return await grantable_people(turn.session, sorted(turn.reach(Role.ADMIN).communities))


async def ask_a_person(turn: Turn) -> None:
    ask_for_person(turn, await _adjustable(turn), turn.t("Whose points change?"), PAGE)


async def answer_a_person(turn: Turn) -> None:
    chosen = await person_answered(turn, lambda: _adjustable(turn))
    if chosen is not None:
        turn.remember(person_id=chosen.id, person_name=chosen.name)
        await turn.goto(A_AMOUNT)


async def ask_a_amount(turn: Turn) -> None:
    turn.say(
        turn.t(
            "How many points for {name}? Type +20 to add, -20 to take away.",
            name=turn.data["person_name"],
        ),
        [turn.nav()],
    )


async def answer_a_amount(turn: Turn) -> None:
    amount = _number(turn.incoming.text, signed=True)
    if amount is None or amount == 0:
        turn.say(turn.t("Please type a number like +20 or -20."))
        return
    turn.remember(amount=amount)
    await turn.goto(A_REASON)


async def ask_a_reason(turn: Turn) -> None:
    turn.say(
        turn.t(
            "Why? The reason stays in the ledger and {name} reads it.",
            name=turn.data["person_name"],
        ),
        [turn.nav()],
    )


async def answer_a_reason(turn: Turn) -> None:
    reason = text_input(turn, limit=MAX_WHERE, what=N_("a reason"))
    if reason is None:
        return
    person = await turn.session.get(Person, int(turn.data["person_id"]))
    if person is None:
        raise InvalidInput(N_("There is no such person, or they were erased already."))
    amount = int(turn.data["amount"])
    entry = await adjust_points(turn.session, _actor(turn), person, amount, reason)
    turn.end()
    signed = f"{amount:+d}"
    turn.say(
        turn.t(
            "Done: {name} {amount} ({reason}). Their balance: {balance}.",
            name=person.name,
            amount=signed,
            reason=entry.note,
            balance=person.points_balance,
        )
    )
    await tell_adjusted(turn, person, signed, entry.note or "")


async def tell_adjusted(speaker: Speaker, person: Person, signed: str, reason: str) -> None:
    """The person hears of a correction of their points, with its reason."""
    await speaker.tell(
        person.id,
        lambda t: Reply(
            t(
                "The community office changed your points by {amount}: {reason}. "
                "You have {balance} now. /points",
                amount=signed,
                reason=reason,
                balance=person.points_balance,
            )
        ),
    )


FLOW = register_flow(
    Flow(
        "catalogue",
        {
            P_COMMUNITY: Step(ask_p_community, answer_p_community),
            P_NAME: Step(ask_p_name, answer_p_name),
            P_CONTACT: Step(ask_p_contact, answer_p_contact),
            R_PARTNER: Step(ask_r_partner, answer_r_partner),
            R_NAME: Step(ask_r_name, answer_r_name),
            R_COST: Step(ask_r_cost, answer_r_cost),
            R_STOCK: Step(ask_r_stock, answer_r_stock),
            R_WHERE: Step(ask_r_where, answer_r_where),
            R_PHOTO: Step(ask_r_photo, answer_r_photo),
            A_PERSON: Step(ask_a_person, answer_a_person),
            A_AMOUNT: Step(ask_a_amount, answer_a_amount),
            A_REASON: Step(ask_a_reason, answer_a_reason),
        },
    )
)

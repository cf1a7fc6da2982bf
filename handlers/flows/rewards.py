"""/rewards: what a member can get for their points (affordable first), and redeeming one;
/handover CODE: the partner gives it; an uncollected one expires and its points come back.

See rewards.md for the steps.
"""

from __future__ import annotations

from handlers.flows.common import button_number
from handlers.i18n import Translator
from handlers.messages import Reply
from handlers.reminder_kinds import reminder_kind
from handlers.router import command
from handlers.turn import Flow, Speaker, Step, Turn, register_flow
from models.catalogue import offer, offers_for, pending_of
from models.errors import N_, NotAllowed
from models.people import Person, Role
from models.points_ledger import REWARD_EXPIRY, redeem_reward
from models.redemptions import expire_redemption, hand_over
from models.reminders import Reminder
from models.rewards import Partner, Redemption, Reward

LIST = "list"
DETAIL = "detail"
CODES = "codes"
REDEEM = "redeem"


def _me(turn: Turn) -> Person:
    if turn.person is None:
        raise NotAllowed(N_("Please register first: /start"))
    return turn.person


@command("rewards", N_("rewards for your points, from the community's partners"))
async def rewards(turn: Turn) -> None:
    await turn.start(FLOW, LIST)


async def ask_list(turn: Turn) -> None:
    t = turn.t
    me = _me(turn)
    offers = await offers_for(turn.session, me)
    pending = await pending_of(turn.session, me.id)
    extra = [turn.option(t("🎟 My codes ({n})", n=len(pending)), CODES)] if pending else []
    if not offers:
        turn.say(
            t("No rewards are offered in your community just now."),
            [tuple(extra), turn.nav(back=False)],
        )
        return
    lines = [t.plural("You have {n} point.", "You have {n} points.", me.points_balance)]
    lines.append(t("Rewards you can get now come first:"))
    buttons = [
        (
            turn.option(
                t(
                    "{mark} {name} · {cost}",
                    mark="🎁" if o.affordable else "🔒",
                    name=o.reward.name,
                    cost=t.plural("{n} point", "{n} points", o.reward.cost),
                ),
                str(o.reward.id),
            ),
        )
        for o in offers
    ]
    turn.say("\n".join(lines), [*buttons, tuple(extra), turn.nav(back=False)])


async def answer_list(turn: Turn) -> None:
    if turn.value == CODES:
        await _say_codes(turn)
        return
    if turn.value is None or not turn.value.isdigit():
        turn.say(turn.t("Please choose a reward with the buttons."))
        return
    turn.remember(reward_id=button_number([turn.value]))
    await turn.goto(DETAIL)


async def _say_codes(turn: Turn) -> None:
    t = turn.t
    lines = [t("Your codes waiting to be collected:")]
    for redemption, reward in await pending_of(turn.session, _me(turn).id):
        lines.append(
            t(
                "<b>{code}</b> · {reward} · until {when}",
                code=redemption.code or "-",
                reward=reward.name,
                when=t.when(redemption.expires_at),
            )
        )
    turn.say("\n".join(lines))


async def ask_detail(turn: Turn) -> None:
    t = turn.t
    me = _me(turn)
    found = await offer(turn.session, me, int(turn.data["reward_id"]))
    reward = found.reward
    lines = [t("🎁 <b>{name}</b>", name=reward.name)]
    if found.partner:
        lines.append(t("From: {partner}", partner=found.partner))
    lines.append(t("Cost: {cost}", cost=t.plural("{n} point", "{n} points", reward.cost)))
    if reward.collect_at:
        lines.append(t("Where and when: {where}", where=reward.collect_at))
    if reward.valid_until is not None:
        lines.append(t("Offered until {when}", when=t.when(reward.valid_until)))
    if reward.stock is not None:
        lines.append(t("Left: {n}", n=t.number(reward.stock)))
    buttons = []
    if found.affordable:
        label = t.plural("✅ Redeem for {n} point", "✅ Redeem for {n} points", reward.cost)
        buttons.append((turn.option(label, REDEEM),))
    else:
        missing = reward.cost - me.points_balance
        lines.append(t.plural("You need {n} more point.", "You need {n} more points.", missing))
    turn.say("\n".join(lines), [*buttons, turn.nav()], photo=reward.photo)


async def answer_detail(turn: Turn) -> None:
    if turn.value != REDEEM:
        turn.say(turn.t("Please choose with the buttons."))
        return
    me = _me(turn)
    # The key is this question's: the same press delivered twice redeems once.
    key = f"chat-{turn.conversation.id}-{turn.conversation.token}"
    redemption = await redeem_reward(turn.session, me, int(turn.data["reward_id"]), request_key=key)
    turn.end()
    reward = await turn.session.get(Reward, redemption.reward_id)
    assert reward is not None
    turn.say(await code_text(turn, redemption, reward), qr=redemption.code)


async def code_text(turn: Turn, redemption: Redemption, reward: Reward) -> str:
    t = turn.t
    partner = await turn.session.get(Partner, reward.partner_id) if reward.partner_id else None
    lines = [
        t("🎟 Your code for {reward}: <b>{code}</b>", reward=reward.name, code=redemption.code),
        t(
            "Show it to {partner} to collect it, by {when}.",
            partner=partner.name if partner else t("the community office"),
            when=t.when(redemption.expires_at),
        ),
    ]
    if reward.collect_at:
        lines.append(t("Where and when: {where}", where=reward.collect_at))
    balance = turn.person.points_balance if turn.person else 0
    lines.append(t.plural("You have {n} point left.", "You have {n} points left.", balance))
    return "\n".join(lines)


FLOW = register_flow(
    Flow("rewards", {LIST: Step(ask_list, answer_list), DETAIL: Step(ask_detail, answer_detail)})
)


# --- /handover -----------------------------------------------------------------------------


@command("handover", N_("give a reward for a member's code"), Role.PARTNER, Role.ADMIN)
async def handover(turn: Turn) -> None:
    t = turn.t
    if not turn.incoming.args or turn.person is None:
        turn.say(t("Send /handover and the member's code, like /handover K7QX3M."))
        return
    redemption = await hand_over(turn.session, turn.person, "".join(turn.incoming.args))
    reward = await turn.session.get(Reward, redemption.reward_id)
    member = await turn.session.get(Person, redemption.person_id)
    assert reward is not None and member is not None
    first = member.name.split(" ")[0]
    turn.say(
        t(
            "✅ Handed over: {reward} for {name} (code {code}). Thank you!",
            reward=reward.name,
            name=first,
            code=redemption.code,
        )
    )
    await tell_handed_over(turn, redemption, reward)


async def tell_handed_over(speaker: Speaker, redemption: Redemption, reward: Reward) -> None:
    """The member hears that their reward was handed over (by the partner, or the office)."""
    await speaker.tell(
        redemption.person_id,
        lambda t: Reply(
            t(
                "✅ You collected {reward} (code {code}). Enjoy, and thank you for your help!",
                reward=reward.name,
                code=redemption.code,
            )
        ),
    )


# --- expiry ----------------------------------------------------------------------------------


@reminder_kind(REWARD_EXPIRY)
async def _expire(speaker: Speaker, reminder: Reminder) -> None:
    """Not collected in time: the points come back (once, however often this fires)."""
    expired = await expire_redemption(speaker.session, int(reminder.payload["redemption_id"]))
    if expired is None:
        return
    reward = await speaker.session.get(Reward, expired.reward_id)
    name = reward.name if reward else "?"

    def build(t: Translator) -> Reply:
        return Reply(
            t.plural(
                "Your code {code} for {reward} was not collected in time: {n} point is back.",
                "Your code {code} for {reward} was not collected in time: {n} points are back.",
                expired.cost,
                code=expired.code,
                reward=name,
            )
        )

    await speaker.tell(expired.person_id, build)

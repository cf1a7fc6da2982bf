"""What a person controls about their own data: /mydata (a copy), /forget (erase me, after a
confirmation) and /phone (share one's phone with helpers, or stop); see privacy.md.

Sensitive answers of campaigns about them are in the copy too (and nobody else's).
"""

from __future__ import annotations

import json

from handlers.flows.common import rows
from handlers.messages import Document
from handlers.reminder_kinds import reminder_kind
from handlers.router import command
from handlers.turn import Flow, Speaker, Step, Turn, register_flow
from models.clock import now
from models.erasure import erase_person
from models.errors import N_
from models.privacy import export_person, share_phone, stop_sharing_phone
from models.reminders import Reminder
from models.retention import RETENTION, forget_old_messages, forget_old_wishes

FORGET_CONFIRM = "forget_confirm"
PHONE_CHOICE = "phone_choice"


@command("mydata", N_("a copy of everything the bot keeps about you"))
async def my_data(turn: Turn) -> None:
    assert turn.person is not None
    data = await export_person(turn.session, turn.person)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    turn.say(
        turn.t("Here is everything we keep about you. To have it erased, send /forget."),
        document=Document("my-data.json", content),
    )


# --- /forget ---------------------------------------------------------------------------------


@command("forget", N_("erase everything the bot keeps about you"))
async def forget(turn: Turn) -> None:
    await turn.start(FLOW, FORGET_CONFIRM)


async def ask_forget(turn: Turn) -> None:
    t = turn.t
    turn.say(
        t(
            "Erase everything about you? Your name, phone, unit, the texts and photos of your "
            "wishes and your answers go, and this chat is forgotten. Counts and points stay, "
            "without your name. Wishes still waiting for a helper are cancelled. "
            "This cannot be undone."
        ),
        [
            *rows(
                [
                    turn.option(t.raw("Yes, erase me"), "yes"),
                    turn.option(t.raw("No, keep my data"), "no"),
                ]
            ),
            turn.nav(back=False),
        ],
    )


async def answer_forget(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    if turn.value == "no":
        turn.end()
        turn.say(t("Kept. Nothing changed."))
        return
    if turn.value != "yes":
        turn.say(t("Please choose with the buttons."))
        return
    turn.end()
    await erase_person(turn.session, turn.person, turn.person.id)
    turn.person = None
    turn.say(
        t(
            "Done: everything about you is erased and this chat is forgotten. "
            "Send /start if you ever want to come back."
        )
    )


# --- /phone ----------------------------------------------------------------------------------


@command("phone", N_("share your phone with your helpers, or stop sharing it"))
async def phone(turn: Turn) -> None:
    await turn.start(FLOW, PHONE_CHOICE)


async def ask_phone_choice(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    person = turn.person
    buttons = []
    if person.phone and person.phone_consent:
        text = t(
            "Your phone {phone} is shown to the members who take your wishes.", phone=person.phone
        )
        buttons.append(turn.option(t.raw("Stop sharing and remove it"), "stop"))
    elif person.phone:
        text = t(
            "The office has your phone {phone} from its list; helpers do not see it. "
            "May the members who take your wishes see it?",
            phone=person.phone,
        )
        buttons.append(turn.option(t.raw("Yes, share this number"), "share"))
        buttons.append(turn.option(t.raw("Remove it"), "stop"))
    else:
        text = t(
            "You have not shared a phone number. Share it so that the members who take your "
            "wishes can call you?"
        )
    turn.say(
        text,
        [*rows(buttons), turn.nav(back=False)],
        ask_phone=t.raw("📱 Share my phone number"),
    )


async def answer_phone_choice(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    if turn.incoming.phone or turn.value == "share":
        await share_phone(turn.session, turn.person, turn.incoming.phone)
        turn.end()
        turn.say(t("Thank you. The members who take your wishes will see your phone."))
    elif turn.value == "stop":
        await stop_sharing_phone(turn.session, turn.person)
        turn.end()
        turn.say(t("Your phone number is removed; nobody sees it."))
    else:
        turn.say(t("Please choose with the buttons."))


# --- the retention rule ----------------------------------------------------------------------


@reminder_kind(RETENTION)
async def retention(speaker: Speaker, reminder: Reminder) -> None:
    """Once a day: finished wishes and chat messages kept past the rule lose their details."""
    moment = now(speaker.session)
    await forget_old_wishes(speaker.session, moment)
    await forget_old_messages(speaker.session, moment)


FLOW = register_flow(
    Flow(
        "privacy",
        {
            FORGET_CONFIRM: Step(ask_forget, answer_forget),
            PHONE_CHOICE: Step(ask_phone_choice, answer_phone_choice),
        },
    )
)

"""A wish's history in words for its page: who did what and to whom (the helper assigned, the
rung passed up to, the urgency or helpers set), in the viewer's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from handlers.flows.admin import role_name
from handlers.i18n import Translator
from handlers.sheet_words import URGENCY_NAMES
from models.desk import HistoryLine
from models.errors import N_
from models.permissions import LADDER

EVENT_WORDS = {
    "submit": N_("{actor} asked for help"),
    "verify": N_("{actor} verified it"),
    "reject": N_("{actor} rejected it"),
    "accept": N_("{actor} took it"),
    "assign": N_("{actor} assigned it to {whom}"),
    "release": N_("{actor} gave it back"),
    "report_done": N_("{actor} reported it done"),
    "confirm": N_("{actor} confirmed it was done"),
    "auto_confirm": N_("confirmed by itself: nobody answered in time"),
    "dispute": N_("{actor} said it is not done"),
    "cancel": N_("{actor} cancelled it"),
    "escalate": N_("{actor} passed it up to the {whom}"),
    "resolve": N_("{actor} answered it"),
    "still_on_it": N_("{actor} is still on it"),
    "auto_release": N_("given back by itself: the helper did not answer"),
    "auto_escalate": N_("passed up to the {whom}: nobody took it in time"),
    "climb": N_("passed up to the {whom}: nobody answered in time"),
    "mark_urgent": N_("{actor} marked it urgent"),
    "urgency": N_("{actor} set the urgency to {whom}"),
    "helpers": N_("{actor} set the helpers needed to {whom}"),
}


@dataclass(frozen=True)
class EventWords:
    at: dt.datetime
    what: str
    from_status: str | None
    to_status: str
    note: str | None


def event_words(t: Translator, line: HistoryLine) -> EventWords:
    """One line of a wish's history in words: who did what, and to whom."""
    actor = line.actor or t.raw(N_("the bot"))
    whom = ""
    note = line.note
    if line.action == "assign":
        whom, note = line.note or "", None
    elif line.rung is not None:
        whom = role_name(t, LADDER[line.rung - 1])
    elif line.action == "urgency":
        whom, note = t.raw(str(URGENCY_NAMES.get(line.note or "", line.note or ""))), None
    elif line.action == "helpers":
        whom, note = t.number(int(line.note or 0)), None
    template = EVENT_WORDS.get(line.action)
    what = t.raw(template).format(actor=actor, whom=whom) if template else actor
    return EventWords(line.at, what, line.from_status, line.to_status, note)

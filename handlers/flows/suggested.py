"""How a dispatch suggestion is said in chat: a candidate, its score and its reasons in words.

/assign, the open-wish reminder and /tasks say them alike (the ranking is models/dispatch.py).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from handlers.flows.common import category_name
from handlers.flows.organisations import WEEKDAY_NAMES
from handlers.i18n import Translator
from models.dispatch_rules import Candidate, Reason

TOP = 5  # suggestions shown for one wish (/assign, the open-wish reminder)


def reason_text(t: Translator, reason: Reason) -> str:
    """One reason in the reader's words (a category said by its name)."""
    params = dict(reason.params)
    if "weekdays" in params:
        params["days"] = days_text(t, params.pop("weekdays"), str(params.pop("hours", "")))
    if "category" in params:
        params["category"] = category_name(t, str(params["category"]))
    if reason.message == "{category}":
        return html.escape(str(params["category"]), quote=False)
    return t(reason.message, **params)


def days_text(t: Translator, weekdays: Sequence[int], hours: str) -> str:
    """ "Tue–Thu 09:00-17:00", "Mon, Wed", "every day" (three days or more in a row: a span)."""
    days = sorted(weekdays)
    if not days or len(days) == 7:
        said = t.raw("every day")
    elif len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        said = t.raw(WEEKDAY_NAMES[days[0]]) + "–" + t.raw(WEEKDAY_NAMES[days[-1]])
    else:
        said = ", ".join(t.raw(WEEKDAY_NAMES[d]) for d in days)
    return f"{said} {hours}" if hours else said


def scored_reason(t: Translator, reason: Reason) -> str:
    """A reason with what it adds to the score: "same building (+30)"."""
    return f"{reason_text(t, reason)} ({reason.points:+d})"


def candidate_line(t: Translator, number: int, candidate: Candidate) -> str:
    """ "1. <b>Name</b> — score 85: skills: repairs (+40), same building (+30), …"."""
    # Joined after translating: each part is escaped once, never twice.
    head = t(
        "{number}. <b>{name}</b> — score {score}:",
        number=number,
        name=candidate.name,
        score=candidate.score,
    )
    return head + " " + ", ".join(scored_reason(t, r) for r in candidate.reasons)


def candidate_words(t: Translator, candidate: Candidate) -> str:
    """ "Fixer — score 64: skills: repairs (+40), …" for a web page: escaped, without tags."""
    head = t("{name} — score {score}:", name=candidate.name, score=candidate.score)
    return head + " " + ", ".join(scored_reason(t, r) for r in candidate.reasons)


def why_it_fits(t: Translator, reasons: Sequence[Reason]) -> str:
    """For /tasks: "Fits you: your building, repairs" (empty when nothing speaks for it)."""
    if not reasons:
        return ""
    return t.raw("Fits you:") + " " + ", ".join(reason_text(t, r) for r in reasons)


def resource_line(t: Translator, candidate: Candidate) -> str:
    """ "• <b>Riverside Clinic</b> — score 65: Riverside Clinic offers: …, door to door (+10)"."""
    head = t("• <b>{name}</b> — score {score}:", name=candidate.name, score=candidate.score)
    return head + " " + ", ".join(scored_reason(t, r) for r in candidate.reasons)


def resource_lines(t: Translator, resources: Sequence[Candidate]) -> list[str]:
    """What organisations (and members) offer for the wish, after the members; none: nothing."""
    if not resources:
        return []
    return [t.raw("Resources that cover it:"), *(resource_line(t, c) for c in resources)]

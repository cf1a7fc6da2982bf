"""What an information-collection campaign asks, as the office writes it: a title, questions
(choice, number, yes/no, text; some sensitive), buildings and a deadline, checked whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from models.errors import N_, InvalidInput
from models.surveys import QuestionKind

MAX_TITLE = 200
MAX_QUESTION = 300
MAX_QUESTIONS = 30
MAX_CHOICES = 12
MAX_CHOICE = 40
UTC_ZONE = ZoneInfo("UTC")

KIND_WORDS = {
    "choice": QuestionKind.CHOICE,
    "number": QuestionKind.NUMBER,
    "yes/no": QuestionKind.YES_NO,
    "yes_no": QuestionKind.YES_NO,
    "yesno": QuestionKind.YES_NO,
    "text": QuestionKind.TEXT,
    # The same kinds in Chinese, as the Chinese help shows them.
    "选择": QuestionKind.CHOICE,
    "数字": QuestionKind.NUMBER,
    "是否": QuestionKind.YES_NO,
    "是/否": QuestionKind.YES_NO,
    "文字": QuestionKind.TEXT,
}


@dataclass(frozen=True)
class QuestionDefinition:
    text: str
    kind: QuestionKind
    choices: tuple[str, ...] = ()
    sensitive: bool = False


@dataclass(frozen=True)
class CampaignDefinition:
    title: str
    questions: tuple[QuestionDefinition, ...]
    buildings: tuple[str, ...]  # building names in the community
    deadline: dt.datetime  # aware


def _text(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput(N_("The campaign needs {what}."), what=what)
    text = str(value).strip()
    if not text:
        raise InvalidInput(N_("The campaign needs {what}."), what=what)
    if len(text) > limit:
        raise InvalidInput(
            N_("{what} is too long (at most {limit} characters)."), what=what, limit=limit
        )
    return text


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("", "0", "no", "false", "n"):
        return False
    if text in ("1", "yes", "true", "y", "!", "x"):
        return True
    raise InvalidInput(N_("'{value}' is neither yes nor no."), value=value)


def _kind(value: object) -> QuestionKind:
    kind = KIND_WORDS.get(str(value or "").strip().lower())
    if kind is None:
        raise InvalidInput(
            N_("'{value}' is not a kind of question (choice, number, yes/no, text)."),
            value=value,
        )
    return kind


def _choices(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidInput(N_("The choices must be a list."))
    choices = tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))
    if any(len(c) > MAX_CHOICE for c in choices):
        raise InvalidInput(N_("A choice may have at most {limit} characters."), limit=MAX_CHOICE)
    return choices


def parse_question(data: Mapping[str, Any]) -> QuestionDefinition:
    text = _text(data.get("text"), MAX_QUESTION, N_("a question"))
    kind = _kind(data.get("kind"))
    choices = _choices(data.get("choices"))
    if kind == QuestionKind.CHOICE and not 2 <= len(choices) <= MAX_CHOICES:
        raise InvalidInput(
            N_("The question '{question}' needs between 2 and {limit} choices."),
            question=text,
            limit=MAX_CHOICES,
        )
    if kind != QuestionKind.CHOICE:
        choices = ()
    return QuestionDefinition(text, kind, choices, _flag(data.get("sensitive")))


def parse_question_line(line: str) -> dict[str, Any]:
    """One question in the chat syntax: "kind: text [= a, b, c] [!]", "!" marks it sensitive.

    "yes/no: Does someone live alone? !", "choice: Housing = owned, rented, public",
    "number: How many people live here?", "text: Standard address".
    """
    # Chinese keyboards type the full-width colon, equals sign and comma.
    line = line.replace("：", ":").replace("＝", "=").replace("，", ",").replace("、", ",")
    kind, colon, rest = line.partition(":")
    if not colon:
        raise InvalidInput(
            N_("Please write the question as kind: text, e.g. number: How many people live here?")
        )
    rest = rest.strip()
    sensitive = rest.endswith("!")
    if sensitive:
        rest = rest[:-1].rstrip()
    text, equals, choices = rest.partition("=")
    question: dict[str, Any] = {
        "kind": kind.strip(),
        "text": text.strip(),
        "sensitive": sensitive,
    }
    if equals:
        question["choices"] = choices
    parse_question(question)  # refuse it now, while the person can still correct it
    return question


def _deadline(value: object, timezone: ZoneInfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        # A day: the campaign runs to the end of it.
        moment = dt.datetime.combine(value, dt.time(23, 59))
    else:
        text = str(value or "").strip()
        try:
            if len(text) == 10:
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59))
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                N_("'{value}' is not a deadline like 2026-12-01 or 2026-12-01T18:00."),
                value=text,
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone)


def parse_definition(data: Mapping[str, Any], timezone: ZoneInfo = UTC_ZONE) -> CampaignDefinition:
    """Check a campaign as given (chat, YAML, CSV); a naive deadline is read in `timezone`."""
    if not isinstance(data, Mapping):
        raise InvalidInput(N_("A campaign must have a title, questions, buildings and a deadline."))
    title = _text(data.get("title"), MAX_TITLE, N_("a title"))
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list | tuple) or not raw_questions:
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a question"))
    if len(raw_questions) > MAX_QUESTIONS:
        raise InvalidInput(
            N_("A campaign may have at most {limit} questions."), limit=MAX_QUESTIONS
        )
    questions = []
    for raw in raw_questions:
        if not isinstance(raw, Mapping):
            raise InvalidInput(N_("Each question needs a text and a kind."))
        questions.append(parse_question(raw))
    raw_buildings = data.get("buildings")
    if isinstance(raw_buildings, str):
        raw_buildings = raw_buildings.split(",")
    if not isinstance(raw_buildings, list | tuple):
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a building"))
    buildings = tuple(dict.fromkeys(str(b).strip() for b in raw_buildings if str(b).strip()))
    if not buildings:
        raise InvalidInput(N_("The campaign needs {what}."), what=N_("a building"))
    deadline = _deadline(data.get("deadline"), timezone)
    return CampaignDefinition(title, tuple(questions), buildings, deadline)

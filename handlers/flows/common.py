"""Small pieces the conversations share: text input, choosing from lists, wish summaries.

Nothing here talks to a platform; it builds buttons and texts through the Turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from handlers.i18n import Translator
from handlers.messages import Button
from handlers.router import STATUS_NAMES
from handlers.turn import Speaker, Turn
from models.community import Building, Community
from models.directory import communities_by_name
from models.errors import N_, NotFound
from models.open311_requests import active_categories
from models.people import Person
from models.reach import communities_run_by_name, community_reach
from models.text import bounded_id
from models.wishes import Urgency, Wish

Item = TypeVar("Item")

CATEGORY_NAMES = {
    "repair": N_("🔧 Repairs"),
    "errand": N_("🛒 Errands and shopping"),
    "companionship": N_("☕ Company and visits"),
    "paperwork": N_("📄 Forms and paperwork"),
    "cleaning": N_("🧹 Cleaning"),
    "other": N_("✳️ Something else"),
}


def category_name(t: Translator, code: str) -> str:
    return t.raw(CATEGORY_NAMES.get(code, code))


def status_name(t: Translator, status: str) -> str:
    return t.raw(STATUS_NAMES.get(status, status))


def button_number(args: Sequence[str]) -> int:
    """The number a button carries; an old or forged button gets a clear refusal."""
    number = bounded_id(args[0]) if args else None
    if number is None:
        raise NotFound(N_("That button does not work any more."))
    return number


def rows(buttons: Sequence[Button], per_row: int = 2) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def split_names(text: str) -> list[str]:
    """Names typed in one message, separated by commas (also ，、 or new lines)."""
    parts = text.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


def text_input(turn: Turn, *, limit: int, what: str) -> str | None:
    """The typed text of this turn, cleaned; None (with a hint said) when there is none."""
    text = (turn.incoming.text or "").strip()
    t = turn.t
    if not text:
        turn.say(t("Please type {what}, or use the buttons.", what=t.raw(what)))
        return None
    if len(text) > limit:
        turn.say(
            t("That is too long (at most {limit} characters). Please shorten it.", limit=limit)
        )
        return None
    return text


async def categories(turn: Turn) -> list[str]:
    return [c.code for c in await active_categories(turn.session)]


async def communities(turn: Turn) -> list[Community]:
    return await communities_by_name(turn.session)


async def buildings_of(turn: Turn, community_id: int) -> list[Building]:
    return await community_reach(community_id).building_list(turn.session)


async def building_name(turn: Speaker, building_id: int) -> str:
    building = await turn.session.get(Building, building_id)
    return building.name if building else "?"


async def wish_summary(turn: Speaker, wish: Wish, t: Translator | None = None) -> str:
    """One wish in a few lines: code, category, state, building, description."""
    if t is None:
        assert isinstance(turn, Turn), "a summary for someone else needs their translator"
        t = turn.t
    summary = t(
        "<b>{code}</b> · {category} · {status}\n{building}\n{description}",
        code=wish.code,
        category=category_name(t, wish.category),
        status=status_name(t, wish.status.value),
        building=await building_name(turn, wish.building_id),
        description=wish.description,
    )
    if wish.urgency == Urgency.URGENT:
        summary = t("🚨 Urgent") + " " + summary
    return summary


def page_of(
    turn: Turn, items: Sequence[Item], per_page: int
) -> tuple[Sequence[Item], tuple[Button, ...], str]:
    """The page of a long list the conversation is on: its items, the « Previous / Next »
    row, and "Page x of y" ("" when one page holds them all)."""
    t = turn.t
    pages = max(1, (len(items) + per_page - 1) // per_page)
    page = min(int(turn.data.get("page", 0)), pages - 1)
    paging: list[Button] = []
    if page > 0:
        paging.append(turn.option(t.raw("« Previous"), f"page:{page - 1}"))
    if page + 1 < pages:
        paging.append(turn.option(t.raw("Next »"), f"page:{page + 1}"))
    note = (
        t("Page {page} of {pages}", page=t.number(page + 1), pages=t.number(pages))
        if pages > 1
        else ""
    )
    return items[page * per_page : (page + 1) * per_page], tuple(paging), note


async def turned_page(turn: Turn) -> bool:
    """When the answer was « Previous or Next », show that page and say so."""
    value = turn.value or ""
    if not (value.startswith("page:") and value[5:].isdigit()):
        return False
    turn.remember(page=int(value[5:]))
    await turn.ask()
    return True


def searched(turn: Turn, people: Sequence[Person]) -> list[Person]:
    """The people whose name or unit holds what the person typed to search (all, untyped)."""
    typed = str(turn.data.get("search") or "").casefold()
    if not typed:
        return list(people)
    return [p for p in people if typed in p.name.casefold() or typed in (p.unit or "").casefold()]


async def typed_search(turn: Turn) -> bool:
    """Text typed at a person list searches it (page 1 of the matches); « Show all » clears it."""
    if turn.value == "all":
        turn.remember(search="", page=0)
        await turn.ask()
        return True
    text = (turn.incoming.text or "").strip()
    if turn.value is not None or not text or text.startswith("/"):
        return False
    turn.remember(search=text[:100], page=0)
    await turn.ask()
    return True


def search_lines(
    turn: Turn, question: str, found: int, page_note: str
) -> tuple[str, tuple[Button, ...]]:
    """The question over a person list, with how to search; and the « Show all » row while
    a search narrows it."""
    t = turn.t
    typed = str(turn.data.get("search") or "")
    lines = [question]
    if typed and not found:
        lines.append(t("Nobody matches “{text}”.", text=typed))
    elif typed:
        lines.append(t("Matching “{text}”:", text=typed))
    lines.append(page_note)
    lines.append(t("Type part of a name or unit to search."))
    clear = (turn.option(t.raw("Show all"), "all"),) if typed else ()
    return "\n".join(line for line in lines if line), clear


async def ask_community_run(turn: Turn, question: str) -> None:
    """Which of the communities the person runs (an admin's, a street admin's street)."""
    found = await communities_run_by_name(turn.session, turn.grants)
    buttons = [turn.option(c.name, str(c.id)) for c in found]
    turn.say(question, [*rows(buttons, 2), turn.nav(back=False)])


async def answer_community_run(turn: Turn, then: str) -> None:
    """The pressed community, if the person runs it, remembered; then the step ``then``."""
    found = await communities_run_by_name(turn.session, turn.grants)
    chosen = next((c for c in found if str(c.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose with the buttons."))
        return
    turn.remember(community_id=chosen.id)
    await turn.goto(then)


def ask_for_person(
    turn: Turn,
    people: Sequence[Person],
    question: str,
    per_page: int,
    label: Callable[[Person], str] = lambda p: f"{p.name} {p.unit or ''}".strip(),
    extra: Sequence[tuple[Button, ...]] = (),
) -> None:
    """A paged list of people as buttons under the question, searched by what was typed,
    with any ``extra`` rows and the way out."""
    found = searched(turn, people)
    shown, paging, page_note = page_of(turn, found, per_page)
    buttons = [turn.option(label(p), str(p.id)) for p in shown]
    text, clear = search_lines(turn, question, len(found), page_note)
    turn.say(text, [*rows(buttons, 2), paging, clear, *extra, turn.nav(back=False)])


async def person_answered(
    turn: Turn, people: Callable[[], Awaitable[Sequence[Person]]]
) -> Person | None:
    """The person pressed on a person list. None when the answer turned the page or
    searched (already answered), or named nobody on the list (then asked to press one)."""
    if await turned_page(turn) or await typed_search(turn):
        return None
    chosen = next((p for p in await people() if str(p.id) == turn.value), None)
    if chosen is None:
        turn.say(turn.t("Please choose a person with the buttons."))
    return chosen

"""Telling people that a wish moved: the requester, its helpers, the heads, fitting members.

Each person is told in their own language; the one who acted is not told about their own act.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from handlers.flows.common import wish_summary
from handlers.i18n import Translator, pick_locale, translator
from handlers.messages import Button, Reply
from handlers.turn import Speaker, action_button
from models.cards import wish_card
from models.co_requesters import co_requesters
from models.community import Building, Grid
from models.open_tasks import members_fitting
from models.people import Person, Role
from models.reach import holders, holders_at, place_of_building
from models.wish_record import active_helpers
from models.wishes import Urgency, Wish

ButtonsFor = Callable[[Translator], Sequence[Sequence[Button]]]


def _no_buttons(t: Translator) -> Sequence[Sequence[Button]]:
    return ()


async def tell(
    turn: Speaker,
    people: Iterable[int],
    wish: Wish,
    message: str,
    buttons: ButtonsFor = _no_buttons,
    *,
    photo: str | None = None,
    card: str | None = None,
    extra: Callable[[Translator], str] | None = None,
    **params: Any,
) -> None:
    """Tell each person once (never the actor): the message, then the wish in brief (under
    ``photo`` when one is given: the wish's own, for who must judge or do it).

    ``card`` names the message (models/cards.py), so that it can be edited once acted on;
    ``extra`` adds a line in the reader's words under the message. Whoever asked for the wish
    through a wish merged into it is told whatever its requester is told."""
    actor = turn.person.id if turn.person else None
    for person_id in await with_co_requesters(turn, wish, people):
        if person_id == actor:
            continue
        for_person = await _summary_in_their_language(turn, person_id, wish)

        def build(t: Translator, summary_text: str = for_person) -> Reply:
            # A moment among the values is said in the person's own language; so is a value
            # given as a function of the reader's Translator (it returns escaped Markup).
            values = {k: _in_their_words(t, v) for k, v in params.items()}
            text = t(message, code=wish.code, **values)
            if extra is not None:
                text += "\n" + extra(t)
            text += "\n\n" + summary_text
            return Reply(text, tuple(tuple(row) for row in buttons(t)), photo=photo, card=card)

        await turn.tell(person_id, build, urgent=wish.urgency == Urgency.URGENT)


def _in_their_words(t: Translator, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return t.when(value)
    if callable(value):
        return value(t)
    return value


async def spend_card(
    turn: Speaker, people: Iterable[int], wish: Wish, kind: str, message: str, **params: Any
) -> None:
    """The wish's card of this kind was acted on: in every chat it went to (the actor's too)
    it now says what happened, with its buttons gone."""
    key = wish_card(wish.id, kind)
    for person_id in await with_co_requesters(turn, wish, people):
        for_person = await _summary_in_their_language(turn, person_id, wish)

        def build(t: Translator, summary_text: str = for_person) -> Reply:
            text = t(message, code=wish.code, **params) + "\n\n" + summary_text
            return Reply(text, edit_card=key)

        await turn.tell(person_id, build)


async def _summary_in_their_language(turn: Speaker, person_id: int, wish: Wish) -> str:
    person = await turn.session.get(Person, person_id)
    locale = pick_locale(person.locale if person else None, default=turn.config.default_locale)
    return await wish_summary(turn, wish, translator(locale, turn.config.timezone))


def wish_photo(wish: Wish) -> str | None:
    """The photo the requester sent with the wish (the first, when there are several)."""
    return wish.photos[0] if wish.photos else None


async def with_co_requesters(turn: Speaker, wish: Wish, people: Iterable[int]) -> list[int]:
    """The people, each once; with the wish's co-requesters (models/co_requesters.py) after
    them when its requester is among them."""
    listed = list(dict.fromkeys(people))
    if wish.requester_id in listed:
        listed += [p for p in await co_requesters(turn.session, wish.id) if p not in listed]
    return listed


def requester_side(wish: Wish) -> list[int]:
    return [wish.requester_id, wish.submitted_by_id]


async def helpers_of(turn: Speaker, wish: Wish) -> list[int]:
    return await active_helpers(turn.session, wish.id)


async def heads_of(turn: Speaker, building_id: int) -> list[int]:
    return await holders_at(turn.session, Role.BUILDING_HEAD, building_id)


async def ladder_holders(turn: Speaker, wish: Wish, role: Role) -> list[int]:
    """Who holds a rung of the ladder over the wish's building."""
    return await holders(
        turn.session, await place_of_building(turn.session, wish.building_id), role
    )


async def fitting_members(turn: Speaker, wish: Wish, limit: int = 20) -> list[int]:
    """Approved members of the community whose skills fit."""
    return await members_fitting(turn.session, wish, limit)


def accept_button(wish: Wish) -> ButtonsFor:
    return lambda t: [[action_button(t.raw("🙋 I'll do it"), "accept", wish.id)]]


async def building_and_grid(turn: Speaker, building_id: int) -> tuple[Building, Grid]:
    building = await turn.session.get(Building, building_id)
    assert building is not None
    return building, building.grid

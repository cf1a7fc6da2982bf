"""A wish asked twice: the verify card says "probably the same as W-000123" and offers to
merge it; merging tells the duplicate's requester that their wish now goes with the other.

The likeness and the merge are models/duplicates.py; everyone who asked is then told of every
step of the kept wish (handlers/flows/news.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers.flows.common import button_number
from handlers.flows.news import heads_of, requester_side, spend_card, tell
from handlers.i18n import Translator
from handlers.messages import Button
from handlers.router import action
from handlers.turn import Speaker, Turn, action_button
from models.cards import VERIFY
from models.duplicates import merge_wishes, probable_duplicates
from models.errors import N_, InvalidInput
from models.wish_moves import get_wish
from models.wishes import Wish


async def same_as(turn: Speaker, wish: Wish) -> list[Wish]:
    """Earlier wishes under way in the building that look like this one."""
    return await probable_duplicates(turn.session, wish)


def same_note(same: Sequence[Wish]) -> Callable[[Translator], str] | None:
    """The line under the verify card's message, when the wish looks like another."""
    if not same:
        return None
    codes = ", ".join(str(w.code) for w in same)
    return lambda t: t("🔗 Probably the same as {codes}.", codes=codes)


def merge_buttons(t: Translator, wish: Wish, same: Sequence[Wish]) -> list[Button]:
    return [
        action_button(t("🔗 Merge into {code}", code=other.code), "merge", wish.id, other.id)
        for other in same
    ]


@action("merge")
async def merge(turn: Turn, args: list[str]) -> None:
    """Merge the first wish into the second (the card's button): one wish, every requester."""
    assert turn.person is not None
    if len(args) != 2:
        raise InvalidInput(N_("That button does not work any more."))
    duplicate = await merge_wishes(
        turn.session, turn.person, button_number(args[:1]), button_number(args[1:])
    )
    kept = await get_wish(turn.session, button_number(args[1:]))
    turn.say(
        turn.t(
            "Wish {code} is merged into {other}: whoever asked for it will hear about {other}.",
            code=duplicate.code,
            other=kept.code,
        )
    )
    await spend_card(
        turn,
        await heads_of(turn, duplicate.building_id),
        duplicate,
        VERIFY,
        N_("🔗 Wish {code} was merged into {other} by {name}."),
        other=kept.code,
        name=turn.person.name,
    )
    await tell(
        turn,
        requester_side(duplicate),
        duplicate,
        N_(
            "A neighbour asked for the same already, so your wish {code} now goes together "
            "with {other}. You will hear about every step of it."
        ),
        other=kept.code,
    )

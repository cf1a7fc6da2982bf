"""Wishes asked twice: a new wish that looks like an open one in the same building, and the
merge that makes them one wish with every requester (told at every step; points paid once).

Similar text is measured on character n-grams, so Chinese needs no word splitter.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.co_requesters import WishRequester, co_requesters
from models.errors import N_, IllegalTransition, NotAllowed, NotFound
from models.people import Person
from models.permissions import ladder_level
from models.reach import Reach, grants_of, place_of_building
from models.wish_moves import _check_can_move, _move
from models.wishes import FINAL_STATUSES, Wish, WishEvent, WishStatus

S = WishStatus
# Looks alike from this similarity on (0..1, Dice's coefficient of the n-gram sets).
ALIKE = 0.5
# Still waiting for help: a new wish may be the same as one of these.
UNDER_WAY = (S.SUBMITTED, S.OPEN, S.ACCEPTED, S.ESCALATED)
MERGED = "merge"


# Words and characters that every wish shares, so they say nothing about which one it is.
COMMON_WORDS = frozenset(
    (
        *("a", "an", "the", "on", "in", "at", "of", "to", "is", "are", "was", "be", "it"),
        *("its", "this", "that", "and", "or", "for", "with", "my", "our", "me", "we", "i"),
        *("you", "please", "again", "very", "there", "here", "from", "by", "as", "floor"),
    )
)
COMMON_HAN = frozenset("的了吗呢吧啊请很也都在是有个一我们你他她它这那里和与及")
COMMON_PHRASES = ("请尽快", "尽快", "麻烦", "帮忙", "谢谢", "一下")
HAN = "\u3400-\u9fff\uf900-\ufaff"


@functools.lru_cache(maxsize=4096)
def grams(text: str) -> frozenset[str]:
    """What a text is made of, for comparing: character bigrams of its Chinese (no word
    splitter needed) and trigrams of its other words, without what every wish says.
    Remembered per process: each new wish is compared with every earlier one of its
    building, and a head's reminder asks again."""
    cleaned = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold())
    for phrase in COMMON_PHRASES:
        cleaned = cleaned.replace(phrase, " ")
    found: set[str] = set()
    for run in re.findall(f"[{HAN}]+", cleaned):
        kept = "".join(c for c in run if c not in COMMON_HAN)
        found.update(kept[i : i + 2] for i in range(len(kept) - 1))
        if len(kept) == 1:
            found.add(kept)
    for word in re.findall(f"[^\\s{HAN}]+", cleaned):
        if word not in COMMON_WORDS:
            padded = f" {word} "
            found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 (nothing shared) to 1 (the same n-grams)."""
    left, right = grams(a), grams(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


async def probable_duplicates(session: AsyncSession, wish: Wish, limit: int = 3) -> list[Wish]:
    """Earlier wishes still under way in the same building, of the same category, whose text
    looks like this one's: the most alike first."""
    found = (
        await session.scalars(
            select(Wish)
            .where(
                Wish.building_id == wish.building_id,
                Wish.category == wish.category,
                Wish.status.in_(UNDER_WAY),
                Wish.id < wish.id,  # asked earlier
            )
            .order_by(Wish.id)
        )
    ).all()
    scored = [(similarity(wish.description, w.description), w) for w in found]
    alike = [(s, w) for s, w in scored if s >= ALIKE]
    alike.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [w for _, w in alike[:limit]]


async def merge_wishes(
    session: AsyncSession, actor: Person, duplicate_id: int, kept_id: int
) -> Wish:
    """The duplicate becomes part of the kept wish: its requester (and whoever submitted it,
    and anyone merged into it before) now asks for the kept wish too; the duplicate is closed
    as cancelled, so it pays nobody. A head of the building or the office may do it.
    Returns the duplicate, moved (the kept wish changes only in who asked for it)."""
    duplicate = await session.get(Wish, duplicate_id, populate_existing=True)
    kept = await session.get(Wish, kept_id, populate_existing=True)
    if duplicate is None or kept is None:
        raise NotFound(N_("There is no such wish."))
    grants = await grants_of(session, actor)
    for building_id in {duplicate.building_id, kept.building_id}:
        if ladder_level(grants, await place_of_building(session, building_id)) < 1:
            raise NotAllowed(N_("Only the building's head or the office can merge wishes."))
    if duplicate.id == kept.id or duplicate.building_id != kept.building_id:
        raise IllegalTransition(
            N_("Wish {code} cannot be merged into {other}."), code=duplicate.code, other=kept.code
        )
    _check_can_move(duplicate, MERGED)
    if duplicate.taken_count:
        raise IllegalTransition(
            N_("Wish {code} is under way already: it cannot be merged."), code=duplicate.code
        )
    if kept.status in FINAL_STATUSES:
        raise IllegalTransition(
            N_("Wish {code} is finished: nothing can be merged into it."), code=kept.code
        )
    moment = now(session)
    already = set(await co_requesters(session, kept.id)) | {kept.requester_id, kept.submitted_by_id}
    joining = [duplicate.requester_id, duplicate.submitted_by_id]
    joining += await co_requesters(session, duplicate.id)
    for person_id in dict.fromkeys(joining):
        if person_id not in already:
            session.add(
                WishRequester(
                    wish_id=kept.id, person_id=person_id, from_wish_id=duplicate.id, added_at=moment
                )
            )
            already.add(person_id)
    duplicate = await _move(
        session,
        duplicate,
        actor,
        MERGED,
        S.CANCELLED,
        kept.code,
        taken_count=0,
        closed_at=moment,
    )
    session.add(
        WishEvent(
            wish_id=kept.id,
            actor_id=actor.id,
            at=moment,
            action=MERGED,
            from_status=kept.status,
            to_status=kept.status,
            note=duplicate.code,
        )
    )
    await session.flush()
    return duplicate


async def merged_into(session: AsyncSession, wish_id: int) -> int | None:
    """The wish this one was merged into, if it was."""
    return await session.scalar(
        select(WishRequester.wish_id).where(WishRequester.from_wish_id == wish_id).limit(1)
    )


async def same_as_for_page(
    session: AsyncSession, reach: Reach, wish_id: int
) -> list[tuple[Wish, float]]:
    """For the dashboard's wish page: the wishes this one is probably the same as, each with
    how alike (0..1); only for a wish in the viewer's reach (models/reach.py)."""
    wish = await session.get(Wish, wish_id)
    if wish is None or not reach.covers(await place_of_building(session, wish.building_id)):
        raise NotFound(N_("There is no such wish."))
    return [
        (other, similarity(wish.description, other.description))
        for other in await probable_duplicates(session, wish)
    ]

"""A wish asked twice: flagged on the verify card (Chinese and English alike, an unrelated
one not), merged by the head, and then everyone who asked hears every step; points once.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.flows.news import requester_side, with_co_requesters
from handlers.turn import Speaker
from models.directory import add_person, grant_role
from models.duplicates import (
    merge_wishes,
    probable_duplicates,
    same_as_for_page,
    similarity,
)
from models.errors import IllegalTransition, NotAllowed, NotFound
from models.people import Person, Role
from models.points import PointsEntry, PointsKind
from models.reach import community_reach
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import auto_confirm
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish, WishStatus
from tests.chat import CONFIG, World
from tests.snapshot import snapshot
from tests.town import Town

S = WishStatus
LIGHT_ZH = "三楼走廊的灯坏了"
LIGHT_ZH_AGAIN = "3楼走廊灯坏了，晚上很黑"
LIGHT_EN = "The corridor light on floor 3 is out"
LIGHT_EN_AGAIN = "The light in the corridor on floor 3 is out again"
UNRELATED = [
    ("repair", "The kitchen tap on floor 3 is leaking"),
    ("repair", "The door lock on floor 2 is out of order"),
    ("repair", "三楼厨房水龙头漏水"),
    ("errand", LIGHT_EN),  # the same words, another kind of help
]


async def _neighbour(s: AsyncSession, town: Town, name: str) -> Person:
    person = await add_person(s, name, building=town.n1, unit="102")
    await grant_role(s, None, person, Role.RESIDENT, town.n1.id)
    return person


async def _ask(
    s: AsyncSession, town: Town, who: Person, text: str, category: str = "repair"
) -> Wish:
    return await submit_wish(s, who, building_id=town.n1.id, category=category, description=text)


def test_alike_texts_score_high_and_others_low() -> None:
    assert similarity(LIGHT_ZH, LIGHT_ZH_AGAIN) >= 0.5
    assert similarity(LIGHT_EN, LIGHT_EN_AGAIN) >= 0.5
    assert (
        similarity("楼道灯坏了，请尽快修理", "门锁坏了，请尽快修理") < 0.5
    )  # only politeness shared
    for _, text in UNRELATED:
        assert similarity(LIGHT_EN, text) < 0.5 or text == LIGHT_EN
    assert similarity("", LIGHT_EN) == 0


async def test_a_chinese_and_an_english_duplicate_are_flagged_an_unrelated_one_not(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        eve = await _neighbour(s, town, "Eve")
        first_zh = await _ask(s, town, town.alice, LIGHT_ZH)
        first_en = await _ask(s, town, town.alice, LIGHT_EN)
        again_zh = await _ask(s, town, eve, LIGHT_ZH_AGAIN)
        again_en = await _ask(s, town, eve, LIGHT_EN_AGAIN)
        others = [await _ask(s, town, eve, text, category) for category, text in UNRELATED]
        elsewhere = await submit_wish(
            s, town.bob, building_id=town.n2.id, category="repair", description=LIGHT_EN
        )
    async with sessions() as s:
        assert [w.id for w in await probable_duplicates(s, again_zh)] == [first_zh.id]
        assert [w.id for w in await probable_duplicates(s, again_en)] == [first_en.id]
        for other in others:
            found = {w.id for w in await probable_duplicates(s, other)}
            assert not found & {first_zh.id, first_en.id}, other.description
        assert await probable_duplicates(s, elsewhere) == []  # another building
        # The dashboard's wish page: the same, within the viewer's reach only.
        page = await same_as_for_page(s, community_reach(town.sunflower.id), again_en.id)
        assert [(w.id, round(alike, 1)) for w, alike in page] == [(first_en.id, 1.0)]
        try:
            await same_as_for_page(s, community_reach(town.maple.id), again_en.id)
        except NotFound:
            pass
        else:
            raise AssertionError("a wish outside the reach was shown")


async def test_the_head_sees_it_on_the_card_merges_and_everyone_hears_every_step(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    world = World(sessions)
    async with sessions.begin() as s:
        eve_person = await _neighbour(s, town, "Eve")
        eve_person.locale = "zh_Hans"
    alice = await world.as_person(town.alice)
    eve = await world.as_person(eve_person, "zh_Hans")
    head = await world.as_person(town.head_n1)
    fixer = await world.as_person(town.fixer)
    async with sessions.begin() as s:
        first = await _ask(s, town, town.alice, LIGHT_ZH)
        second = await _ask(s, town, eve_person, LIGHT_ZH_AGAIN)
    await head.send("/pending")
    card = next(r for r in head.received if second.code in r.text and "From Eve" in r.text)
    assert f"Probably the same as {first.code}" in card.text
    first_card = next(r for r in head.received if first.code in r.text and "From Alice" in r.text)
    assert "Probably the same" not in first_card.text

    # The office's /pending says it too, with the same merge button.
    admin = await world.as_person(town.admin)
    await admin.send("/pending")
    listed = next(r for r in admin.received if second.code in r.text)
    assert f"Probably the same as {first.code}" in listed.text
    assert any(f"Merge into {first.code}" in b.label for row in listed.buttons for b in row)

    await head.press(f"Merge into {first.code}")
    assert f"Wish {second.code} is merged into {first.code}" in head.last.text
    assert first.code in eve.last.text and "一起" in eve.last.text  # told, in Chinese
    async with sessions() as s:
        merged = await s.get(Wish, second.id)
        assert merged is not None and merged.status == S.CANCELLED

    told = {name: len(chat.received) for name, chat in (("alice", alice), ("eve", eve))}
    await head.deliver(button=f"a:verify:{first.id}")
    await fixer.deliver(button=f"a:accept:{first.id}")
    await fixer.deliver(button=f"a:done:{first.id}")
    await fixer.press("Skip")
    await fixer.press("Skip")
    for chat in (alice, eve):
        news = [r.text for r in chat.received[told[chat.name.lower()] :]]
        assert len(news) == 3, (chat.name, news)  # checked, taken, done
        assert all(first.code in text for text in news)
    # Eve, whose own wish was merged, may confirm it; Fixer is paid once.
    offered = [b.data for r in eve.received for row in r.buttons for b in row]
    assert f"a:confirm:{first.id}" in offered  # the confirm card reached her too
    await eve.deliver(button=f"a:confirm:{first.id}")
    await eve.press("⭐⭐⭐⭐⭐")
    await eve.press("跳过")
    async with sessions() as s:
        closed = await s.get(Wish, first.id)
        assert closed is not None and closed.status == S.CLOSED
        awards = await s.scalar(
            select(func.count()).where(
                PointsEntry.kind == PointsKind.AWARD, PointsEntry.wish_id.in_([first.id, second.id])
            )
        )
        assert awards == 1
    assert f"Wish {first.code} is confirmed and closed" in alice.last.text  # her card too


async def test_merging_is_refused_when_it_makes_no_sense(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as s:
        first = await _ask(s, town, town.alice, LIGHT_EN)
        taken = await _ask(s, town, town.alice, LIGHT_EN_AGAIN)
        await verify_wish(s, town.head_n1, taken.id)
        await accept_wish(s, town.fixer, taken.id)
        elsewhere = await submit_wish(
            s, town.bob, building_id=town.n2.id, category="repair", description=LIGHT_EN
        )
    before = await snapshot(sessions)
    for actor, duplicate, kept, refused in (
        (town.head_n1, taken.id, first.id, IllegalTransition),  # somebody is on it already
        (town.head_n1, first.id, first.id, IllegalTransition),  # into itself
        (town.head_n2, elsewhere.id, first.id, NotAllowed),  # not the same building
        (town.alice, first.id, taken.id, NotAllowed),  # a resident may not
        (town.head_n2, first.id, taken.id, NotAllowed),  # another building's head
    ):
        try:
            async with sessions.begin() as s:
                await merge_wishes(s, actor, duplicate, kept)
        except (refused, IllegalTransition, NotAllowed) as e:
            assert isinstance(e, refused), (duplicate, kept, e)
        else:
            raise AssertionError(f"merging {duplicate} into {kept} was allowed")
    assert await snapshot(sessions) == before


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=6))
async def test_any_order_of_merges_keeps_every_requester_and_pays_once(
    sessions: async_sessionmaker[AsyncSession], town: Town, merges: list[tuple[int, int]]
) -> None:
    """Four neighbours ask the same; merges in any order (the refused ones change nothing):
    whatever wishes are left, each of the four hears of exactly one of them, and when they
    are done each pays its helper once."""
    async with sessions.begin() as s:
        people = [await _neighbour(s, town, f"N{i}") for i in range(4)]
        wishes = [await _ask(s, town, p, LIGHT_EN) for p in people]
    ids = [w.id for w in wishes]
    for duplicate, kept in merges:
        before = await snapshot(sessions)
        try:
            async with sessions.begin() as s:
                await merge_wishes(s, town.head_n1, ids[duplicate], ids[kept])
        except (IllegalTransition, NotAllowed):
            assert await snapshot(sessions) == before
    async with sessions.begin() as s:
        speaker = Speaker(session=s, config=CONFIG)
        left = (await s.scalars(select(Wish).where(Wish.id.in_(ids)).order_by(Wish.id))).all()
        alive = [w for w in left if w.status != S.CANCELLED]
        assert alive  # a wish is never merged away without another to keep it
        told: list[int] = []
        for wish in alive:
            told += await with_co_requesters(speaker, wish, requester_side(wish))
        assert sorted(told) == sorted(p.id for p in people)  # each exactly once
        for wish in alive:
            await verify_wish(s, town.head_n1, wish.id)
            await accept_wish(s, town.fixer, wish.id)
            await report_done(s, town.fixer, wish.id)
            await auto_confirm(s, wish.id)
        awards = (
            await s.scalars(
                select(PointsEntry.wish_id).where(
                    PointsEntry.kind == PointsKind.AWARD, PointsEntry.wish_id.in_(ids)
                )
            )
        ).all()
        assert sorted(awards) == [w.id for w in alive]


async def test_my_and_mydata_list_the_wish_a_person_joined_through_a_merge(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    import json

    world = World(sessions)
    async with sessions.begin() as s:
        eve_person = await _neighbour(s, town, "Eve")
        first = await _ask(s, town, town.alice, LIGHT_EN)
        second = await _ask(s, town, eve_person, LIGHT_EN_AGAIN)
        await merge_wishes(s, town.head_n1, second.id, first.id)
        await verify_wish(s, town.head_n1, first.id)
    eve = await world.as_person(eve_person)
    await eve.send("/my")
    cards = {
        c: next(r for r in eve.received if r.text.startswith(f"<b>{c}</b>"))
        for c in (first.code, second.code)
    }
    # Her own wish (cancelled by the merge) and the one she joined, which says so.
    assert f"Your wish {second.code} was merged into this one." in cards[first.code].text
    # She may not cancel Alice's wish for everyone: no buttons while it waits for a helper.
    assert not [b for row in cards[first.code].buttons for b in row]
    async with sessions.begin() as s:
        await accept_wish(s, town.fixer, first.id)
        await report_done(s, town.fixer, first.id, "Fixed")
    await eve.send("/my")
    done = next(r for r in eve.received[::-1] if r.text.startswith(f"<b>{first.code}</b>"))
    pressed = [b.data for row in done.buttons for b in row]
    assert pressed == [f"a:confirm:{first.id}", f"a:dispute:{first.id}"]
    # Alice's own /my is as before: no line about a merge of hers.
    alice = await world.as_person(town.alice)
    await alice.send("/my")
    assert not any("was merged into this one" in r.text for r in alice.received)

    await eve.send("/mydata")
    document = eve.last.document
    assert document is not None
    data = json.loads(document.content)
    assert data["wishes_joined"] == [
        {"code": first.code, "category": "repair", "status": "done", "merged_from": second.code}
    ]
    assert [w["code"] for w in data["wishes"]] == [second.code]
    assert LIGHT_EN not in document.content.decode()  # not Alice's words

"""The dashboard's figures from the real store, and the SVG charts drawn from them.

Numbers an office would notice: weeks, waiting times, points, coverage, and who is out of scope.
"""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web.charts import (
    coverage_chart,
    duration_histogram,
    points_chart,
    wishes_per_week_chart,
)
from models.campaign_answers import answer, start_campaign
from models.campaign_definitions import parse_definition
from models.campaign_units import questions_of
from models.clock import ManualClock
from models.dashboard_figures import (
    BUCKET_KEYS,
    STATUS_KEYS,
    Bucket,
    BuildingCoverage,
    CampaignCoverage,
    Durations,
    MemberPoints,
    TimeToAcceptAndClose,
    WeekCounts,
    coverage_by_building,
    points_by_member,
    time_to_accept_and_close,
    wishes_per_week,
)
from models.directory import add_person, grant_role
from models.people import Person, Role
from models.points_ledger import adjust_points
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish
from tests.conftest import START
from tests.town import Town

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = START.astimezone(SHANGHAI).date()  # Monday 2026-11-23
SVG = "{http://www.w3.org/2000/svg}"
HOUR = dt.timedelta(hours=1)


# --- helpers ---------------------------------------------------------------------------------


async def _ask(sessions: async_sessionmaker[AsyncSession], who: Person, building_id: int) -> Wish:
    async with sessions.begin() as s:
        return await submit_wish(
            s, who, building_id=building_id, category="repair", description="A light is out"
        )


async def _verify(sessions: async_sessionmaker[AsyncSession], head: Person, wish: Wish) -> None:
    async with sessions.begin() as s:
        await verify_wish(s, head, wish.id)


async def _accept(sessions: async_sessionmaker[AsyncSession], member: Person, wish: Wish) -> None:
    async with sessions.begin() as s:
        await accept_wish(s, member, wish.id)


async def _finish(
    sessions: async_sessionmaker[AsyncSession], member: Person, requester: Person, wish: Wish
) -> None:
    """The member reports it done and the requester confirms (4 stars: the base points)."""
    async with sessions.begin() as s:
        await report_done(s, member, wish.id, "Done")
        await confirm_wish(s, requester, wish.id, 4)


def _svg(text: str) -> ET.Element:
    assert text.startswith("<svg")
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root[0].tag == f"{SVG}title"
    # Readable on a phone: no text smaller than 12.
    for element in root.iter():
        if element.get("font-size") is not None:
            assert float(element.get("font-size", "0")) >= 12
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def _size(rect: ET.Element, attribute: str) -> float:
    return float(rect.get(attribute, "nan"))


def _drawn(value: float) -> Any:
    """Equal as drawn: coordinates are written with two decimals."""
    return pytest.approx(value, abs=0.03)


# --- wishes per week -------------------------------------------------------------------------


async def test_wishes_per_week_counts_local_weeks_and_only_the_scope(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    # Two wishes in the week of 9 November, one of them verified (open).
    clock.set(START - dt.timedelta(weeks=2))
    first = await _ask(sessions, town.alice, town.n1.id)
    await _ask(sessions, town.bob, town.n2.id)
    await _verify(sessions, town.head_n1, first)
    # Monday 00:30 in Shanghai is still Sunday in UTC: it belongs to the week of the 23rd.
    clock.set(START - dt.timedelta(hours=8, minutes=30))
    await _ask(sessions, town.carol, town.s1.id)
    # Maple is another community: its wish stays out of Sunflower's figures.
    await _ask(sessions, town.dora, town.m1.id)
    # Before the eight weeks: not shown.
    clock.set(START - dt.timedelta(weeks=9))
    await _ask(sessions, town.alice, town.n1.id)

    async with sessions() as s:
        weeks = await wishes_per_week(s, [town.sunflower.id], SHANGHAI, TODAY)
        maple = await wishes_per_week(s, [town.maple.id], SHANGHAI, TODAY, weeks=2)
        both = await wishes_per_week(s, [town.sunflower.id, town.maple.id], SHANGHAI, TODAY)
        nobody = await wishes_per_week(s, [], SHANGHAI, TODAY)

    # Every one of the eight weeks is there, Mondays, oldest first, zeros included.
    assert [w.start for w in weeks] == [TODAY - dt.timedelta(weeks=7 - i) for i in range(8)]
    assert all(w.start.weekday() == 0 for w in weeks)
    assert all(tuple(w.counts) == STATUS_KEYS for w in weeks)
    by_week = {w.start: w for w in weeks}
    nov_9 = by_week[dt.date(2026, 11, 9)]
    assert nov_9.total == 2
    assert nov_9.counts["open"] == 1 and nov_9.counts["submitted"] == 1
    assert by_week[dt.date(2026, 11, 16)].total == 0
    assert by_week[TODAY].total == 1
    assert sum(w.total for w in weeks) == 3

    assert [(w.start, w.total) for w in maple] == [(dt.date(2026, 11, 16), 0), (TODAY, 1)]
    assert sum(w.total for w in both) == 4
    assert len(nobody) == 8 and all(w.total == 0 for w in nobody)

    # The chart: the week of the 9th is twice the height of this week.
    names = {key: key.capitalize() for key in STATUS_KEYS}
    root = _svg(
        wishes_per_week_chart(weeks, title="Wishes per week", status_names=names, empty_text="-")
    )
    heights = {
        (bar.get("data-key"), _size(bar, "height")) for bar in _bars(root) if bar.get("data-key")
    }
    assert len(heights) == 2  # one wish high (submitted and open alike), no more
    (_, one), *_ = heights
    totals = {
        g.get("data-week"): sum(_size(r, "height") for r in _bars(g))
        for g in root.iter(f"{SVG}g")
        if g.get("data-week")
    }
    assert totals["2026-11-09"] == _drawn(2 * totals[TODAY.isoformat()])
    assert totals[TODAY.isoformat()] == _drawn(one)
    assert {"Submitted", "Open"} <= set(_texts(root))
    assert "Closed" not in _texts(root)  # no closed wish: not in the legend


# --- time to accept and to close -------------------------------------------------------------


async def test_time_to_accept_and_close_in_buckets_with_the_median(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    # Wish A: taken after 30 minutes, closed after 2 hours.
    a = await _ask(sessions, town.alice, town.n1.id)
    await _verify(sessions, town.head_n1, a)
    clock.advance(dt.timedelta(minutes=30))
    await _accept(sessions, town.fixer, a)
    clock.advance(dt.timedelta(minutes=90))
    await _finish(sessions, town.fixer, town.alice, a)
    # Wish B: taken after 5 hours, closed after 2 days.
    clock.set(START + dt.timedelta(days=1))
    b = await _ask(sessions, town.bob, town.n2.id)
    await _verify(sessions, town.head_n2, b)
    clock.advance(5 * HOUR)
    await _accept(sessions, town.walker, b)
    clock.advance(43 * HOUR)
    await _finish(sessions, town.walker, town.bob, b)
    # Wish C: still open, never taken: counts nowhere.
    await _ask(sessions, town.carol, town.s1.id)
    # Maple's wish waited 10 days: another community's.
    clock.set(START)
    m = await _ask(sessions, town.dora, town.m1.id)
    async with sessions.begin() as s:
        await verify_wish(s, town.maple_admin, m.id)
    clock.advance(dt.timedelta(days=10))
    await _accept(sessions, town.maple_member, m)

    async with sessions() as s:
        figure = await time_to_accept_and_close(s, [town.sunflower.id])
        maple = await time_to_accept_and_close(s, [town.maple.id])
        nobody = await time_to_accept_and_close(s, [])

    assert tuple(b.key for b in figure.accept.buckets) == BUCKET_KEYS
    accept = {b.key: b.count for b in figure.accept.buckets}
    close = {b.key: b.count for b in figure.close.buckets}
    assert accept == {"<1h": 1, "1-4h": 0, "4-12h": 1, "12-24h": 0, "1-3d": 0, ">3d": 0}
    assert close == {"<1h": 0, "1-4h": 1, "4-12h": 0, "12-24h": 0, "1-3d": 1, ">3d": 0}
    assert figure.accept.median_hours == pytest.approx((0.5 + 5) / 2)
    assert figure.close.median_hours == pytest.approx((2 + 48) / 2)
    assert figure.accept.count == 2 and figure.close.count == 2

    assert {b.key: b.count for b in maple.accept.buckets}[">3d"] == 1
    assert maple.close.count == 0 and maple.close.median_hours is None
    assert nobody.accept.count == 0 and nobody.accept.median_hours is None

    # The charts: one bar per bucket with wishes, equal heights, the caption shown.
    names = {key: key.replace("h", " h") for key in BUCKET_KEYS}
    root = _svg(
        duration_histogram(
            figure.accept,
            title="Time to accept",
            bucket_names=names,
            empty_text="No wish taken yet",
            caption="Median: 2.75 h",
        )
    )
    bars = _bars(root)
    assert [b.get("data-key") for b in bars] == ["<1h", "4-12h"]
    assert _size(bars[0], "height") == _drawn(_size(bars[1], "height"))
    assert {"<1 h", "4-12 h", "Median: 2.75 h"} <= set(_texts(root))
    root = _svg(
        duration_histogram(
            maple.close, title="Time to close", bucket_names=names, empty_text="None"
        )
    )
    assert _bars(root) == [] and "None" in _texts(root)


# --- points ----------------------------------------------------------------------------------


async def test_points_by_member_counts_what_was_earned_in_the_scope(
    sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    # Fixer closes a repair wish: 10 points (no five-star bonus).
    wish = await _ask(sessions, town.alice, town.n1.id)
    await _verify(sessions, town.head_n1, wish)
    await _accept(sessions, town.fixer, wish)
    await _finish(sessions, town.fixer, town.alice, wish)
    async with sessions.begin() as s:
        # Walker got 20 from the office; Runner 4, then 3 taken back: earned is still 4.
        await adjust_points(s, town.admin, town.walker, 20, "Ran the summer fair")
        await adjust_points(s, town.admin, town.runner, 4, "Carried chairs")
        await adjust_points(s, town.admin, town.runner, -3, "Counted twice")
        # Maple's member earned more, in Maple.
        await adjust_points(s, town.maple_admin, town.maple_member, 50, "Snow clearing")

    async with sessions() as s:
        top = await points_by_member(s, [town.sunflower.id])
        first = await points_by_member(s, [town.sunflower.id], limit=1)
        maple = await points_by_member(s, [town.maple.id])
        nobody = await points_by_member(s, [])

    assert [(m.name, m.points) for m in top] == [("Walker", 20), ("Fixer", 10), ("Runner", 4)]
    assert [m.name for m in first] == ["Walker"]
    assert [(m.name, m.points) for m in maple] == [("Maple Member", 50)]
    assert nobody == []

    root = _svg(points_chart(top, title="Points", empty_text="No points yet"))
    widths = {b.get("data-value"): _size(b, "width") for b in _bars(root)}
    assert widths["20"] == _drawn(2 * widths["10"])
    assert widths["10"] == _drawn(2.5 * widths["4"])
    assert {"Walker", "Fixer", "Runner", "20", "10", "4"} <= set(_texts(root))


# --- coverage --------------------------------------------------------------------------------


async def test_coverage_by_building_matches_the_campaign(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    deadline = (START + dt.timedelta(days=7)).isoformat()
    definition = {
        "title": "Household check",
        "questions": [{"text": "How many people live here?", "kind": "number"}],
        "deadline": deadline,
    }
    async with sessions.begin() as s:
        # N1 has two households (Alice in 101, Evan in 102); N2 one (Bob in 202).
        evan = await add_person(s, "Evan", building=town.n1, unit="102")
        await grant_role(s, None, evan, Role.RESIDENT, town.n1.id)
        survey = await start_campaign(
            s,
            town.admin,
            town.sunflower.id,
            parse_definition({**definition, "buildings": ["N1", "N2"]}),
        )
        await start_campaign(
            s,
            town.maple_admin,
            town.maple.id,
            parse_definition({**definition, "title": "Maple check", "buildings": ["M1"]}),
        )
        (question,) = await questions_of(s, survey.id)
        await answer(s, town.head_n1, survey.id, town.n1.id, "101", question.id, "2")

    async with sessions() as s:
        sunflower = await coverage_by_building(s, [town.sunflower.id])
        both = await coverage_by_building(s, [town.sunflower.id, town.maple.id])
        nobody = await coverage_by_building(s, [])

    (campaign,) = sunflower
    assert campaign.title == "Household check"
    assert [(b.name, b.answered, b.households, b.percent) for b in campaign.buildings] == [
        ("N1", 1, 2, 50),
        ("N2", 0, 1, 0),
    ]
    assert (campaign.answered, campaign.households) == (1, 3)
    # Newest campaign first; Maple's appears only when Maple is in scope.
    assert [c.title for c in both] == ["Maple check", "Household check"]
    assert nobody == []

    root = _svg(coverage_chart(sunflower, title="Coverage", empty_text="No campaign running"))
    tracks = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "track"]
    bars = {b.get("data-percent"): _size(b, "width") for b in _bars(root)}
    assert bars["50"] == _drawn(_size(tracks[0], "width") / 2)
    assert bars["0"] == 0
    assert {"Household check", "N1", "N2", "1/2 · 50%", "0/1 · 0%"} <= set(_texts(root))


# --- the charts on their own -----------------------------------------------------------------


def _week(start: dt.date, **counts: int) -> WeekCounts:
    return WeekCounts(start, {key: counts.get(key, 0) for key in STATUS_KEYS})


def test_stacked_bars_are_proportional_and_stacked() -> None:
    monday = dt.date(2026, 11, 16)
    weeks = [_week(monday, open=2), _week(monday + dt.timedelta(7), open=1, closed=3)]
    text = wishes_per_week_chart(
        weeks,
        title="Wishes per week",
        status_names={"open": "Open", "closed": "Closed"},
        empty_text="No wishes",
        axis_caption="wishes",
        week_label=lambda d: d.strftime("%d.%m."),
    )
    root = _svg(text)
    bars = _bars(root)
    by = {(b.get("data-key"), b.get("data-value")): b for b in bars}
    open_2, open_1, closed_3 = by[("open", "2")], by[("open", "1")], by[("closed", "3")]
    assert _size(open_2, "height") == _drawn(2 * _size(open_1, "height"))
    assert _size(closed_3, "height") == _drawn(3 * _size(open_1, "height"))
    # Closed sits on top of open in the same column.
    assert _size(closed_3, "y") + _size(closed_3, "height") == _drawn(_size(open_1, "y"))
    assert _size(closed_3, "x") == _size(open_1, "x")
    texts = _texts(root)
    assert {"Open", "Closed", "wishes", "16.11.", "23.11.", "Wishes per week"} <= set(texts)
    assert "2" in texts and "4" in texts  # the totals above the bars
    # Tooltips tell the exact numbers.
    assert "23.11. · Closed: 3" in [t.text for t in root.iter(f"{SVG}title")]
    # Each status keeps its own colour, the same in the legend.
    swatches = {r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class") == "swatch"}
    assert swatches == {open_1.get("fill"), closed_3.get("fill")}
    assert open_1.get("fill") != closed_3.get("fill")


def test_all_charts_say_so_when_there_is_nothing() -> None:
    zero = [_week(dt.date(2026, 11, 16)), _week(dt.date(2026, 11, 23))]
    no_time = Durations(
        tuple(Bucket(key, 0, None, 0) for key in BUCKET_KEYS),
        median_hours=None,
    )
    charts = [
        wishes_per_week_chart(zero, title="Weeks", status_names={}, empty_text="Nothing yet"),
        wishes_per_week_chart([], title="Weeks", status_names={}, empty_text="Nothing yet"),
        duration_histogram(no_time, title="Accept", bucket_names={}, empty_text="Nothing yet"),
        duration_histogram(
            TimeToAcceptAndClose(no_time, no_time).close,
            title="Close",
            bucket_names={},
            empty_text="Nothing yet",
        ),
        points_chart([], title="Points", empty_text="Nothing yet"),
        points_chart([MemberPoints(1, "Zero", 0)], title="Points", empty_text="Nothing yet"),
        coverage_chart([], title="Coverage", empty_text="Nothing yet"),
        coverage_chart(
            [CampaignCoverage(1, "Empty", None, (BuildingCoverage(1, "N1", 0, 0),))],
            title="Coverage",
            empty_text="Nothing yet",
        ),
    ]
    for text in charts:
        root = _svg(text)
        assert "Nothing yet" in _texts(root)
        assert _bars(root) == []
        assert "nan" not in text and "inf" not in text


def test_names_are_escaped_and_long_ones_shortened() -> None:
    evil = '<script>alert("x")</script>'
    long_name = "Bartholomew Fitzgerald-Montgomery the Third"
    members = [MemberPoints(1, evil, 4), MemberPoints(2, long_name, 2)]
    text = points_chart(members, title="Points & more <b>", empty_text="-")
    assert "<script>" not in text and "<b>" not in text
    root = _svg(text)
    assert root[0].text == "Points & more <b>"
    texts = _texts(root)
    assert "Points & more <b>" in texts
    assert any(t.startswith("<script>") for t in texts)
    # The long name is whole, over several lines of its column; the tooltip has it too.
    row = next(g for g in root.iter(f"{SVG}g") if g.get("data-person") == "2")
    lines = [t.text or "" for t in row.iter(f"{SVG}text")][:-1]
    assert len(lines) > 1 and not any(line.endswith("…") for line in lines)
    assert "".join(lines).replace(" ", "") == long_name.replace(" ", "")
    assert f"{long_name}: 2" in [t.text for t in root.iter(f"{SVG}title")]
    widths = [_size(b, "width") for b in _bars(root)]
    assert widths[0] == _drawn(2 * widths[1])

    coverage = [
        CampaignCoverage(
            7,
            "Check <now>",
            None,
            (BuildingCoverage(1, evil, 4, 1), BuildingCoverage(2, "B", 4, 4)),
        )
    ]
    text = coverage_chart(
        coverage,
        title="Coverage",
        empty_text="-",
        value_template="{answered} of {households} ({percent} %)",
    )
    assert "<script>" not in text and "<now>" not in text
    root = _svg(text)
    widths = [_size(b, "width") for b in _bars(root)]
    assert widths[1] == _drawn(4 * widths[0])
    assert {"Check <now>", "1 of 4 (25 %)", "4 of 4 (100 %)"} <= set(_texts(root))


def test_wide_characters_and_many_weeks_still_fit() -> None:
    monday = dt.date(2026, 1, 5)
    weeks = [_week(monday + dt.timedelta(weeks=i), open=i % 3) for i in range(26)]
    text = wishes_per_week_chart(
        weeks,
        title="每周心愿",
        status_names={"open": "待接单"},
        empty_text="暂无",
        week_label=lambda d: f"{d.month}月{d.day}日",
    )
    root = _svg(text)
    labels = [t for t in root.iter(f"{SVG}text") if (t.text or "").endswith("日")]
    # Every week carries its label, even on a phone: turned upright, one line height apart.
    assert len(labels) == 26
    assert all("rotate(-90" in (t.get("transform") or "") for t in labels)
    xs = [_size(t, "x") for t in labels]
    assert min(b - a for a, b in itertools.pairwise(xs)) >= max(
        _size(t, "font-size") for t in labels
    )
    # ...and the chart is tall enough for them.
    height = float(root.get("viewBox", "").split()[3])
    assert all(_size(t, "y") + 6 * 13 <= height for t in labels)
    assert "待接单" in _texts(root)
    width = float(root.get("viewBox", "").split()[2])
    for element in root.iter(f"{SVG}rect"):
        assert _size(element, "x") >= 0 and _size(element, "x") + _size(element, "width") <= width

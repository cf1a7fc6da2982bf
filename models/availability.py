"""When a member is free: weekdays (a bit each, Monday first) and a span of hours, local time.

Stated in chat (/availability); read by dispatch (models/dispatch.py) against a wish's time.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, InvalidInput, NotFound
from models.people import MemberProfile, Person

EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
# The spans a member picks from, (from, to) in whole hours, local time.
SPANS: dict[str, tuple[int, int]] = {
    "morning": (8, 12),
    "afternoon": (12, 18),
    "evening": (18, 22),
    "daytime": (8, 18),
    "any": (0, 24),
}


def days_of(mask: int) -> list[int]:
    """The weekdays (0 Monday .. 6 Sunday) in a mask."""
    return [d for d in range(7) if mask & (1 << d)]


def mask_of(days: list[int] | set[int]) -> int:
    return sum(1 << d for d in set(days) if 0 <= d < 7)


def slot_of(moment: dt.datetime | None, timezone: ZoneInfo) -> tuple[int, int] | None:
    """The local weekday and hour of a moment (None for no moment)."""
    if moment is None:
        return None
    local = moment.astimezone(timezone)
    return local.weekday(), local.hour


def available_at(
    profile: MemberProfile, moment: dt.datetime | None, timezone: ZoneInfo
) -> bool | None:
    """Whether the member said they are free then; None when there is no moment or they
    stated nothing. The same test as the SQL in models/dispatch_members.py."""
    slot = slot_of(moment, timezone)
    if slot is None or not profile.available_days:
        return None
    day, hour = slot
    return bool(profile.available_days & (1 << day)) and (
        profile.available_from <= hour < profile.available_to
    )


def read_free_text(text: str) -> tuple[int, int, int] | None:
    """Days and hours from what members typed before availability had a form ("weekends",
    "evenings", "周末", "晚上"...), or None when the text says nothing we can read."""
    lowered = text.lower()
    days = 0
    if re.search(r"weekend|周末", lowered):
        days |= WEEKEND
    if re.search(r"saturday|周六|星期六", lowered):
        days |= 1 << 5
    if re.search(r"sunday|周日|星期日|星期天", lowered):
        days |= 1 << 6
    if re.search(r"weekday|workday|工作日|周一至周五", lowered):
        days |= WEEKDAYS
    if re.search(r"every ?day|daily|any ?time|每天|随时", lowered):
        days = EVERY_DAY
    span: tuple[int, int] | None = None
    for words, key in (
        (r"morning|上午|早上", "morning"),
        (r"afternoon|下午", "afternoon"),
        (r"evening|night|晚上|傍晚", "evening"),
    ):
        if re.search(words, lowered):
            low, high = SPANS[key]
            span = (min(span[0], low), max(span[1], high)) if span else (low, high)
    if not days and span is None:
        return None
    start, end = span or SPANS["any"]
    return days or EVERY_DAY, start, end


async def set_availability(
    session: AsyncSession, actor: Person, days: list[int], span: str
) -> MemberProfile:
    """The member states when they are free: some weekdays, one span of hours."""
    profile = await session.get(MemberProfile, actor.id)
    if profile is None:
        raise NotFound(N_("Only members can say when they are free."))
    mask = mask_of(days)
    if not mask:
        raise InvalidInput(N_("Please choose at least one day."))
    if span not in SPANS:
        raise InvalidInput(N_("Please choose the hours with the buttons."))
    profile.available_days = mask
    profile.available_from, profile.available_to = SPANS[span]
    await session.flush()
    return profile

"""What a broadcast's sender hears while it goes out: half way, then the final report.

The runtime calls broadcast_news after sending; the rows it reads are locked, so one process speaks.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.messages import Outgoing, Reply
from handlers.turn import Config, Speaker
from models.broadcasts import (
    Progress,
    broadcast_progress,
    mark_halfway,
    mark_reported,
    unreported,
)

# A smaller broadcast is over within seconds: its report is news enough.
HALFWAY_WORTH = 100


async def broadcast_news(session: AsyncSession, config: Config) -> list[Outgoing]:
    """News for the senders of unfinished broadcasts; each piece is recorded as it is queued."""
    speaker = Speaker(session=session, config=config)
    for broadcast in await unreported(session):
        progress = await broadcast_progress(session, broadcast.id)
        if progress["pending"] == 0:
            mark_reported(session, broadcast)
            await speaker.tell(broadcast.sender_id, _built(report_text, progress), urgent=True)
        elif _past_half(progress) and await mark_halfway(session, broadcast):
            await speaker.tell(broadcast.sender_id, _built(halfway_text, progress))
    return speaker.replies


def _past_half(progress: Progress) -> bool:
    total = progress["total"]
    return total >= HALFWAY_WORTH and 2 * (total - progress["pending"]) >= total


def _built(
    text: Callable[[Translator, Progress], str], progress: Progress
) -> Callable[[Translator], Reply]:
    return lambda t: Reply(text(t, progress))


def report_text(t: Translator, progress: Progress) -> str:
    return t(
        "Broadcast done: {delivered} delivered, {blocked} blocked the bot, {failed} failed, "
        "{rate} messages per second.",
        delivered=t.number(progress["sent"]),
        blocked=t.number(progress["blocked"]),
        failed=t.number(progress["failed"]),
        rate=t.number(round(progress["rate"], 1)),
    )


def halfway_text(t: Translator, progress: Progress) -> str:
    return t(
        "Broadcast half way: {done} of {total} messages handled so far.",
        done=t.number(progress["total"] - progress["pending"]),
        total=t.number(progress["total"]),
    )

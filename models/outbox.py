"""Messages waiting to go out: written in the same transaction as the change they report.

Each row names its platform and chat; a sender claims a row in one short transaction, sends
it outside any, and marks it in another: the claim (with a lease) makes each go out once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.clock import now
from models.people import Identity, Person
from models.reminders import Reminder, ReminderStatus

MESSAGE = "message"
# last_error of a row the person refused by blocking the bot (counted apart in reports).
BLOCKED = "blocked"
# last_error's start for a row that waited too long for its platform to come back.
EXPIRED = "expired"

# How long a message may wait for its platform (an outage) before it is no longer worth sending:
# an answer to someone who just wrote, news for a person (a reminder, a status change), a
# broadcast row. Counted from when the row was written.
MAX_WAIT = {
    "reply": dt.timedelta(hours=24),
    "news": dt.timedelta(hours=24),
    "broadcast": dt.timedelta(hours=72),
}


async def queue_message(
    session: AsyncSession,
    *,
    platform: str,
    chat_id: str,
    payload: dict[str, Any],
    person_id: int | None = None,
    due_at: dt.datetime | None = None,
    kind: str = MESSAGE,
) -> Reminder:
    row = Reminder(
        due_at=due_at or now(session),
        target_person_id=person_id,
        kind=kind,
        platform=platform,
        chat_id=chat_id,
        payload=payload,
        status=ReminderStatus.PENDING,
        attempts=0,
        created_at=now(session),
    )
    session.add(row)
    await session.flush()
    return row


async def chats_of(session: AsyncSession, person_id: int) -> Sequence[tuple[str, str]]:
    """Every (platform, chat) where the person can be reached."""
    rows = await session.execute(
        select(Identity.platform, Identity.external_id).where(Identity.person_id == person_id)
    )
    return [(platform, chat) for platform, chat in rows.all()]


async def last_waiting(session: AsyncSession, platform: str, chat_id: str) -> dt.datetime | None:
    """When the chat's last waiting message is due (news held for the morning), if any."""
    found: dt.datetime | None = await session.scalar(
        select(func.max(Reminder.due_at)).where(
            Reminder.platform == platform,
            Reminder.chat_id == chat_id,
            Reminder.kind == MESSAGE,
            Reminder.status == ReminderStatus.PENDING,
        )
    )
    return found


def message_kind(row: Reminder) -> str:
    """reply, news or broadcast: which of MAX_WAIT applies."""
    if row.broadcast_id is not None:
        return "broadcast"
    return "news" if row.target_person_id is not None else "reply"


def _waiting(broadcast: bool) -> Select[Reminder]:
    """Due rows of a platform (``:platform``, at ``:moment``) that head their chat's line,
    answers or broadcast rows, oldest first, ``:n`` of them; built once per process.

    Each chat's messages in order, whatever the processes: a row goes only when no row of
    its chat comes before it (one being sent, one held after a 429 or a failure, or one
    another process has just locked). A row once claimed keeps its place at the head of its
    chat's line (claimed_until stays set until it ends): newer rows, answers included, wait
    behind it, so a broadcast copy held by Telegram's one-a-second is not overtaken by the
    recipient's next answer, and the next, for as long as they write. Among rows never
    claimed, answers come before broadcast rows, then by due time. So no two rows found at
    once share a chat.
    """
    moment = bindparam("moment", type_=Reminder.due_at.type)
    # Written into the statement's text, not bound: a generic plan (asyncpg's prepared
    # statement after five runs) must still see that the waiting rows' partial indexes apply.
    pending = literal(ReminderStatus.PENDING.value, literal_execute=True)
    message = literal(MESSAGE, literal_execute=True)
    before = aliased(Reminder)
    comes_first = (
        select(before.id)
        .where(
            before.platform == Reminder.platform,
            before.chat_id == Reminder.chat_id,
            before.status == pending,
            before.kind == message,
            before.due_at <= moment,
            tuple_(
                before.claimed_until.is_(None),
                before.broadcast_id.is_not(None),
                before.due_at,
                before.id,
            )
            < tuple_(
                Reminder.claimed_until.is_(None),
                Reminder.broadcast_id.is_not(None),
                Reminder.due_at,
                Reminder.id,
            ),
        )
        # A fence: PostgreSQL turns a plain NOT EXISTS into an anti join whose plan follows
        # the table's statistics (on a fresh table every waiting row was compared with every
        # other: 47 ms a claim with 600 waiting). With LIMIT and OFFSET it stays a look into
        # each candidate's own chat, in the order only ix_reminders_waiting_chat gives
        # (tests/test_inbox_plan.py); SQLite looks that way anyway.
        .order_by(before.due_at, before.id)
        .limit(1)
        .offset(0)
        .exists()
    )
    return (
        select(Reminder)
        .where(
            Reminder.status == pending,
            Reminder.due_at <= moment,
            Reminder.kind == message,
            Reminder.platform == bindparam("platform"),
            Reminder.broadcast_id.is_not(None) if broadcast else Reminder.broadcast_id.is_(None),
            or_(Reminder.claimed_until.is_(None), Reminder.claimed_until <= moment),
            ~comes_first,
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(bindparam("n", type_=Integer))
        .with_for_update(skip_locked=True)
    )


# Two probes rather than one ORDER BY on (broadcast_id IS NOT NULL, due_at, id): each walks
# the (status, due_at) index in order and stops at the first rows it may take, where the
# single query sorted every waiting row, and probed each one's chat, at every claim. Built
# once: a statement made anew for every claim cost more than running it.
ANSWERS_WAITING = _waiting(broadcast=False)
BROADCAST_WAITING = _waiting(broadcast=True)


async def claim_messages(
    session: AsyncSession,
    platform: str,
    lease: dt.timedelta,
    limit: int = 1,
    broadcast_limit: int | None = None,
) -> tuple[list[Reminder], list[Reminder]]:
    """Claim up to ``limit`` due messages of one platform (of them at most ``broadcast_limit``
    broadcast rows), each of its own chat (the head of the chat's line), until ``lease`` has
    passed.

    Broadcast rows come last: an answer in a conversation never waits behind 2,000 of them.
    Rows found too old on the way are ended (status failed, last_error "expired: ...") and
    returned second, for the caller to report. The caller commits at once and sends after.
    """
    moment = now(session)
    claimed: list[Reminder] = []
    expired: list[Reminder] = []
    for probe, cap in ((ANSWERS_WAITING, limit), (BROADCAST_WAITING, broadcast_limit or limit)):
        taken = 0
        while (wanted := min(limit - len(claimed), cap - taken)) > 0:
            found = (
                await session.scalars(probe, {"moment": moment, "platform": platform, "n": wanted})
            ).all()
            ended = len(expired)
            for row in found:
                if moment - row.created_at > MAX_WAIT[message_kind(row)]:
                    row.status = ReminderStatus.FAILED
                    row.claimed_until = None
                    row.last_error = (
                        f"{EXPIRED}: waited over {MAX_WAIT[message_kind(row)]} for {platform}"
                        f" (last error: {row.last_error or 'none'})"
                    )[:500]
                    expired.append(row)
                    continue
                row.claimed_until = moment + lease
                row.attempts += 1
                claimed.append(row)
                taken += 1
            await session.flush()
            if len(found) < wanted and len(expired) == ended:
                break  # no more of this kind (a row behind an expired one is found next round)
    return claimed, expired


async def _claimed(session: AsyncSession, row_id: int, claim: dt.datetime) -> Reminder | None:
    """The row, if this sender's claim still holds (else another took it over after the lease)."""
    row = await session.get(Reminder, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.claimed_until != claim or row.status != ReminderStatus.PENDING:
        return None
    return row


async def mark_sent(session: AsyncSession, row_id: int, claim: dt.datetime) -> bool:
    """The row went; False if this sender's claim no longer held (another took the row over)."""
    return row_id in await mark_all_sent(session, [(row_id, claim)])


async def mark_all_sent(session: AsyncSession, rows: Sequence[tuple[int, dt.datetime]]) -> set[int]:
    """The rows (each with this sender's claim) went: one statement per claim, not per row.
    Returns the ids marked; one missing was taken over by another sender after its lease."""
    by_claim: dict[dt.datetime, list[int]] = {}
    for row_id, claim in rows:
        by_claim.setdefault(claim, []).append(row_id)
    marked: set[int] = set()
    for claim, ids in by_claim.items():
        result = await session.execute(
            update(Reminder)
            .where(
                Reminder.id.in_(ids),
                Reminder.claimed_until == claim,
                Reminder.status == ReminderStatus.PENDING,
            )
            .values(status=ReminderStatus.SENT, sent_at=now(session), claimed_until=None)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        )
        marked.update(result.scalars())
    return marked


async def mark_parts_sent(
    session: AsyncSession, row_id: int, claim: dt.datetime, parts: int
) -> None:
    """The first ``parts`` parts of a multi-part message went: a retry starts after them."""
    await session.execute(
        update(Reminder)
        .where(Reminder.id == row_id, Reminder.claimed_until == claim)
        .values(parts_sent=parts)
    )


async def mark_refused(
    session: AsyncSession, row_id: int, claim: dt.datetime, reason: str, *, blocked: bool
) -> None:
    """The platform refused for good (blocked, chat gone, bad request): the row ends here."""
    row = await _claimed(session, row_id, claim)
    if row is None:
        return
    row.status = ReminderStatus.FAILED
    row.claimed_until = None
    row.last_error = ((f"{BLOCKED}: " if blocked else "") + reason)[:500]
    if blocked and row.target_person_id is not None:
        await mark_unreachable(session, row.target_person_id)
    await session.flush()


async def release_claim(
    session: AsyncSession,
    row_id: int,
    claim: dt.datetime,
    reason: str,
    *,
    counts: bool = True,
    until: dt.datetime | None = None,
) -> None:
    """A transient failure: the row waits, first in its chat's line, for the next try.

    No sender takes it before ``until`` (Telegram's retry_after; else at once), and the
    chat's newer rows wait behind it (claimed_until stays set: see claim_messages).
    ``counts`` False (the platform asked us to slow down) does not count it as an attempt.
    """
    row = await _claimed(session, row_id, claim)
    if row is None:
        return
    row.claimed_until = until or now(session)
    row.last_error = reason[:500]
    if not counts:
        row.attempts -= 1
    await session.flush()


async def mark_unreachable(session: AsyncSession, person_id: int) -> None:
    """The person blocked the bot: broadcasts and reminders skip them until they write again."""
    person = await session.get(Person, person_id)
    if person is not None:
        person.unreachable = True

"""Erasing a person (/forget, or the office's "erase this person"): their name, phone, unit,
texts, photos, answers about them, sign-ins and chats go; counts, dates and points stay.

Wishes stay as rows with their category, status and dates; ledger rows stay with their amounts,
attributed to the same (now anonymous) person, so every sum and statistic is unchanged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.clock import now
from models.community import Building, Grid
from models.conversations import Conversation
from models.desk import WishNote
from models.errors import N_, NotAllowed, NotFound
from models.inbox import InboxUpdate
from models.people import Identity, MemberProfile, Person, Role, RoleGrant
from models.photos import telegram_ids_of
from models.points import PointsEntry, RankingChoice
from models.reach import reach
from models.reminders import Reminder, ReminderStatus
from models.reported_places import drop_reported_place
from models.surveys import SurveyAnswer
from models.web_access import ApiClient, SignInCode, WebFile, WebSession
from models.wish_closing import cancel_wish
from models.wish_taking import release_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishEvent, WishStatus

# What an erased person is called wherever a name must be shown (lists, the ledger).
ERASED_NAME = "—"
# Roles that let a person act for others: an erased person keeps none of them. Resident and
# member grants stay, because the statistics count a community's residents and members by them.
OFFICE_ROLES = (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)
WEB_FILE = "web-file:"
RELAY_BUTTON = "a:relay:"  # handlers/flows/relay.py: a:relay:<wish>:<who wrote it>
S = WishStatus


async def _communities_of(session: AsyncSession, person: Person) -> set[int]:
    """The communities a person lives or helps in."""
    found: set[int] = set()
    if person.building_id is not None:
        community = await session.scalar(
            select(Grid.community_id)
            .join(Building, Building.grid_id == Grid.id)
            .where(Building.id == person.building_id)
        )
        if community is not None:
            found.add(community)
    found.update(
        (
            await session.scalars(
                select(RoleGrant.scope_id).where(
                    RoleGrant.person_id == person.id, RoleGrant.role == Role.MEMBER
                )
            )
        ).all()
    )
    lived = await session.scalars(
        select(Grid.community_id)
        .join(Building, Building.grid_id == Grid.id)
        .join(RoleGrant, RoleGrant.scope_id == Building.id)
        .where(RoleGrant.person_id == person.id, RoleGrant.role == Role.RESIDENT)
    )
    found.update(lived.all())
    return found


async def may_erase(session: AsyncSession, actor: Person, person: Person) -> bool:
    """Oneself; or a community admin (or the street admin) of where the person lives or helps."""
    if actor.id == person.id:
        return True
    runs = await reach(session, actor, Role.ADMIN, Role.STREET_ADMIN)
    return bool(await _communities_of(session, person) & set(await runs.community_ids(session)))


async def people_an_admin_may_erase(session: AsyncSession, actor: Person) -> list[Person]:
    """Residents of the buildings and members of the communities the actor runs, not yet erased."""
    runs = await reach(session, actor, Role.ADMIN, Role.STREET_ADMIN)
    if runs.empty:
        return []
    buildings = runs.buildings()
    members = select(RoleGrant.person_id).where(
        RoleGrant.role == Role.MEMBER,
        RoleGrant.scope_id.in_(await runs.community_ids(session)),
    )
    residents = select(RoleGrant.person_id).where(
        RoleGrant.role == Role.RESIDENT, RoleGrant.scope_id.in_(buildings)
    )
    found = await session.scalars(
        select(Person)
        .where(
            Person.erased_at.is_(None),
            Person.id != actor.id,
            or_(
                Person.building_id.in_(buildings),
                Person.id.in_(members),
                Person.id.in_(residents),
            ),
        )
        .order_by(Person.building_id, Person.unit, Person.name, Person.id)
    )
    return list(found.all())


async def erase_person(session: AsyncSession, actor: Person, person_id: int) -> Person:
    """Erase the person's own data; refused (nothing changed) when the actor may not."""
    person = await session.get(Person, person_id)
    if person is None or person.erased_at is not None:
        raise NotFound(N_("There is no such person, or they were erased already."))
    if not await may_erase(session, actor, person):
        raise NotAllowed(N_("Only the person themself or their community admin can erase them."))
    secrets = _strings_of(person)
    await _end_their_part_in_wishes(session, person)
    secrets.update(await _forget_their_wishes(session, person))
    await _forget_their_words(session, person)
    await _forget_their_chats(session, person, _patterns(secrets, person.unit))
    await session.execute(
        delete(SurveyAnswer)
        .where(SurveyAnswer.about_person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(RoleGrant)
        .where(RoleGrant.person_id == person.id, RoleGrant.role.in_(OFFICE_ROLES))
        .execution_options(synchronize_session=False)
    )
    profile = await session.get(MemberProfile, person.id)
    if profile is not None:
        profile.availability = ""
        profile.available_days, profile.available_from, profile.available_to = 0, 0, 24
    await _forget_their_organisation_details(session, person)
    # Their chosen display name, and their agreement to appear in rankings.
    await session.execute(
        delete(RankingChoice)
        .where(RankingChoice.person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    person.name = ERASED_NAME
    person.phone = None
    person.phone_consent = False
    person.unit = None
    person.locale = None
    person.unreachable = True
    person.erased_at = now(session)
    await session.flush()
    return person


async def _forget_their_organisation_details(session: AsyncSession, person: Person) -> None:
    """As an organisation's contact: the name and phone kept for them go (the organisation
    stays); their own resources (a service they offered) go too."""
    from models.organisations import Organisation
    from models.resources import Resource

    await session.execute(
        update(Organisation)
        .where(Organisation.contact_id == person.id)
        .values(contact_name=None, contact_phone=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Resource)
        .where(Resource.person_id == person.id)
        .execution_options(synchronize_session=False)
    )


def _strings_of(person: Person) -> set[str]:
    return {s for s in (person.name, person.phone) if s and len(s) >= 2}


def _patterns(secrets: set[str], unit: str | None) -> list[re.Pattern[str]]:
    """What to take out of other people's messages: each string as a message holds it (values
    are HTML-escaped), longest first, and never inside a longer word or number ("Al" not in
    "All", the unit "101" not in "W-000101")."""
    plain = {s for s in (*secrets, unit) if s}
    plain |= {html.escape(s, quote=False) for s in plain}
    return [_whole(s) for s in sorted(plain, key=len, reverse=True)]


def _whole(text: str) -> re.Pattern[str]:
    before = r"(?<![A-Za-z0-9])" if text[0].isascii() and text[0].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if text[-1].isascii() and text[-1].isalnum() else ""
    return re.compile(before + re.escape(text) + after)


async def _end_their_part_in_wishes(session: AsyncSession, person: Person) -> None:
    """Wishes still waiting for a helper are cancelled; places still held are given back."""
    waiting = await session.scalars(
        select(Wish.id).where(
            Wish.requester_id == person.id, Wish.status.in_((S.SUBMITTED, S.OPEN))
        )
    )
    for wish_id in waiting.all():
        await cancel_wish(session, person, wish_id)
    held = await session.scalars(
        select(Wish.id)
        .join(WishAssignment, WishAssignment.wish_id == Wish.id)
        .where(
            WishAssignment.member_id == person.id,
            WishAssignment.status == AssignmentStatus.ACTIVE,
            Wish.status.in_((S.OPEN, S.ACCEPTED)),
        )
    )
    for wish_id in held.all():
        await release_wish(session, person, wish_id)


async def _forget_their_wishes(session: AsyncSession, person: Person) -> set[str]:
    """The texts and photos of the wishes they asked for; returns the texts, to scrub elsewhere."""
    wishes = (await session.scalars(select(Wish).where(Wish.requester_id == person.id))).all()
    texts: set[str] = set()
    for wish in wishes:
        texts.update(
            t for t in (wish.description, wish.rating_comment, *wish.photos) if t and len(t) >= 4
        )
        texts.update(await telegram_ids_of(session, list(wish.photos)))
        await blank_wish(session, wish)
    return texts


async def blank_wish(session: AsyncSession, wish: Wish) -> None:
    """Remove a wish's personal details: its text, photos, comment, notes and answer.

    Kept: category, status, dates, rating, helpers and points (the statistics need them).
    """
    await _drop_web_files(session, [*wish.photos])
    notes = await session.scalars(
        select(WishAssignment.done_photo).where(
            WishAssignment.wish_id == wish.id, WishAssignment.done_photo.is_not(None)
        )
    )
    await _drop_web_files(session, [p for p in notes.all() if p])
    wish.description = ""
    wish.photos = []
    await drop_reported_place(session, wish.id)
    wish.rating_comment = None
    wish.resolution = None
    await session.execute(
        update(WishEvent)
        .where(WishEvent.wish_id == wish.id)
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(WishAssignment)
        .where(WishAssignment.wish_id == wish.id)
        .values(done_note=None, done_photo=None)
        .execution_options(synchronize_session=False)
    )
    # The office's internal notes on it go too: they are about the person who asked.
    await session.execute(
        delete(WishNote)
        .where(WishNote.wish_id == wish.id)
        .execution_options(synchronize_session=False)
    )
    await session.flush()


async def _drop_web_files(session: AsyncSession, references: Iterable[str]) -> None:
    ids = [int(r[len(WEB_FILE) :]) for r in references if r.startswith(WEB_FILE)]
    ids = [i for i in ids if str(i).isdecimal()]
    if ids:
        await session.execute(
            delete(WebFile).where(WebFile.id.in_(ids)).execution_options(synchronize_session=False)
        )


async def _forget_their_words(session: AsyncSession, person: Person) -> None:
    """What they wrote on other people's wishes and what the ledger says about them."""
    await session.execute(
        update(WishEvent)
        .where(WishEvent.actor_id == person.id)
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    done_photos = await session.scalars(
        select(WishAssignment.done_photo).where(
            WishAssignment.member_id == person.id, WishAssignment.done_photo.is_not(None)
        )
    )
    await _drop_web_files(session, [p for p in done_photos.all() if p])
    await session.execute(
        update(WishAssignment)
        .where(WishAssignment.member_id == person.id)
        .values(done_note=None, done_photo=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(PointsEntry)
        .where(PointsEntry.person_id == person.id)
        .values(note=None)
        .execution_options(synchronize_session=False)
    )


async def _forget_their_chats(
    session: AsyncSession, person: Person, secrets: list[re.Pattern[str]]
) -> None:
    """Identities, conversations, sign-ins, web files, what they sent and what was sent to them;
    messages to others that quoted them keep their shape with the quotes taken out."""
    identities = (
        await session.execute(
            select(Identity.platform, Identity.external_id).where(Identity.person_id == person.id)
        )
    ).all()
    chats = [(platform, external) for platform, external in identities]
    keys = [f"{platform}:{external}" for platform, external in chats]
    for platform, external in chats:
        await session.execute(
            delete(Conversation)
            .where(Conversation.platform == platform, Conversation.chat_id == external)
            .execution_options(synchronize_session=False)
        )
        to_them = (Reminder.platform == platform, Reminder.chat_id == external)
        await _cancel_pending(session, *to_them)
        await session.execute(
            update(Reminder)
            .where(*to_them)
            .values(payload={})
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        delete(Conversation)
        .where(Conversation.person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    for key in keys:
        # What they sent loses its text: every update handled, and the one being handled now
        # (the oldest waiting; the caller has read it already). Later ones are left to be
        # handled, from a chat the bot no longer knows.
        current = await session.scalar(
            select(func.min(InboxUpdate.id)).where(
                InboxUpdate.chat_key == key, InboxUpdate.handled_at.is_(None)
            )
        )
        await session.execute(
            update(InboxUpdate)
            .where(
                InboxUpdate.chat_key == key,
                or_(InboxUpdate.handled_at.is_not(None), InboxUpdate.id == current),
            )
            .values(payload={}, error=None)
            .execution_options(synchronize_session=False)
        )
    web = [external for platform, external in chats if platform == "web"]
    await session.execute(
        delete(WebSession)
        .where(WebSession.external_id.in_(web))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(WebFile)
        .where(WebFile.person_key.in_([*web, *keys]))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(SignInCode)
        .where(SignInCode.person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ApiClient)
        .where(ApiClient.person_id == person.id, ApiClient.revoked_at.is_(None))
        .values(revoked_at=now(session), name=ERASED_NAME)
        .execution_options(synchronize_session=False)
    )
    await _cancel_pending(session, Reminder.target_person_id == person.id)
    await session.execute(
        delete(Identity)
        .where(Identity.person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    await _scrub_messages_to_others(session, person.id, secrets)


async def _cancel_pending(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    """A pending row is cancelled; a finished one keeps its state (the delivery counts)."""
    await session.execute(
        update(Reminder)
        .where(*where, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


async def _scrub_messages_to_others(
    session: AsyncSession, person_id: int, secrets: list[re.Pattern[str]]
) -> None:
    """Messages to other people (outbox), what other people typed (inbox) and other people's
    conversations that quote the person's name, phone or texts: each quote is taken out.

    Read in batches; a row is rewritten only when it holds one of them.
    """
    await _scrub(
        session,
        Reminder.id,
        Reminder.payload,
        secrets,
        Reminder.platform.is_not(None),
        written_by=person_id,
    )
    await _scrub(
        session, InboxUpdate.id, InboxUpdate.payload, secrets, InboxUpdate.handled_at.is_not(None)
    )
    await _scrub(session, Conversation.id, Conversation.data, secrets)


async def _scrub(
    session: AsyncSession,
    key: InstrumentedAttribute[int],
    column: InstrumentedAttribute[dict[str, Any]],
    secrets: list[re.Pattern[str]],
    *where: ColumnElement[bool],
    written_by: int | None = None,
) -> None:
    table = key.class_
    last = 0
    while True:
        batch = (
            await session.execute(
                select(key, column).where(key > last, *where).order_by(key).limit(500)
            )
        ).all()
        if not batch:
            return
        for row_id, payload in batch:
            last = row_id
            cleaned = _without(payload, secrets)
            if written_by is not None and _relayed_from(payload, written_by):
                cleaned = {**cleaned, "text": ERASED_NAME}
            if cleaned != payload:
                await session.execute(
                    update(table)
                    .where(key == row_id)
                    .values({column.key: cleaned})
                    .execution_options(synchronize_session=False)
                )


def _relayed_from(payload: Any, person_id: int) -> bool:
    """A message the contact relay passed on from this person (its reply button names them)."""
    if not isinstance(payload, dict):
        return False
    for row in payload.get("buttons") or []:
        for button in row:
            data = str(button[1]) if isinstance(button, list) and len(button) > 1 else ""
            if data.startswith(RELAY_BUTTON) and data.split(":")[3:4] == [str(person_id)]:
                return True
    return False


def _without(value: Any, secrets: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = secret.sub(ERASED_NAME, value)
        return value
    if isinstance(value, list):
        return [_without(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _without(v, secrets) for k, v in value.items()}
    return value

"""Who is at a browser or an API client: one-time sign-in codes, web sessions, API keys.

Codes and keys are stored only as hashes; a web session is a row, so logging out ends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.clock import now
from models.directory import link_identity, person_by_identity
from models.errors import N_, InvalidInput, NotAllowed, NotFound, checked_text
from models.inbox import InboxUpdate
from models.people import Identity, Person, Role
from models.permissions import has_role
from models.reach import grants_of, place_of_building
from models.reminders import Reminder, ReminderStatus

WEB = "web"
# Easy to read aloud and to type from a printed slip: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
SELF_CODE_LIFETIME = dt.timedelta(minutes=15)
# The office prints or texts these; an elderly resident may need a few days.
OFFICE_CODE_LIFETIME = dt.timedelta(days=7)
SESSION_LIFETIME = dt.timedelta(days=30)
PHOTO_LIMIT = 5 * 1024 * 1024
DOCUMENT_TYPE = "application/octet-stream"  # a sent file; never served as a photo
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_code(typed: str) -> str:
    """What a person typed, as the code: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def shown_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


class SignInCode(Base):
    """A one-time code that signs a person in at a browser: from /web, or made by the office."""

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class WebSession(Base):
    """A browser that signed in (or a guest chatting before registering) until it logs out."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The web identity this browser speaks as; a guest's has no person until they register.
    external_id: Mapped[str] = mapped_column(String(100), index=True)
    # What a guest said to call them: registration starts from it, as from a Telegram name.
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class ApiClient(Base):
    """Another system (a city hotline) that reads and files wishes as the person who owns it."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class WebFile(Base):
    """A photo a person sent, from the web chat or from Telegram (fetched when it arrived);
    a wish keeps its reference ("web-file:N"), which every platform can show."""

    __tablename__ = "web_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    # platform:chat of who sent it (a web chat's is its bare id), so erasure finds it.
    person_key: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]
    # Telegram's id for these bytes (the one it came with, or the one an upload returned), so
    # the photo is uploaded to Telegram once; and its unique id, so a redelivery keeps one row.
    telegram_file_id: Mapped[str | None] = mapped_column(String(200))
    telegram_unique_id: Mapped[str | None] = mapped_column(String(100), index=True)


class SiteSecret(Base):
    """Secrets every process must share (the cookie signing key), made once on first use."""

    __tablename__ = "site_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# --- sign-in codes ----------------------------------------------------------------------------


async def may_make_code_for(session: AsyncSession, actor: Person, person: Person) -> bool:
    """Oneself; or a resident of a building the actor heads, or of a community they run."""
    if person.erased_at is not None:
        return False  # erased: nobody may become them again
    if actor.id == person.id:
        return True
    if person.building_id is None:
        return False
    grants = await grants_of(session, actor)
    place = await place_of_building(session, person.building_id)
    return any(
        has_role(grants, role, place)
        for role in (Role.BUILDING_HEAD, Role.GRID_WORKER, Role.ADMIN, Role.STREET_ADMIN)
    )


async def make_sign_in_code(session: AsyncSession, actor: Person, person: Person) -> str:
    """A fresh code for the person; returns it once (only its hash is kept)."""
    if not await may_make_code_for(session, actor, person):
        raise NotAllowed(N_("You can make sign-in codes only for people you look after."))
    moment = now(session)
    lifetime = SELF_CODE_LIFETIME if actor.id == person.id else OFFICE_CODE_LIFETIME
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        SignInCode(
            code_hash=secret_hash(code),
            person_id=person.id,
            created_by_id=actor.id,
            created_at=moment,
            expires_at=moment + lifetime,
        )
    )
    await session.flush()
    return code


async def web_identity(session: AsyncSession, person: Person) -> str:
    """The person's web chat id, made on their first sign-in; every browser of theirs shares it."""
    external = await session.scalar(
        select(Identity.external_id).where(
            Identity.person_id == person.id, Identity.platform == WEB
        )
    )
    if external is None:
        external = f"p{person.id}"
        await link_identity(session, person, WEB, external)
    return external


async def redeem_sign_in_code(session: AsyncSession, typed: str) -> tuple[Person, str]:
    """Spend a code: the person and a new session token for their browser."""
    person = await spend_sign_in_code(session, typed)
    return person, await open_web_session(session, await web_identity(session, person))


async def link_by_sign_in_code(
    session: AsyncSession, typed: str, platform: str, external_id: str
) -> Person:
    """Spend a code to make a chat (a WeChat follower, a Telegram user) the person's own, as
    signing in makes a browser theirs; a chat that is already someone's is refused."""
    if await person_by_identity(session, platform, external_id) is not None:
        raise NotAllowed(N_("This chat is already registered."))
    person = await spend_sign_in_code(session, typed)
    await link_identity(session, person, platform, external_id)
    return person


async def spend_sign_in_code(session: AsyncSession, typed: str) -> Person:
    """Use a code up (once, whatever the races); the person it was made for."""
    code = normal_code(typed)
    if len(code) != CODE_LENGTH:
        raise InvalidInput(N_("A sign-in code has 8 letters and digits, like ABCD-2345."))
    row = await session.scalar(
        select(SignInCode).where(SignInCode.code_hash == secret_hash(code)).with_for_update()
    )
    moment = now(session)
    if row is None or row.used_at is not None or row.expires_at <= moment:
        raise NotFound(
            N_("That code does not work: it may be used or out of date. Ask for a new one.")
        )
    # Conditional, so two browsers racing with one code cannot both get in.
    spent = await session.execute(
        update(SignInCode)
        .where(SignInCode.id == row.id, SignInCode.used_at.is_(None))
        .values(used_at=moment)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(
            N_("That code does not work: it may be used or out of date. Ask for a new one.")
        )
    person = await session.get(Person, row.person_id)
    if person is None:
        raise NotFound(
            N_("That code does not work: it may be used or out of date. Ask for a new one.")
        )
    return person


# --- web sessions -----------------------------------------------------------------------------


async def open_web_session(
    session: AsyncSession, external_id: str | None = None, name: str = ""
) -> str:
    """A new session for a browser; without an identity it is a guest who may register."""
    moment = now(session)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=secret_hash(token),
            external_id=external_id or f"g{secrets.token_hex(12)}",
            name=name,
            created_at=moment,
            expires_at=moment + SESSION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def session_by_token(session: AsyncSession, token: str) -> WebSession | None:
    row = await session.scalar(
        select(WebSession).where(WebSession.token_hash == secret_hash(token))
    )
    if row is None or row.ended_at is not None or row.expires_at <= now(session):
        return None
    return row


async def end_web_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == secret_hash(token), WebSession.ended_at.is_(None))
        .values(ended_at=now(session))
    )


# --- API clients ------------------------------------------------------------------------------


async def make_api_client(
    session: AsyncSession, actor: Person, name: str, person: Person | None = None
) -> tuple[ApiClient, str]:
    """An API key acting as `person` (the actor by default); only admins make them."""
    grants = await grants_of(session, actor)
    if not any(g.role in (Role.ADMIN, Role.STREET_ADMIN) for g in grants):
        raise NotAllowed(N_("Only an admin can make API keys."))
    owner = person or actor
    if owner.id != actor.id and not await may_make_code_for(session, actor, owner):
        raise NotAllowed(N_("You can make API keys only for people you look after."))
    label = checked_text(name, required=True, what=N_("a name for the client"), limit=200)
    assert label is not None
    key = f"sw_{secrets.token_urlsafe(24)}"
    client = ApiClient(
        name=label,
        key_hash=secret_hash(key),
        person_id=owner.id,
        created_by_id=actor.id,
        created_at=now(session),
    )
    session.add(client)
    await session.flush()
    return client, key


async def client_person(session: AsyncSession, key: str) -> Person | None:
    """The person an API key acts as; None for an unknown or revoked key."""
    person_id = await session.scalar(
        select(ApiClient.person_id).where(
            ApiClient.key_hash == secret_hash(key), ApiClient.revoked_at.is_(None)
        )
    )
    return None if person_id is None else await session.get(Person, person_id)


async def revoke_api_client(session: AsyncSession, actor: Person, client_id: int) -> None:
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(N_("There is no such API client."))
    if client.created_by_id != actor.id and client.person_id != actor.id:
        raise NotAllowed(N_("Only who made an API key can revoke it."))
    client.revoked_at = now(session)


# --- photos and secrets -----------------------------------------------------------------------


async def keep_photo(
    session: AsyncSession, person_key: str, content_type: str, content: bytes
) -> str:
    """Store a photo from the web chat; returns the reference a wish keeps."""
    if content_type not in PHOTO_TYPES:
        raise InvalidInput(N_("Please send a photo (JPEG, PNG, WebP or GIF)."))
    if not content or len(content) > PHOTO_LIMIT:
        raise InvalidInput(N_("That photo is too big (at most 5 MB)."))
    row = WebFile(
        person_key=person_key, content_type=content_type, content=content, created_at=now(session)
    )
    session.add(row)
    await session.flush()
    return f"web-file:{row.id}"


async def keep_document(session: AsyncSession, person_key: str, content: bytes) -> str:
    """Store a file sent from the web chat (a resident list for /import); returns its reference."""
    if not content or len(content) > PHOTO_LIMIT:
        raise InvalidInput(N_("That file is empty or too big (at most 5 MB)."))
    row = WebFile(
        person_key=person_key,
        content_type=DOCUMENT_TYPE,
        content=content,
        created_at=now(session),
    )
    session.add(row)
    await session.flush()
    return f"web-file:{row.id}"


async def web_document(session: AsyncSession, reference: str) -> bytes | None:
    """The bytes of a file sent from the web chat, by its reference."""
    number = reference.removeprefix("web-file:")
    row = await session.get(WebFile, int(number)) if number.isdigit() else None
    return row.content if row is not None and row.content_type == DOCUMENT_TYPE else None


async def site_secret(session: AsyncSession, name: str) -> str:
    """The named secret, made on first use; every process reads the same one."""
    value = await session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    if value is None:
        try:
            async with session.begin_nested():
                session.add(SiteSecret(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it a moment ago: use theirs
        value = await session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    assert value is not None
    return value


# --- the web chat's history -------------------------------------------------------------------


@dataclass(frozen=True)
class ChatLine:
    """One line of a web chat: what the person sent (inbox) or what the bot sent (outbox)."""

    mine: bool
    row_id: int
    at: dt.datetime
    payload: dict[str, Any]


def chat_key(external_id: str) -> str:
    return f"{WEB}:{external_id}"


async def chat_lines(
    session: AsyncSession, external_id: str, after_in: int = 0, after_out: int = 0, limit: int = 200
) -> list[ChatLine]:
    """The latest lines after the two cursors, in the order they happened; news still held for
    the morning (quiet hours) is not shown until it is sent."""
    sent = (
        await session.execute(
            select(Reminder.id, Reminder.sent_at, Reminder.payload)
            .where(
                Reminder.platform == WEB,
                Reminder.chat_id == external_id,
                Reminder.status == ReminderStatus.SENT,
                Reminder.id > after_out,
            )
            .order_by(Reminder.id.desc())
            .limit(limit)
        )
    ).all()
    said = (
        await session.execute(
            select(InboxUpdate.id, InboxUpdate.received_at, InboxUpdate.payload)
            .where(
                InboxUpdate.platform == WEB,
                InboxUpdate.chat_key == chat_key(external_id),
                InboxUpdate.id > after_in,
            )
            .order_by(InboxUpdate.id.desc())
            .limit(limit)
        )
    ).all()
    lines = [ChatLine(False, i, at or now(session), p) for i, at, p in sent]
    lines += [ChatLine(True, i, at, p) for i, at, p in said]

    def place(line: ChatLine) -> tuple[int, int, int]:
        # What the person sent sits after the bot's rows it followed (kept with it); clocks
        # cannot order these, several happen within one second.
        if line.mine:
            return (int(line.payload.get("after_out", 0)), 1, line.row_id)
        return (line.row_id, 0, 0)

    lines.sort(key=place)
    return lines[-limit:]


async def chat_document(
    session: AsyncSession, external_id: str, row_id: int
) -> tuple[str, bytes] | None:
    """A file the bot sent to this web chat (an export), for its download link."""
    payload = await session.scalar(
        select(Reminder.payload).where(
            Reminder.id == row_id,
            Reminder.platform == WEB,
            Reminder.chat_id == external_id,
            Reminder.status == ReminderStatus.SENT,
        )
    )
    document = (payload or {}).get("document")
    if not document:
        return None
    return document["filename"], bytes.fromhex(document["content"])


async def web_photo(session: AsyncSession, file_id: int) -> WebFile | None:
    return await session.get(WebFile, file_id)


async def last_bot_line(session: AsyncSession, external_id: str) -> int:
    """The newest outbox row of this web chat, whatever its state: what a new message follows."""
    found = await session.scalar(
        select(func.max(Reminder.id)).where(
            Reminder.platform == WEB, Reminder.chat_id == external_id
        )
    )
    return int(found or 0)


async def clients_made_by(session: AsyncSession, actor: Person) -> list[ApiClient]:
    """The API clients someone made, newest first (revoked ones too: the history matters)."""
    found = await session.scalars(
        select(ApiClient).where(ApiClient.created_by_id == actor.id).order_by(ApiClient.id.desc())
    )
    return list(found.all())


# A link in a notification sent outside a platform's reply window: read days later, maybe.
NOTICE_CODE_LIFETIME = dt.timedelta(days=3)


async def make_notice_code(session: AsyncSession, person: Person) -> str:
    """A one-time code for the link in a notification to the person (the bot makes it for
    them, as if they had asked /web); returns it once (only its hash is kept)."""
    if person.erased_at is not None:
        raise NotAllowed(N_("You can make sign-in codes only for people you look after."))
    moment = now(session)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        SignInCode(
            code_hash=secret_hash(code),
            person_id=person.id,
            created_by_id=person.id,
            created_at=moment,
            expires_at=moment + NOTICE_CODE_LIFETIME,
        )
    )
    await session.flush()
    return code

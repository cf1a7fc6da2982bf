"""The community each scenario starts from, put in through the store's own functions and tables.

Small things (places, heads, the admin) by the directory's operations; crowds by bulk inserts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert

from bot.app import App
from models.community import Building, Community
from models.directory import (
    add_building,
    add_community,
    add_grid,
    add_person,
    add_street,
    approve_member,
    grant_role,
    link_identity,
    register_member,
)
from models.people import Identity, MemberProfile, Person, Role, RoleGrant
from models.reminders import Reminder, ReminderStatus
from models.wish_asking import submit_wish, verify_wish
from models.wishes import AssignmentStatus, Wish, WishAssignment, WishStatus

ADMIN_CHAT = 9_000
HEAD_CHATS = 10_000  # + building number
MEMBER_CHATS = 20_000  # + member number
RESIDENT_CHATS = 1_000_000  # + resident number
NEWCOMER_CHATS = 5_000_000  # people the bot has never seen
BATCH = 2_000


@dataclass
class Place:
    community: Community
    buildings: list[Building]
    admin: Person


async def community(app: App, buildings: int = 4, members: int = 0) -> Place:
    """Sunflower: one grid, buildings B1..Bn each with a head on Telegram, an admin, members."""
    async with app.sessions.begin() as s:
        street = await add_street(s, "Riverside Street")
        sunflower = await add_community(s, street, "Sunflower")
        grid = await add_grid(s, sunflower, "North")
        places = [await add_building(s, grid, f"B{n + 1}") for n in range(buildings)]
        admin = await add_person(s, "Admin", locale="en")
        await grant_role(s, None, admin, Role.ADMIN, sunflower.id)
        await link_identity(s, admin, "telegram", str(ADMIN_CHAT))
        for n, building in enumerate(places):
            head = await add_person(s, f"Head {n + 1}", locale="en")
            await grant_role(s, None, head, Role.BUILDING_HEAD, building.id)
            await link_identity(s, head, "telegram", str(HEAD_CHATS + n))
        for n in range(members):
            member = await add_person(s, f"Member {n}", locale="en")
            await register_member(s, member, sunflower, skills=["repair", "errand"])
            await approve_member(s, None, member)
            await link_identity(s, member, "telegram", str(MEMBER_CHATS + n))
    return Place(sunflower, places, admin)


async def _people(app: App, rows: Sequence[dict[str, object]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        async with app.sessions.begin() as s:
            found = await s.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                list(rows[start : start + BATCH]),
            )
            ids.extend(found.all())
    return ids


async def _bulk(app: App, table: type, rows: Sequence[dict[str, object]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with app.sessions.begin() as s:
            await s.execute(insert(table), list(rows[start : start + BATCH]))


async def residents(app: App, place: Place, count: int, first_chat: int = RESIDENT_CHATS) -> None:
    """``count`` registered residents on Telegram (chats first_chat...), spread over the buildings."""
    moment = dt.datetime.now(dt.UTC)
    buildings = [b.id for b in place.buildings]
    people = [
        {
            "name": f"Resident {n}",
            "building_id": buildings[n % len(buildings)],
            "unit": f"{n // 100 + 1}-{n % 100 + 1:02d}",
            "locale": "en",
            "phone_consent": False,
            "points_balance": 0,
            "unreachable": False,
            "created_at": moment,
        }
        for n in range(count)
    ]
    ids = await _people(app, people)
    await _bulk(
        app,
        Identity,
        [
            {"person_id": pid, "platform": "telegram", "external_id": str(first_chat + n)}
            for n, pid in enumerate(ids)
        ],
    )
    await _bulk(
        app,
        RoleGrant,
        [
            {
                "person_id": pid,
                "role": Role.RESIDENT,
                "scope_id": buildings[n % len(buildings)],
                "granted_at": moment,
            }
            for n, pid in enumerate(ids)
        ],
    )


async def members(app: App, place: Place, count: int) -> None:
    """``count`` approved members with skills (no chat: they are only ranked)."""
    await _approved_members(app, place, count, person=lambda n: {"points_balance": n % 97})


SKILLS = [["repair"], ["errand"], ["companionship"], ["repair", "errand"]]
Extra = Callable[[int], dict[str, object]]


async def _approved_members(
    app: App, place: Place, count: int, *, person: Extra, profile: Extra | None = None
) -> list[int]:
    """``count`` approved members of the community, skills taking turns; ``person`` and
    ``profile`` add the n-th member's own columns. Their person ids, in order."""
    moment = dt.datetime.now(dt.UTC)
    ids = await _people(
        app,
        [
            {
                "name": f"Helper {n:05d}",
                "locale": "en",
                "phone_consent": False,
                "points_balance": 0,
                "unreachable": False,
                "created_at": moment,
                **person(n),
            }
            for n in range(count)
        ],
    )
    await _bulk(
        app,
        RoleGrant,
        [
            {
                "person_id": pid,
                "role": Role.MEMBER,
                "scope_id": place.community.id,
                "granted_at": moment,
            }
            for pid in ids
        ],
    )
    await _bulk(
        app,
        MemberProfile,
        [
            {
                "person_id": pid,
                "skills": SKILLS[n % len(SKILLS)],
                "availability": "",
                "approved": True,
                "approved_at": moment,
                **(profile(n) if profile else {}),
            }
            for n, pid in enumerate(ids)
        ],
    )
    return ids


async def open_wish(app: App, place: Place) -> str:
    """One verified (open) wish from a resident of B1; returns its code."""
    async with app.sessions.begin() as s:
        asker = await add_person(s, "Asker", building=place.buildings[0], unit="1-01")
        await grant_role(s, None, asker, Role.RESIDENT, place.buildings[0].id)
        wish = await submit_wish(
            s,
            asker,
            building_id=place.buildings[0].id,
            category="repair",
            description="The corridor light is out",
        )
        await verify_wish(s, place.admin, wish.id)
        return str(wish.code)


async def waiting_wishes(app: App, place: Place, count: int) -> list[int]:
    """``count`` submitted wishes (waiting for their head), through the store's submit."""
    ids: list[int] = []
    async with app.sessions.begin() as s:
        askers = []
        for n, building in enumerate(place.buildings):
            asker = await add_person(s, f"Asker {n}", building=building, unit="1-01")
            await grant_role(s, None, asker, Role.RESIDENT, building.id)
            askers.append((asker, building))
        for n in range(count):
            asker, building = askers[n % len(askers)]
            wish: Wish = await submit_wish(
                s,
                asker,
                building_id=building.id,
                category="repair",
                description=f"Wish number {n}",
            )
            ids.append(wish.id)
    return ids


async def reminders(
    app: App, wish_ids: Sequence[int], due: dt.datetime, pending: int, later: dt.datetime
) -> list[int]:
    """A head's reminder per wish, due at ``due``; and ``pending`` more due much ``later``."""
    moment = dt.datetime.now(dt.UTC)

    def row(kind: str, wish_id: int, key: str, at: dt.datetime) -> dict[str, object]:
        return {
            "due_at": at,
            "kind": kind,
            "wish_id": wish_id,
            "payload": {"version": 1},
            "status": ReminderStatus.PENDING,
            "key": key,
            "urgent": False,
            "attempts": 0,
            "created_at": moment,
        }

    await _bulk(
        app,
        Reminder,
        [
            row("wish.verify_grid", wish_ids[n % len(wish_ids)], f"bench-later:{n}", later)
            for n in range(pending)
        ],
    )
    ids: list[int] = []
    async with app.sessions.begin() as s:
        found = await s.scalars(
            insert(Reminder).returning(Reminder.id, sort_by_parameter_order=True),
            [row("wish.verify_head", w, f"bench-due:{w}", due) for w in wish_ids],
        )
        ids.extend(found.all())
    return ids


async def dispatch_crowd(app: App, place: Place, count: int) -> None:
    """``count`` approved members as dispatch meets them: skills, homes over the buildings,
    stated weekdays and hours for half of them, and a history (each fifth has a closed,
    rated wish; each twentieth holds an open one), so every part of the score has rows."""
    moment = dt.datetime.now(dt.UTC)
    buildings = [b.id for b in place.buildings]
    ids = await _approved_members(
        app,
        place,
        count,
        person=lambda n: {"building_id": buildings[n % len(buildings)] if n % 3 else None},
        profile=lambda n: {
            "available_days": (n * 37) % 128 if n % 2 else 0,
            "available_from": (n % 4) * 4,
            "available_to": 12 + (n % 3) * 4,
        },
    )
    history = [(n, pid) for n, pid in enumerate(ids) if n % 5 == 0 or n % 20 == 1]
    wish_ids = await _wishes(
        app,
        [
            {
                "building_id": buildings[n % len(buildings)],
                "category": "repair",
                "description": "History",
                "requester_id": place.admin.id,
                "submitted_by_id": place.admin.id,
                "status": WishStatus.CLOSED if n % 5 == 0 else WishStatus.ACCEPTED,
                "taken_count": 1,
                "rating": 1 + n % 5 if n % 5 == 0 else None,
                "created_at": moment - dt.timedelta(days=n % 30),
                "updated_at": moment,
            }
            for n, _ in history
        ],
    )
    await _bulk(
        app,
        WishAssignment,
        [
            {
                "wish_id": wish_id,
                "member_id": pid,
                "status": AssignmentStatus.ACTIVE,
                "accepted_at": moment - dt.timedelta(days=n % 30),
            }
            for wish_id, (n, pid) in zip(wish_ids, history, strict=True)
        ],
    )


async def _wishes(app: App, rows: Sequence[dict[str, object]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        async with app.sessions.begin() as s:
            found = await s.scalars(
                insert(Wish).returning(Wish.id, sort_by_parameter_order=True),
                list(rows[start : start + BATCH]),
            )
            ids.extend(found.all())
    return ids

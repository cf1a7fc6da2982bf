"""Open311 GeoReport v2 through the real aiohttp app and the real store.

Keys act as their owners: each sees and files only what that person may in the chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import init_app
from models.directory import link_identity
from models.open311_requests import RequestFilter, visible_requests
from models.people import Person
from models.reminders import Reminder
from models.web_access import make_api_client, revoke_api_client
from models.wish_asking import submit_wish, verify_wish
from models.wish_closing import confirm_wish
from models.wish_moves import wish_by_code
from models.wish_record import events_of
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish, WishStatus
from tests.town import Town

V2 = "/open311/v2"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
ALICE_PHONE = "+86 138 0000 0101"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(app: App, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Client]:
    web_app = init_app(app, Runtime(app))
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


async def key_for(
    sessions: async_sessionmaker[AsyncSession], maker: Person, person: Person | None = None
) -> str:
    async with sessions.begin() as session:
        _, key = await make_api_client(session, maker, "City hotline", person)
    return key


async def count_wishes(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions.begin() as session:
        return await session.scalar(select(func.count()).select_from(Wish)) or 0


async def get(client: Client, path: str, headers: dict[str, str] = EN, **query: str) -> Any:
    response = await client.get(V2 + path, params=query, headers=headers)
    return response.status, await response.json()


async def post(
    client: Client,
    fields: dict[str, Any],
    *,
    as_json: bool = False,
    path: str = "/requests.json",
) -> tuple[int, Any]:
    if as_json:
        response = await client.post(V2 + path, json=fields, headers=EN)
    else:
        response = await client.post(V2 + path, data=fields, headers=EN)
    return response.status, await response.json()


def is_error(body: Any, code: int) -> bool:
    return (
        isinstance(body, list)
        and len(body) == 1
        and body[0]["code"] == code
        and isinstance(body[0]["description"], str)
        and len(body[0]["description"]) > 5
    )


async def file_for_alice(sessions: async_sessionmaker[AsyncSession], town: Town) -> Wish:
    async with sessions.begin() as session:
        return await submit_wish(
            session,
            town.alice,
            building_id=town.n1.id,
            category="repair",
            description="The corridor light on floor 3 is out",
        )


# --- services -----------------------------------------------------------------------------------


async def test_services_are_the_categories_in_the_clients_language(
    client: Client, town: Town
) -> None:
    status, english = await get(client, "/services.json")
    assert status == 200
    by_code = {service["service_code"]: service for service in english}
    assert {"repair", "errand", "companionship", "paperwork", "cleaning", "other"} <= set(by_code)
    repair = by_code["repair"]
    assert repair["service_name"] == "Repairs"  # no emoji: another system wants words
    assert repair["metadata"] is True  # one optional attribute: how many helpers
    assert repair["type"] == "realtime"
    assert repair["description"] and repair["group"] and "repair" in repair["keywords"]

    status, chinese = await get(client, "/services.json", headers=ZH)
    assert status == 200
    name = {s["service_code"]: s for s in chinese}["repair"]["service_name"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in name)

    status, definition = await get(client, "/services/repair.json")
    assert status == 200 and definition["service_code"] == "repair"
    assert [a["code"] for a in definition["attributes"]] == ["required_count"]
    status, body = await get(client, "/services/unicorns.json")
    assert status == 404 and is_error(body, 404) and "unicorns" in body[0]["description"]

    response = await client.get(V2 + "/services.html", headers=EN)
    assert response.status == 400  # answered in XML, the specification's own format
    assert response.content_type == "text/xml" and "<errors>" in await response.text()


async def test_unknown_address_under_open311_answers_in_json(client: Client) -> None:
    response = await client.get("/open311/v2/nothing/here.json", headers=EN)
    assert response.status == 404
    assert is_error(await response.json(), 404)


# --- filing and following ----------------------------------------------------------------------


async def test_a_resident_files_a_wish_and_follows_it_to_closed(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    async with sessions.begin() as session:
        await link_identity(session, town.head_n1, "web", "head-n1")

    status, body = await post(
        client, {"api_key": key, "service_code": "repair", "description": "Light out on floor 3"}
    )
    assert status == 201
    assert len(body) == 1 and body[0]["account_id"] is None
    code = body[0]["service_request_id"]
    assert code.startswith("W-") and code in body[0]["service_notice"]

    # The same store operation as the chat: code, event, reminders, the head told.
    async with sessions.begin() as session:
        wish = await wish_by_code(session, code)
        assert (wish.requester_id, wish.submitted_by_id) == (town.alice.id, town.alice.id)
        assert wish.building_id == town.n1.id and wish.status == WishStatus.SUBMITTED
        assert [e.action for e in await events_of(session, wish.id)] == ["submit"]
        planned = (
            await session.scalars(select(Reminder.kind).where(Reminder.wish_id == wish.id))
        ).all()
        assert planned, "a wish filed by the API gets its reminders planned"
        told = await session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.target_person_id == town.head_n1.id)
        )
        assert told == 1
        wish_id = wish.id

    status, listed = await get(client, "/requests.json", api_key=key)
    assert status == 200 and [r["service_request_id"] for r in listed] == [code]
    request = listed[0]
    assert request["status"] == "open"
    assert request["service_code"] == "repair" and request["service_name"] == "Repairs"
    assert request["description"] == "Light out on floor 3"
    assert request["agency_responsible"] == "Sunflower"
    assert request["status_notes"] == "waiting for the building head"
    assert request["address"] == "N1, unit 101"  # her own wish: she may see her unit
    assert request["lat"] is None and request["long"] is None
    assert request["requested_datetime"].endswith("+08:00")
    assert request["expected_datetime"] is None

    status, one = await get(client, f"/requests/{code}.json", api_key=key)
    assert status == 200 and one == [request]

    # The store moves it; every state but the final ones is "open" to the city.
    async with sessions.begin() as session:
        await verify_wish(session, town.head_n1, wish_id)
        await accept_wish(session, town.fixer, wish_id)
        await report_done(session, town.fixer, wish_id, "New bulb in")
    status, one = await get(client, f"/requests/{code}.json", api_key=key)
    assert one[0]["status"] == "open" and one[0]["status_notes"] == "New bulb in"

    async with sessions.begin() as session:
        await confirm_wish(session, town.alice, wish_id, 5, "Thank you!")
    status, one = await get(client, f"/requests/{code}.json", api_key=key)
    assert one[0]["status"] == "closed" and one[0]["status_notes"] == "Thank you!"
    assert one[0]["updated_datetime"] >= one[0]["requested_datetime"]

    status, closed = await get(client, "/requests.json", api_key=key, status="closed")
    assert [r["service_request_id"] for r in closed] == [code]
    status, still_open = await get(client, "/requests.json", api_key=key, status="open")
    assert still_open == []
    status, by_id = await get(client, "/requests.json", api_key=key, service_request_id=code)
    assert [r["service_request_id"] for r in by_id] == [code]
    many = ",".join([*(f"W-{n:06d}" for n in range(900_000, 900_050)), code])
    status, by_ids = await get(client, "/requests.json", api_key=key, service_request_id=many)
    assert status == 200 and [r["service_request_id"] for r in by_ids] == [code]
    status, other_kind = await get(client, "/requests.json", api_key=key, service_code="errand")
    assert other_kind == []
    status, later = await get(
        client, "/requests.json", api_key=key, start_date="2026-11-24T00:00:00+08:00"
    )
    assert later == []
    status, span = await get(
        client,
        "/requests.json",
        api_key=key,
        start_date="2026-11-23",
        end_date="2026-11-23T23:59:59+08:00",
    )
    assert [r["service_request_id"] for r in span] == [code]


async def test_filing_by_json_body(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.bob)
    status, body = await post(
        client,
        {
            "api_key": key,
            "service_code": "errand",
            "description": "Carry water up",
            "lat": 31.2,
            "long": 121.5,
            "address_string": "ignored: the wish is for Bob's building",
            "attribute": {"anything": "ignored"},
        },
        as_json=True,
    )
    assert status == 201
    async with sessions.begin() as session:
        wish = await wish_by_code(session, body[0]["service_request_id"])
        assert wish.requester_id == town.bob.id and wish.building_id == town.n2.id


async def test_a_head_files_on_behalf_of_a_resident_in_their_building_only(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as session:
        # The head lives in N1 too, so the office can make a key for them.
        await session.execute(
            update(Person).where(Person.id == town.head_n1.id).values(building_id=town.n1.id)
        )
        head = await session.get(Person, town.head_n1.id)
        assert head is not None
    key = await key_for(sessions, town.admin, head)
    fields = {"api_key": key, "service_code": "errand", "description": "Medicine from the chemist"}

    status, body = await post(client, {**fields, "account_id": str(town.alice.id)})
    assert status == 201
    async with sessions.begin() as session:
        wish = await wish_by_code(session, body[0]["service_request_id"])
        assert (wish.requester_id, wish.submitted_by_id) == (town.alice.id, town.head_n1.id)
        assert wish.status == WishStatus.OPEN  # a head's own entry needs no check

    before = await count_wishes(sessions)
    for account in (str(town.dora.id), str(town.bob.id), "999999", "alice"):
        status, body = await post(client, {**fields, "account_id": account})
        assert status == 400 and is_error(body, 400)
    # Not a resident anywhere: a head must say for whom.
    status, body = await post(client, fields)
    assert status == 403 and is_error(body, 403) and "account_id" in body[0]["description"]
    assert await count_wishes(sessions) == before


# --- who sees what ------------------------------------------------------------------------------


async def test_another_community_sees_nothing_of_it(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await file_for_alice(sessions, town)
    assert wish.code is not None
    maple = await key_for(sessions, town.maple_admin)
    sunflower = await key_for(sessions, town.admin)
    street = await key_for(sessions, town.street_admin)

    status, listed = await get(client, "/requests.json", api_key=maple)
    assert (status, listed) == (200, [])
    status, listed = await get(
        client, "/requests.json", api_key=maple, service_request_id=wish.code
    )
    assert (status, listed) == (200, [])
    status, hidden = await get(client, f"/requests/{wish.code}.json", api_key=maple)
    status_missing, missing = await get(client, "/requests/W-999999.json", api_key=maple)
    assert status == status_missing == 404
    assert hidden == missing  # the same answer: nothing tells it exists

    for office in (sunflower, street):
        status, listed = await get(client, "/requests.json", api_key=office)
        assert [r["service_request_id"] for r in listed] == [wish.code]
        assert listed[0]["address"] == "N1, unit 101"  # the office may see the unit


async def test_a_resident_sees_only_their_own_wishes(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    mine = await file_for_alice(sessions, town)
    async with sessions.begin() as session:
        bobs = await submit_wish(
            session, town.bob, building_id=town.n2.id, category="errand", description="Groceries"
        )
        neighbours = await submit_wish(
            session,
            town.head_n1,
            building_id=town.n1.id,
            category="other",
            description="Help for someone else in N1",
            requester=(await session.get(Person, town.alice.id)),
        )
    key = await key_for(sessions, town.admin, town.bob)
    status, listed = await get(client, "/requests.json", api_key=key)
    assert [r["service_request_id"] for r in listed] == [bobs.code]
    for other in (mine, neighbours):
        status, body = await get(client, f"/requests/{other.code}.json", api_key=key)
        assert status == 404 and is_error(body, 404)


async def test_no_personal_data_for_who_may_not_see_it(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Person)
            .where(Person.id == town.alice.id)
            .values(phone=ALICE_PHONE, phone_consent=True)
        )
        await session.execute(
            update(Person).where(Person.id == town.head_n1.id).values(building_id=town.n1.id)
        )
        head = await session.get(Person, town.head_n1.id)
        assert head is not None
    wish = await file_for_alice(sessions, town)
    async with sessions.begin() as session:
        await verify_wish(session, town.head_n1, wish.id)
    head_key = await key_for(sessions, town.admin, head)

    response = await client.get(V2 + "/requests.json", params={"api_key": head_key}, headers=EN)
    listed = await response.json()
    # The wish's own code may hold any digits; everything else must not name her.
    text = (await response.text()).replace(wish.code or "", "")
    assert [r["service_request_id"] for r in listed] == [wish.code]
    assert listed[0]["address"] == "N1"
    for secret in ("Alice", "101", ALICE_PHONE, "0101"):
        assert secret not in text
    one = await client.get(V2 + f"/requests/{wish.code}.json", params={"api_key": head_key})
    assert "101" not in (await one.text()).replace(wish.code or "", "")


async def test_members_see_what_tasks_shows_them(
    sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await file_for_alice(sessions, town)
    async with sessions.begin() as session:
        everything = RequestFilter()
        # Submitted: not yet for members.
        assert await visible_requests(session, town.fixer, everything) == []
        await verify_wish(session, town.head_n1, wish.id)
        assert [v.wish.id for v in await visible_requests(session, town.fixer, everything)] == [
            wish.id
        ]
        for outsider in (town.maple_member, town.newbie, town.carol):
            assert await visible_requests(session, outsider, everything) == []
        await accept_wish(session, town.fixer, wish.id)
        held = await visible_requests(session, town.fixer, everything)
        assert [v.wish.id for v in held] == [wish.id]
        assert held[0].unit is None and held[0].note is None
        assert await visible_requests(session, town.walker, everything) == []


# --- refusals -----------------------------------------------------------------------------------


async def test_keys_missing_unknown_or_revoked_are_refused(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await file_for_alice(sessions, town)
    # No key: the public view (a wish not yet checked is not in it); an unknown key: 403.
    status, body = await get(client, "/requests.json")
    assert (status, body) == (200, [])
    status, body = await get(client, "/requests.json", api_key="")
    assert (status, body) == (200, [])
    status, body = await get(client, "/requests.json", api_key="sw_not-a-key")
    assert status == 403 and is_error(body, 403)
    status, body = await get(client, f"/requests/{wish.code}.json", api_key="sw_not-a-key")
    assert status == 403 and is_error(body, 403)

    async with sessions.begin() as session:
        api_client, key = await make_api_client(session, town.admin, "Old hotline", town.alice)
    status, listed = await get(client, "/requests.json", api_key=key)
    assert status == 200 and len(listed) == 1
    async with sessions.begin() as session:
        await revoke_api_client(session, town.admin, api_client.id)

    before = await count_wishes(sessions)
    status, body = await get(client, "/requests.json", api_key=key)
    assert status == 403 and is_error(body, 403)
    status, body = await post(
        client, {"api_key": key, "service_code": "repair", "description": "Door sticks"}
    )
    assert status == 403 and is_error(body, 403)
    status, body = await post(client, {"service_code": "repair", "description": "Door sticks"})
    assert status == 403 and is_error(body, 403)
    assert await count_wishes(sessions) == before


@pytest.mark.parametrize(
    ("fields", "as_json", "path", "status"),
    [
        ({"service_code": "unicorns", "description": "Ride"}, False, "/requests.json", 404),
        ({"description": "No kind given"}, False, "/requests.json", 400),
        ({"service_code": "repair", "description": "   "}, False, "/requests.json", 400),
        ({"service_code": "repair"}, False, "/requests.json", 400),
        ({"service_code": "repair", "description": "x" * 4001}, False, "/requests.json", 400),
        (
            {"service_code": "repair", "description": "Tap", "lat": "north"},
            False,
            "/requests.json",
            400,
        ),
        (
            {"service_code": "repair", "description": "Tap", "long": 500},
            True,
            "/requests.json",
            400,
        ),
        ({"service_code": ["repair"], "description": "Tap"}, True, "/requests.json", 400),
    ],
)
async def test_bad_filings_are_refused_and_leave_no_row(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    fields: dict[str, Any],
    as_json: bool,
    path: str,
    status: int,
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    before = await count_wishes(sessions)
    answered, body = await post(client, {"api_key": key, **fields}, as_json=as_json, path=path)
    assert answered == status and is_error(body, status), body
    assert await count_wishes(sessions) == before


async def test_an_admin_key_cannot_file_for_itself(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin)
    before = await count_wishes(sessions)
    status, body = await post(
        client, {"api_key": key, "service_code": "repair", "description": "x"}
    )
    assert status == 403 and is_error(body, 403)
    assert await count_wishes(sessions) == before


async def test_refusals_are_in_the_clients_language(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    response = await client.post(
        V2 + "/requests.json",
        data={"api_key": key, "service_code": "repair", "description": ""},
        headers=ZH,
    )
    body = await response.json()
    assert response.status == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body[0]["description"])


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-40"},
        {"start_date": "2026-11-24", "end_date": "2026-11-20"},
        {"status": "pending"},
        {"status": ","},
        {"service_code": "unicorns"},
        {"service_request_id": "W-12,banana"},
    ],
)
async def test_bad_searches_get_a_clear_400(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    query: dict[str, str],
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    response = await client.get(V2 + "/requests.json", params={"api_key": key, **query})
    status, body = response.status, await response.json()
    assert status == 400 and is_error(body, 400), body

"""Open311 as other systems' clients call it: XML and JSON for every endpoint (errors too),
discovery, the public redacted view, GeoReport's status codes and limits, photos, places.

Every answer is parsed back with a real XML parser and checked against the spec's names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.settings import SettingsError, load_settings
from bot.web.georeport_format import xml_bytes
from bot.web.server import init_app
from models.clock import ManualClock
from models.erasure import erase_person
from models.errors import NotAllowed
from models.people import Person
from models.reported_places import Point, ReportedPlace, set_building_point
from models.web_access import make_api_client
from models.wish_asking import submit_wish, verify_wish
from models.wish_moves import wish_by_code
from models.wish_taking import accept_wish, report_done
from models.wishes import Wish
from tests.georeport import from_xml, read
from tests.town import Town
from tests.web import web_site

V2 = "/open311/v2"
EN = {"Accept-Language": "en"}
FORMATS = ["xml", "json"]
Client = TestClient[web.Request, web.Application]
PUBLIC = "https://wishes.example.org"


@pytest.fixture
async def client(
    app: App, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Client]:
    # The app is shared by the session's tests: monkeypatch puts its settings back.
    settings = dataclasses.replace(
        app.settings, public_url=PUBLIC, open311_cors_origins=("https://map.example.org",)
    )
    monkeypatch.setattr(app, "settings", settings)
    async with TestClient(TestServer(init_app(app, Runtime(app)))) as test_client:
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


async def get(client: Client, path: str, **query: str) -> tuple[int, Any]:
    response = await client.get(V2 + path, params=query, headers=EN)
    return response.status, await read(response)


async def post(client: Client, fmt: str, fields: dict[str, str]) -> tuple[int, Any]:
    response = await client.post(V2 + f"/requests.{fmt}", data=fields, headers=EN)
    return response.status, await read(response)


def is_error(body: Any, code: int) -> bool:
    return (
        isinstance(body, list)
        and len(body) == 1
        and set(body[0]) == {"code", "description"}
        and body[0]["code"] == str(code)
        and len(body[0]["description"] or "") > 5
    )


async def open_wish(sessions: async_sessionmaker[AsyncSession], town: Town) -> Wish:
    """Alice's wish, checked by her head: in the public view from now on."""
    async with sessions.begin() as session:
        wish = await submit_wish(
            session,
            town.alice,
            building_id=town.n1.id,
            category="repair",
            description="The corridor light on floor 3 is out",
        )
        await verify_wish(session, town.head_n1, wish.id)
    return wish


# --- every endpoint, both formats ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_endpoint_answers_in_the_format_its_extension_names(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, fmt: str
) -> None:
    status, services = await get(client, f"/services.{fmt}")
    assert status == 200
    repair = {s["service_code"]: s for s in services}["repair"]
    assert repair["service_name"] == "Repairs" and repair["metadata"] == "true"
    assert repair["type"] == "realtime"

    status, definition = await get(client, f"/services/repair.{fmt}")
    assert status == 200 and definition["service_code"] == "repair"
    (helpers,) = definition["attributes"]
    assert helpers["code"] == "required_count" and helpers["datatype"] == "number"
    assert helpers["variable"] == "true" and helpers["required"] == "false"
    assert helpers["values"] == []

    key = await key_for(sessions, town.admin, town.alice)
    status, filed = await post(
        client, fmt, {"api_key": key, "service_code": "repair", "description": "Tap drips"}
    )
    assert status == 201 and filed[0]["account_id"] is None
    code = filed[0]["service_request_id"]
    assert code.startswith("W-") and code in filed[0]["service_notice"]

    status, mine = await get(client, f"/requests.{fmt}", api_key=key)
    assert status == 200 and [r["service_request_id"] for r in mine] == [code]
    assert mine[0]["status"] == "open" and mine[0]["description"] == "Tap drips"
    status, one = await get(client, f"/requests/{code}.{fmt}", api_key=key)
    assert status == 200 and one == mine

    # Errors are GeoReport's <errors><error> in the same format.
    for path, query, code_expected in [
        (f"/services/unicorns.{fmt}", {}, 404),
        (f"/requests.{fmt}", {"status": "pending"}, 400),
        (f"/requests.{fmt}", {"api_key": "sw_not-a-key"}, 403),
        (f"/requests/W-999999.{fmt}", {"api_key": key}, 404),
        (f"/nothing/here.{fmt}", {}, 404),
    ]:
        status, body = await get(client, path, **query)
        assert status == code_expected and is_error(body, code_expected), (path, body)
    status, body = await post(client, fmt, {"service_code": "repair", "description": "Tap"})
    assert status == 403 and is_error(body, 403)


async def test_xml_and_json_say_the_same(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await open_wish(sessions, town)
    key = await key_for(sessions, town.admin)
    for path, query in [
        ("/services", {}),
        ("/services/errand", {}),
        ("/requests", {}),
        ("/requests", {"api_key": key}),
        (f"/requests/{wish.code}", {}),
        ("/discovery", {}),
        ("/services/unicorns", {}),
    ]:
        _, as_xml = await get(client, path + ".xml", **query)
        _, as_json = await get(client, path + ".json", **query)
        assert as_xml == as_json, path


async def test_the_extension_is_read_in_any_case_and_anything_else_is_refused_in_xml(
    client: Client,
) -> None:
    response = await client.get(V2 + "/services.XML", headers=EN)
    assert response.status == 200 and (await read_as_xml(response))[0]["service_code"]
    response = await client.get(V2 + "/services.html", headers=EN)
    assert response.status == 400
    assert is_error(await read_as_xml(response), 400)


async def read_as_xml(response: Any) -> Any:
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    return from_xml(await response.read())


def test_text_xml_cannot_carry_is_replaced_not_written_raw() -> None:
    # The store keeps control characters out of wishes; the writer guards every other text.
    written = xml_bytes("errors", [{"code": 400, "description": "Bell \x07 <rings> & \x1b"}])
    assert from_xml(written) == [{"code": "400", "description": "Bell \ufffd <rings> & \ufffd"}]


# --- discovery ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/open311/discovery", "/open311/v2/discovery"])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery_names_the_endpoint_its_formats_and_how_to_get_a_key(
    client: Client, path: str, fmt: str
) -> None:
    response = await client.get(f"{path}.{fmt}", headers=EN)
    assert response.status == 200
    found = await read(response)
    assert found["changeset"] and found["contact"]
    assert "API key" in found["key_service"] and "dashboard" in found["key_service"]
    (endpoint,) = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == PUBLIC + V2  # under the public URL setting
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_without_a_key_the_public_view_names_no_one(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, fmt: str
) -> None:
    name, phone, unit, note = "Alice", "+86 138 5555 0199", "7B-Rose", "Key is under the mat"
    async with sessions.begin() as session:
        await session.execute(
            update(Person)
            .where(Person.id == town.alice.id)
            .values(phone=phone, phone_consent=True, unit=unit)
        )
    wish = await open_wish(sessions, town)
    async with sessions.begin() as session:
        await accept_wish(session, town.fixer, wish.id)
        await report_done(session, town.fixer, wish.id, note)
        # Filed by a client with a photo link and a typed address: the public sees neither.
        session.add(
            ReportedPlace(
                wish_id=wish.id,
                address_string="Room 7B-Rose",
                latitude=31.1,
                longitude=121.1,
                media_url="https://photos.example.org/alice-door.jpg",
            )
        )
        unchecked = await submit_wish(
            session, town.bob, building_id=town.n2.id, category="errand", description="Milk"
        )
    for path in (f"/requests.{fmt}", f"/requests/{wish.code}.{fmt}"):
        response = await client.get(V2 + path, headers=EN)
        assert response.status == 200
        raw = (await response.read()).decode()
        for secret in (name, phone, unit, note, "alice-door", "Room"):
            assert secret not in raw, (path, secret)
        (shown,) = await read(response)
        assert shown["service_request_id"] == wish.code
        assert shown["address"] == "N1" and shown["media_url"] is None
        assert shown["status_notes"] == "done, waiting for confirmation"
        assert shown["lat"] is None  # the client's point is not the public's
    # A wish no head has checked yet is not public.
    status, body = await get(client, f"/requests/{unchecked.code}.{fmt}")
    assert status == 404 and is_error(body, 404)
    # The key of the office unlocks what it may see.
    office = await key_for(sessions, town.admin)
    status, seen = await get(client, f"/requests/{wish.code}.{fmt}", api_key=office)
    assert status == 200
    assert seen[0]["address"] == "N1, unit 7B-Rose (Room 7B-Rose)"
    assert seen[0]["status_notes"] == note
    assert seen[0]["media_url"] == "https://photos.example.org/alice-door.jpg"


# --- GeoReport's status codes, limits and arguments ----------------------------------------------


async def test_a_description_may_hold_4000_characters(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    long = "Lamp " * 800  # 4,000 characters
    status, filed = await post(
        client, "xml", {"api_key": key, "service_code": "repair", "description": long}
    )
    assert status == 201
    async with sessions.begin() as session:
        wish = await wish_by_code(session, filed[0]["service_request_id"])
        assert len(wish.description) == 3999  # the store trims the last space
    before = await count_wishes(sessions)
    status, body = await post(
        client, "xml", {"api_key": key, "service_code": "repair", "description": "x" * 4001}
    )
    assert status == 400 and is_error(body, 400) and "4000" in body[0]["description"]
    assert await count_wishes(sessions) == before


async def test_unknown_service_on_post_is_404_and_keys_are_403(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    before = await count_wishes(sessions)
    for fields, code in [
        ({"api_key": key, "service_code": "unicorns", "description": "Ride"}, 404),
        ({"service_code": "repair", "description": "No key"}, 403),
        ({"api_key": "", "service_code": "repair", "description": "Empty key"}, 403),
        ({"api_key": "sw_guess", "service_code": "repair", "description": "Bad key"}, 403),
    ]:
        status, body = await post(client, "xml", fields)
        assert status == code and is_error(body, code), fields
    assert await count_wishes(sessions) == before


async def test_empty_arguments_are_as_if_not_sent_and_pages_are_cut(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, clock: ManualClock
) -> None:
    codes = []
    for _ in range(3):
        codes.append((await open_wish(sessions, town)).code)
        clock.advance(dt.timedelta(minutes=1))
    newest_first = list(reversed(codes))
    status, everything = await get(
        client, "/requests.xml", status="", service_code="", start_date="", api_key=""
    )
    assert status == 200 and [r["service_request_id"] for r in everything] == newest_first
    status, first = await get(client, "/requests.xml", page_size="2")
    assert [r["service_request_id"] for r in first] == newest_first[:2]
    status, second = await get(client, "/requests.xml", page_size="2", page="2")
    assert [r["service_request_id"] for r in second] == newest_first[2:]
    status, capped = await get(client, "/requests.json", max_requests="1")
    assert [r["service_request_id"] for r in capped] == newest_first[:1]
    for bad in ({"page_size": "0"}, {"page_size": "1001"}, {"page_size": "ten"}, {"page": "0"}):
        status, body = await get(client, "/requests.xml", **bad)
        assert status == 400 and is_error(body, 400), bad


# --- helpers needed ------------------------------------------------------------------------------


async def test_required_count_is_an_attribute_of_the_filing(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    fields = {"api_key": key, "service_code": "errand", "description": "Carry a sofa"}
    status, filed = await post(client, "json", {**fields, "attribute[required_count]": "3"})
    assert status == 201
    async with sessions.begin() as session:
        wish = await wish_by_code(session, filed[0]["service_request_id"])
        assert wish.required_count == 3
    response = await client.post(
        V2 + "/requests.json",
        json={**fields, "attribute": {"required_count": 2}},
        headers=EN,
    )
    assert response.status == 201
    before = await count_wishes(sessions)
    for bad in ("0", "21", "two", "-1", "2.5"):
        status, body = await post(client, "xml", {**fields, "attribute[required_count]": bad})
        assert status == 400 and is_error(body, 400)
        assert "required_count" in body[0]["description"] and "20" in body[0]["description"]
    assert await count_wishes(sessions) == before


# --- places: lat/long, address_string, buildings' points -----------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_lat_long_and_address_string_round_trip(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, fmt: str
) -> None:
    alice = await key_for(sessions, town.admin, town.alice)
    status, filed = await post(
        client,
        fmt,
        {
            "api_key": alice,
            "service_code": "repair",
            "description": "Loose railing",
            "lat": "31.230416",
            "long": "121.473701",
            "address_string": "Stairwell B, 2nd floor",
        },
    )
    assert status == 201
    code = filed[0]["service_request_id"]
    status, (shown,) = await get(client, f"/requests/{code}.{fmt}", api_key=alice)
    assert (shown["lat"], shown["long"]) == ("31.230416", "121.473701")
    assert shown["address"] == "N1, unit 101 (Stairwell B, 2nd floor)"
    office = await key_for(sessions, town.admin)
    status, (seen,) = await get(client, f"/requests/{code}.{fmt}", api_key=office)
    assert "Stairwell B, 2nd floor" in seen["address"]  # the office sees what was typed


async def test_bad_points_are_refused_and_leave_no_row(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    fields = {"api_key": key, "service_code": "repair", "description": "Tap"}
    before = await count_wishes(sessions)
    for point in (
        {"lat": "91", "long": "0"},
        {"lat": "0", "long": "-180.5"},
        {"lat": "nan", "long": "0"},
        {"lat": "north", "long": "0"},
        {"lat": "31.2"},
        {"media_url": "javascript:alert(1)"},
    ):
        status, body = await post(client, "xml", {**fields, **point})
        assert status == 400 and is_error(body, 400), point
    assert await count_wishes(sessions) == before


async def test_a_building_with_a_point_gives_its_wishes_one(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    wish = await open_wish(sessions, town)
    status, (before,) = await get(client, f"/requests/{wish.code}.json")
    assert before["lat"] is None and before["long"] is None
    async with sessions.begin() as session:
        with pytest.raises(NotAllowed):
            await set_building_point(session, town.maple_admin, town.n1.id, Point(1.0, 2.0))
    async with sessions.begin() as session:
        await set_building_point(session, town.admin, town.n1.id, Point(31.2, 121.5))
    for fmt in FORMATS:
        status, (after,) = await get(client, f"/requests/{wish.code}.{fmt}")
        assert status == 200 and (after["lat"], after["long"]) == ("31.2", "121.5")


async def test_erasing_the_requester_drops_what_the_client_said_about_the_place(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    status, _ = await post(
        client,
        "xml",
        {
            "api_key": key,
            "service_code": "repair",
            "description": "Door",
            "address_string": "Alice's door, 101",
            "lat": "31",
            "long": "121",
        },
    )
    assert status == 201
    async with sessions.begin() as session:
        await erase_person(session, town.admin, town.alice.id)
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(ReportedPlace)) == 0


# --- CORS -----------------------------------------------------------------------------------------


async def test_cors_lets_the_origins_set_read_and_nothing_more(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    allowed = {"Origin": "https://map.example.org", **EN}
    response = await client.get(V2 + "/services.json", headers=allowed)
    assert response.headers["Access-Control-Allow-Origin"] == "https://map.example.org"
    assert "Origin" in response.headers["Vary"]
    response = await client.get(V2 + "/services/none.xml", headers=allowed)
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == "https://map.example.org"
    response = await client.get(V2 + "/services.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = await client.options(
        V2 + "/requests.json",
        headers={**allowed, "Access-Control-Request-Method": "GET"},
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Methods"] == "GET"
    key = await key_for(sessions, town.admin, town.alice)
    response = await client.post(
        V2 + "/requests.json",
        data={"api_key": key, "service_code": "repair", "description": "Tap"},
        headers=allowed,
    )
    assert response.status == 201 and "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_are_a_typed_setting() -> None:
    base = {"WISHBOT_DATABASE_URL": "sqlite+aiosqlite:///x.db"}
    assert load_settings(base).open311_cors_origins == ()
    both = load_settings({**base, "WISHBOT_OPEN311_CORS_ORIGINS": "https://a.org, http://b:8000/"})
    assert both.open311_cors_origins == ("https://a.org", "http://b:8000")
    assert load_settings({**base, "WISHBOT_OPEN311_CORS_ORIGINS": "*"}).open311_cors_origins == (
        "*",
    )
    for bad in ("a.org", "https://a.org/path", "ftp://a.org"):
        with pytest.raises(SettingsError, match="OPEN311_CORS_ORIGINS"):
            load_settings({**base, "WISHBOT_OPEN311_CORS_ORIGINS": bad})


# --- photos ---------------------------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_a_photo_sent_in_the_web_chat_is_a_media_url_that_downloads(
    app: App,
    sessions: async_sessionmaker[AsyncSession],
    town: Town,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with sessions.begin() as session:
        await session.execute(update(Person).where(Person.id == town.alice.id).values(locale="en"))
    async with web_site(app) as site:
        resident = await site.signed_in(town.alice)
        await resident.say("/wish")
        await resident.press("Repairs")
        await resident.say("The window latch is broken")
        form = FormData()
        form.add_field("id", "4242")
        form.add_field("photo", PNG, filename="latch.png", content_type="image/png")
        response = await resident.client.post(
            "/chat/say", data=form, headers={"X-CSRF-Token": resident.csrf()}
        )
        assert response.status == 200, await response.text()
        resident.lines.extend((await response.json())["messages"])
        await resident.press("Within a day")
        await resident.press("Send")
    async with sessions.begin() as session:
        wish = await session.scalar(select(Wish).where(Wish.requester_id == town.alice.id))
        assert wish is not None and len(wish.photos) == 1
        await verify_wish(session, town.head_n1, wish.id)
        code = wish.code

    # Published under the public URL setting, as another system reaches us.
    monkeypatch.setattr(app, "settings", dataclasses.replace(app.settings, public_url=PUBLIC))
    key = await key_for(sessions, town.admin, town.alice)
    async with TestClient(TestServer(init_app(app, Runtime(app)))) as client:
        for fmt in FORMATS:
            status, (shown,) = await get(client, f"/requests/{code}.{fmt}", api_key=key)
            assert status == 200
            media_url = shown["media_url"]
            assert media_url.startswith(PUBLIC + V2 + "/media/"), media_url
            # Downloadable with no cookie and no key: the address is the permission.
            picture = await client.get(media_url.removeprefix(PUBLIC))
            assert picture.status == 200 and picture.content_type == "image/png"
            assert await picture.read() == PNG
        guessed = media_url.removeprefix(PUBLIC).rsplit("/", 1)[0] + "/0123456789abcdef01234567"
        assert (await client.get(guessed)).status == 404
        # The public view shows no photo: it may show a home from inside.
        status, (public,) = await get(client, f"/requests/{code}.xml")
        assert status == 200 and public["media_url"] is None


async def test_the_office_sees_the_address_a_client_typed_on_the_wish_page(
    app: App, sessions: async_sessionmaker[AsyncSession], town: Town
) -> None:
    key = await key_for(sessions, town.admin, town.alice)
    async with web_site(app) as site:
        client = await site.visitor()
        response = await client.client.post(
            V2 + "/requests.xml",
            data={
                "api_key": key,
                "service_code": "repair",
                "description": "Loose railing",
                "address_string": "Stairwell B, by the bike shed",
                "lat": "31.5",
                "long": "121.25",
            },
        )
        assert response.status == 201
        (filed,) = await read(response)
        office = await site.signed_in(town.admin)
        status, page = await office.get(f"/admin/wish/{filed['service_request_id']}")
        assert status == 200
        assert "Stairwell B, by the bike shed" in page and "31.5, 121.25" in page
        elsewhere = await site.signed_in(town.maple_admin)
        status, page = await elsewhere.get(f"/admin/wish/{filed['service_request_id']}")
        assert status == 404 and "bike shed" not in page

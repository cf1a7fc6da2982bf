"""A third-party GeoReport v2 client from PyPI (georeport), unmodified, against the real
server on a real port: list, definition, search and get, in XML and in JSON.

The library has no call that files a request; filing is covered in test_open311_formats.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from georeport import GeoReport
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.runtime import Runtime
from bot.web.server import init_app
from models.wish_asking import submit_wish, verify_wish
from tests.town import Town

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(
    app: App, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Client]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # requests must call us directly
    monkeypatch.delenv("GEOREPORT_API_KEY", raising=False)
    server = TestServer(init_app(app, Runtime(app)), host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client


def entries(found: Any) -> list[dict[str, Any]]:
    # xmltodict gives one entry as a dict and several as a list: the library passes it on.
    return found if isinstance(found, list) else [found]


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_the_georeport_client_lists_defines_searches_and_gets(
    client: Client, sessions: async_sessionmaker[AsyncSession], town: Town, fmt: str
) -> None:
    async with sessions.begin() as session:
        light = await submit_wish(
            session, town.alice, building_id=town.n1.id, category="repair", description="Light"
        )
        groceries = await submit_wish(
            session, town.bob, building_id=town.n2.id, category="errand", description="Groceries"
        )
        for wish in (light, groceries):
            await verify_wish(session, town.admin, wish.id)
    # The root address as a city publishes it; the library adds /services.xml and the rest.
    city = GeoReport(str(client.make_url("/open311/v2")), output_format=fmt)

    services = entries(await asyncio.to_thread(city.get_service_list))
    assert {"repair", "errand"} <= {s["service_code"] for s in services}

    definition = await asyncio.to_thread(city.get_service_definition, "repair")
    assert definition["service_code"] == "repair"
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"]
    assert attribute["code"] == "required_count"

    everything = entries(await asyncio.to_thread(city.get_service_requests))
    assert {r["service_request_id"] for r in everything} == {light.code, groceries.code}
    searched = entries(
        await asyncio.to_thread(city.get_service_requests, service_code="errand", status="open")
    )
    assert [r["service_request_id"] for r in searched] == [groceries.code]
    # No key sent (the library sends none on reading): the public view, with no names.
    assert all("Alice" not in str(r) and "Bob" not in str(r) for r in everything)

    one = await asyncio.to_thread(city.get_service_request, str(light.code))
    assert one["service_request_id"] == light.code
    assert one["status"] == "open" and one["description"] == "Light"

"""Reading a GeoReport v2 answer back as a client would: XML through a real (safe) parser,
checked against the specification's element names, or JSON; both to the same plain shape."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from aiohttp import ClientResponse
from defusedxml import ElementTree as SafeXml

SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
# What POST answers: the new request's id and notice (the specification's fields).
FILED_FIELDS = {"service_request_id", "service_notice", "account_id", "token"}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
# A list document: its root, the name of each entry, the names an entry may hold.
LISTS = {
    "services": ("service", SERVICE_FIELDS),
    "service_requests": ("request", REQUEST_FIELDS | FILED_FIELDS),
    "errors": ("error", {"code", "description"}),
}
# Inner lists and the names of their entries.
INNER = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _leaf(element: Element) -> Any:
    assert len(element) == 0, f"{element.tag} holds elements where text was expected"
    return element.text  # an empty element is None, as JSON's null


def _entry(element: Element, allowed: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for child in element:
        assert child.tag in allowed, f"<{child.tag}> is not a GeoReport name in <{element.tag}>"
        assert child.tag not in found, f"<{child.tag}> twice in <{element.tag}>"
        found[child.tag] = _value(child)
    return found


def _value(element: Element) -> Any:
    if element.tag in INNER:
        entry = INNER[element.tag]
        assert all(child.tag == entry for child in element), element.tag
        fields = {"attribute": ATTRIBUTE_FIELDS, "endpoint": ENDPOINT_FIELDS}.get(entry)
        return [_value(c) if fields is None else _entry(c, fields) for c in element]
    return _leaf(element)


def from_xml(document: bytes) -> Any:
    """The document as lists and dicts of text, failing on any name the spec does not use."""
    root = SafeXml.fromstring(document)  # refuses entity tricks (billion laughs, externals)
    if root.tag in LISTS:
        entry, allowed = LISTS[root.tag]
        assert all(child.tag == entry for child in root), [c.tag for c in root]
        return [_entry(child, allowed) for child in root]
    if root.tag == "service_definition":
        return _entry(root, {"service_code", "attributes"})
    if root.tag == "discovery":
        return _entry(root, {"changeset", "contact", "key_service", "endpoints"})
    raise AssertionError(f"<{root.tag}> is not a GeoReport document")


def as_text(value: Any) -> Any:
    """A JSON answer in XML's terms: every scalar as its text, null as None."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


async def read(response: ClientResponse) -> Any:
    """The answer in XML's terms, whichever format it came in; checks the content type."""
    raw = await response.read()
    if response.url.path.endswith(".json"):
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return as_text(await response.json())
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    return from_xml(raw)

"""How a GeoReport v2 answer is written: XML (the specification's required format, with its
element names) or JSON, chosen by the address's extension; built with ElementTree, no strings."""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

XML = "xml"
JSON = "json"
FORMATS = (XML, JSON)
XML_TYPE = "text/xml"
JSON_TYPE = "application/json"

# The element each list's entries are named by, as the specification writes them.
ENTRY_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (controls, surrogates, U+FFFE/U+FFFF).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def chosen_format(extension: str) -> str | None:
    """The format an address asks for ('xml' or 'json', any case); None for anything else."""
    lowered = extension.lower()
    return lowered if lowered in FORMATS else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_IN_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    """One value into an element: a mapping as children, a list as named entries."""
    if value is None:
        return
    if isinstance(value, Mapping):
        for name, inner in value.items():
            _fill(ET.SubElement(element, name), inner)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        entry = ENTRY_NAMES[element.tag]
        for inner in value:
            _fill(ET.SubElement(element, entry), inner)
    else:
        element.text = _text(value)


def xml_bytes(root: str, body: Any) -> bytes:
    """The document: root holds the body (a list's entries named as the specification does)."""
    element = ET.Element(root)
    _fill(element, body)
    written: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return written


def answer(chosen: str, root: str, body: Any, status: int = 200) -> web.Response:
    """The body in the chosen format; root names the XML document's outer element."""
    if chosen == XML:
        return web.Response(
            body=xml_bytes(root, body), status=status, content_type=XML_TYPE, charset="utf-8"
        )
    return web.json_response(
        body, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False)
    )


def error_answer(chosen: str, status: int, description: str) -> web.Response:
    return answer(chosen, "errors", [{"code": status, "description": description}], status)

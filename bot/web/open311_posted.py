"""A filed request's fields, form-encoded or JSON, and the ones checked before anything is
written: a point's degrees, how many helpers, and the resident the wish is for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.json_body import BadJson, read_json
from bot.web.open311_wire import Refusal, parameter
from models.errors import N_
from models.open311_requests import resident_in_care
from models.people import Person
from models.wish_asking import MAX_REQUIRED

REQUIRED_COUNT = "required_count"


async def posted(request: web.Request) -> dict[str, Any]:
    """The posted fields, form-encoded or JSON; the query may carry the key as well."""
    fields: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await read_json(request)
        except BadJson as refused:
            raise Refusal(400, refused.key, **refused.params) from None
        if not isinstance(body, dict):
            raise Refusal(400, N_("The body is not valid JSON."))
        attributes = body.pop("attribute", None)
        fields.update(body)
        if isinstance(attributes, dict):  # {"attribute": {"required_count": 2}}
            fields.update({f"attribute[{k}]": v for k, v in attributes.items()})
    else:
        form = await request.post()
        fields.update({name: value for name, value in form.items() if isinstance(value, str)})
    return fields


def degrees(fields: Mapping[str, Any], name: str) -> float | None:
    typed = parameter(fields, name)
    if typed is None:
        return None
    try:
        return float(typed)
    except ValueError:
        raise Refusal(400, N_("{name} must be a number of degrees."), name=name) from None


def helpers_needed(fields: Mapping[str, Any]) -> int:
    name = f"attribute[{REQUIRED_COUNT}]"
    typed = parameter(fields, name)
    if typed is None:
        return 1
    if not typed.isdecimal() or not 1 <= int(typed[:7]) <= MAX_REQUIRED:
        raise Refusal(
            400,
            N_("{name} is how many helpers are needed: a whole number from 1 to {highest}."),
            name=name,
            highest=MAX_REQUIRED,
        )
    return int(typed)


async def requester_of(session: AsyncSession, owner: Person, account: str | None) -> Person:
    """Whom the wish is for: the key's owner, or a resident in their care (account_id)."""
    if account and account != str(owner.id):
        person_id = int(account) if account.isdecimal() and len(account) <= 12 else None
        found = None if person_id is None else await resident_in_care(session, owner, person_id)
        if found is None:
            raise Refusal(
                400,
                N_("There is no resident {account} among the people you look after."),
                account=account,
            )
        return found
    return owner

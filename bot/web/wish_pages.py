"""A wish as a ticket at /admin/wish/{code}: what it is and what happened, who asked and the
ranked helpers, and what the office does in place (assign, answer, note, change)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
from bot.web.history_words import event_words
from bot.web.office_chat import INSTANT, back_query, through_chat, wish_address
from bot.web.office_door import as_viewer, given_id, office_of
from bot.web.pages import problem, render
from bot.web.server import T, Viewer, site_of
from handlers.flows.admin import wish_actions
from handlers.flows.common import category_name, status_name
from handlers.flows.suggested import candidate_words
from handlers.i18n import LANGUAGE_NAMES, Translator
from handlers.sheet_words import URGENCY_NAMES, plain
from handlers.turn import action_button
from models.desk import (
    OFFICE_LEVEL,
    add_note,
    history,
    is_overdue,
    notes_of,
    set_required,
    set_urgency,
)
from models.dispatch import rank_for_wish
from models.dispatch_rules import CandidateKind
from models.duplicates import same_as_for_page
from models.errors import N_, InvalidInput
from models.office_scope import OfficeScope, WishPage, wish_for_office
from models.office_work import level_over_wish
from models.people import Person
from models.permissions import TOP_LEVEL
from models.reach import grants_of
from models.reported_places import reported_place
from models.text import MAX_ID
from models.web_access import chat_lines
from models.wish_asking import MAX_REQUIRED
from models.wish_moves import MAX_NOTE, get_wish
from models.wishes import WishStatus

routes = web.RouteTableDef()
SUGGESTED = 10


@routes.get("/admin/wish/{code}")
async def wish_page(request: web.Request) -> web.Response:
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    said = request.query.get("said", "")
    return await _wish_view(
        request,
        *office,
        request.match_info["code"],
        back_query(request.query.get("back")),
        said=int(said) if said.isdigit() and len(said) < 16 else None,
    )


async def _wish_view(
    request: web.Request,
    viewer: Viewer,
    scope: OfficeScope,
    code: str,
    back: str,
    *,
    said: int | None = None,
    error: str | None = None,
) -> web.Response:
    """A wish as a ticket: what it is and what happened on the left; who asked, how to reach
    them and what the office can do, in place, on the right."""
    from bot.web.chat import photo_url, safe_html

    t: Translator = request[T]
    site = site_of(request)
    assert viewer.person is not None
    async with reading(site.app.sessions) as session:
        page = await wish_for_office(session, scope, code)
        if page is None:
            return problem(request, 404, N_("There is no such wish among those you look after."))
        wish = page.wish
        grants = await grants_of(session, viewer.person)
        held = await level_over_wish(session, grants, wish)
        lines = await history(session, wish)
        notes = await notes_of(session, wish.id)
        overdue = await is_overdue(session, wish)
        # What an Open311 client typed about the place: the office's to see (page is scoped).
        reported = await reported_place(session, wish.id)
        # The dispatch ranking with its reasons: members to choose, resources beside them.
        candidates = (
            await rank_for_wish(
                session, scope.reach, wish.id, SUGGESTED, timezone=site_of(request).config.timezone
            )
            if wish.status == WishStatus.OPEN and held >= OFFICE_LEVEL
            else []
        )
        same = (
            [other for other, _ in await same_as_for_page(session, scope.reach, wish.id)]
            if wish.status in (WishStatus.SUBMITTED, WishStatus.OPEN) and held >= OFFICE_LEVEL
            else []
        )
        needed = min(wish.escalation_level or TOP_LEVEL, TOP_LEVEL)
        may_answer = wish.status == WishStatus.ESCALATED and held >= needed
        submitted_by = (
            await session.get(Person, wish.submitted_by_id)
            if wish.submitted_by_id != wish.requester_id
            else None
        )
        answers = (
            [
                safe_html(line.payload.get("text", ""))
                for line in await chat_lines(session, viewer.external_id, MAX_ID, said)
                if not line.mine and line.payload.get("text")
            ]
            if said is not None
            else []
        )
    return render(
        request,
        "wish.html",
        status=400 if error else 200,
        error=Markup(error) if error else None,
        page=page,
        back=back,
        category=plain(category_name(t, wish.category)),
        status_label=status_name(t, wish.status.value),
        status_of=lambda v: status_name(t, v) if v else "",
        urgency_of=lambda v: t.raw(str(URGENCY_NAMES.get(v, v))),
        photos=[url for url in (photo_url(request, p) for p in wish.photos) if url],
        reported=reported,
        history=[event_words(t, line) for line in lines],
        notes=notes,
        overdue=overdue,
        ranked=[
            (c.id, Markup(candidate_words(t, c)))
            for c in candidates
            if c.kind == CandidateKind.MEMBER
        ],
        resources=[
            Markup(candidate_words(t, c)) for c in candidates if c.kind == CandidateKind.RESOURCE
        ],
        # "Probably the same as W-…" and a Merge that presses the chat's own merge button.
        same=[
            (
                Markup(t("🔗 Probably the same as {codes}.", codes=other.code)),
                t.raw(N_("🔗 Merge into {code}")).format(code=other.code),
                action_button("", "merge", wish.id, other.id).data,
            )
            for other in same
        ],
        may_answer=may_answer,
        may_change=held >= OFFICE_LEVEL,
        submitted_by=submitted_by.name if submitted_by and submitted_by.erased_at is None else None,
        language=LANGUAGE_NAMES.get(page.requester.locale or "", ""),
        answers=[Markup(a) for a in answers],
        max_required=MAX_REQUIRED,
        # The same buttons as /pending in the chat, but for those done in the ticket itself.
        actions=[
            (label, action_button(label, name, wish.id).data)
            for label, name in wish_actions(t, wish.status)
            if name not in ("assign", "resolve")
        ],
        instant=INSTANT,
        body_class="dashboard",
    )


async def _ticket(
    request: web.Request,
) -> tuple[Viewer, OfficeScope, WishPage, str, Any] | web.Response:
    """The viewer, the wish (within their scope) and the form of a POST on a wish page."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer, scope = office
    async with reading(site_of(request).app.sessions) as session:
        page = await wish_for_office(session, scope, request.match_info["code"])
    if page is None:
        return problem(request, 404, N_("There is no such wish among those you look after."))
    form = await request.post()
    return viewer, scope, page, back_query(str(form.get("back", ""))), form


@routes.post("/admin/wish/{code}/assign")
async def assign_here(request: web.Request) -> web.StreamResponse:
    """Assign from the ranked list: the chat's own assignment, which tells the member and the
    requester; the office stays on the wish's page."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    member_id = given_id(str(form.get("member", "")))
    if member_id is None:
        t: Translator = request[T]
        return await _wish_view(
            request,
            viewer,
            scope,
            page.wish.code or "",
            back,
            error=t.raw(N_("Please choose a member.")),
        )
    press = action_button("", "assign_to", page.wish.id, member_id).data
    t = request[T]
    label = f"{t.raw(N_('Assign'))} · {page.wish.code}"
    said = await through_chat(request, viewer, {"button": press, "label": label})
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back, said))


@routes.post("/admin/wish/{code}/answer")
async def answer_here(request: web.Request) -> web.StreamResponse:
    """Answer an escalated wish (the chat's /resolve, which tells the requester)."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    text = " ".join(str(form.get("answer", "")).split())[:MAX_NOTE]
    if not text:
        t: Translator = request[T]
        return await _wish_view(
            request,
            viewer,
            scope,
            page.wish.code or "",
            back,
            error=t.raw(N_("Please write the answer.")),
        )
    said = await through_chat(request, viewer, {"text": f"/resolve {page.wish.code} {text}"})
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back, said))


@routes.post("/admin/wish/{code}/note")
async def note_here(request: web.Request) -> web.StreamResponse:
    """An internal note: kept for the office, sent to nobody."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    text = str(form.get("note", ""))
    _, error = await as_viewer(
        request, viewer, lambda session, actor: add_note(session, actor, page.wish.id, text)
    )
    if error is not None:
        return await _wish_view(request, viewer, scope, page.wish.code or "", back, error=error)
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back))


@routes.post("/admin/wish/{code}/change")
async def change_here(request: web.Request) -> web.StreamResponse:
    """Change the urgency and the helpers needed, each only when it differs."""
    ticket = await _ticket(request)
    if isinstance(ticket, web.Response):
        return ticket
    viewer, scope, page, back, form = ticket
    urgency = str(form.get("urgency", page.wish.urgency.value))
    raw = str(form.get("required", page.wish.required_count)).strip()
    wish_id = page.wish.id

    async def change(session: AsyncSession, actor: Person) -> None:
        if not raw.isdigit() or len(raw) > 3:
            raise InvalidInput(
                N_("Helpers needed is a number from 1 to {most}."), most=str(MAX_REQUIRED)
            )
        await set_urgency(session, actor, wish_id, urgency)
        wish = await get_wish(session, wish_id)
        if int(raw) != wish.required_count:
            await set_required(session, actor, wish_id, int(raw))

    _, error = await as_viewer(request, viewer, change)
    if error is not None:
        return await _wish_view(request, viewer, scope, page.wish.code or "", back, error=error)
    raise web.HTTPSeeOther(wish_address(page.wish.code or "", back))

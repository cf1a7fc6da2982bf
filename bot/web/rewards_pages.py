"""The office's rewards pages at /admin/rewards: partners, their rewards, codes waiting to be
collected (handed over here too), the points rules, corrections, rankings and the monthly
report per partner (XLSX). Scoped to the viewer's communities by models/reach.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import reading
from bot.lists_export import sheet_file
from bot.web.office_door import office_of
from bot.web.pages import problem, render
from bot.web.server import VIEWER, T, Viewer, site_of
from handlers.flows.catalogue import tell_adjusted
from handlers.flows.common import category_name
from handlers.flows.rewards import tell_handed_over
from handlers.i18n import Translator
from handlers.router import refusal_text
from handlers.turn import Speaker
from models.catalogue import (
    add_partner,
    add_reward,
    partner_months,
    partners_in,
    rewards_in,
    waiting_in,
    withdraw_reward,
)
from models.clock import now
from models.errors import N_, NotFound, StoreError
from models.office_scope import OfficeScope
from models.office_work import grantable_people
from models.open311_requests import active_categories
from models.organisations import organisations_of_communities
from models.people import Person
from models.point_rules import point_rules, set_point_rules
from models.points_ledger import adjust_points
from models.reach import communities_run, grants_of
from models.redemptions import hand_over
from models.rewards import RedemptionStatus, Reward
from models.service_lists import Sheet
from models.standings import month_bounds, ranking
from models.text import bounded_id
from models.web_access import keep_photo

routes = web.RouteTableDef()
R = RedemptionStatus
STATUS_NAMES = {
    R.REQUESTED: N_("waiting to be collected"),
    R.HANDED_OVER: N_("handed over"),
    R.EXPIRED: N_("expired, points back"),
}
RULE_FIELDS = ("five_star_bonus", "verify_points", "on_behalf_points", "per_hour", "monthly_cap")
RULE_NAMES = {
    "five_star_bonus": N_("Bonus for five stars"),
    "verify_points": N_("Points for a head's check"),
    "on_behalf_points": N_("Points for a wish entered for a neighbour"),
    "per_hour": N_("Points per hour of a long service"),
    "monthly_cap": N_("Most points a person earns in a month (0: no cap)"),
    "collect_days": N_("Days to collect a reward before it expires"),
}
TOP = 10


async def _scope(request: web.Request) -> tuple[Viewer, OfficeScope, int] | web.Response:
    """The viewer, their office's places, and the community the page is about (one of theirs)."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer, scope = office
    raw = request.query.get("community")
    if raw is None and request.method == "POST":
        raw = str((await request.post()).get("community", ""))
    community_id = (bounded_id(raw) if raw else None) or scope.communities[0].id
    if scope.community(community_id) is None:
        return problem(request, 403, N_("That community is not one you work for."))
    return viewer, scope, community_id


def _month(
    raw: str | None, moment: dt.datetime, timezone: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    """The month asked for (2026-11), or this one, where the community lives."""
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            return month_bounds(dt.datetime(year, month, 15, tzinfo=timezone), 0, timezone)
        except ValueError:
            pass
    return month_bounds(moment, 0, timezone)


async def _page(
    request: web.Request,
    viewer: Viewer,
    scope: OfficeScope,
    community_id: int,
    *,
    error: str | None = None,
    done: str | None = None,
) -> web.Response:
    t: Translator = request[T]
    assert viewer.person is not None
    async with reading(site_of(request).app.sessions) as session:
        moment = now(session)
        start, end = _month(request.query.get("month"), moment, site_of(request).config.timezone)
        runs = community_id in await communities_run(
            session, await grants_of(session, viewer.person)
        )
        partners = await partners_in(session, [community_id])
        names = {p.id: p.name for p in partners}
        contacts = {
            p.id: (await session.get(Person, p.contact_id)) if p.contact_id else None
            for p in partners
        }
        context: dict[str, Any] = dict(
            community=scope.community(community_id),
            communities=scope.communities,
            runs=runs,
            partners=partners,
            contacts={k: (v.name if v else "") for k, v in contacts.items()},
            rewards=await rewards_in(session, [community_id]),
            partner_names=names,
            waiting=await waiting_in(session, community_id),
            months=await partner_months(session, community_id, start, end),
            month=start.strftime("%Y-%m"),
            rules=await point_rules(session, community_id),
            rule_fields=[(f, t.raw(RULE_NAMES[f])) for f in (*RULE_FIELDS, "collect_days")],
            people=await grantable_people(session, [community_id]) if runs else [],
            top_month=(await ranking(session, community_id, since=start))[:TOP],
            top_ever=(await ranking(session, community_id))[:TOP],
            categories=[
                (c.code, category_name(t, c.code)) for c in await active_categories(session)
            ],
            base_defaults={c.code: c.base_points for c in await active_categories(session)},
            grid_tops=[
                (
                    grid.name,
                    (await ranking(session, community_id, grid_id=grid.id, since=start))[:TOP],
                )
                for grid in scope.grids_of(community_id)
            ],
            # Per organisation paired with the community: its staff who agreed to appear.
            organisation_tops=[
                (
                    organisation.name,
                    (
                        await ranking(
                            session, community_id, since=start, organisation_id=organisation.id
                        )
                    )[:TOP],
                    (await ranking(session, community_id, organisation_id=organisation.id))[:TOP],
                )
                for organisation in await organisations_of_communities(session, [community_id])
            ],
        )
    return render(
        request,
        "rewards.html",
        status=400 if error else 200,
        error=Markup(error) if error else None,
        done=done,
        status_name=lambda s: t.raw(STATUS_NAMES[s]),
        R=R,
        query=lambda **kw: urlencode({"community": community_id, **kw}),
        body_class="dashboard",
        **context,
    )


@routes.get("/admin/rewards")
async def rewards_page(request: web.Request) -> web.Response:
    found = await _scope(request)
    if isinstance(found, web.Response):
        return found
    return await _page(request, *found)


Act = Callable[[AsyncSession, Person, Speaker, dict[str, str]], Awaitable[str]]


async def _acting(request: web.Request, act: Act) -> web.StreamResponse:
    """A form of the page: the store operation as the viewer in one transaction, what it tells
    people queued in the same transaction; then the page again, with what happened."""
    found = await _scope(request)
    if isinstance(found, web.Response):
        return found
    viewer, scope, community_id = found
    assert viewer.person is not None
    form = {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
    site = site_of(request)
    t: Translator = request[T]
    try:
        async with site.app.sessions.begin() as session:
            actor = await session.get(Person, viewer.person.id)
            assert actor is not None
            speaker = Speaker(session=session, config=site.config, person=actor)
            done = await act(session, actor, speaker, {**form, "community": str(community_id)})
            await site.runtime.queue(session, speaker.replies)
    except StoreError as refused:
        return await _page(request, viewer, scope, community_id, error=refusal_text(t, refused))
    except ValueError:
        return await _page(
            request, viewer, scope, community_id, error=t("Please fill in the numbers as numbers.")
        )
    await site.runtime.send_outbox()
    return await _page(request, viewer, scope, community_id, done=t.raw(done))


def _optional_int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip() else None


@routes.post("/admin/rewards/partner")
async def new_partner(request: web.Request) -> web.StreamResponse:
    async def act(s: AsyncSession, actor: Person, _: Speaker, form: dict[str, str]) -> str:
        contact_id = _optional_int(form.get("contact"))
        contact = await s.get(Person, contact_id) if contact_id else None
        await add_partner(
            s,
            actor,
            int(form["community"]),
            form.get("name", ""),
            kind=form.get("kind", ""),
            contact=contact,
        )
        return N_("The partner is registered.")

    return await _acting(request, act)


@routes.post("/admin/rewards/reward")
async def new_reward(request: web.Request) -> web.StreamResponse:
    upload = (await request.post()).get("photo")
    viewer: Viewer | None = request[VIEWER]

    async def act(s: AsyncSession, actor: Person, _: Speaker, form: dict[str, str]) -> str:
        photo = None
        if isinstance(upload, web.FileField) and viewer is not None:
            content = upload.file.read()
            if content:  # an empty file field: no photo chosen
                photo = await keep_photo(s, viewer.external_id, upload.content_type, content)
        until = form.get("valid_until", "").strip()
        valid_until = (
            dt.datetime.combine(dt.date.fromisoformat(until), dt.time(23, 59), tzinfo=dt.UTC)
            if until
            else None
        )
        await add_reward(
            s,
            actor,
            int(form.get("partner", "0")),
            form.get("name", ""),
            int(form.get("cost", "0")),
            stock=_optional_int(form.get("stock")),
            valid_until=valid_until,
            collect_at=form.get("collect_at") or None,
            photo=photo,
        )
        return N_("The reward is in the catalogue.")

    return await _acting(request, act)


@routes.post("/admin/rewards/withdraw")
async def withdraw(request: web.Request) -> web.StreamResponse:
    async def act(s: AsyncSession, actor: Person, _: Speaker, form: dict[str, str]) -> str:
        reward = await s.get(Reward, int(form.get("reward", "0")))
        if reward is None or reward.community_id != int(form["community"]):
            raise NotFound(N_("That reward is not offered."))
        await withdraw_reward(s, actor, reward.id)
        return N_("The reward is withdrawn.")

    return await _acting(request, act)


@routes.post("/admin/rewards/handover")
async def office_handover(request: web.Request) -> web.StreamResponse:
    async def act(s: AsyncSession, actor: Person, speaker: Speaker, form: dict[str, str]) -> str:
        redemption = await hand_over(s, actor, form.get("code", ""))
        reward = await s.get(Reward, redemption.reward_id)
        assert reward is not None
        await tell_handed_over(speaker, redemption, reward)
        return N_("Handed over.")

    return await _acting(request, act)


@routes.post("/admin/rewards/rules")
async def change_rules(request: web.Request) -> web.StreamResponse:
    async def act(s: AsyncSession, actor: Person, _: Speaker, form: dict[str, str]) -> str:
        changes: dict[str, Any] = {
            name: int(form[name]) for name in RULE_FIELDS if form.get(name, "").strip()
        }
        if form.get("collect_days", "").strip():
            changes["collect_days"] = float(form["collect_days"])
        base = {k[5:]: int(v) for k, v in form.items() if k.startswith("base:") and v.strip()}
        if base:
            changes["base"] = base
        if form.get("levels", "").strip():
            steps = [int(v) for v in form["levels"].replace("，", ",").split(",") if v.strip()]
            changes["levels"] = [0, *steps]
        await set_point_rules(s, actor, int(form["community"]), changes)
        return N_("The points rules are changed; they apply from now on.")

    return await _acting(request, act)


@routes.post("/admin/rewards/adjust")
async def office_adjust(request: web.Request) -> web.StreamResponse:
    async def act(s: AsyncSession, actor: Person, speaker: Speaker, form: dict[str, str]) -> str:
        person = await s.get(Person, int(form.get("person", "0")))
        if person is None:
            raise NotFound(N_("There is no such person, or they were erased already."))
        amount = int(form.get("amount", "0").replace("+", ""))
        entry = await adjust_points(s, actor, person, amount, form.get("reason", ""))
        await tell_adjusted(speaker, person, f"{amount:+d}", entry.note or "")
        return N_("The points are changed; the person is told.")

    return await _acting(request, act)


@routes.get("/admin/rewards/report/{partner_id:\\d{1,9}}.xlsx")
async def report(request: web.Request) -> web.StreamResponse:
    """The partner's month as a spreadsheet: each redemption and what became of it."""
    found = await _scope(request)
    if isinstance(found, web.Response):
        return found
    _, _, community_id = found
    t: Translator = request[T]
    partner_id = int(request.match_info["partner_id"])
    tz = site_of(request).config.timezone
    async with reading(site_of(request).app.sessions) as session:
        start, end = _month(request.query.get("month"), now(session), tz)
        months = await partner_months(session, community_id, start, end)
    month = next((m for m in months if m.partner_id == partner_id), None)
    if month is None:
        return problem(request, 404, N_("There is no such partner."))
    sheet = Sheet(
        title=start.strftime("%Y-%m"),
        header=tuple(
            t.raw(h)
            for h in (
                N_("Redeemed"),
                N_("Reward"),
                N_("Member"),
                N_("Points"),
                N_("What became of it"),
                N_("When"),
            )
        ),
        rows=[
            (
                line.at.astimezone(tz),
                line.reward,
                line.member,
                line.points,
                t.raw(STATUS_NAMES[line.status]),
                line.closed_at.astimezone(tz) if line.closed_at else None,
            )
            for line in month.lines
        ],
    )
    filename = f"rewards-{partner_id}-{start.strftime('%Y-%m')}.xlsx"
    return web.Response(
        body=sheet_file(sheet, "xlsx"),
        headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )

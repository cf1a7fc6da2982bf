"""The dashboard's filters: community, status, category, grid, building, days, view, search and
order, read from the address, checked against the viewer's scope, and written back into links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.web.office_door import given_id
from models.desk import MAX_SEARCH, SORTS, VIEWS, DeskQuery
from models.errors import N_
from models.office_scope import OfficeScope
from models.wishes import WishStatus


@dataclass(frozen=True)
class Filters:
    community_id: int
    status: str = ""
    category: str = ""
    grid_id: int | None = None
    building_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    # The demand list's saved view, search and order (kept in the address too).
    view: str = "all"
    search: str = ""
    sort: str = "created"
    descending: bool = True

    def query(self, **changes: Any) -> str:
        values = {
            "community": self.community_id,
            "status": self.status,
            "category": self.category,
            "grid": self.grid_id or "",
            "building": self.building_id or "",
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "view": "" if self.view == "all" else self.view,
            "q": self.search,
            "sort": "" if self.sort == "created" else self.sort,
            "order": "" if self.descending else "asc",
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def desk(self) -> DeskQuery:
        return DeskQuery(
            self.community_id,
            self.grid_id,
            self.building_id,
            self.status,
            self.category,
            self.start,
            self.end,
            self.view,
            self.search,
            self.sort,
            self.descending,
        )


class BadFilter(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _date(raw: str | None, what: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(N_("{what} is not a date like 2026-11-23."), what=what) from None


def parse_filters(query: Any, scope: OfficeScope, categories: set[str]) -> Filters:
    community_id = given_id(query.get("community")) or scope.communities[0].id
    if scope.community(community_id) is None:
        raise BadFilter(N_("That community is not one you work for."))
    status = query.get("status", "")
    if status and status not in {s.value for s in WishStatus}:
        raise BadFilter(N_("There is no such status."))
    category = query.get("category", "")
    if category and category not in categories:
        raise BadFilter(N_("There is no such category."))
    grid_id = given_id(query.get("grid"))
    if grid_id is not None and grid_id not in {g.id for g in scope.grids_of(community_id)}:
        raise BadFilter(N_("That grid is not one you work for."))
    building_id = given_id(query.get("building"))
    if building_id is not None and building_id not in {
        b.id for b in scope.buildings_of(community_id)
    }:
        raise BadFilter(N_("That building is not one you work for."))
    start = _date(query.get("from"), "from")
    end = _date(query.get("to"), "to")
    if start and end and start > end:
        raise BadFilter(N_("The first day comes after the last day."))
    view = query.get("view", "") or "all"
    if view not in VIEWS:
        raise BadFilter(N_("There is no such view."))
    sort = query.get("sort", "") or "created"
    if sort not in SORTS:
        raise BadFilter(N_("The list cannot be sorted by that."))
    search = " ".join(str(query.get("q", "")).split())[:MAX_SEARCH]
    descending = query.get("order", "") != "asc"
    return Filters(
        community_id,
        status,
        category,
        grid_id,
        building_id,
        start,
        end,
        view,
        search,
        sort,
        descending,
    )

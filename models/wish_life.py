"""The life of a wish, by its old address: every name here lives in one of the wish_* rooms
(moves, asking, taking, closing, escalation, record) and is only passed on from there."""

from __future__ import annotations

from models.wish_asking import (
    MAX_DESCRIPTION,
    MAX_LONG_DESCRIPTION,
    MAX_PHOTOS,
    MAX_REQUIRED,
    MAX_URGENT_REASON,
    mark_urgent,
    may_mark_urgent,
    reject_wish,
    submit_wish,
    verify_wish,
)
from models.wish_closing import auto_confirm, cancel_wish, confirm_wish, dispute_wish
from models.wish_escalation import (
    auto_escalate,
    climb,
    escalate_wish,
    escalation_target,
    resolve_wish,
)
from models.wish_moves import (
    CO_REQUESTER_ACTIONS,
    HEAD_ACTIONS,
    HELPER_ACTIONS,
    MAX_NOTE,
    REQUESTER_ACTIONS,
    TRANSITIONS,
    check_applies,
    get_wish,
    wish_by_code,
    wish_code,
)
from models.wish_record import (
    active_helpers,
    escalated_by,
    events_of,
    last_escalation_note,
    latest_wishes_of,
)
from models.wish_taking import (
    MAX_HOURS,
    accept_wish,
    assign_wish,
    auto_release,
    release_wish,
    report_done,
    still_on_it,
)

__all__ = [
    "CO_REQUESTER_ACTIONS",
    "HEAD_ACTIONS",
    "HELPER_ACTIONS",
    "MAX_DESCRIPTION",
    "MAX_HOURS",
    "MAX_LONG_DESCRIPTION",
    "MAX_NOTE",
    "MAX_PHOTOS",
    "MAX_REQUIRED",
    "MAX_URGENT_REASON",
    "REQUESTER_ACTIONS",
    "TRANSITIONS",
    "accept_wish",
    "active_helpers",
    "assign_wish",
    "auto_confirm",
    "auto_escalate",
    "auto_release",
    "cancel_wish",
    "check_applies",
    "climb",
    "confirm_wish",
    "dispute_wish",
    "escalate_wish",
    "escalated_by",
    "escalation_target",
    "events_of",
    "get_wish",
    "last_escalation_note",
    "latest_wishes_of",
    "mark_urgent",
    "may_mark_urgent",
    "reject_wish",
    "release_wish",
    "report_done",
    "resolve_wish",
    "still_on_it",
    "submit_wish",
    "verify_wish",
    "wish_by_code",
    "wish_code",
]

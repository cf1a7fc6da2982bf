"""What building heads do besides wishes, by its old address: notices (notice_reads), disputes,
the monthly report and key people's visits live in their own rooms and are passed on here."""

from __future__ import annotations

from models.disputes import (
    MAX_PARTIES,
    MAX_WHAT,
    disputes_for,
    escalate_dispute,
    get_dispute,
    log_dispute,
    settle_dispute,
)
from models.head_work import GRID_LEVEL, HEAD_LEVEL
from models.monthly_report import month_bounds, monthly_report
from models.notice_reads import (
    MAX_NOTICE,
    audience,
    get_notice,
    mark_read,
    notice_buildings,
    notices_sent_by,
    read_counts,
    send_notice,
    unread_people,
)
from models.visits import (
    MAX_NOTE,
    MAX_REASON,
    MAX_UNIT,
    VISIT_DUE,
    due_plan,
    flag_visits,
    get_plan,
    record_visit,
    stop_visits,
    visit_plans,
)

__all__ = [
    "GRID_LEVEL",
    "HEAD_LEVEL",
    "MAX_NOTE",
    "MAX_NOTICE",
    "MAX_PARTIES",
    "MAX_REASON",
    "MAX_UNIT",
    "MAX_WHAT",
    "VISIT_DUE",
    "audience",
    "disputes_for",
    "due_plan",
    "escalate_dispute",
    "flag_visits",
    "get_dispute",
    "get_notice",
    "get_plan",
    "log_dispute",
    "mark_read",
    "month_bounds",
    "monthly_report",
    "notice_buildings",
    "notices_sent_by",
    "read_counts",
    "record_visit",
    "send_notice",
    "settle_dispute",
    "stop_visits",
    "unread_people",
    "visit_plans",
]

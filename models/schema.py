"""Every table, imported in one place so the metadata is whole (migrations, tests).

Import Base from here when you need all tables registered.
"""

from models import (
    cards,
    co_requesters,
    commitments,
    community,
    conversations,
    desk,
    inbox,
    invites,
    neighbourhood,
    notices,
    organisations,
    people,
    points,
    reminders,
    reported_places,
    resources,
    rewards,
    surveys,
    team_claims,
    web_access,
    wishes,
)
from models.base import Base

__all__ = [
    "Base",
    "cards",
    "co_requesters",
    "commitments",
    "community",
    "conversations",
    "desk",
    "inbox",
    "invites",
    "neighbourhood",
    "notices",
    "organisations",
    "people",
    "points",
    "reminders",
    "reported_places",
    "resources",
    "rewards",
    "surveys",
    "team_claims",
    "web_access",
    "wishes",
]

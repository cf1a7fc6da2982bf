"""Every table, imported in one place so the metadata is whole (migrations, tests).

Import Base from here when you need all tables registered.
"""

from models import (
    cards,
    co_requesters,
    community,
    conversations,
    inbox,
    invites,
    neighbourhood,
    notices,
    people,
    points,
    reminders,
    rewards,
    surveys,
    web_access,
    wishes,
)
from models.base import Base

__all__ = [
    "Base",
    "cards",
    "co_requesters",
    "community",
    "conversations",
    "inbox",
    "invites",
    "neighbourhood",
    "notices",
    "people",
    "points",
    "reminders",
    "rewards",
    "surveys",
    "web_access",
    "wishes",
]

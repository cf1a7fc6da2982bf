"""Every conversation and command module; importing this package registers them all.

One module per job, each with its Mermaid diagram in a .md file beside it.
"""

from handlers.flows import (  # noqa: F401
    admin,
    availability,
    campaigns,
    catalogue,
    commitments,
    erase_person,
    hands,
    help,
    my_wishes,
    neighbourhood,
    organisations,
    places,
    privacy,
    registration,
    relay,
    resident_list,
    revoke,
    rewards,
    same_wish,
    setup,
    standing,
    street,
    tasks,
    urgent,
    verification,
    volunteer,
    web_sign_in,
    wish,
)

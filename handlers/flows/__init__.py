"""Every conversation and command module; importing this package registers them all.

One module per job, each with its Mermaid diagram in a .md file beside it.
"""

from handlers.flows import (  # noqa: F401
    admin,
    help,
    my_wishes,
    registration,
    setup,
    street,
    tasks,
    verification,
    wish,
)

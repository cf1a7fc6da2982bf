"""`wishbot import`: the office's resident list from a file on disk (models/roster.py checks it).

The whole file is checked before anything is written; a re-run adds no one twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from models.roster import MAX_ROWS, import_roster_data

__all__ = ["MAX_ROWS", "import_roster"]


async def import_roster(
    session: AsyncSession,
    path: Path,
    *,
    community: str,
    street: str | None,
    grid: str | None,
) -> str:
    """Import the office's roster into a community; return a one-paragraph summary.

    Raises InvalidInput (nothing written yet) for a bad file, FileNotFoundError for a
    missing one. Runs inside the caller's transaction, which rolls back on any error.
    """
    data = await asyncio.to_thread(path.read_bytes)
    return await import_roster_data(
        session, data, community=community, street=street, grid=grid, filename=path.name
    )

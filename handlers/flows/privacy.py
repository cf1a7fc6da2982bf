"""/mydata: everything the bot keeps about the person who asks, as a file only they receive.

Sensitive answers of campaigns about them are in it too (and nobody else's).
"""

from __future__ import annotations

import json

from handlers.messages import Document
from handlers.router import command
from handlers.turn import Turn
from models.errors import N_
from models.privacy import export_person


@command("mydata", N_("a copy of everything the bot keeps about you"))
async def my_data(turn: Turn) -> None:
    assert turn.person is not None
    data = await export_person(turn.session, turn.person)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    turn.say(
        turn.t(
            "Here is everything we keep about you. To have it erased, ask your community office."
        ),
        document=Document("my-data.json", content),
    )

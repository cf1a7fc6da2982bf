"""/import: an admin sends the office's resident list (CSV or XLSX) as a file in the chat.

The whole file is checked and summed up first; nothing is stored until they press Import.
"""

from __future__ import annotations

from handlers.flows.common import answer_community_run, ask_community_run
from handlers.messages import FileUnavailable
from handlers.router import command, refusal_text
from handlers.turn import Flow, Step, Turn, register_flow
from models.community import Community
from models.errors import N_, InvalidInput, NotFound
from models.people import Role
from models.reach import communities_run
from models.roster import RosterRow, import_rows, preview_roster, read_roster

COMMUNITY = "community"
FILE = "file"
CONFIRM = "confirm"
SKIP = "skip"


@command(
    "import",
    N_("load the office's list of residents from a CSV or XLSX file"),
    Role.ADMIN,
    Role.STREET_ADMIN,
)
async def import_list(turn: Turn) -> None:
    await start_import(turn)


async def start_import(turn: Turn, *, after_setup: bool = False) -> None:
    """Ask for the file; first for the community when the caller runs several."""
    run = await communities_run(turn.session, turn.grants)
    if len(run) == 1:
        await turn.start(FLOW, FILE, community_id=run[0], after_setup=after_setup)
    else:
        await turn.start(FLOW, COMMUNITY, after_setup=after_setup)


async def ask_community(turn: Turn) -> None:
    await ask_community_run(turn, turn.t("Which community's residents?"))


async def answer_community(turn: Turn) -> None:
    await answer_community_run(turn, FILE)


async def ask_file(turn: Turn) -> None:
    t = turn.t
    text = t(
        "Send me the office's list of residents as a file (CSV or XLSX). The first row names "
        "the columns: building, unit and name (楼栋, 单元, 姓名); phone is optional. "
        "I check the whole file before anything is stored."
    )
    if turn.data.get("after_setup"):
        turn.say(text, [(turn.option(t.raw("Skip for now"), SKIP),)])
        return
    turn.say(text, [turn.nav(back=len(turn.data.get("_back", [])) > 0)])


async def _read(turn: Turn, reference: str, filename: str) -> list[RosterRow] | None:
    """The file's rows, checked; None (the reason said, nothing stored) when it is not good."""
    t = turn.t
    fetch = turn.config.fetch_file
    try:
        if fetch is None:
            raise FileUnavailable("no adapter")
        data = await fetch(turn.incoming.sender.platform, reference)
    except FileUnavailable:
        turn.say(t("I could not fetch that file (at most 5 MB). Please send it again."))
        return None
    try:
        return read_roster(filename, data)
    except InvalidInput as refused:
        turn.say(
            refusal_text(t, refused)
            + "\n"
            + t("Nothing was stored. Correct the file and send it again, or press Cancel.")
        )
        return None


async def answer_file(turn: Turn) -> None:
    t = turn.t
    if turn.value == SKIP:
        turn.end()
        turn.say(t("Fine. Send /import when you have the list."))
        return
    reference, filename = turn.incoming.document, turn.incoming.document_name or ""
    if reference is None:
        turn.say(t("Please send the list as a file (CSV or XLSX), or press Cancel."))
        return
    found = await _read(turn, reference, filename)
    if found is None:
        return
    community = await turn.session.get(Community, turn.data["community_id"])
    if community is None:
        raise NotFound(N_("There is no such place."))
    try:
        preview = await preview_roster(turn.session, found, community)
    except InvalidInput as refused:
        turn.say(refusal_text(t, refused))
        return
    turn.remember(
        file=reference,
        filename=filename,
        residents=preview.residents,
        already=preview.already,
        buildings=preview.buildings,
        new_buildings=preview.new_buildings,
        community=community.name,
    )
    await turn.goto(CONFIRM)


async def ask_confirm(turn: Turn) -> None:
    t = turn.t
    data = turn.data
    lines = [
        t("The file {filename} is good. For {community}:", **_names(data)),
        t.plural("{n} new resident", "{n} new residents", data["residents"]),
        t.plural(
            "in one building ({new} of them new)",
            "in {n} buildings ({new} of them new)",
            data["buildings"],
            new=t.number(data["new_buildings"]),
        ),
    ]
    if data["already"]:
        lines.append(
            t.plural(
                "One row is already there and will be skipped.",
                "{n} rows are already there and will be skipped.",
                data["already"],
            )
        )
    turn.say("\n".join(lines), [(turn.option(t.raw("✅ Import"), "import"),), turn.nav()])


def _names(data: dict[str, object]) -> dict[str, object]:
    return {"filename": data.get("filename") or "-", "community": data["community"]}


async def answer_confirm(turn: Turn) -> None:
    assert turn.person is not None
    t = turn.t
    if turn.value != "import":
        turn.say(t("Please press Import, or Cancel."))
        return
    found = await _read(turn, turn.data["file"], turn.data["filename"])
    if found is None:
        return
    added = await import_rows(turn.session, turn.person, found, turn.data["community_id"])
    community = turn.data["community"]
    turn.end()
    turn.say(
        t.plural(
            "Done: one new resident in {community}. They can now be chosen with /onbehalf.",
            "Done: {n} new residents in {community}. They can now be chosen with /onbehalf.",
            added,
            community=community,
        )
    )


FLOW = register_flow(
    Flow(
        "resident_list",
        {
            COMMUNITY: Step(ask_community, answer_community),
            FILE: Step(ask_file, answer_file),
            CONFIRM: Step(ask_confirm, answer_confirm),
        },
    )
)

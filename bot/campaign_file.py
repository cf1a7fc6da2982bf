"""Campaign definitions from a file: YAML (.yaml/.yml) or CSV.

YAML: a mapping with title, deadline (2026-12-01 or 2026-12-01T18:00), buildings (a list of
names) and questions (a list of {text, kind, choices, sensitive}).

CSV: optional lines `title,<title>`, `buildings,"N1, N2"` and `deadline,2026-12-01` first,
then the header `kind,question,choices,sensitive` and one question per line; choices are
separated by `;` (or `,` inside a quoted cell); sensitive is yes/no (empty: no).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from models.errors import N_, InvalidInput

HEADER = ("kind", "question", "choices", "sensitive")
META = ("title", "buildings", "deadline")


def load_definition(path: Path | str) -> dict[str, Any]:
    """The raw definition (check it with models.campaign_definitions.parse_definition)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _yaml(path.read_text(encoding="utf-8-sig"))
    if suffix == ".csv":
        return _csv(path.read_text(encoding="utf-8-sig"))
    raise InvalidInput(N_("A campaign file must be .yaml, .yml or .csv."))


def _yaml(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InvalidInput(N_("The campaign file is not valid YAML: {error}"), error=e) from None
    if not isinstance(data, dict):
        raise InvalidInput(N_("A campaign must have a title, questions, buildings and a deadline."))
    return data


def _csv(text: str) -> dict[str, Any]:
    data: dict[str, Any] = {"questions": []}
    header_seen = False
    for row in csv.reader(io.StringIO(text)):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        first = cells[0].lower()
        if not header_seen:
            if first in META:
                value = cells[1] if len(cells) > 1 else ""
                data[first] = (
                    [b.strip() for b in value.replace(";", ",").split(",") if b.strip()]
                    if first == "buildings"
                    else value
                )
                continue
            if tuple(c.lower() for c in cells[: len(HEADER)]) == HEADER[: len(cells)]:
                header_seen = True
                continue
            raise InvalidInput(
                N_("The CSV needs the header kind, question, choices, sensitive."),
            )
        kind, question, choices, sensitive = [*cells, "", "", "", ""][:4]
        data["questions"].append(
            {
                "kind": kind,
                "text": question,
                "choices": [c.strip() for c in choices.replace(";", ",").split(",") if c.strip()]
                or None,
                "sensitive": sensitive or False,
            }
        )
    if not header_seen:
        raise InvalidInput(N_("The CSV needs the header kind, question, choices, sensitive."))
    return data

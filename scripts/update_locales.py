"""Extract every message from the code into locales/messages.pot and merge it into each catalogue.

English is the source language, so its catalogue is filled with the messages themselves;
new Chinese messages are left empty for a translator (the i18n test fails until they are done).
Usage: .venv/bin/python scripts/update_locales.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
KEYWORDS = {"t": None, "raw": None, "N_": None, "plural": (1, 2)}
SOURCES = ("bot", "handlers", "models")
# The web pages' templates call _("..."); Jinja2's own extractor reads them.
TEMPLATE_KEYWORDS = {"_": None}


def extract() -> Catalog:
    template = Catalog(project="small-wishes", charset="utf-8")
    for folder in SOURCES:
        found = list(
            extract_from_dir(ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS)
        )
        found += extract_from_dir(
            ROOT / folder,
            method_map=[("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords=TEMPLATE_KEYWORDS,
        )
        for filename, lineno, message, comments, context in found:
            template.add(
                message,
                None,
                [(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def merge(template: Catalog, locale: str) -> tuple[int, int]:
    path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as f:
            catalog = read_po(f, locale=locale)
    else:
        catalog = Catalog(locale=locale, project="small-wishes", charset="utf-8")
    # update() shares the template's message objects: give each catalogue its own copy.
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
    missing = 0
    for message in catalog:
        if not message.id:
            continue
        empty = not message.string or (
            isinstance(message.string, tuple) and not all(message.string)
        )
        if locale == "en" and (empty or message.fuzzy):
            message.string = message.id
        if message.fuzzy:
            message.flags.discard("fuzzy")
            message.string = "" if locale != "en" else message.id
        if not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            missing += 1
    catalog.obsolete.clear()
    with path.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False, sort_output=True)
    return len(catalog), missing


def main() -> int:
    template = extract()
    with (LOCALES / "messages.pot").open("wb") as f:
        write_po(f, template, width=0, sort_output=True)
    for locale in ("en", "zh_Hans"):
        total, missing = merge(template, locale)
        print(f"{locale}: {total} messages, {missing} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())

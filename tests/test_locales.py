"""Every message the code can show has a translation in English and Chinese, with its values kept.

Run scripts/update_locales.py after adding messages; a missing translation fails here.
"""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from handlers.i18n import LOCALES_DIR, SUPPORTED, Translator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from update_locales import extract

TAGS = re.compile(r"</?[a-z]+>")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def messages() -> list[str | tuple[str, str]]:
    return [m.id for m in extract() if m.id]


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_message_is_translated(locale: str, messages: list[str | tuple[str, str]]) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    missing = []
    broken = []
    for msgid in messages:
        found = catalog.get(msgid)
        strings = found.string if found else None
        forms = strings if isinstance(strings, tuple) else (strings,)
        if found is None or not all(forms) or found.fuzzy:
            missing.append(msgid)
            continue
        source = msgid if isinstance(msgid, str) else msgid[1]
        for form in forms:
            assert isinstance(form, str)
            if _fields(form) - _fields(source) or sorted(TAGS.findall(form)) != sorted(
                TAGS.findall(source)
            ):
                broken.append((msgid, form))
    assert not missing, f"{len(missing)} messages lack a {locale} translation, e.g. {missing[:5]}"
    assert not broken, f"translations that change the values or markup: {broken[:5]}"


def test_chinese_is_really_chinese() -> None:
    t = Translator("zh_Hans", Translator("en", __import__("zoneinfo").ZoneInfo("UTC")).timezone)
    assert t("Which language?") != "Which language?"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in t("Please choose with the buttons."))

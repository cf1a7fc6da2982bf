"""The account's menus: one for everyone, and one per kind of work by WeChat user tag
(conditional menus), so that a building head and a helper find their own work first."""

from __future__ import annotations

from typing import Any

from bot.wechat_updates import COMMAND_KEY
from handlers.i18n import Translator
from handlers.menu import JOBS
from handlers.messages import Button
from models.errors import N_

# Each kind's tag on WeChat, and the main job that marks it in a person's menu (the first
# found wins: an office worker who also helps gets the head's menu).
TAGS = {"head": "wishbot-heads", "helper": "wishbot-helpers"}
MARKS = (("head", "pending"), ("helper", "tasks"))
EXTRA_LABELS = {"web": N_("🌐 Web chat"), "language": N_("🌐 Language")}


def kind_of(jobs: tuple[Button, ...]) -> str | None:
    """Which tagged menu a person with these main jobs gets; None: everyone's."""
    names = {b.data.removeprefix(COMMAND_KEY) for b in jobs if b.data.startswith(COMMAND_KEY)}
    return next((kind for kind, mark in MARKS if mark in names), None)


def menus(t: Translator) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Everyone's menu, and each kind's (top buttons at most 16 bytes: short labels)."""
    labels = {**dict(JOBS), **EXTRA_LABELS}

    def click(name: str, label: str | None = None) -> dict[str, str]:
        return {"type": "click", "name": label or t.raw(labels[name]), "key": COMMAND_KEY + name}

    def more(*names: str) -> dict[str, Any]:
        return {"name": t("More"), "sub_button": [click(n) for n in names]}

    everyone = {
        "button": [
            click("wish", t("Ask for help")),
            click("my", t("My wishes")),
            more("help", "tasks", "points", "web", "language"),
        ]
    }
    kinds = {
        "head": {
            "button": [
                click("pending", t("Waiting for me")),
                click("wish", t("Ask for help")),
                more("onbehalf", "my", "help", "web", "language"),
            ]
        },
        "helper": {
            "button": [
                click("tasks", t("Volunteer tasks")),
                click("wish", t("Ask for help")),
                more("my", "points", "help", "web", "language"),
            ]
        },
    }
    return everyone, kinds


def comparable(menu: dict[str, Any] | None) -> Any:
    """A menu as WeChat gives it back and as we make it, alike (empty sub-menus dropped)."""
    if menu is None:
        return None

    def button(b: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in b.items() if k != "sub_button" and v not in ("", None)}
        subs = b.get("sub_button")
        if isinstance(subs, dict):
            subs = subs.get("list")
        if subs:
            kept["sub_button"] = [button(s) for s in subs]
        return kept

    rule = menu.get("matchrule") or {}
    buttons = [button(b) for b in menu.get("button") or []]
    return (buttons, str(rule.get("tag_id", ""))) if rule else buttons

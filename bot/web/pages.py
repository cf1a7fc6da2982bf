"""Pages from Jinja2 templates, autoescaped, in the viewer's language.

Templates call _("...", name=value): translate, then format, with every value escaped.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.web.server import CSRF, VIEWER, T
from handlers.i18n import LANGUAGE_NAMES, Translator

env = Environment(
    loader=PackageLoader("bot.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def translate(t: Translator) -> Any:
    def _(message: str, **params: Any) -> Markup:
        # The catalogue's text is ours; only the values come from people, and Markup escapes them.
        return Markup(t.raw(message)).format(**params) if params else Markup(t.raw(message))

    return _


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    t: Translator = request[T]
    page = env.get_template(template).render(
        _=translate(t),
        t=t,
        viewer=request.get(VIEWER),
        csrf=request[CSRF],
        locale=t.locale,
        languages=LANGUAGE_NAMES,
        path=request.path_qs,
        **context,
    )
    return web.Response(text=page, content_type="text/html", status=status)


def problem(request: web.Request, status: int, message: str, **params: Any) -> web.Response:
    """A clear page for anything unexpected: what happened, in the viewer's language."""
    t: Translator = request[T]
    return render(request, "problem.html", status=status, message=translate(t)(message, **params))

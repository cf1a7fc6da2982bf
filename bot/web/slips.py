"""A printable sign-in slip for a resident without Telegram: their name and home, a fresh
code, a QR code of the sign-in link and how to use it, in large type and in their language."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.web.office_door import as_viewer, given_id, office_of
from bot.web.pages import problem, render
from bot.web.public import public_base
from bot.web.qr import qr_svg, scalable
from bot.web.server import T, site_of
from handlers.i18n import pick_locale, translator
from models.desk import Slip, sign_in_slip
from models.errors import N_
from models.web_access import shown_code

routes = web.RouteTableDef()
SIZES = ("a4", "a6")


@routes.post("/admin/slip")
async def slip(request: web.Request) -> web.StreamResponse:
    """Make a code for the resident and show the slip to print (shown once: only its hash is
    kept, so a reload asks again rather than showing an old code)."""
    office = await office_of(request)
    if isinstance(office, web.Response):
        return office
    viewer = office[0]
    form = await request.post()
    person_id = given_id(str(form.get("person", "")))
    size = str(form.get("size", "a4"))
    if person_id is None or size not in SIZES:
        return problem(request, 400, N_("Please choose a resident and a paper size."))
    made, error = await as_viewer(
        request, viewer, lambda session, actor: sign_in_slip(session, actor, person_id)
    )
    if error is not None:
        return problem(request, 403, error)
    assert isinstance(made, Slip)
    base = public_base(request) or str(request.url.origin()).rstrip("/")
    link = f"{base}/in/{made.code}"
    # The slip speaks the resident's language, whatever the office's page is in.
    t = translator(pick_locale(made.locale), site_of(request).config.timezone)
    request[T] = t
    return render(
        request,
        "slip.html",
        slip=made,
        code=shown_code(made.code),
        link=link,
        address=f"{base}/",
        qr=Markup(scalable(qr_svg(link, title=t.raw(N_("Your sign-in link")), scale=6))),
        size=size,
        body_class="slip-page",
    )

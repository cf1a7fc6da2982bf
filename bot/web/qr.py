"""QR codes for pages and chats: sign-in slips, the noticeboard, reward collection codes.

One place draws them (segno), as inline SVG for pages and PNG bytes for chats and files.
"""

from __future__ import annotations

import io
import re

import segno


def qr_svg(data: str, *, title: str, scale: int = 4) -> str:
    """Inline SVG markup of `data` as a QR code, labelled with `title` for screen readers."""
    code = segno.make_qr(data, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=scale,
        border=4,
        xmldecl=False,
        svgns=True,
        title=title,
        svgclass="qr",
        lineclass=None,
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")


def qr_png(data: str, *, scale: int = 8) -> bytes:
    """PNG bytes of `data` as a QR code (for a chat photo or a download)."""
    code = segno.make_qr(data, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def scalable(svg: str) -> str:
    """The SVG with a viewBox, so a stylesheet can size it (print sizes in millimetres)
    without cropping the code."""
    found = re.match(r'<svg([^>]*) width="(\d+)" height="(\d+)"', svg)
    if found is None or "viewBox" in svg[: found.end()]:
        return svg
    return svg.replace(
        found.group(0),
        f'<svg{found.group(1)} width="{found.group(2)}" height="{found.group(3)}" '
        f'viewBox="0 0 {found.group(2)} {found.group(3)}"',
        1,
    )

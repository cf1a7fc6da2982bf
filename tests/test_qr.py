"""The QR codes the pages and chats show decode to the link they stand for."""

from __future__ import annotations

from bot.web.qr import qr_png, qr_svg
from tests.qr import decode_png


def test_a_png_code_decodes_to_its_link() -> None:
    link = "https://wishes.example.org/signin?code=7Q4K-22XM"
    assert decode_png(qr_png(link)) == [link]


def test_the_svg_is_labelled_for_screen_readers() -> None:
    svg = qr_svg("https://t.me/small_wishes_bot", title="Open the bot")
    assert svg.startswith("<svg")
    assert "<title>Open the bot</title>" in svg
    assert decode_png(qr_png("W-000123")) == ["W-000123"]

"""Reads QR codes back in the tests: from PNG bytes (a screenshot, a chat photo, a PDF page).

The decoder is zxing-cpp, a reader independent of the library that drew the code.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def decode_png(png: bytes) -> list[str]:
    """The texts of every QR code found in the image, in reading order."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return [found.text for found in zxingcpp.read_barcodes(image)]

"""Reading a printed card back as a person and a scanner would: its text and its QR codes.

pdfium renders the page (a Python wheel: no system tool needed) and zxing-cpp decodes
the QR codes on the rendered picture.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp


def read_card(pdf: bytes, dpi: int = 200) -> tuple[str, list[str]]:
    """(the text of the first page, the payload of every QR code on it)."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        text = str(page.get_textpage().get_text_range())
        image = page.render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    return text, [found.text for found in zxingcpp.read_barcodes(image)]

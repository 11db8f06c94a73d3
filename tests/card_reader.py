"""Reading a printed card back as a person and a scanner would: its text and its QR codes.

pdfium renders the pages (a Python wheel: no system tool needed) and zxing-cpp decodes
the QR codes on the rendered picture. A card with a PIN has two pages: the card, then
the PIN slip.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp


def read_pages(pdf: bytes, dpi: int = 200) -> list[tuple[str, list[str]]]:
    """Each page's (text, payload of every QR code on its picture)."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for page in document:
            text = str(page.get_textpage().get_text_range())
            image = page.render(scale=dpi / 72).to_pil()
            pages.append((text, [found.text for found in zxingcpp.read_barcodes(image)]))
    finally:
        document.close()
    return pages


def read_card(pdf: bytes, dpi: int = 200) -> tuple[str, list[str]]:
    """(the text of the first page, the card, and the payload of every QR code on it)."""
    return read_pages(pdf, dpi)[0]

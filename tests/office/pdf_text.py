"""The text of every page of a PDF, as a reader would copy it (pdfium, a Python wheel)."""

from __future__ import annotations

import pypdfium2 as pdfium


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(
            str(document[index].get_textpage().get_text_range()) for index in range(len(document))
        )
    finally:
        document.close()


def pdf_pages(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()

"""The printable card: a well-formed PDF whose QR code is the deep link of the card."""

from __future__ import annotations

import re
import zlib

import pytest

from bot.card import CardData, card_pdf, deep_link, mask_codice_fiscale, qr_code, qr_png

CARD = CardData("Comune di Belforte del Chienti", "ABCDEFGHJK", "RSSMRA•••••••••Z")
LINK = "https://t.me/buonispesa_test_bot?start=ABCDEFGHJK"


def content_stream(pdf: bytes) -> bytes:
    match = re.search(rb"/Filter /FlateDecode >>\nstream\n(.*?)\nendstream", pdf, re.S)
    assert match is not None
    return zlib.decompress(match.group(1))


def test_deep_link() -> None:
    assert deep_link("buonispesa_test_bot", "ABCDEFGHJK") == LINK
    with pytest.raises(ValueError):
        deep_link("buonispesa_test_bot", "ABC DEF")
    with pytest.raises(ValueError):
        deep_link("no", "ABCDEFGHJK")


def test_mask_keeps_only_the_start_and_the_check_letter() -> None:
    assert mask_codice_fiscale("RSSMRA80A01H501U") == "RSSMRA•••••••••U"
    assert "80A01" not in mask_codice_fiscale("RSSMRA80A01H501U")


def test_pdf_is_well_formed() -> None:
    pdf = card_pdf(CARD, LINK, "en")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref")
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n ", pdf)]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)


def test_pdf_text_carries_the_code_and_the_link() -> None:
    content = content_stream(card_pdf(CARD, LINK, "en"))
    assert b"(ABCD EFGH JK) Tj" in content
    assert b"(Grocery voucher card) Tj" in content or b"(Grocery voucher) Tj" in content
    assert LINK.encode() in content
    # cp1252 bullets for the masked code, not "?" replacements.
    assert b"RSSMRA\x95\x95\x95" in content


def test_pdf_qr_matches_the_link() -> None:
    """Rebuild the module grid from the drawn rectangles and compare it with segno's."""
    content = content_stream(card_pdf(CARD, LINK, "en"))
    rects = [
        tuple(float(v) for v in match)
        for match in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re f", content)
    ]
    matrix = qr_code(LINK).matrix
    size = len(matrix)
    left = min(r[0] for r in rects)
    top = max(r[1] + r[3] for r in rects)
    unit = min(r[3] for r in rects)
    grid = [[0] * size for _ in range(size)]
    for x, y, w, h in rects:
        row = round((top - (y + h)) / unit)
        start = round((x - left) / unit)
        for column in range(start, start + round(w / unit)):
            grid[row][column] = 1
    # The leftmost dark module is in the finder pattern, column 0: same origin as segno.
    assert grid == [list(r) for r in matrix]


def test_qr_png_is_a_png() -> None:
    assert qr_png(LINK).startswith(b"\x89PNG\r\n\x1a\n")


def test_text_outside_cp1252_does_not_break_the_pdf() -> None:
    odd = CardData("Città di Ŝtrange (test) \\ 🙂", "ABCDEFGHJK", "••••••")
    content = content_stream(card_pdf(odd, LINK, "it"))
    assert b"Citt\xe0" in content and b"\\(test\\)" in content

"""The printed card: its text, and its QR code read back from the rendered page.

A card with a PIN prints as two pages, the card and the PIN slip, as a bank does: the PIN
never on the card. Read with pdfium and zxing-cpp (tests/card_reader.py) and, when the
machine has them, with poppler's pdftotext/pdftoppm and zbarimg as a second reader.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from core.documents.card import card_pdf, deep_link
from core.domain.cards import grouped, mask_codice_fiscale, normalize_card_number
from core.services.cards import CardData
from tests.card_reader import read_card, read_pages

CARD = CardData(
    "Comune di Forlì — Città di Sant'Agata", "ABCDEFGHJK", "RSSMRA•••••••••Z", "482913", True
)
LINK = "https://t.me/buonispesa_test_bot?start=ABCDEFGHJK"
OTHER_PIN = replace(CARD, pin="735160")


def page_text(pdf: bytes) -> str:
    return read_card(pdf)[0]


def qr_payloads(pdf: bytes) -> list[str]:
    return read_card(pdf)[1]


def test_card_text_in_italian_with_accents() -> None:
    text = page_text(card_pdf(CARD, "it"))
    assert "Comune di Forlì — Città di Sant'Agata" in " ".join(text.split())
    assert "ABCD EFGH JK" in text
    assert "RSSMRA•••••••••Z" in text
    assert "Carta buoni spesa" in text
    assert "Il PIN NON è su questa carta." in " ".join(text.split())
    assert "3 PIN sbagliati" in " ".join(text.split())  # the holder is told the limit


def test_the_pin_is_on_the_slip_not_on_the_card() -> None:
    (card, card_codes), (slip, slip_codes) = read_pages(card_pdf(CARD, "en"))
    assert "482" not in card and "913" not in card and "PIN is NOT on this card" in card
    assert card_codes == ["ABCDEFGHJK"]
    # The slip: the PIN and the card number's last characters only, no QR code to scan.
    words = " ".join(slip.split())
    assert "482 913" in words and "•••• ••GH JK" in words
    assert "ABCD" not in slip and "EFGH" not in slip and slip_codes == []
    assert "destroy this slip" in words and "Never keep this slip with the card" in words
    assert "RSSMRA" not in slip  # nothing more of the holder than the card shows


def test_the_card_page_is_the_same_picture_whatever_the_pin() -> None:
    """As pictures: two PINs leave the card page pixel for pixel the same, and change the
    slip exactly where the PIN is printed (dark ink there, not white on white)."""
    first, second = card_pdf(CARD, "it"), card_pdf(OTHER_PIN, "it")
    assert pictures(first)[0] == pictures(second)[0]
    assert pictures(first)[1] != pictures(second)[1]
    assert ink_where(first, 1, "482 913") > 0.15


def pictures(pdf: bytes) -> list[bytes]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=100 / 72).to_pil().convert("L").tobytes() for page in document]
    finally:
        document.close()


def ink_where(pdf: bytes, index: int, text: str) -> float:
    """The share of dark pixels in the box where `text` is set on page `index`."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        textpage = page.get_textpage()
        found = textpage.search(text)
        first = found.get_next()
        assert first is not None, text
        start, count = first
        boxes = [textpage.get_charbox(start + k) for k in range(count)]
        scale = 100 / 72
        image = page.render(scale=scale).to_pil().convert("L")
        height = page.get_height()
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        crop = image.crop(
            (
                int(left * scale),
                int((height - top) * scale),
                int(right * scale) + 1,
                int((height - bottom) * scale) + 1,
            )
        )
        histogram: list[int] = crop.histogram()  # pixels per grey level, 0 (black) to 255
        return sum(histogram[:128]) / sum(histogram)
    finally:
        document.close()


def test_card_text_in_english() -> None:
    text = page_text(card_pdf(CARD, "en"))
    assert "Grocery voucher card" in text
    assert "Card number" in text


def test_the_qr_code_carries_the_card_number_without_telegram() -> None:
    assert qr_payloads(card_pdf(CARD, "it")) == ["ABCDEFGHJK"]


def test_the_qr_code_can_carry_a_telegram_deep_link() -> None:
    pdf = card_pdf(CARD, "en", LINK)
    assert qr_payloads(pdf) == [LINK]
    assert LINK in page_text(pdf)


def test_a_card_sent_in_a_chat_has_no_pin() -> None:
    phone_card = CardData("Comune di Belforte del Chienti", "ABCDEFGHJK", "RSSMRA•••••••••Z")
    pdf = card_pdf(phone_card, "en", LINK)
    assert len(read_pages(pdf)) == 1  # no slip
    text = page_text(pdf)
    assert "PIN" not in text
    assert "code we send you" in " ".join(text.split())


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "zbarimg")),
    reason="poppler-utils (pdftotext, pdftoppm) or zbar-tools (zbarimg) not installed",
)
def test_poppler_and_zbar_read_the_same_card(tmp_path: Path) -> None:
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(card_pdf(CARD, "it"))

    def text_of(page: int) -> str:
        return subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    card, slip = text_of(1), text_of(2)
    assert "ABCD EFGH JK" in card and "Forlì" in card and "482 913" not in card
    assert "482 913" in slip and "ABCD" not in slip
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True)
    card_page, slip_page = sorted(tmp_path.glob("page*.png"))

    def decoded(page: Path) -> str:
        # zbarimg exits 4 when it finds no symbol.
        return subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True
        ).stdout.strip()

    assert decoded(card_page) == "ABCDEFGHJK"
    assert decoded(slip_page) == ""  # nothing on the slip to scan


def test_deep_link() -> None:
    assert deep_link("buonispesa_test_bot", "ABCDEFGHJK") == LINK
    with pytest.raises(ValueError):
        deep_link("buonispesa_test_bot", "ABC DEF")
    with pytest.raises(ValueError):
        deep_link("no", "ABCDEFGHJK")


def test_card_number_as_typed_or_read_out() -> None:
    assert normalize_card_number(" abcd efgh-jk ") == "ABCDEFGHJK"
    assert grouped("ABCDEFGHJK") == "ABCD EFGH JK"


def test_mask_keeps_only_the_start_and_the_check_letter() -> None:
    assert mask_codice_fiscale("RSSMRA80A01H501U") == "RSSMRA•••••••••U"
    assert "80A01" not in mask_codice_fiscale("RSSMRA80A01H501U")


GRID = tuple(f"{n:03d}{(n * 7919) % 1000:03d}" for n in range(1, 31))
GRID_CARD = replace(CARD, pin=None, codes=GRID, grid=True)


def test_the_grid_of_one_time_codes_is_on_the_slip_not_on_the_card() -> None:
    (card, card_codes), (slip, slip_codes) = read_pages(card_pdf(GRID_CARD, "en"))
    words = " ".join(slip.split())
    assert card_codes == ["ABCDEFGHJK"] and slip_codes == []
    assert "codes are NOT on this card" in " ".join(card.split())
    assert not any(grouped(code, 3) in card for code in GRID)
    # Every cell, numbered 1..30, with its code grouped for reading.
    for position, code in enumerate(GRID, start=1):
        assert f"{position}. {grouped(code, 3)}" in words
    assert "ABCD" not in slip and "•••• ••GH JK" in words and "RSSMRA" not in slip
    assert "show only that cell. Never show the whole slip." in words
    assert "PIN" not in words


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)
def test_poppler_reads_the_grid_in_italian(tmp_path: Path) -> None:
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(card_pdf(GRID_CARD, "it"))
    slip = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = " ".join(slip.split())
    assert "Codici monouso della tua carta dei buoni spesa" in words
    assert "mostra solo quella casella. Non mostrare mai tutto il foglio." in words
    for position, code in enumerate(GRID, start=1):
        assert f"{position}. {grouped(code, 3)}" in words
    subprocess.run(
        ["pdftoppm", "-f", "2", "-l", "2", "-r", "100", "-png", str(pdf), str(tmp_path / "slip")],
        check=True,
    )
    assert len(list(tmp_path.glob("slip*.png"))) == 1

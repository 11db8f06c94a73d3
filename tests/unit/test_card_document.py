"""The printed card: its text, and its QR code read back from the rendered page.

Read with pdfium and zxing-cpp (tests/card_reader.py) and, when the machine has them,
with poppler's pdftotext/pdftoppm and zbarimg as a second reader.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.documents.card import card_pdf, deep_link
from core.domain.cards import grouped, mask_codice_fiscale, normalize_card_number
from core.services.cards import CardData
from tests.card_reader import read_card

CARD = CardData(
    "Comune di Forlì — Città di Sant'Agata", "ABCDEFGHJK", "RSSMRA•••••••••Z", "482913", True
)
LINK = "https://t.me/buonispesa_test_bot?start=ABCDEFGHJK"


def page_text(pdf: bytes) -> str:
    return read_card(pdf)[0]


def qr_payloads(pdf: bytes) -> list[str]:
    return read_card(pdf)[1]


def test_card_text_in_italian_with_accents() -> None:
    text = page_text(card_pdf(CARD, "it"))
    assert "Comune di Forlì — Città di Sant'Agata" in " ".join(text.split())
    assert "ABCD EFGH JK" in text
    assert "482 913" in text  # the PIN, in two groups
    assert "RSSMRA•••••••••Z" in text
    assert "Carta buoni spesa" in text
    assert "PIN" in text and "5" in text  # the holder is told the limit


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
    text = page_text(card_pdf(phone_card, "en", LINK))
    assert "PIN" not in text
    assert "code we send you" in " ".join(text.split())


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "zbarimg")),
    reason="poppler-utils (pdftotext, pdftoppm) or zbar-tools (zbarimg) not installed",
)
def test_poppler_and_zbar_read_the_same_card(tmp_path: Path) -> None:
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(card_pdf(CARD, "it"))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ABCD EFGH JK" in text and "482 913" in text and "Forlì" in text
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True
    ).stdout
    assert decoded.strip() == "ABCDEFGHJK"


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

"""The printable voucher card: an A4 page with one ID-1 card to cut out (fpdf2).

The card carries the municipality, the card number (grouped for reading out), the
holder's masked codice fiscale and a QR code of the card number (or, when the office
asks for it, of a Telegram deep link that opens the bot on the card). A card printed by
the office right after issuing it also carries the PIN, which exists nowhere else in
clear. Text is set in Source Sans Pro (shipped by a Python package, OFL), which covers
Italian accents and the other Latin letters of a name or a municipality.
"""

from __future__ import annotations

import re
from importlib import resources

import segno
from fpdf import FPDF

from core.domain import cards
from core.domain.messages import t
from core.i18n import render_text
from core.services.cards import CardData

# ISO/IEC 7810 ID-1, the size of a bank card or of the tessera sanitaria, in mm.
CARD_WIDTH = 85.6
CARD_HEIGHT = 53.98
_MARGIN = 20.0
_PADDING = 4.0
_QR_SIDE = 38.0  # about 1.3 mm a module for a 10-character code: scans from a worn print

CARD_TITLE = t("Grocery voucher card")
CARD_NUMBER = t("Card number")
CARD_HOLDER = t("Holder: {holder}")
CARD_PIN = t("PIN")
CARD_USE = t("At the checkout show the card; to pay, type or tell the PIN to the cashier.")
CARD_USE_PHONE = t(
    "Show this QR code at the checkout. You confirm every payment with a code we send you."
)
CARD_CUT = t("Cut along the dashed line and keep the card with your health card.")
CARD_PIN_SECRET = t(
    "Keep the PIN secret: whoever has the card and the PIN can spend your vouchers. "
    "After 5 wrong PINs the card is blocked: the office gives you a new one."
)
CARD_LOST = t(
    "Lost card? Tell the office at once: it gives you a new one and the lost card stops working."
)
CARD_LOST_PHONE = t("Lost card? Payments still need your code, so nobody can spend your balance.")

_FONT = "SourceSans"

# Telegram accepts deep-link payloads of 1-64 characters from this alphabet.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


def deep_link(bot_username: str, card_code: str) -> str:
    """https://t.me/<bot>?start=<card>: scanned in Telegram, it opens the bot on the card."""
    if not _USERNAME.fullmatch(bot_username):
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not _PAYLOAD.fullmatch(card_code):
        raise ValueError(f"card code not usable in a Telegram deep link: {card_code!r}")
    return f"https://t.me/{bot_username}?start={card_code}"


def qr_code(payload: str) -> segno.QRCode:
    # Level M survives a worn or creased print; the payload is short, so the symbol stays small.
    return segno.make_qr(payload, error="m", boost_error=False)


def _font_file(name: str) -> str:
    return str(resources.files("font_source_sans_pro") / "files" / name)


def _document(title: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("buonispesa")
    pdf.set_title(title)
    pdf.add_font(_FONT, "", _font_file("SourceSansPro-Regular.ttf"))
    pdf.add_font(_FONT, "B", _font_file("SourceSansPro-Bold.ttf"))
    pdf.add_page()
    return pdf


def card_pdf(card: CardData, language: str, qr_payload: str | None = None) -> bytes:
    """The page to print. The QR code carries `qr_payload`, by default the card number."""
    title = render_text(CARD_TITLE, language)
    pdf = _document(title)
    left, top = _MARGIN, _MARGIN
    pdf.set_draw_color(90)
    pdf.set_line_width(0.25)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.rect(left, top, CARD_WIDTH, CARD_HEIGHT)
    pdf.set_dash_pattern()

    qr_left = left + CARD_WIDTH - _PADDING - _QR_SIDE
    qr_top = top + (CARD_HEIGHT - _QR_SIDE) / 2
    _draw_qr(pdf, qr_code(qr_payload or card.card_code), qr_left, qr_top, _QR_SIDE)

    column = qr_left - left - 2 * _PADDING
    x = left + _PADDING
    pdf.set_left_margin(x)  # every line of the card starts here (ln() goes back to it)
    pdf.set_xy(x, top + _PADDING)
    pdf.set_font(_FONT, "B", 10)
    pdf.multi_cell(column, 4.2, title, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, "", 8)
    pdf.multi_cell(column, 3.4, card.municipality, align="L", new_x="LEFT", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(_FONT, "", 6.5)
    pdf.cell(column, 3, render_text(CARD_NUMBER, language), new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, "B", 13)
    pdf.cell(column, 5.5, cards.grouped(card.card_code), new_x="LEFT", new_y="NEXT")
    if card.pin is not None:
        pdf.set_font(_FONT, "", 6.5)
        pdf.cell(column, 3, render_text(CARD_PIN, language), new_x="LEFT", new_y="NEXT")
        pdf.set_font(_FONT, "B", 13)
        pdf.cell(column, 5.5, cards.grouped(card.pin, 3), new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, "", 6.5)
    holder = render_text(t(CARD_HOLDER.msgid, holder=card.holder), language)
    pdf.cell(column, 3.2, holder, new_x="LEFT", new_y="NEXT")
    use = CARD_USE if card.with_pin else CARD_USE_PHONE
    pdf.set_font(_FONT, "", 5.5)
    pdf.set_xy(x, top + CARD_HEIGHT - _PADDING - 7)
    pdf.multi_cell(column, 2.4, render_text(use, language), align="L")

    pdf.set_left_margin(left)
    pdf.set_xy(left, top + CARD_HEIGHT + 10)
    pdf.set_font(_FONT, "", 10)
    notes = (CARD_CUT, CARD_PIN_SECRET, CARD_LOST) if card.with_pin else (CARD_CUT, CARD_LOST_PHONE)
    width = pdf.w - 2 * _MARGIN
    for note in notes:
        pdf.multi_cell(
            width, 5, render_text(note, language), align="L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(2)
    if qr_payload and qr_payload != card.card_code:
        pdf.set_font(_FONT, "", 9)
        pdf.cell(width, 5, qr_payload)
    return bytes(pdf.output())


def _draw_qr(pdf: FPDF, qr: segno.QRCode, x: float, y: float, side: float) -> None:
    """Dark modules as filled rectangles, one per horizontal run; quiet zone within `side`."""
    border = 2  # segno's default is 4; 2 modules are enough on a white card edge
    matrix = qr.matrix
    unit = side / (len(matrix) + 2 * border)
    pdf.set_fill_color(0)
    for row_index, row in enumerate(matrix):
        top = y + (row_index + border) * unit
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(x + (start + border) * unit, top, (column - start) * unit, unit, style="F")

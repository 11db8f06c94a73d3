"""The printable voucher card: an A4 page with one ID-1 card to cut out (fpdf2).

The card carries the municipality, the card number (grouped for reading out), the
holder's masked codice fiscale and a QR code of the card number (or, when the office
asks for it, of a Telegram deep link that opens the bot on the card). Never a code: as a
bank does, the office prints on a second page a slip with the numbered one-time codes of
the card (its "carta dei codici") and only the last characters of the card number, to be
kept apart from the card; the till asks for one code by its number. The slip exists only
when the office prints the card right after issuing it (the codes exist nowhere else in
clear). Cards issued before the grids had a PIN slip instead (`_pin_slip`). Text is set
in Source Sans Pro (shipped by a Python package, OFL), which covers Italian accents and
the other Latin letters of a name or a municipality.
"""

from __future__ import annotations

import re
from importlib import resources

import segno
from fpdf import FPDF

from core.domain import cards
from core.domain.messages import Text, t
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
CARD_USE = t(
    "At the checkout show the card, then type the PIN yourself on the cashier's phone or "
    "tell it to the cashier."
)
CARD_NO_PIN_HERE = t("The PIN is NOT on this card.")
CARD_USE_PHONE = t(
    "Show this QR code at the checkout. You confirm every payment with a code we send you."
)
CARD_CUT = t("Cut along the dashed line and keep the card with your health card.")
CARD_PIN_APART = t(
    "The PIN is not on the card: it is on a separate slip. Learn it by heart, then destroy "
    "the slip. Never write the PIN on the card and never keep it with the card: whoever has "
    "the card and the PIN can spend your vouchers."
)
CARD_PIN_RULES = t(
    "After 3 wrong PINs at one shop, that shop cannot charge the card until the next day. "
    "After many wrong PINs at several shops the card is blocked: the office gives you a new one."
)
CARD_LOST = t(
    "Lost card? Tell the office at once: it gives you a new one and the lost card stops working."
)
CARD_LOST_PHONE = t("Lost card? Payments still need your code, so nobody can spend your balance.")

SLIP_TITLE = t("PIN of your grocery voucher card")
SLIP_CARD = t("For the card ending in {last}")
SLIP_LEARN = t("Learn the PIN by heart, then destroy this slip.")
SLIP_APART = t(
    "Never keep this slip with the card and never write the PIN on the card: whoever has the "
    "card and the PIN can spend your vouchers."
)
SLIP_TILL = t(
    "At the checkout type the PIN yourself on the cashier's phone, or tell it only to the "
    "cashier, so that nobody else hears it. Never tell it to anyone else: nobody, not even "
    "the office, will ask you for it."
)
SLIP_DOUBT = t(
    "If you think someone else knows your PIN, ask the office for a new card: the old card "
    "and its PIN stop working at once."
)
# The last characters of the card number on the slip: enough to match slip and card, not
# enough to charge the card with the slip alone.
SLIP_SHOWN = 4

CARD_USE_GRID = t(
    "At the checkout show the card: the cashier asks you for one code of your code slip, "
    "by its number."
)
CARD_NO_CODES_HERE = t("The codes are NOT on this card.")
CARD_CODES_APART = t(
    "The codes are not on the card: they are on a separate slip. Never write them on the "
    "card and never keep the slip with the card: whoever has the card and the slip can "
    "spend your vouchers."
)
CARD_CODES_RULES = t(
    "Each code works once. After 3 wrong codes at one shop, that shop cannot charge the card "
    "until the next day. After many wrong codes at several shops the card is blocked: the "
    "office gives you a new one."
)
GRID_TITLE = t("One-time codes of your grocery voucher card")
GRID_ASKED = t(
    "At the checkout the cashier asks you for ONE code by its number: type that code "
    "yourself on the cashier's phone, or show only that cell. Never show the whole slip."
)
GRID_ONCE = t(
    "Each code works only once. When few codes are left the cashier tells you: ask the "
    "office for a new card, with a new slip."
)
GRID_APART = t(
    "Keep this slip at home or well apart from the card. If it is lost or someone has seen "
    "it, ask the office for a new card: the old card and its codes stop working at once."
)
# The grid: this many columns of cells, each "position  123 456".
_GRID_COLUMNS = 3

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
    pdf.set_font(_FONT, "", 6.5)
    holder = render_text(t(CARD_HOLDER.msgid, holder=card.holder), language)
    pdf.cell(column, 3.2, holder, new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, "", 5.5)
    if card.with_pin and card.grid:
        pdf.set_xy(x, top + CARD_HEIGHT - _PADDING - 10)
        pdf.multi_cell(
            column,
            2.4,
            render_text(CARD_USE_GRID, language),
            align="L",
            new_x="LEFT",
            new_y="NEXT",
        )
        pdf.set_font(_FONT, "B", 5.5)
        pdf.multi_cell(column, 2.4, render_text(CARD_NO_CODES_HERE, language), align="L")
    elif card.with_pin:
        pdf.set_xy(x, top + CARD_HEIGHT - _PADDING - 10)
        pdf.multi_cell(
            column, 2.4, render_text(CARD_USE, language), align="L", new_x="LEFT", new_y="NEXT"
        )
        pdf.set_font(_FONT, "B", 5.5)
        pdf.multi_cell(column, 2.4, render_text(CARD_NO_PIN_HERE, language), align="L")
    else:
        pdf.set_xy(x, top + CARD_HEIGHT - _PADDING - 7)
        pdf.multi_cell(column, 2.4, render_text(CARD_USE_PHONE, language), align="L")

    pdf.set_left_margin(left)
    pdf.set_xy(left, top + CARD_HEIGHT + 10)
    if card.with_pin and card.grid:
        notes: tuple[Text, ...] = (CARD_CUT, CARD_CODES_APART, CARD_CODES_RULES, CARD_LOST)
    elif card.with_pin:
        notes = (CARD_CUT, CARD_PIN_APART, CARD_PIN_RULES, CARD_LOST)
    else:
        notes = (CARD_CUT, CARD_LOST_PHONE)
    _notes(pdf, notes, language, 10)
    if qr_payload and qr_payload != card.card_code:
        pdf.set_font(_FONT, "", 9)
        pdf.cell(pdf.w - 2 * _MARGIN, 5, qr_payload)
    if card.codes:
        _grid_slip(pdf, card, card.codes, language)
    elif card.pin is not None:
        _pin_slip(pdf, card, card.pin, language)
    return bytes(pdf.output())


def _notes(pdf: FPDF, notes: tuple[Text, ...], language: str, size: float) -> None:
    pdf.set_font(_FONT, "", size)
    for note in notes:
        pdf.multi_cell(
            pdf.w - 2 * _MARGIN,
            size / 2,
            render_text(note, language),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)


def _pin_slip(pdf: FPDF, card: CardData, pin: str, language: str) -> None:
    """The second page: the PIN and the last characters of the card number, nothing that
    would let whoever finds the slip alone charge the card (no full number, no QR code)."""
    _slip_head(pdf, card, SLIP_TITLE, language)
    left = _MARGIN
    box_top = pdf.get_y()
    pdf.set_draw_color(0)
    pdf.set_line_width(0.4)
    pdf.rect(left, box_top, 70, 24)
    pdf.set_xy(left + 4, box_top + 2)
    pdf.set_font(_FONT, "", 10)
    pdf.cell(60, 5, render_text(CARD_PIN, language), new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, "B", 26)
    pdf.cell(60, 13, cards.grouped(pin, 3), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(left, box_top + 24 + 8)
    _notes(pdf, (SLIP_LEARN, SLIP_APART, SLIP_TILL, SLIP_DOUBT), language, 12)


def _slip_head(pdf: FPDF, card: CardData, title: Text, language: str) -> float:
    """The title, the town and the last characters of the card number; the width left."""
    pdf.add_page()
    left = _MARGIN
    width = pdf.w - 2 * _MARGIN
    pdf.set_left_margin(left)
    pdf.set_xy(left, _MARGIN)
    pdf.set_font(_FONT, "B", 16)
    pdf.multi_cell(width, 8, render_text(title, language), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 11)
    pdf.multi_cell(width, 5.5, card.municipality, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    last = card.card_code[-SLIP_SHOWN:]
    hidden = "•" * (len(card.card_code) - len(last)) + last
    shown = render_text(t(SLIP_CARD.msgid, last=cards.grouped(hidden)), language)
    pdf.cell(width, 6, shown, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return width


def _grid_slip(pdf: FPDF, card: CardData, codes: tuple[str, ...], language: str) -> None:
    """The second page: the numbered one-time codes, as a bank's "carta dei codici", and
    the last characters of the card number (no full number, no QR code)."""
    width = _slip_head(pdf, card, GRID_TITLE, language)
    pdf.set_font(_FONT, "B", 12)
    pdf.multi_cell(
        width, 6, render_text(GRID_ASKED, language), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    rows = -(-len(codes) // _GRID_COLUMNS)
    cell_w, cell_h = width / _GRID_COLUMNS, 11.0
    top = pdf.get_y()
    pdf.set_draw_color(0)
    pdf.set_line_width(0.3)
    # Numbered down the columns, as on a bank's card: 1-10, 11-20, 21-30.
    for index, code in enumerate(codes):
        column, row = divmod(index, rows)
        x, y = _MARGIN + column * cell_w, top + row * cell_h
        pdf.rect(x, y, cell_w, cell_h)
        pdf.set_xy(x + 3, y)
        pdf.set_font(_FONT, "", 11)
        pdf.cell(14, cell_h, f"{index + 1}.", align="R")
        pdf.set_xy(x + 21, y)
        pdf.set_font(_FONT, "B", 18)
        pdf.cell(cell_w - 24, cell_h, cards.grouped(code, 3))
    pdf.set_xy(_MARGIN, top + rows * cell_h + 8)
    _notes(pdf, (GRID_ONCE, GRID_APART), language, 12)


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

"""The printable voucher card: a QR code of the bot's deep link for the card code.

A cashier scans the QR with a phone camera: Telegram opens the bot with
`/start <card code>`, and the engine starts the charge flow for that card. The
card holder scanning it gets their balance. The card carries no secret: every
payment still needs the one-time code sent to the holder (DESIGN §6).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno

from bot.pdf import MM, Page, wrap
from core.domain.messages import t
from core.i18n import render_text
from core.storage import models as m
from core.storage.uow import UnitOfWork

# ISO/IEC 7810 ID-1, the size of a bank card or of the tessera sanitaria.
CARD_WIDTH = 85.6 * MM
CARD_HEIGHT = 53.98 * MM
_MARGIN = 20 * MM
_PADDING = 4 * MM

CARD_TITLE = t("Grocery voucher card")
CARD_CODE = t("Card code")
CARD_USE = t(
    "Show this QR code at the checkout. You confirm every payment with a code we send you."
)
CARD_CUT = t("Cut along the dashed line and keep the card with your health card.")
CARD_LOST = t("Lost card? Payments still need your code, so nobody can spend your balance.")

# Telegram accepts deep-link payloads of 1-64 characters from this alphabet.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


@dataclass(frozen=True)
class CardData:
    municipality: str
    card_code: str
    holder: str  # the codice fiscale, masked


def deep_link(bot_username: str, card_code: str) -> str:
    if not _USERNAME.fullmatch(bot_username):
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not _PAYLOAD.fullmatch(card_code):
        raise ValueError(f"card code not usable in a Telegram deep link: {card_code!r}")
    return f"https://t.me/{bot_username}?start={card_code}"


def mask_codice_fiscale(cf: str) -> str:
    """Enough for the holder to recognise their card, not enough to read the code off it."""
    if len(cf) != 16:
        return "•" * 6
    return cf[:6] + "•" * 9 + cf[-1]


def _data(citizen: m.Citizen, municipality: m.Municipality) -> CardData | None:
    if citizen.erased_at is not None:
        return None
    return CardData(
        municipality.name, citizen.card_code, mask_codice_fiscale(citizen.codice_fiscale)
    )


async def card_by_code(uow: UnitOfWork, municipality_id: int, card_code: str) -> CardData | None:
    citizen = await uow.citizens.by_card_code(municipality_id, card_code)
    municipality = await uow.municipalities.by_id(municipality_id)
    if citizen is None or municipality is None:
        return None
    return _data(citizen, municipality)


async def card_by_codice_fiscale(
    uow: UnitOfWork, municipality: m.Municipality, codice_fiscale: str
) -> CardData | None:
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, codice_fiscale)
    return None if citizen is None else _data(citizen, municipality)


def qr_code(link: str) -> segno.QRCode:
    # Level M survives a worn or creased print; the link is short, so the symbol stays small.
    return segno.make_qr(link, error="m", boost_error=False)


def qr_png(link: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def card_pdf(card: CardData, link: str, language: str) -> bytes:
    """An A4 page with one ID-1 card to cut out, and the same text for the holder below it."""
    page = Page(title=render_text(CARD_TITLE, language))
    left, bottom = _MARGIN, page.height - _MARGIN - CARD_HEIGHT
    page.stroke_rect(left, bottom, CARD_WIDTH, CARD_HEIGHT, dash=3, line=0.6)

    qr_side = 40 * MM  # about 1.2 mm a module for a short link: scans from a worn print
    qr_bottom = bottom + (CARD_HEIGHT - qr_side) / 2
    _draw_qr(page, qr_code(link), left + CARD_WIDTH - _PADDING - qr_side, qr_bottom, qr_side)

    column = CARD_WIDTH - qr_side - 3 * _PADDING
    x, y = left + _PADDING, bottom + CARD_HEIGHT - _PADDING + 1
    for line in wrap(render_text(CARD_TITLE, language), "bold", 9, column)[:2]:
        y -= 10
        page.text(x, y, line, font="bold", size=9)
    for line in wrap(card.municipality, "regular", 7.5, column)[:2]:
        y -= 9
        page.text(x, y, line, size=7.5)
    y -= 14
    page.text(x, y, render_text(CARD_CODE, language), size=6.5)
    y -= 13
    page.text(x, y, _grouped(card.card_code), font="mono", size=12)
    y -= 12
    page.text(x, y, render_text(t("Holder: {holder}", holder=card.holder), language), size=6.5)
    y = bottom + _PADDING + 2
    for line in reversed(wrap(render_text(CARD_USE, language), "regular", 5.5, column)[:4]):
        page.text(x, y, line, size=5.5)
        y += 7

    y = bottom - 10 * MM
    for text in (CARD_CUT, CARD_LOST):
        for line in wrap(render_text(text, language), "regular", 10, page.width - 2 * _MARGIN):
            page.text(left, y, line, size=10)
            y -= 14
        y -= 4
    page.text(left, y - 6, link, font="mono", size=9)
    return page.to_pdf()


def _grouped(code: str) -> str:
    """ABCD EFGH JK: easier to read out to a cashier over the counter."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _draw_qr(page: Page, qr: segno.QRCode, x: float, y: float, side: float) -> None:
    """Dark modules as filled rectangles, one per horizontal run, quiet zone included in `side`."""
    border = 2  # segno's default is 4; 2 modules are enough on a white card edge
    matrix = qr.matrix
    modules = len(matrix) + 2 * border
    unit = side / modules
    for row_index, row in enumerate(matrix):
        top = y + side - (row_index + border + 1) * unit
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            page.fill_rect(x + (start + border) * unit, top, (column - start) * unit, unit)

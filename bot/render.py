"""A channel-agnostic Reply, planned as Telegram API calls.

Planning is pure (no I/O) so it is tested on its own; the sender executes the
plan. Texts are sent as plain text, never Markdown/HTML: shop names and user
input would otherwise need escaping and could break or spoof formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit

from bot.callbacks import CallbackSigner
from core.dialogue.hints import for_buttons
from core.domain.messages import Option, Reply, t
from core.i18n import render_text

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
# Inline buttons share a row while their labels are short (1 2 3 4, Sì / No);
# long labels (shop names) get a row each so they are not cut off on phones.
_ROW_CHARACTERS = 28
_ROW_BUTTONS = 4

SHARE_CONTACT = t("Share my phone number")
SEND_LOCATION = t("Send my location")
CHOOSE = t("Choose an option:")
OR_CHOOSE = t("Or choose an option:")


@dataclass(frozen=True)
class SendText:
    text: str
    markup: Markup | None = None
    # Payment codes: Telegram clients then refuse to forward or save the message.
    protect: bool = False


@dataclass(frozen=True)
class SendPin:
    """A shop on the map: a venue (sendVenue) that shows its name and address."""

    latitude: float
    longitude: float
    title: str = ""
    address: str = ""


@dataclass(frozen=True)
class SendDocument:
    kind: str
    ref: str


@dataclass(frozen=True)
class SendInvoice:
    """A Telegram Payments invoice (sendInvoice): amount in the currency's smallest unit."""

    title: str
    description: str
    payload: str
    currency: str
    label: str
    amount: int


# Telegram's limits for an invoice's title and description.
INVOICE_TITLE = 32
INVOICE_DESCRIPTION = 255

Step = SendText | SendPin | SendDocument | SendInvoice


def plan(reply: Reply, chat_id: str, language: str, signer: CallbackSigner) -> list[Step]:
    """The calls that show `reply` in chat `chat_id`, in order."""
    # One message, one line per text (a summary's labelled lines stay together); hints
    # that speak of typing numbers are said as buttons are used (core.dialogue.hints).
    body = "\n".join(render_text(for_buttons(text), language) for text in reply.texts).strip()
    inline = inline_keyboard(reply.options, chat_id, language, signer) if reply.options else None
    steps: list[Step] = []
    if reply.request is not None:
        prompt = body or render_text(CHOOSE, language)
        steps += _text_steps(prompt, request_keyboard(reply.request, language), reply.sensitive)
        if inline is not None:
            # One message carries one keyboard: the choices go on a message of their own.
            steps.append(SendText(render_text(OR_CHOOSE, language), inline, reply.sensitive))
    elif inline is not None:
        steps += _text_steps(body or render_text(CHOOSE, language), inline, reply.sensitive)
    elif body:
        # A plain answer also clears a contact/location keyboard the user ignored.
        steps += _text_steps(body, ReplyKeyboardRemove(), reply.sensitive)
    if reply.pin is not None:
        pin = reply.pin
        steps.append(SendPin(pin.latitude, pin.longitude, pin.title, pin.address))
    if reply.document is not None:
        steps.append(SendDocument(reply.document.kind, reply.document.ref))
    if reply.invoice is not None:
        invoice = reply.invoice
        steps.append(
            SendInvoice(
                render_text(invoice.title, language)[:INVOICE_TITLE],
                render_text(invoice.description, language)[:INVOICE_DESCRIPTION],
                invoice.payload,
                invoice.currency,
                render_text(invoice.label, language),
                invoice.amount_cents,
            )
        )
    return steps


def inline_keyboard(
    options: Sequence[Option], chat_id: str, language: str, signer: CallbackSigner
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            render_text(o.label, language), callback_data=signer.sign(chat_id, o.key)
        )
        for o in options
    ]
    return InlineKeyboardMarkup(pack_rows(buttons))


def pack_rows(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for button in buttons:
        size = len(button.text) + 2  # a button's padding counts too
        if rows and len(rows[-1]) < _ROW_BUTTONS and width + size <= _ROW_CHARACTERS:
            rows[-1].append(button)
            width += size
        else:
            rows.append([button])
            width = size
    return rows


def request_keyboard(request: str, language: str) -> ReplyKeyboardMarkup:
    if request == "contact":
        # Not one-time, and persistent: a cancelled share, a sticker or a typed word leaves
        # the button on the screen; the next plain reply (after the contact) removes it.
        button = KeyboardButton("📱 " + render_text(SHARE_CONTACT, language), request_contact=True)
        return ReplyKeyboardMarkup(
            [[button]], resize_keyboard=True, one_time_keyboard=False, is_persistent=True
        )
    if request == "location":
        button = KeyboardButton("📍 " + render_text(SEND_LOCATION, language), request_location=True)
    else:
        raise ValueError(f"unknown request {request!r}")
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


def _text_steps(text: str, markup: Markup | None, protect: bool) -> list[SendText]:
    """Long texts (a long shop list) in several messages; the keyboard on the last one."""
    chunks = split_text(text)
    return [
        SendText(chunk, markup if index == len(chunks) - 1 else None, protect)
        for index, chunk in enumerate(chunks)
    ]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, then line, then word ends."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        # The coarsest boundary that still fills at least half a message.
        cut = next(
            (at for sep in ("\n\n", "\n", " ") if (at := window.rfind(sep)) > limit // 2), limit
        )
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces

"""Every refusal the core can give, said as a sentence a citizen or a cashier understands.

Services raise DomainError with a stable `code`; the dialogue never shows the
code itself. Unknown codes fall back to a generic apology (and a test lists the
codes the flows can meet, so a new one without a sentence is noticed).
"""

from __future__ import annotations

from datetime import datetime

from core.domain.cards import SLIP_PIN
from core.domain.errors import DomainError, Refusal
from core.domain.messages import Moment, Money, Text, t

# The one answer to every identity refusal (a codice fiscale, a phone or a Telegram user
# that belongs to someone else): the same words whatever the reason, so that it reveals
# nothing, and the way out: the office.
IDENTITY_REFUSED = t(
    "We cannot do this from the chat. Please go to the social services office of your "
    "municipality with an identity document."
)

_SENTENCES: dict[str, Text] = {
    Refusal.IDENTITY_REFUSED: IDENTITY_REFUSED,
    # Identifiers typed by people.
    "codice_fiscale.checksum": t(
        "This codice fiscale does not add up: its last letter (the check character) does not "
        "match the others. Check it on your health card and write it again."
    ),
    "codice_fiscale.length": t(
        "A codice fiscale has 16 letters and digits, like RSSMRA85T10A562S. Write it again."
    ),
    "codice_fiscale.format": t(
        "This is not a codice fiscale: it looks like RSSMRA85T10A562S. Check letters and digits "
        "and write it again."
    ),
    "partita_iva.checksum": t(
        "This partita IVA does not add up: its last digit does not match. Check it and "
        "write it again."
    ),
    "partita_iva.length": t("A partita IVA has 11 digits. Write it again."),
    "partita_iva.office": t(
        "This partita IVA does not exist: digits 8 to 10 (the tax office code) are not valid. "
        "Check it and write it again."
    ),
    "partita_iva.format": t("A partita IVA has 11 digits, with no letters. Write it again."),
    "iban.checksum": t("This IBAN does not add up: check its digits and write it again."),
    "iban.length": t(
        "This IBAN has the wrong length: an Italian IBAN has 27 characters. Write it again."
    ),
    "iban.format": t(
        "This is not an IBAN: it looks like IT60X0542811101000000123456. Write it again."
    ),
    # At the till: every card number has 10 characters (core.domain.cards.check_card_number).
    Refusal.CARD_LENGTH: t(
        "A card number has 10 letters and digits, like ABCD EFGH JK. Check it on the card and "
        "write it again."
    ),
    # Words no card's number can be (core.domain.cards.check_card_number): a name, a 0, O,
    # 1 or I. The same whoever exists.
    Refusal.CARD_FORMAT: t(
        "This is not a card number (10 letters and digits, never 0, O, 1 or I, like ABCD EFGH "
        "JK). Write the card number, the codice fiscale or the phone, not the name."
    ),
    # Who pays, at the till: eleven digits (core.domain.identity.check_not_eleven_digits),
    # or an amount alone with nobody named.
    Refusal.PAYER_ELEVEN_DIGITS: t(
        "11 digits are not a codice fiscale or a mobile (a partita IVA? a receipt?). Write "
        "the codice fiscale, mobile or card number; a voucher's number starts with V."
    ),
    Refusal.PAYER_MISSING: t(
        "Who pays is missing: write PAGA, then the codice fiscale, phone or card number, then "
        "the amount. E.g. PAGA RSSMRA85T10A562S 12,50"
    ),
    # A landline or a toll-free number: the customer's code could never arrive by SMS.
    Refusal.PAYER_NO_SMS: t(
        "This number cannot receive SMS (a landline?): the customer pays with their codice "
        "fiscale, mobile number or card. Write one of them."
    ),
    "phone.format": t("This is not a phone number. Write it again, e.g. 3331234567."),
    "phone.invalid": t("This phone number does not exist. Write it again, e.g. 3331234567."),
    # A number typed for somebody's codes (the office's desk, a gift): they go by SMS.
    "phone.landline": t("This is a landline: the codes arrive by SMS, a mobile number is needed."),
    "phone.not_mobile": t(
        "This number cannot receive SMS: the codes arrive by SMS, a mobile number is needed."
    ),
    Refusal.PHONE_TOWN_NUMBER: t(
        "This is the municipality's own SMS number: the codes arrive by SMS, the person's "
        "mobile number is needed."
    ),
    # Amounts.
    "amount.negative": t("The amount cannot be negative. Write it again, e.g. 12,50."),
    "amount.empty": t("Write an amount in euro, e.g. 12,50."),
    "amount.not_a_number": t("This is not an amount. Write it in euro, e.g. 12,50."),
    "amount.too_many_decimals": t("An amount has at most two decimals (cents), e.g. 12,50."),
    "amount.split": t("Write the amount like 12,50: a comma before the cents, no space."),
    "amount.too_large": t("This amount is far too large. Write it in euro, e.g. 12,50."),
    # Applications.
    Refusal.APPLICATION_WITHDRAWN: t("This application has been withdrawn by the office."),
    Refusal.APPLICATION_WINDOW_CLOSED: t(
        "Applications are closed: it is no longer possible to apply or make changes."
    ),
    Refusal.APPLICATION_ALREADY_APPLIED: t(
        "An application for this codice fiscale has already been made in this round. "
        "Send STATO to see how it is going."
    ),
    Refusal.IDENTITY_PHONE_IS_SHOP: t(
        "This number charges vouchers for a shop, so it cannot apply for them: apply from "
        "another phone, or at the office."
    ),
    Refusal.APPLICATION_BAD_HOUSEHOLD_SIZE: t("The household has at least one member: you."),
    Refusal.APPLICATION_NEGATIVE_AMOUNT: t("Amounts cannot be negative."),
    Refusal.APPLICATION_NOT_FOUND: t("We found no application of yours."),
    # Shops.
    Refusal.SHOP_NOT_APPROVED: t(
        "Your shop is not approved yet: the municipality will tell you when it is."
    ),
    Refusal.SHOP_MEMBER_IS_CITIZEN: t(
        "This number receives the payment codes of a voucher holder, so it cannot charge "
        "vouchers for a shop: use another phone, or ask the office."
    ),
    Refusal.SHOP_MEMBER_PHONE_MISSING: t(
        "Share your own phone number with the button first: nothing was changed."
    ),
    Refusal.SHOP_LOCKED: t("Too many wrong codes: your shop can charge again from {until}."),
    Refusal.SHOP_BLOCKED: t(
        "Too many wrong codes: your shop cannot charge until the municipality's office unlocks it."
    ),
    Refusal.LOOKUP_TOO_MANY: t("Too many searches this hour. Try again later."),
    Refusal.PAYMENT_CODES_TOO_MANY: t(
        "Too many payment requests for this person: nothing was sent. Try again from {when}."
    ),
    Refusal.PAYMENT_CODE_TO_SHOP: t(
        "The payment code of this person would go to a phone or chat of your shop: nothing "
        "was sent. They must ask the office to correct it."
    ),
    # The person's codes stopped after wrong codes at several shops (a guesser going from
    # shop to shop); the card has its own slip and limit.
    Refusal.PAYMENT_CODES_STOPPED: t(
        "Too many wrong codes for this person at several shops: no code until {until}. "
        "Nothing sent. They can ask the office."
    ),
    Refusal.SHOP_NAME_MISSING: t("Write the name of the shop."),
    # One SMS with a name of 40 characters, twice.
    Refusal.SHOP_NAME_TAKEN: t(
        'There is already a shop called {name}: add the street or the area, e.g. "{name} via Roma".'
    ),
    Refusal.SHOP_ALREADY_REGISTERED: t(
        "A shop with this partita IVA is already registered: nothing was sent. If it is "
        "yours, register from the owner's phone, or go to the municipality's office."
    ),
    Refusal.SHOP_BAD_POSITION: t("This position is not valid. Share it again or skip."),
    Refusal.SHOP_NOT_FOUND: t("Shop not found."),
    Refusal.SHOP_MEMBER_NOT_FOUND: t("This person no longer works for the shop."),
    # Read again when the code comes back: the rights the chat has now, not when it began.
    Refusal.SHOP_NOT_MEMBER: t("You no longer work for this shop: nothing was changed."),
    Refusal.SHOP_NOT_OWNER: t(
        "Only the owner of the shop can do this, and this chat no longer is: nothing was changed."
    ),
    # One SMS: who sees them, and how.
    Refusal.SHOP_REIMBURSEMENTS_OWNER_ONLY: t(
        "Only the owner of the shop sees what the municipality reimburses it: the owner "
        "writes RIMBORSI from their own chat."
    ),
    Refusal.SHOP_OWNER_NOT_REMOVABLE: t(
        "The owner of a shop cannot be removed from it: to change the owner, ask the "
        "municipality's office."
    ),
    Refusal.INVITE_INVALID: t(
        "This cashier code is not valid or has expired. Ask the shop owner for a new one."
    ),
    Refusal.INVITE_TOO_MANY: t(
        "Too many wrong cashier codes from this chat today. Try again tomorrow."
    ),
    # Payments.
    Refusal.PAYMENT_BAD_AMOUNT: t("The amount must be more than zero."),
    # The same ceiling for every customer: it says nothing of anyone's balance.
    Refusal.PAYMENT_ABOVE_LIMIT: t(
        "A single payment can be at most {ceiling}: check the amount. Nothing was sent to the "
        "customer."
    ),
    Refusal.PAYMENT_INSUFFICIENT_FUNDS: t(
        "The balance is not enough for this amount. Payment not started."
    ),
    Refusal.CITIZEN_NOT_FOUND: t(
        "No voucher holder found. Check the codice fiscale, phone number or card code "
        "and write it again."
    ),
    Refusal.CITIZEN_UNREACHABLE: t(
        "We cannot send the code to this person: they have no phone or chat. Ask them "
        "to contact the office."
    ),
    # A card with a grid of codes; an old card's PIN is named instead (_PIN_CARD below).
    Refusal.CARD_BLOCKED: t(
        "This card is blocked after too many wrong codes. The holder must ask the office for "
        "a new card."
    ),
    Refusal.CARD_LOCKED_AT_SHOP: t(
        "Too many wrong codes for this card here: this shop can charge it again from "
        "{until}. It still works at other shops."
    ),
    Refusal.CARD_CODES_USED_UP: t(
        "Every code of this card was used: it pays no more. The holder must ask the office "
        "of {town} for a new card."
    ),
    Refusal.CHARGE_NOT_FOUND: t("Payment not found."),
    Refusal.REFUND_NEEDS_CITIZEN_CODE: t(
        "A cashier refunds only with the code sent to the customer, or the owner refunds."
    ),
    Refusal.REFUND_NOT_TODAY: t(
        "Only payments of today that are not refunded yet can be refunded."
    ),
    Refusal.REFUND_ALREADY_REFUNDED: t(
        "This payment has already been refunded: it cannot be refunded twice."
    ),
    # A cashier's refund: too many codes sent to the customer, or from the shop.
    # No time for the customer's limit: other shops' codes set it (refund_codes).
    Refusal.REFUND_CODES_TOO_MANY: t(
        "Too many refund codes were sent to this customer: none was sent now. Try again "
        "later, or ask the owner to refund."
    ),
    Refusal.REFUND_SHOP_CODES_TOO_MANY: t(
        "Too many refund codes were sent from this shop in the last hour: none was sent now. "
        "Try again from {when}, or ask the owner to refund."
    ),
    Refusal.REFUND_ALREADY_SETTLED: t(
        "This payment has already been reimbursed by the municipality: contact the "
        "office to undo it."
    ),
    # The office revoked the customer's vouchers after the payment (a check found a false
    # declaration): the customer's business, which the shop is not told, as when the office
    # stops a payment waiting for its code (flows/charge_texts.py); only what it can do.
    Refusal.REFUND_REVOKED: t(
        "Only the municipality's office can undo this payment now: contact the office."
    ),
    # The office erased the customer's data since the payment: their account stays empty.
    Refusal.REFUND_CUSTOMER_ERASED: t(
        "This customer's account was closed by the office: nothing was refunded. For a "
        "refund, the office can help."
    ),
    # Community vouchers and donations.
    Refusal.VOUCHER_NOT_FOUND: t("No voucher with this number here. Check it and write it again."),
    Refusal.VOUCHER_OTHER_SHOP: t(
        "This voucher belongs to another shop: it can be spent only there. Payment not started."
    ),
    Refusal.VOUCHER_CODE_TO_SHOP: t(
        "The code of this voucher would go to a phone or chat of your shop: nothing was sent. "
        "Your shop cannot charge it."
    ),
    Refusal.VOUCHER_EMPTY: t("Nothing is left on this voucher."),
    Refusal.VOUCHER_REFUNDED: t("This voucher was refunded: it can no longer be spent."),
    Refusal.VOUCHER_BAD_LIMITS: t(
        "Limits from 1 to 1000 euro, the maximum not below the minimum. E.g. 10 100."
    ),
    Refusal.VOUCHER_REFUND_REFERENCE: t(
        "Write the refund reference the payment provider gave you (at most 128 characters)."
    ),
    Refusal.VOUCHER_NOT_REFUNDABLE: t(
        "This voucher cannot be refunded: only vouchers nobody spent, within the days the "
        "municipality allows."
    ),
    Refusal.COMMUNITY_UNKNOWN_PAYMENT: t(
        "We could not match this payment. Please contact the office."
    ),
    Refusal.DONATIONS_NOT_AVAILABLE: t("There are not enough donations to grant this amount."),
}

GENERIC = t("Sorry, that did not work. Please try again.")

# The same refusals for a card issued before the grids, which pays with its PIN
# (a DomainError's `slip` is cards.SLIP_PIN).
_PIN_CARD: dict[str, Text] = {
    Refusal.CARD_BLOCKED: t(
        "This card is blocked after too many wrong PINs. The holder must ask the office for "
        "a new card."
    ),
    Refusal.CARD_LOCKED_AT_SHOP: t(
        "Too many wrong PINs for this card here: this shop can charge it again from {until}. "
        "It still works at other shops."
    ),
}


def _reason(code: str) -> str:
    # "codice_fiscale.component" and "…invalid" read like a format error to a person;
    # a partita IVA's invalid component is its tax office code (digits 8 to 10), or all zeros.
    kind, _, reason = code.partition(".")
    if kind == "partita_iva" and reason == "component":
        return "partita_iva.office"
    if kind in {"codice_fiscale", "partita_iva", "iban"} and reason in {"component", "invalid"}:
        return f"{kind}.format"
    return code


def error_text(error: DomainError) -> Text:
    """The sentence for a refusal; placeholders filled from the error's parameters."""
    code = _reason(error.code)
    if code == "partita_iva.format":
        typed = "".join(str(error.params.get("value", "")).split()).upper().removeprefix("IT")
        if typed.isdigit() and len(typed) == 11:
            # Eleven digits, no letters: what is wrong is the office code (00000000000).
            code = "partita_iva.office"
    template = _SENTENCES.get(code)
    if template is None:
        return GENERIC
    pin_card = error.params.get("slip") == SLIP_PIN
    if pin_card and code in _PIN_CARD:
        template = _PIN_CARD[code]
    if error.code == "shop.locked":
        until = str(error.params.get("until", ""))
        try:
            return t(template.msgid, until=Moment(datetime.fromisoformat(until)))
        except ValueError:
            return t("Too many wrong codes: your shop cannot charge for a while.")
    if error.code == Refusal.REFUND_SHOP_CODES_TOO_MANY:
        try:
            when = datetime.fromisoformat(str(error.params.get("when", "")))
        except ValueError:
            return t("Too many refund codes were sent: none was sent now. Try again later.")
        return t(template.msgid, when=Moment(when))
    if error.code == Refusal.PAYMENT_CODES_TOO_MANY:
        try:
            when = datetime.fromisoformat(str(error.params.get("when", "")))
        except ValueError:
            return t(
                "Too many payment requests for this person: nothing was sent. Try again later."
            )
        return t(template.msgid, when=Moment(when))
    if error.code == Refusal.PAYMENT_CODES_STOPPED:
        try:
            stopped = datetime.fromisoformat(str(error.params.get("until", "")))
        except ValueError:
            return t(
                "Too many wrong codes for this person at several shops: no code can be sent "
                "for now. Nothing sent."
            )
        return t(template.msgid, until=Moment(stopped))
    if error.code == Refusal.PAYMENT_ABOVE_LIMIT:
        limit = error.params.get("limit")
        if isinstance(limit, int):
            return t(template.msgid, ceiling=Money(limit))
        return t("This amount is too large for a single payment: check it.")
    if error.code == Refusal.SHOP_NAME_TAKEN:
        return t(template.msgid, name=str(error.params.get("name", "")))
    if error.code == Refusal.CARD_CODES_USED_UP:
        return t(template.msgid, town=str(error.params.get("town", "")))
    if error.code == "card.locked_at_shop":
        until = str(error.params.get("until", ""))
        try:
            return t(template.msgid, until=Moment(datetime.fromisoformat(until)))
        except ValueError:
            if pin_card:
                return t(
                    "Too many wrong PINs for this card here: this shop cannot charge it for a "
                    "while. It still works at other shops."
                )
            return t(
                "Too many wrong codes for this card here: this shop cannot charge it for a "
                "while. It still works at other shops."
            )
    return template


def known_codes() -> frozenset[str]:
    return frozenset(_SENTENCES)

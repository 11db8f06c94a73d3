"""The request step of a charge: who pays and the amount, read from what the cashier writes
after PAGA or at "Who pays?" ("RSSMRA85T10A562S 12,50", "333 100 0005 10", "12,50 per
3331000002", "PAGA dieci euro"). Pure readings of the line, nobody looked up: which words
are who pays and which the amount (split_request), a line that names nobody (an amount
alone, names_nobody), what is wrong with who pays as written (_reference_error), and six
digits typed by habit for the customer's code (looks_like_code). Apart from the flow
(flows/charge.py), which asks and charges, so that the many ways a till's line is written
can be read in one place.
"""

from __future__ import annotations

import re

from core.dialogue import words
from core.dialogue.words import split_amount
from core.domain import cards as card_domain
from core.domain.cards import CARD_CODE_LENGTH, normalize_card_number
from core.domain.community import looks_like_voucher_code
from core.domain.errors import DomainError, InvalidIdentifier
from core.domain.identity import (
    check_not_eleven_digits,
    eleven_digits_no_sms_reaches,
    is_phone_number,
    is_sms_phone_number,
    looks_like_codice_fiscale,
    parse_reference,
    receives_sms,
)
from core.domain.messages import t


def _reference_error(reference: str) -> DomainError | None:
    """What is wrong with who pays as written (not a codice fiscale, phone or card code
    can be), or None; nobody is looked up. Refused as a mistyped codice fiscale is, so that
    with a payment waiting the slip changes nothing (_start): nobody named at all (an
    amount alone, "5OO": names_nobody), eleven digits (a partita IVA, a receipt's number),
    a number no SMS reaches (a landline, a toll-free number: the customer's code could
    never arrive), a phone number with an O for a zero, words no card's number can be
    ("Mario Rossi", a 0, O, 1 or I) or of another length than every card's. Each is said
    from the words alone, the same whoever exists."""
    try:
        if names_nobody(reference):
            raise InvalidIdentifier("payer", reference, "missing")
        check_not_eleven_digits(reference)
        kind, value = parse_reference(reference)
        if kind == "phone" and not receives_sms(value):
            raise InvalidIdentifier("payer", reference, "no_sms")
        if kind == "card" and not looks_like_voucher_code(reference):
            if card_domain.reads_as_digits(reference):
                # As many digits as a phone's, no amount's sign: an O typed for a zero.
                raise InvalidIdentifier("phone", reference, "format")
            card_domain.check_card_number(reference)
    except InvalidIdentifier as error:
        if error.kind == "codice_fiscale" and _card_in_groups(reference):
            # "ABCD EFGH JKL": eleven characters pass for the shape of a codice fiscale,
            # but in the card's printed groups they are a card number, one too long.
            return InvalidIdentifier("card", reference, "length")
        return error
    except DomainError as error:
        return error
    return None


# Digits (an O for a zero counted) from which digits with no amount's sign are a phone
# number mistyped rather than an amount: no amount at a till has so many.
_PHONE_DIGITS = 8


def names_nobody(reference: str) -> bool:
    """Whether what was written for who pays (split_request's reference) names nobody: the
    line is an amount alone. Nothing at all ("PAGA 3 euro e 50"), or digits with an
    amount's signs, an O for a zero counted ("4,30", "12 €", "-5", "5OO", "12,5O", the "5"
    of "5 5"): the total the register shows, typed before the customer says who they are.
    Nobody's reference reads so: a phone has six digits or more (parse_reference), a card
    or a voucher number letters; eleven digits are said for what they are not, and as
    many digits as a phone's with no amount's sign are a phone number mistyped
    (_reference_error). The one reading of an amount alone: _who_and_amount keeps it when
    nothing waits at the till, and refuses it while a payment waits. (Whether it is a
    valid amount is the amount's own check.)"""
    if not reference.strip():
        return True
    if eleven_digits_no_sms_reaches(reference):
        return False
    try:
        kind, _ = parse_reference(reference)
    except DomainError:
        return False
    if kind != "card" or not card_domain.reads_as_digits(reference):
        return False
    digits = sum(ch.isdigit() or ch in "oO" for ch in reference)
    return digits < _PHONE_DIGITS or any(ch in ",.€" for ch in reference)


def _card_in_groups(text: str) -> bool:
    # A codice fiscale has 16 characters, whatever groups it is written in.
    return card_domain.in_printed_groups(text) and len(normalize_card_number(text)) != 16


def split_request(arg: str) -> tuple[str, str | None]:
    """What a cashier wrote for who pays, perhaps followed by the amount, read alike after
    PAGA and at "Who pays?": "RSSMRA85T10A562S 12,50", "3331000005 10" -> (reference,
    amount); the amount is the last word, if any (words.split_amount). When the words
    before it are nobody's reference but the whole line is one, the line is who pays and
    no amount was written: a phone in pieces ("333 100 0005"), a card number in its
    printed groups ("ABCD EFGH 23")."""
    arg = _without_linking_words(arg)
    spelled = words.euro_and_cents(arg)
    if spelled is not None:
        # "3 euro e 50" alone: an amount, and nobody named (names_nobody).
        return "", spelled
    said = _amount_said_after_phone(arg)
    if said is not None:
        return said  # "3331000002 dieci euro": the phone, then the amount in words
    if words.spoken_amount(arg) is not None or words.says_amount_in_words(arg):
        # "PAGA dieci euro": the total said in words, nobody named yet; never a name
        # refused as a card number ("cento e venti" is asked in figures by amount_of).
        return "", arg
    reference, amount = split_amount(arg)
    line = " ".join(word for word in arg.split() if not words.is_currency(word))
    phone_after = _amount_then_phone(line)
    if phone_after is not None:
        return phone_after
    if eleven_digits_no_sms_reaches(line) and not is_phone_number(reference):
        # "0123 4567 897": a partita IVA in groups, not "0123" and an amount "4567 897"; but
        # a phone number and then the amount are who pays and the amount, whether an SMS
        # reaches that phone or not: "333 123456 10" is a mobile and 10 euro, and
        # "0612345678 5" ("06 1234 5678 5") a landline and 5 euro, refused as a landline
        # (_reference_error), as it is with an amount of two digits or with cents.
        return line, None
    if amount is not None and not is_sms_phone_number(reference):
        head, _, last = reference.rpartition(" ")
        if last.isascii() and last.isdigit() and len(last) <= 3 and is_sms_phone_number(head):
            # "333 100 0001 2 50": a mobile in its groups, then 2,50 typed with a space, not
            # a phone ending in "2" (eleven digits, or a number no SMS reaches) and 50 euro;
            # said as the amount's error, as after the phone in one piece.
            return head, f"{last} {amount}"
    if amount is None:
        # "ABCD EFGH 23 7,5O": a card number and then an amount mistyped (no amount to
        # split_amount), said as the amount's error; not a card number of 13 symbols,
        # which would be looked up as nobody's after the amount is asked again.
        head, _, last = line.rpartition(" ")
        if _card_number(head) and not _card_number(line):
            return head, last
        # The same after a card number mistyped too ("FEVY 57ED N 7,5O"): both errors said.
        if _card_tried(head) and not _card_tried(line) and any(ch.isdigit() for ch in last):
            return head, last
        return reference, amount
    if not _whole_reference(reference, amount, line):
        return reference, amount
    return line, None


# A word joining the amount to who pays ("incassa 5 euro da 3331000002", "12,50 per
# RSSMRA85T10A562S", "5 euro from 3331000002"): left out before a phone number or a
# codice fiscale written in one piece, as if not written. Nowhere else (a card's last group
# may read "DA"), and it makes no amount of plain digits: "5 da 3331000002" stays the
# phone format's error, as "5 3331000002" is.
_LINKING = frozenset({"da", "a", "al", "alla", "per", "di", "from", "to", "for"})
_PHONE_DIGITS_AT_LEAST = 8


def _without_linking_words(arg: str) -> str:
    pieces = arg.split()
    kept = [
        piece
        for at, piece in enumerate(pieces)
        if piece.lower() not in _LINKING
        or at + 1 == len(pieces)
        or not _payer_in_one_word(pieces[at + 1])
    ]
    return " ".join(kept) if len(kept) < len(pieces) else arg


def _payer_in_one_word(word: str) -> bool:
    digits = word.removeprefix("+")
    phone = digits.isdigit() and len(digits) >= _PHONE_DIGITS_AT_LEAST
    return phone or looks_like_codice_fiscale(word)


def _amount_said_after_phone(arg: str) -> tuple[str, str] | None:
    """ "3331000002 dieci euro", "333 100 0002 venti e cinquanta": a phone number and then
    an amount in words (words.spoken_amount), or words of an amount that could be read two
    ways ("cento e venti": asked in figures by amount_of). Only after a phone number: a
    card's printed groups may spell a number ("CENT"), and after a codice fiscale
    split_amount already takes the rest as the amount. None otherwise."""
    pieces = arg.split()
    for at in range(1, len(pieces)):
        head, tail = " ".join(pieces[:at]), " ".join(pieces[at:])
        if not pieces[at].isalpha() or words.is_currency(pieces[at]):
            continue
        if words.spoken_amount(tail) is None and not words.says_amount_in_words(tail):
            continue
        return (head, tail) if is_phone_number(head) else None
    return None


# Plain digits an amount is typed in before the phone (no amount at a till has more).
_PLAIN_AMOUNT_DIGITS = 4


def _amount_then_phone(line: str) -> tuple[str, str] | None:
    """ "5 0612345678": the amount in plain digits and then a number no SMS reaches (a
    landline), the whole line being no phone number itself ("06 1234 5678" is one): who
    pays and the amount, as written the other way round ("0612345678 5"), so that the
    landline is refused as a landline, never as eleven digits. None otherwise."""
    first, _, rest = line.partition(" ")
    if not (first.isdigit() and len(first) <= _PLAIN_AMOUNT_DIGITS and rest.strip()):
        return None
    if not is_phone_number(rest) or is_phone_number(line):
        return None
    # A mobile after plain digits stays as it was: no amount is guessed before a number
    # that could pay (tests/dialogue/test_shop.py); one no SMS reaches can never pay.
    return None if is_sms_phone_number(rest) else (rest, first)


def _card_number(text: str) -> bool:
    """Whether the words are a card number as printed (its groups perhaps apart)."""
    try:
        kind, _ = parse_reference(text)
    except DomainError:
        return False
    return kind == "card" and len(normalize_card_number(text)) == CARD_CODE_LENGTH


def _card_tried(text: str) -> bool:
    """Whether the words are a card number, of the right length or not."""
    try:
        kind, _ = parse_reference(text)
    except DomainError:
        return False
    return kind == "card" and card_domain.tried_card_number(text)


def _whole_reference(reference: str, amount: str, line: str) -> bool:
    try:
        kind, _ = parse_reference(reference)
    except DomainError:
        # "333 100" is no phone; "333 100 0005" is one.
        try:
            return parse_reference(line)[0] == "phone"
        except DomainError:
            return False
    # A card number's last group of digits, not an amount: "ABCD EFGH" and "23". Only
    # where a printed group ends: "EUCJ DRQR W 5" is a card number with a symbol missing
    # and 5 euro (its last group cut in two is no card's), refused for its length.
    return (
        kind == "card"
        and " " in reference.strip()
        and amount.isdigit()
        and len(normalize_card_number(reference)) + len(amount) == CARD_CODE_LENGTH
        and card_domain.apart_where_printed(line.strip().upper())
    )


# An amount in words that reads two ways ("cento e venti", "venti e cinque").
AMOUNT_IN_FIGURES = t(
    "Write the amount in figures, with the cents after a comma: e.g. 120,00 or 20,50."
)

# Six digits alone (perhaps read out in two threes) at the till are the customer's code
# typed by habit, never an amount: "113616" must not become a charge of 113.616,00 €.
_CODE_LIKE = re.compile(r"\d{3}[ .-]?\d{3}")


def looks_like_code(text: str) -> bool:
    return _CODE_LIKE.fullmatch(words.clean(text)) is not None


# Six digits written for who pays (no mobile number has six): the customer's code, most
# likely, typed by habit after PAGA. Never judged as a code there, right or wrong.
CODE_ALONE = t(
    "Six digits are not who pays. If they are the customer's code, write just the 6 digits, "
    "without PAGA."
)
WHO_FIRST = t(
    "Six digits are not who pays: the customer's code comes after. First write who pays and "
    "the amount, e.g. PAGA RSSMRA85T10A562S 12,50"
)

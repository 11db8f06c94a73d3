"""What a shop's cashier types at the till: who pays and the amount in one line, in
either order and with the currency anywhere ("PAGA RSSMRA85T10A562S 12,50", "12,50 €
3331000002"), PAGA typed with a slip, and a menu's digit sent with a phone number. A
payment still needs the customer's own code, so a line read generously pays nothing by
itself."""

from __future__ import annotations

import re
from itertools import pairwise

from babel.dates import get_month_names

from core.dialogue.words.codice_fiscale import codice_fiscale_written
from core.dialogue.words.money import _AMOUNT_LIKE, euro_and_cents, is_currency
from core.dialogue.words.text import clean, fold, has_digits, typo_distance
from core.domain import cards as card_domain
from core.domain.cards import tried_card_number
from core.domain.identity import is_phone_number, looks_like_codice_fiscale
from core.i18n import LANGUAGES

_NUMBER_TOKEN = re.compile(r"\d+")

# A month named for a statement ("RESOCONTO ottobre", "il rendiconto di ottobre"), in
# every language of the chat, as Babel names them, folded (no accents, lower case): its
# number.
MONTH_NAMES: dict[str, int] = {
    fold(name): number
    for language in LANGUAGES
    for number, name in get_month_names("wide", locale=language).items()
}


def month_named(words: list[str]) -> int | None:
    """The one month the words name (folded words), else None."""
    named = {MONTH_NAMES[word] for word in words if word in MONTH_NAMES}
    return named.pop() if len(named) == 1 else None


def _amountish(word: str) -> bool:
    """A word the currency written beside it belongs to: digits of an amount, not a phone
    number or a codice fiscale of digits (more than 8 digits)."""
    digits = sum(ch.isdigit() for ch in word)
    return _AMOUNT_LIKE.match(word) is not None and 0 < digits <= 8


def _glue_currency(words: list[str]) -> list[str]:
    """The currency written as a word of its own joins the number beside it, as if written
    "12,50€" or "€12,50": "12,50 € RSSMRA85T10A562S", "RSSMRA85T10A562S EUR 3". A currency
    word beside no number is dropped: it is never part of who pays."""
    words, glued = list(words), []
    for index, word in enumerate(words):
        if not is_currency(word):
            glued.append(word)
            continue
        before = bool(glued) and _amountish(glued[-1]) and "€" not in glued[-1]
        after = index + 1 < len(words) and _amountish(words[index + 1])
        if before and after:
            # "12,50 € 3": the amount is written first or last, so the last word takes it
            # only when it ends the line and the word before does not start it.
            before = not (index + 2 == len(words) and len(glued) > 1)
        if before:
            glued[-1] = f"{glued[-1]}€"
        elif after:
            words[index + 1] = f"€{words[index + 1]}"
    return glued


def split_amount(arg: str) -> tuple[str, str | None]:
    """ "RSSMRA85T10A562S 12,50" -> (reference, "12,50"): the last word is the amount when it
    looks like one, even a wrong one ("-5", "0,001"), so that the amount error is the one said
    rather than "nobody found" for "RSSMRA85T10A562S -5". The currency may be written
    before or after it ("€ 3", "12,50 €", "EUR 3", "3 eur."), and euro and cents in words
    ("3 euro e 50" is 3,50); the amount may come first ("12,50 € RSSMRA85T10A562S"). A
    currency word is never part of who pays."""
    words = arg.split()
    for size in (5, 4):
        # "3 euro e 50" / "3 euro e 50 centesimi" at the end, after a reference, or first.
        if len(words) > size and (amount := euro_and_cents(" ".join(words[-size:]))):
            return " ".join(w for w in words[:-size] if not is_currency(w)), amount
        if len(words) > size and (amount := euro_and_cents(" ".join(words[:size]))):
            return " ".join(w for w in words[size:] if not is_currency(w)), amount
    words = _glue_currency(words)
    if len(words) >= 2 and _amount_first(words[0], words[1:]):
        # "12,50 RSSMRA85T10A562S": the amount written first, who pays after it.
        return " ".join(words[1:]), words[0]
    if len(words) >= 2 and looks_like_codice_fiscale(words[0]):
        # After a codice fiscale (one word) the rest can only be the amount, however wrong:
        # said as an amount error, never looked up as somebody.
        return words[0], " ".join(words[1:])
    if len(words) >= 2:
        last = words[-1]
        if len(words) >= 3 and _split_cents(words):
            # "RSSMRA85T10A562S 12 50": the amount written with a space, said as an amount
            # error (parse_euro refuses it), never "nobody found" for "RSSMRA85T10A562S 12".
            return " ".join(words[:-2]), f"{words[-2]} {last}"
        digits = last.lstrip("+-−")
        # Plain digits up to 6 are an amount (a phone number written in pieces has longer
        # ones); with a sign, a separator or € it is an amount whatever is wrong with it.
        plain = _NUMBER_TOKEN.fullmatch(digits) is not None and len(digits) <= 6
        marked = _NUMBER_TOKEN.fullmatch(digits) is None and _AMOUNT_LIKE.match(last) is not None
        if plain or marked:
            return " ".join(words[:-1]), last.replace("−", "-")
        if any(ch.isdigit() for ch in last) and is_phone_number(" ".join(words[:-1])):
            # "3331000002 7e50": after a phone number, as after a codice fiscale, a last word
            # with a digit is the amount, however wrong (an amount error), never part of a
            # card number refused as a name.
            return " ".join(words[:-1]), last
    return " ".join(words), None


def _amount_first(first: str, rest: list[str]) -> bool:
    """Whether the words are an amount and then who pays: a codice fiscale after plain
    digits or a written amount; a phone number (8 digits or more) or a card code (10
    letters and digits, perhaps in its printed groups) after an amount with a comma, a dot
    or € ("12,50 3331000005", "12,50 € ABCD EFGH JK"), so that plain digits before a phone
    stay what they were."""
    if _AMOUNT_LIKE.match(first) is None or looks_like_codice_fiscale(first):
        return False
    second = "".join(rest)
    if looks_like_codice_fiscale(second) and (len(rest) == 1 or len(second) == 16):
        return True
    marked = _NUMBER_TOKEN.fullmatch(first.lstrip("+-−")) is None
    phone = second.lstrip("+").isdigit() and len(second.lstrip("+")) >= 8
    card = len(second) == 10 and second.isalnum() and not second.isdigit()
    return marked and (phone or card)


def _split_cents(words: list[str]) -> bool:
    """The last two words are euro and cents with a space between ("12 50", "1 234"), after
    one word (a phone number or a card code in one piece) or a codice fiscale."""
    euros, cents = words[-2], words[-1]
    if not (euros.isdigit() and cents.isdigit() and len(euros) <= 4 and len(cents) <= 3):
        return False
    rest = words[:-2]
    if len(rest) == 1 and card_domain.in_printed_groups(" ".join(words)):
        # "ABCD 2345 23", a card number whose middle group is digits (one card in 256), or
        # "ABCD 2345 2" with a symbol missing: the card's printed groups, not a first group
        # and 2345,23 typed with a space.
        return not tried_card_number(" ".join(words))
    return len(rest) == 1 or looks_like_codice_fiscale(" ".join(rest))


# PAGA abbreviated ("pag RSSMRA85T10A562S 4") or one slip from it ("PGAA 3331000002 4",
# "paag …") before who pays, at a shop's chat: read as PAGA. Safe to read so: a payment
# still needs the customer's own code, sent to them with the amount, so the slip pays
# nothing by itself; asking "Did you mean PAGA?" would only make the cashier type it again.
_PAGA = "paga"
# Charging said with another word of it before who pays ("incasso RSSMRA85T10A562S 5",
# "pagamento 3331000002 12"): PAGA, for the same reason.
_CHARGING = frozenset({"incasso", "incassare", "pagamento", "pagare", "addebita", "addebito"})


def after_paga_slip(text: str | None) -> str | None:
    """What comes after a first word that is PAGA abbreviated or one slip from it, or
    another word for charging (_CHARGING), when it has a digit or a codice fiscale (who
    pays, the amount); None for anything else, and for PAGA itself (a keyword). For a
    shop's chat only: elsewhere "pago 350" is a word."""
    words = clean(text).split()
    if len(words) < 2:
        return None
    first = fold(words[0])
    slip = first.isalpha() and first != _PAGA and typo_distance(first, _PAGA) == 1
    if not slip and first not in _CHARGING:
        return None
    rest = " ".join(words[1:])
    if not has_digits([rest]) and not codice_fiscale_written(rest):
        return None
    return rest


def payer_and_amount(text: str | None) -> str | None:
    """The line itself when it is who pays (a codice fiscale or a phone number) and an
    amount with no PAGA before them ("RSSMRA85T10A562S 20", "3331000002 12,50"), as a
    hurried cashier writes the next customer; None for anything else. For a shop's chat
    only, and safe for the reason after_paga_slip is: the customer's code is still needed."""
    line = clean(text)
    who, amount = split_amount(line)
    if amount is None or not has_digits([amount]):
        return None
    payer = looks_like_codice_fiscale(who.replace(" ", "")) or is_phone_number(who)
    return line if payer else None


# A customer about to pay, said by whoever charges: "devo far pagare una signora", "devo
# incassare", "una cliente deve pagare con i buoni", "c'è una signora che paga col buono".
_A_CUSTOMER = frozenset(
    {"signora", "signore", "signorina", "cliente", "clienti", "ragazza", "ragazzo", "persona",
     "customer", "lady"}
)  # fmt: skip
_PAYS = frozenset({"paga", "pagare", "pagano", "pay", "pays", "paying"})
_TO_CHARGE = frozenset({"incassare", "addebitare", "charge"})
_MAKE_PAY = frozenset({("far", "pagare"), ("fare", "pagare"), ("faccio", "pagare")})
# Not a charge: "la signora non può pagare" (why refused), "il comune paga" (reimbursement).
_NOT_A_CHARGE = frozenset({"non", "not", "dont", "cant", "cannot", "comune", "town"})


def customer_to_charge(words: list[str]) -> bool:
    """Whether plain words (text.plain_words) say a customer is about to pay, with no one
    named yet (a name or a code is who pays, read at the till's own question)."""
    said = frozenset(words)
    if said & _NOT_A_CHARGE:
        return False
    pairs = set(pairwise(words))
    return bool(
        pairs & _MAKE_PAY
        or ("devo", "incassare") in pairs
        or (said & _A_CUSTOMER and said & (_PAYS | _TO_CHARGE))
    )


def menu_digit_and_phone(text: str | None) -> tuple[str, str] | None:
    """ "5 3331000002": a menu's number and a phone number in one message (eleven digits
    with the space), as (the digit, the phone as written); None for anything else. Neither
    a code nor an amount nor who pays by itself: the chat says what to write instead."""
    words = clean(text).split()
    if len(words) < 2 or not (words[0].isascii() and words[0].isdigit() and len(words[0]) == 1):
        return None
    phone = " ".join(words[1:])
    return (words[0], phone) if is_phone_number(phone) else None

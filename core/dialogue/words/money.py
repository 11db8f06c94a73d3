"""An amount of money in words or with its currency: "dieci euro", "venti e cinquanta",
"3 euro e 50", "€ 3". Read only when there is one reading: "cento e venti" (120, or
100,20?) is asked in figures instead."""

from __future__ import annotations

import re

from core.dialogue.words.numbers import _AND, _pieces, spelled_number
from core.dialogue.words.text import clean, fold

# The currency as a word of its own, before or after the amount ("€ 3", "3 EUR"), and among
# the words of an amount said aloud at the till besides its numbers, with the cents;
# "euri", the plural many say ("5 euri"), too.
_CURRENCY = frozenset({"€", "eur", "euro", "euros", "euri"})
_SPOKEN_CENTS = frozenset({"centesimi", "centesimo", "cent", "cents"})


def _spoken_number(words: list[str]) -> int | None:
    """Plain digits ("20") or a whole number in words ("venti", "ventidue") of a few words."""
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and len(words[0]) <= 4:
        return int(words[0])
    if not words or any(ch.isdigit() for word in words for ch in word):
        return None
    return spelled_number(" ".join(words))


def spoken_amount(text: str | None) -> str | None:
    """An amount the way a cashier says it, ready for parse_euro, when only one reading is
    possible: "dieci euro" "10", "venti e cinquanta" "20,50", "venti euro e cinquanta"
    "20,50", "dodici e 30" "12,30", "dodici e mezzo" "12,50", "tre euro e cinque
    centesimi" "3,05", "cinquanta
    centesimi" "0,50", "ten euros" "10". None when it is no amount in words, or could be
    read two ways: "cento e venti" (120, or 100,20?), "venti e cinque" (25, 20,05 or
    20,50?); those are asked in figures (says_amount_in_words)."""
    words = [word for word in fold(text).replace("-", " ").split() if word]
    if not words or not any(word.isalpha() and word not in _CURRENCY for word in words):
        return None  # digits alone are parse_euro's, as they always were
    if words[-1] in _SPOKEN_CENTS and words.count("e") + words.count("and") == 0:
        cents = _spoken_number([w for w in words[:-1] if w not in _CURRENCY])
        return f"0,{cents:02d}" if cents is not None and 0 < cents <= 99 else None
    joins = [at for at, word in enumerate(words) if word in ("e", "and")]
    if not joins:
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None else str(whole)
    # Euro and cents: the last "e" that has cents after it ("mille e cinquecento" has none).
    at = joins[-1]
    before, after = words[:at], words[at + 1 :]
    if after == ["mezzo"]:
        after = ["50"]  # "dodici e mezzo", "tre euro e mezzo": and a half, 50 cents
    said_euro = bool(before) and before[-1] in _CURRENCY
    said_cents = bool(after) and after[-1] in _SPOKEN_CENTS
    euros = _spoken_number([w for w in before if w not in _CURRENCY])
    cents = _spoken_number(after[:-1] if said_cents else after)
    if euros is None or cents is None:
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None or cents is not None else str(whole)
    if cents >= 100:
        # "mille e cinquecento": one whole number, no cents.
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None or said_euro else str(whole)
    if said_euro or said_cents or (euros < 100 and cents >= 10):
        if cents < 10 and not said_cents:
            return None  # "venti euro e cinque": 20,05 or 20,50?
        return f"{euros},{cents:02d}"
    return None  # "cento e venti", "venti e cinque": two readings


def says_amount_in_words(text: str | None) -> bool:
    """Whether the words are only the words of an amount (numbers in words, "e", the
    currency, the cents), whatever it comes to: "cento e venti" asks to be written in
    figures rather than "not an amount"."""
    words = [word for word in fold(text).replace("-", " ").split() if word]
    spoken = [w for w in words if w not in _CURRENCY | _SPOKEN_CENTS | _AND]
    return (
        bool(spoken)
        and all(w.isdigit() or (w.isalpha() and _pieces(w) not in (None, [])) for w in spoken)
        and any(w.isalpha() for w in spoken)
    )


_AMOUNT_LIKE = re.compile(r"^[-+−]?\s*€?\s*[-+−]?\d[\d.,']*\s*€?$|^[-+−]?\d*[.,]\d+$")
# "3 euro e 50", "3 € e 5 centesimi", "3 euros and 50 cents": euro and cents in words.
_EURO_AND_CENTS = re.compile(
    r"^(?P<euro>\d+)\s*(?:€|eur|euros?)\s+(?:e|and)\s+(?P<cents>\d{1,2})"
    r"(?:\s*(?:centesimi|centesimo|cent|cents|c))?$",
    re.IGNORECASE,
)


def euro_and_cents(text: str) -> str | None:
    """ "3 euro e 50" -> "3,50", "3 euro e 5 centesimi" -> "3,05"; None for anything else."""
    match = _EURO_AND_CENTS.match(text.strip())
    if match is None:
        return None
    return f"{match['euro']},{match['cents'].rjust(2, '0')}"


def is_currency(word: str) -> bool:
    """The currency as a word of its own: "€", "EUR", "eur.", "euro", "Euros"."""
    return word.lower().rstrip(".") in _CURRENCY


# An amount alone, with nothing asked: "50", "50 euro", "€ 50", "50,00", "12,50€", "1.500".
# Plain digits need two of them at least ("5" alone is a menu's number); with the currency
# or cents one will do. Six digits are a code, ten a phone: never an amount here.
_AMOUNT_ALONE = re.compile(
    r"^(?:(?P<before>€|eur|euro|euri|euros)\s*)?"
    r"(?P<number>\d{1,4}(?:[.,]\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?)"
    r"\s*(?P<after>€|eur\.?|euro|euri|euros)?$",
    re.IGNORECASE,
)


def amount_alone(text: str | None) -> bool:
    """Whether the whole message is an amount of money and nothing else."""
    found = _AMOUNT_ALONE.match(clean(text).strip(" .!?"))
    if found is None:
        return False
    marked = found["before"] or found["after"] or not found["number"].isdigit()
    return bool(marked) or len(found["number"]) >= 2

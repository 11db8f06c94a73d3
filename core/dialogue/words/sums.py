"""The sums the application asks (savings, monthly support, rent), as people write
them: "200 euro", "niente", "pago 350 euro di affitto", "1200 al mese", "6000 all'anno".
One plain amount is read; a range, a doubt, a "non" or a year's money where a month's is
asked leaves it unread, and the question is asked again."""

from __future__ import annotations

import re
from itertools import pairwise

from core.dialogue.words.household import _FILLER, _PEOPLE
from core.dialogue.words.money import is_currency
from core.dialogue.words.numbers import _AND, NUMBER_WORDS, spelled_number
from core.dialogue.words.text import clean, fold, unshortened

# "Nessuno" and "niente" answer "how much?" with zero; "uno" is not an amount anyone writes.
NOTHING = frozenset({"zero", "nessuno", "nessuna", "niente", "nulla", "none", "nothing", "no"})
# The words around a count that change nothing (household's), but for those that count
# people: beside an amount they make it another question's answer.
_AMOUNT_FILLER = _FILLER - _PEOPLE


# "2 mila", "2mila", "1,5 mila", "2 thousand": thousands counted with a figure, as many
# write them ("circa 2 mila euro"), read as the figures they mean ("2000", "1500").
_FIGURE_THOUSANDS = re.compile(
    r"(?<![\d.,'])(?P<thousands>\d{1,3})(?:[.,](?P<hundreds>\d))?\s*(?:mila|mille|thousand)\b",
    re.IGNORECASE,
)


def thousands_in_figures(text: str) -> str:
    """The text with "2 mila" written "2000" and "1,5 mila" "1500"; else as it was."""
    return _FIGURE_THOUSANDS.sub(
        lambda match: str(int(match["thousands"]) * 1000 + int(match["hundreds"] or 0) * 100),
        text,
    )


def amount_text(text: str | None, *, spelled: bool = True) -> str:
    """What someone wrote for an amount, ready for parse_euro: "200 euro" -> "200",
    "niente" -> "0", "€ 1.500 circa" -> "1.500", "tre" -> "3" (unless `spelled` is False:
    at the till an amount is typed in digits). Anything else is returned as written,
    so that parse_euro names what is wrong with it."""
    cleaned = thousands_in_figures(clean(text)) if spelled else clean(text)
    word = fold(cleaned)
    if word in NOTHING:
        return "0"
    kept = [
        piece
        for piece in cleaned.replace("€", " ").split()
        if fold(piece) not in _AMOUNT_FILLER or not fold(piece)
    ]
    if spelled and len(kept) == 1 and fold(kept[0]) in NUMBER_WORDS:
        return str(NUMBER_WORDS[fold(kept[0])])
    if spelled and kept:
        # "duemila", "mille e cinquecento", "two thousand": whole euro in words.
        value = spelled_number(" ".join(kept))
        if value is not None:
            return str(value)
    return " ".join(kept) if kept else cleaned


# "Pago 350 euro di affitto", "prendo 300 euro di naspi al mese", "350 al mese": one
# amount in a sentence, marked as money by the currency or "al mese" beside it. Words that
# make it no plain amount leave the sentence unread: a "non", a doubt, a range or a bound
# ("350 o 400", "più di 300", "tra 300 e 400", "300 forse").
_MONTHLY = (("al", "mese"), ("a", "month"), ("per", "month"), ("ogni", "mese"))
_NOT_PLAIN_AMOUNT = frozenset(
    {
        "non", "o", "oppure", "tra", "fra", "piu", "meno", "oltre", "almeno", "massimo",
        "minimo", "sopra", "sotto", "fino", "forse", "boh", "not", "or", "between", "more",
        "less", "over", "under", "least", "most", "than", "above", "below", "up", "maybe",
        "perhaps",
    }
)  # fmt: skip
# Where savings are kept, right after a number at the savings question: "ho circa 1200 in
# banca", "1500 sul libretto", "800 in the bank" (money there, without the currency).
_SAVED_IN = (
    ("in", "banca"), ("alla", "banca"), ("in", "posta"), ("alla", "posta"), ("sul", "conto"),
    ("sul", "libretto"), ("sui", "conti"), ("da", "parte"), ("di", "risparmi"),
    ("in", "the", "bank"), ("at", "the", "bank"), ("in", "my", "account"),
    ("in", "the", "account"), ("in", "savings"), ("saved",),
)  # fmt: skip
# "350 al mese", "1200 mensili", "800 euro a month": money each month, no savings.
_MONTH_WORDS = frozenset({"mensile", "mensili", "mensilmente", "monthly"})
# "6000 euro all'anno", "5000 l'anno", "3600 annui", "5000 a year": a year's money.
_YEARLY = frozenset(
    {("all", "anno"), ("l", "anno"), ("al", "anno"), ("ogni", "anno"), ("a", "year"),
     ("per", "year"), ("each", "year"), ("every", "year"), ("per", "annum")}
)  # fmt: skip
_WHICH_YEAR = frozenset({"scorso", "passato", "prossimo", "precedente", "corrente", "ago"})
_YEAR_WORDS = frozenset(
    {"annui", "annue", "annuo", "annua", "annuali", "annuale", "annualmente", "yearly",
     "annually", "annual"}
)  # fmt: skip
# "Un", "una", "one" are an article in a sentence ("ho una pensione di 300 euro").
_ARTICLES = frozenset({"un", "uno", "una", "one"})
_FIGURES = re.compile(r"^\d(?:[\d.,']*\d)?$")


def per_month(text: str | None) -> bool:
    """Whether a message says its money comes each month: "1200 al mese", "800 euro a
    month", "1200 mensili", "prendo 900 ogni mese". Savings are no monthly sum: where they
    are asked, such an answer is another question's."""
    words = fold(text).replace("'", " ").replace(",", " ").split()
    pairs = set(pairwise(words))
    return bool(set(words) & _MONTH_WORDS or pairs & set(_MONTHLY))


def per_year(text: str | None) -> bool:
    """Whether a message says its money is a year's: "6000 euro all'anno", "3600 € annui",
    "5000 a year". Where a month's income or rent is asked it would count twelve times
    over, and where savings are asked it is an income: either way another question's."""
    words = fold(text).replace("'", " ").replace(",", " ").split()
    if set(words) & _YEAR_WORDS:
        return True
    # "L'anno scorso", "a year ago": when, not how often.
    after = [*words[2:], ""]  # the word after each pair
    return any(
        pair in _YEARLY and following not in _WHICH_YEAR
        for pair, following in zip(pairwise(words), after, strict=False)
    )


# Between a number and what the question asks ("300 di affitto", "l'affitto è 300").
_OF = frozenset({"di", "d", "de", "of", "for", "in"})
_IS = frozenset({"e", "is", "di", "d", "of"})


def _next_to(words: list[str], at: int, about: frozenset[str]) -> bool:
    """Whether the number at `at` is next to a word of `about`: "300 di affitto", "l'affitto
    è 300", "affitto 300", "300 rent"."""
    after = words[at + 1 : at + 3]
    before = words[max(at - 2, 0) : at]
    return bool(
        (after[:1] and after[0] in about)
        or (len(after) == 2 and after[0] in _OF and after[1] in about)
        or (before[-1:] and before[-1] in about)
        or (len(before) == 2 and before[1] in _IS and before[0] in about)
    )


def amount_in_sentence(
    text: str | None, *, saved: bool = False, about: frozenset[str] = frozenset()
) -> str | None:
    """The one amount of a sentence, ready for parse_euro: "pago 350 euro di affitto" ->
    "350", "ho circa 1200 euro in banca" -> "1200", "350 al mese" -> "350", "prendo
    trecento euro" -> "300". Only a number with the currency or "al mese" beside it (with
    `saved`, where savings are asked, also where they are kept: "ho circa 1200 in banca";
    with `about`, next to what the question asks: "pago 300 di affitto"),
    and the only number of the message; None for anything else ("350 o 400", "siamo in
    3", "pago l'affitto da 6 mesi", "non pago 350 euro", "ho 2 conti in banca"), and the
    question is asked again."""
    words: list[str] = []
    for piece in thousands_in_figures(clean(text)).replace("€", " € ").split():
        word = piece.strip(',.;:!?()"')
        if not word:
            continue
        if any(ch.isdigit() for ch in word):
            if not _FIGURES.match(word) or sum(ch.isdigit() for ch in word) > 8:
                return None  # "12:30", "3a", a phone number: no amount of money
            words.append(word)
        elif word == "€" or is_currency(word):
            words.append("€")
        else:
            words.extend(unshortened(fold(word).replace("'", " ").split()))
    if set(words) & _NOT_PLAIN_AMOUNT:
        return None
    numbers = [
        at
        for at, word in enumerate(words)
        if _FIGURES.match(word)
        or (word not in _ARTICLES and word not in _AND and spelled_number(word) is not None)
    ]
    if len(numbers) != 1:
        return None
    at = numbers[0]
    marks = (*_MONTHLY, *_SAVED_IN) if saved else _MONTHLY
    marked = (
        "€" in words[at - 1 : at] + words[at + 1 : at + 2]
        or any(tuple(words[at + 1 : at + 1 + len(mark)]) == mark for mark in marks)
        or _next_to(words, at, about)
    )
    if not marked:
        return None
    word = words[at]
    return word if _FIGURES.match(word) else str(spelled_number(word))

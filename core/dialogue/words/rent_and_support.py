"""Where the household's monthly support or rent is asked, a sentence that says there
is some ("ho la naspi", "pago l'affitto") or none ("non ce l'ho", "casa di proprietà")
without the sum: the flow then asks how much, or takes zero."""

from __future__ import annotations

from core.dialogue.words.household import _OF_MINE, _ONE_PERSON, _PAIR, _SEVERAL
from core.dialogue.words.text import clean, has_digits, plain_words
from core.dialogue.words.work_and_pension import _HAVING, _WHO_AT_HOME

# What the rent question asks, and the support question: a number next to it is its money.
# A support's name ends the number's neighbours too: "reddito di cittadinanza 300",
# "assegno di inclusione 250", "cassa integrazione 500", "ADI 250".
RENT_WORDS = frozenset({"affitto", "pigione", "rent"})
SUPPORT_WORDS = frozenset(
    {"naspi", "cassa", "cassintegrazione", "reddito", "sostegno", "disoccupazione", "benefit",
     "cittadinanza", "inclusione", "integrazione", "rdc", "adi", "cig", "sussidio"}
)  # fmt: skip


# What the savings question asks: "non ho risparmi", "nessun risparmio", "no savings".
SAVINGS_WORDS = frozenset(
    {"risparmi", "risparmio", "risparmiato", "savings", "saving", "saved", "soldi", "money",
     "liquidita", "conto", "conti", "banca", "posta", "bank", "account", "accounts"}
)  # fmt: skip
# Where they would be kept, beside them: "non ho soldi in banca", "nothing in my account".
_SAVINGS_TOO = frozenset(
    {"in", "sul", "sui", "alla", "da", "parte", "on", "my", "our", "mio", "miei", "nostri",
     "postale", "postali", "bancario", "bancari"}
)  # fmt: skip


# Where savings are asked, the words of the rent or of a monthly support ("pago 250 euro di
# affitto", "prendo 500 di naspi"): the answer to a later question, which read as savings
# would be a wrong figure on the summary. "Cassa" alone is left out: "cassa di risparmio"
# is a savings bank.
_NOT_SAVINGS = RENT_WORDS | frozenset(
    {"naspi", "cassintegrazione", "integrazione", "disoccupazione", "cittadinanza",
     "sostegno", "sussidio", "rdc"}
)  # fmt: skip


def names_rent_or_support(text: str | None) -> bool:
    """Whether a message speaks of the rent or of a monthly support: "pago 250 euro di
    affitto", "l'affitto è 300", "500 di naspi"; not "2000 alla cassa di risparmio"."""
    return bool(set(plain_words(clean(text).replace("'", " "))) & _NOT_SAVINGS)


# Where the rent is asked, the words of a pension or a support without the rent's
# ("PENSIONE 600 EURO", "prendo 500 di naspi"): money coming in, which taken for the rent
# would be a wrong figure on the summary.
_PENSION = frozenset({"pensione", "pensioni", "pension", "pensions"})
_NOT_RENT = (_NOT_SAVINGS - RENT_WORDS) | _PENSION


def names_other_than_rent(text: str | None) -> bool:
    """Whether a message written at the rent question speaks of a pension or a support and
    not of the rent: "PENSIONE 600 EURO", "500 di naspi"; not "affitto 400 e la pensione"."""
    said = set(plain_words(clean(text).replace("'", " ")))
    return bool(said & _NOT_RENT) and not said & RENT_WORDS


def names_a_pension_not_support(text: str | None) -> bool:
    """Whether a message written at the support question speaks of a pension and of no
    support: "PENSIONE 600", "prendo la pensione di 600 euro" (a pension has its own
    question; taken for support it would be a wrong figure on the summary); not "pensione
    di cittadinanza 300" (a support: "cittadinanza" is one of _NOT_SAVINGS), nor "naspi
    500 e la pensione"."""
    said = set(plain_words(clean(text).replace("'", " ")))
    return bool(said & _PENSION) and not said & (_NOT_SAVINGS | SUPPORT_WORDS)


# "Ho la naspi", "mio marito prende la cassa integrazione", "pago l'affitto": where the
# household's monthly support or rent is asked, a statement that there is some, without
# the sum. Every word one of these, a verb of having or paying among them, and a word of
# what the question asks.
_HAS_OR_PAYS = _HAVING | frozenset(
    {"pago", "paga", "paghiamo", "pagano", "pay", "pays", "c", "ce", "e", "there", "is"}
)
_ABOUT_SUPPORT = frozenset(
    {"di", "cittadinanza", "integrazione", "inclusione", "unico", "assegno", "rdc", "adi",
     "cig", "sussidio", "la", "il", "lo", "l", "un", "una", "le", "i", "gli", "the", "a",
     "an", "of", "mensile", "casa", "for"}
)  # fmt: skip


def says_there_is(text: str | None, about: frozenset[str]) -> bool:
    """Whether the words only state that the household has or pays what a monthly
    question asks about (`about`: SUPPORT_WORDS, RENT_WORDS), without how much: "ho la
    naspi", "mio marito prende la cassa integrazione", "pago l'affitto". A digit, a "non"
    or any other word leaves it unread ("non pago l'affitto", "ho perso la naspi")."""
    words = plain_words(clean(text).replace("'", " "))  # "l'affitto": "l", "affitto"
    if not words or has_digits(words):
        return False
    said = set(words)
    people = _WHO_AT_HOME | _OF_MINE | _ONE_PERSON | _SEVERAL | _PAIR
    allowed = about | _HAS_OR_PAYS | _ABOUT_SUPPORT | people
    return bool(said & about) and bool(said & _HAS_OR_PAYS) and said <= allowed


# "Non ce l'ho", "non pago l'affitto", "nessun sostegno": where the monthly support or
# rent is asked, a no said in a sentence, with only the question's words and a verb of
# having or paying beside it. The rent question also takes a home of one's own ("casa di
# proprietà", "la casa è mia").
_NONE = frozenset(
    {"non", "no", "niente", "nulla", "nessun", "nessuno", "nessuna", "not", "dont", "nothing",
     "none", "zero"}
)  # fmt: skip
_NONE_TOO = frozenset({"proprio", "affatto", "nemmeno", "neanche", "any", "we", "i"})
_OWN_HOME = frozenset(
    {"casa", "di", "proprieta", "mia", "nostra", "e", "la", "una", "in", "abito", "abitiamo",
     "vivo", "viviamo", "sto", "stiamo", "siamo", "sono", "ho", "abbiamo", "nella"}
)  # fmt: skip
_OWN = frozenset({"mia", "nostra", "proprieta"})
_PAYING = frozenset({"pago", "paga", "paghiamo", "pagano", "pay", "pays"})
# One kind of support named: without it the household may still have another.
_ONE_KIND_OF_SUPPORT = frozenset(
    {"naspi", "cassa", "cassintegrazione", "reddito", "disoccupazione", "rdc", "adi", "cig",
     "assegno", "cittadinanza", "integrazione", "inclusione", "unico"}
)  # fmt: skip


def says_there_is_none(text: str | None, about: frozenset[str]) -> bool:
    """Whether the words only say that the household has or pays none of what a
    question asks about (`about`: SUPPORT_WORDS, RENT_WORDS, SAVINGS_WORDS): "non ce l'ho",
    "non prendo niente", "nessun sostegno", "non pago l'affitto", "zero risparmi", "I have
    none"; for the rent also "casa di proprietà", "abito in casa mia". A digit, one kind
    of support ("non ho la naspi": the household may have another) or any other word
    ("non ce l'ho ma mio marito sì", "non è casa mia") leaves it unread."""
    words = plain_words(clean(text).replace("'", " "))  # "l'affitto": "l", "affitto"
    if not words or has_digits(words):
        return False
    said = set(words)
    if about is RENT_WORDS and said <= _OWN_HOME and "casa" in said and said & _OWN:
        return not said & _NONE
    if said & _ONE_KIND_OF_SUPPORT:
        return False  # "non ho la naspi": another support may still come in
    allowed = _NONE | _NONE_TOO | about | _HAS_OR_PAYS | _ABOUT_SUPPORT | _WHO_AT_HOME
    if about is RENT_WORDS and said & (RENT_WORDS | _PAYING) and said & _OWN:
        # "Non pago affitto, casa mia": no rent, and why; "non è casa mia" stays unread.
        allowed |= _OWN_HOME
    if about is SAVINGS_WORDS:
        allowed |= _SAVINGS_TOO
    return bool(said & _NONE) and said <= allowed

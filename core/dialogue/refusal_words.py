"""A payment refused in plain words, from the chat its code came to: "no non voglio
pagare", "no, annulla", "non sono io", "non ho comprato niente". questions.unasked reads
it first when nothing is asked; commands.refuse_in_words runs it (what ANNULLA does)."""

from __future__ import annotations

from core.dialogue.words import as_said, has_digits, plain_words
from core.domain.otp import CHALLENGE_DIGITS, ascii_digits

# A payment refused in words, from the chat its code came to: "no non voglio pagare", "no,
# annulla", "non sono io", "non ho comprato niente". Read only when nothing is asked (a
# step reads its own "no"), and only when the whole message is the refusal: "non pago
# l'affitto, posso avere i buoni?" is a question, never a refusal. A bare "no" is not one
# (it may answer something else), nor is any "pagare" without its negation.
REFUSE_PAYMENT = "refuse_payment"
# The argument: the person says the purchase was not theirs (someone used her details),
# or she wrote ANNULLA in a sentence (with no payment waiting it is ANNULLA).
NOT_ME = "not_me"
CANCEL_IN_WORDS = "cancel"
_REFUSING = (
    ("non", "voglio", "pagare"),
    ("non", "voglio", "pagarlo"),
    ("non", "pago"),
    ("non", "pagare"),
    ("non", "autorizzo"),
    ("non", "accetto"),
    ("rifiuto",),
    ("dont", "want", "to", "pay"),
    ("do", "not", "want", "to", "pay"),
    ("wont", "pay"),
    ("i", "refuse"),
)
_NOT_MINE = (
    ("non", "sono", "io"),
    ("non", "ero", "io"),
    ("non", "sono", "stato", "io"),
    ("non", "sono", "stata", "io"),
    ("non", "ho", "comprato"),
    ("non", "ho", "acquistato"),
    ("non", "ho", "fatto", "acquisti"),
    ("non", "ho", "fatto", "la", "spesa"),
    ("non", "ho", "chiesto"),
    ("non", "ho", "fatto", "io"),
    ("non", "lho", "fatto", "io"),
    ("not", "me"),
    ("wasnt", "me"),
    ("didnt", "buy"),
    ("did", "not", "buy"),
    ("didnt", "make"),
    ("did", "not", "make"),
)
_CANCEL_WORDS = frozenset({"annulla", "annullare", "annullate", "annullalo", "cancel"})
# Words that may stand around a refusal without making it anything else.
_AROUND_A_REFUSAL = frozenset(
    {"no", "ma", "io", "e", "il", "lo", "la", "questo", "questa", "quel", "quello", "quella",
     "pagamento", "spesa", "acquisto", "niente", "nulla", "nessun", "nessuna", "mai", "proprio",
     "assolutamente", "oggi", "li", "grazie", "prego", "subito", "it", "this", "that",
     "the", "payment", "anything", "nothing", "i", "please", "now"}
)  # fmt: skip


def _without(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str] | None:
    """The words left once one of the phrases is taken out, None when none is there."""
    for phrase in phrases:
        size = len(phrase)
        for at in range(len(words) - size + 1):
            if tuple(words[at : at + size]) == phrase:
                return words[:at] + words[at + size :]
    return None


# "Non sono io 4821": the challenge the reply to an SMS "not me" asked to write back
# (stray_codes.confirm_not_me), the not-me words and its digits, in any order.
CONFIRM_NOT_ME = "confirm_not_me"


def not_me_challenge_of(text: str | None) -> str | None:
    """The digits of a "not me" written with its challenge ("NON SONO IO 4821", "not me
    4821"), None when the message is anything else (no digits, or digits of another
    length: a payment code, an amount)."""
    words = as_said(plain_words(ascii_digits(text or "")))
    digits = [w for w in words if w.isdigit()]
    if len(digits) != 1 or len(digits[0]) != CHALLENGE_DIGITS:
        return None
    rest = _without([w for w in words if not w.isdigit()], _NOT_MINE)
    if rest is None or not all(w in _AROUND_A_REFUSAL for w in rest):
        return None
    return digits[0]


def refusal_of(text: str | None) -> str | None:
    """How a message refuses a payment in words ("" a plain refusal, NOT_ME, or
    CANCEL_IN_WORDS), None when it is no refusal (see REFUSE_PAYMENT)."""
    words = as_said(plain_words(text))
    if not words or has_digits(words):
        return None
    for phrases, kind in ((_NOT_MINE, NOT_ME), (_REFUSING, "")):
        rest = _without(words, phrases)
        if rest is not None and all(w in _AROUND_A_REFUSAL | _CANCEL_WORDS for w in rest):
            return kind
    # "No, annulla", "annulla il pagamento": ANNULLA said in a sentence of nothing else (alone
    # it is the keyword itself).
    cancel = [w for w in words if w in _CANCEL_WORDS]
    if cancel and len(words) > 1 and all(w in _AROUND_A_REFUSAL | _CANCEL_WORDS for w in words):
        return CANCEL_IN_WORDS
    return None

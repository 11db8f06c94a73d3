"""At a code step, words about the one-time code instead of the code: it did not come
(a new one is sent), or the customer's code was refused or ran out (PAGA again sends
another)."""

from __future__ import annotations

from itertools import pairwise

from core.dialogue import failure_words as failing
from core.dialogue.words.text import has_digits, plain_words

# At a code step, words saying the code did not come ("non ho ricevuto il codice", "nn mi è
# arrivato", "il codice non arriva", "I didn't get the code") or asking another ("mandatemi
# un nuovo codice"): a new code, as the option "Send a new code" sends.
_NOT_CAME = frozenset({"non", "mai", "nessun", "not", "didnt", "havent", "hasnt", "never"})
_CAME = frozenset(
    {"ricevuto", "ricevo", "arrivato", "arrivata", "arriva", "arrivano", "giunto", "received",
     "get", "got", "came", "come", "arrived"}
)  # fmt: skip
_NEW_CODE = frozenset(
    {("nuovo", "codice"), ("altro", "codice"), ("new", "code"), ("another", "code")}
)


def asks_for_a_new_code(text: str | None) -> bool:
    """Whether words say that a code did not come, or ask for another one."""
    words = plain_words(text)
    if not words or has_digits(words):
        return False
    said, pairs = set(words), set(pairwise(words))
    return bool(said & _NOT_CAME and said & _CAME) or bool(pairs & _NEW_CODE)


# At a code step, words saying the customer's code was refused or ran out ("il cliente dice
# che il codice non funziona", "codice scaduto", "the code doesn't work"): what a refused
# code means, and that PAGA again sends another.
_A_CODE = frozenset({"codice", "code"})


def says_the_code_fails(text: str | None) -> bool:
    """Whether words (no digits) say that a code was refused, expired or does not work."""
    words = plain_words(text)
    if not words or has_digits(words):
        return False
    said = set(words)
    fails = said & failing.CODE_FAILS or (
        said & failing.CODE_NEGATION and said & failing.CODE_WORKS
    )
    return bool(said & _A_CODE and fails)

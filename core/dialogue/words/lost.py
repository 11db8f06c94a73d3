"""Someone saying she is lost ("non so come fare", "sono anziana, non so usare il
telefono", "I don't understand"), or that nothing came to her ("non ho ricevuto niente").

Read only where a message would otherwise be the help or not understood: a keyword or a
question recognised keeps its own answer."""

from __future__ import annotations

from itertools import pairwise

from core.dialogue.words.text import has_digits, plain_words

# Longer than this, the message says more than that she is lost (a story, a question).
_LOST_WORDS = 10
_NOT = frozenset({"non", "nn", "not", "dont", "cant", "cannot"})
# "Non so come fare", "nn so usare il telefono", "non so cosa fare", "I don't know how".
_DONT_KNOW = frozenset({("non", "so"), ("nn", "so"), ("dont", "know"), ("not", "know")})
_HOW = frozenset({"come", "usare", "fare", "cosa", "che", "how", "what", "use"})
# "Non ci capisco", "I don't understand" ("non ho capito" is about one message: the help).
_UNDERSTAND = frozenset({"capisco", "capire", "understand"})
# "Mi aiuti", "aiutatemi", "mi potete aiutare", "I need help", "help me".
_HELP_ME = frozenset(
    {"aiutatemi", "aiutami", "aiutarmi", "aiuti", "aiutate", "aiutare", "aiutatela"}
)  # fmt: skip
_ENGLISH_HELP = frozenset({("need", "help"), ("help", "me"), ("please", "help")})
# "Sono anziana": she tells us why this is hard for her.
_OLD = frozenset({"anziana", "anziano", "vecchia", "vecchio"})

# "Non ho ricevuto niente", "non mi è arrivato nulla", "I didn't get anything".
_CAME = frozenset(
    {"ricevuto", "ricevuta", "ricevuti", "arrivato", "arrivata", "arrivati", "arriva",
     "received", "got", "get", "come", "came", "arrived"}
)  # fmt: skip
_NOTHING = frozenset({"niente", "nulla", "nothing", "anything"})


def says_lost(text: str | None) -> bool:
    """Whether the words say she does not know how to go on, or asks for a hand."""
    words = plain_words(text)
    if not words or len(words) > _LOST_WORDS or has_digits(words):
        return False
    said, pairs = set(words), set(pairwise(words))
    return bool(
        (pairs & _DONT_KNOW and said & _HOW)
        or (said & _UNDERSTAND and said & _NOT)
        or said & _HELP_ME
        or pairs & _ENGLISH_HELP
        or said & _OLD
    )


def says_nothing_came(text: str | None) -> bool:
    """Whether the words say that nothing came, without naming what (a code, the money:
    those have answers of their own)."""
    words = plain_words(text)
    if not words or len(words) > _LOST_WORDS or has_digits(words):
        return False
    said = set(words)
    # "Non … niente" in Italian; "nothing" carries its own no ("I got nothing").
    negated = said & _NOT or "nothing" in said
    return bool(negated and said & _CAME and said & _NOTHING)

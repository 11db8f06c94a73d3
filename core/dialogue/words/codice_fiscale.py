"""A codice fiscale written in a message, alone or among a few words: who a citizen says
they are, or who pays at the till. Its shape only; whether it is anybody's is the
services' to say."""

from __future__ import annotations

import re

from core.dialogue.words.text import _EDGE_MARKS, clean

# A codice fiscale's shape: 6 letters, the birth year, month letter, day, place and the check
# letter (digits may be letters in an omocodic one). Its shape only: a slip in the check
# letter is still a codice fiscale someone meant to write.
_CODICE_FISCALE = re.compile(
    r"[A-Z]{6}[0-9L-V]{2}[ABCDEHLMPRST][0-9L-V]{2}[A-Z][0-9L-V]{3}[A-Z]", re.IGNORECASE
)


def codice_fiscale_written(text: str | None) -> bool:
    """Whether a message is a codice fiscale, alone ("RSSMRA85T10A562S", "rss mra 85t10
    a562s") or the one number of a few words ("il codice fiscale di mia madre è
    RSSMRA85T10A562S"). Its shape only: nothing says whether it is anybody's."""
    return written_codice_fiscale(text) is not None


def written_codice_fiscale(text: str | None) -> str | None:
    """The codice fiscale a message is (see codice_fiscale_written), in capitals and without
    spaces; None when it is none."""
    cleaned = clean(text)
    joined = "".join(cleaned.split())
    if _CODICE_FISCALE.fullmatch(joined):
        return joined.upper()
    words = [word.strip(_EDGE_MARKS + ':;!?()"') for word in cleaned.split()]
    shaped = [word for word in words if _CODICE_FISCALE.fullmatch(word)]
    numbers = [word for word in words if any(ch.isdigit() for ch in word)]
    return shaped[0].upper() if len(shaped) == 1 and numbers == shaped else None


# What someone asked for her codice fiscale says instead of it: she has none ("non ce
# l'ho", "I'm a foreigner, I have a passport"), asks what it is ("cos'è?", "what is
# that?") or where it is written ("dove lo trovo?", "I don't know it"). Read by the words
# a short message holds, never with a digit (a codice fiscale with a slip is a codice
# fiscale to write again); a message saying none comes first ("what is that? I don't have
# one").
NO_CODICE_FISCALE = "none"
WHAT_CODICE_FISCALE = "what"
WHERE_CODICE_FISCALE = "where"
_ASKED_WORDS = 12
_NONE_PHRASES = (
    ("non", "ce", "lho"), ("non", "ce", "l", "ho"), ("non", "lho"), ("non", "ne", "ho"),
    ("non", "ho", "il", "codice"), ("non", "ho", "codice"), ("non", "lo", "ho"),
    ("non", "ho", "un", "codice"), ("non", "ce", "lo", "ho"), ("non", "ho", "niente"),
    ("senza", "codice"), ("dont", "have"), ("do", "not", "have"), ("have", "no"),
    ("havent", "got"), ("have", "not", "got"), ("no", "codice"), ("not", "have"),
    ("only", "have", "a", "passport"), ("only", "a", "passport"),
)  # fmt: skip
_NONE_WORDS = frozenset(
    {"straniero", "straniera", "stranieri", "passaporto", "foreigner", "foreign", "passport",
     "tourist", "turista", "rifugiato", "rifugiata", "refugee", "richiedente", "asylum"}
)  # fmt: skip
# Someone lost rather than asking about the code: the help about the question answers her.
_LOST = frozenset({"capito", "capisco", "capire", "understand", "understood"})
_WHERE_PHRASES = (
    ("dove",), ("where",), ("trovo",), ("trovarlo",), ("find",), ("non", "lo", "so"),
    ("non", "so"), ("boh",), ("non", "lo", "ricordo"), ("non", "me", "lo", "ricordo"), ("ricordo",),
    ("dimenticato",), ("dont", "know"), ("do", "not", "know"), ("remember",), ("forgot",),
    ("forgotten",),
)  # fmt: skip
_WHAT_PHRASES = (
    ("cose",), ("cos", "e"), ("cosa", "e"), ("che", "e"), ("che", "cosa"), ("cosa", "significa"),
    ("che", "significa"), ("cosa", "vuol", "dire"), ("che", "vuol", "dire"), ("cosa",),
    ("what", "is"), ("whats",), ("what", "does"), ("what", "that"), ("meaning",), ("mean",),
)  # fmt: skip


def _holds(words: list[str], phrase: tuple[str, ...]) -> bool:
    return any(
        tuple(words[at : at + len(phrase)]) == phrase for at in range(len(words) - len(phrase) + 1)
    )


def codice_fiscale_asked(words: list[str]) -> str | None:
    """What a message at the codice fiscale question asks instead of giving it, from its
    plain words (text.plain_words): NO_CODICE_FISCALE, WHAT_CODICE_FISCALE,
    WHERE_CODICE_FISCALE, or None (an answer to read as one, or words no table knows)."""
    if not words or len(words) > _ASKED_WORDS or any(ch.isdigit() for w in words for ch in w):
        return None
    if _LOST & set(words):
        return None  # "non ho capito cosa devo scrivere": the question's help, as before
    if _NONE_WORDS & set(words) or any(_holds(words, phrase) for phrase in _NONE_PHRASES):
        return NO_CODICE_FISCALE
    if any(_holds(words, phrase) for phrase in _WHERE_PHRASES):
        return WHERE_CODICE_FISCALE
    if any(_holds(words, phrase) for phrase in _WHAT_PHRASES):
        return WHAT_CODICE_FISCALE
    return None

"""Which password an operator may choose (NIST SP 800-63B, 5.1.1.2: memorized secrets).

At least MIN_LENGTH characters and no composition rules (no "one digit, one capital"); what
is refused is a password easy to guess: a common or leaked one, a dictionary word or a
name, a keyboard walk, repeated or sequential characters ("aaaaaaaaaaaa", "abcdefghijkl",
"123456789012"), and the context: the operator's username or the town's name in it. The
estimate is zxcvbn's (Dropbox's algorithm, the `zxcvbn` package): its dictionaries hold
the most common leaked passwords, English words, names and keyboard patterns, and it
counts repeats, sequences and dates. Its dictionaries are English, so the words of this
service and of Italian offices are added to its list of the user's own words, and the
username and the town's name are also refused outright, whatever the score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from zxcvbn import zxcvbn

MIN_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline slow-hash
# scenario" (at least 10^8 guesses). Stored passwords are argon2id hashes.
MIN_SCORE = 3
# zxcvbn's cost grows with the length and it refuses more than this: what is past it is
# not estimated (a password that long is all hashed, and is no weak one).
ESTIMATED_LENGTH = 72
# Words about this service and the office, and some of the commonest Italian passwords
# (zxcvbn knows English ones only): guessed first by whoever targets a Comune's office.
CONTEXT_WORDS = (
    "buonispesa",
    "buoni",
    "spesa",
    "comune",
    "servizi",
    "sociali",
    "ufficio",
    "operatore",
    "password",
    "ciao",
    "amore",
    "tesoro",
    "juventus",
    "milan",
    "inter",
    "napoli",
    "roma",
    "lazio",
    "forza",
    "italia",
)
# Words of a municipality's name that say nothing of the town ("Comune di Belforte del
# Chienti": belforte, chienti).
_NAME_FILLERS = frozenset(
    {"comune", "citta", "unione", "dei", "del", "della", "delle", "degli", "di", "in", "sul"}
)
_WORD = re.compile(r"[a-z0-9]+")


class Weakness(StrEnum):
    TOO_SHORT = "too_short"
    NAMES_THE_OPERATOR = "names_the_operator"  # the username, or a part of it
    NAMES_THE_TOWN = "names_the_town"
    EASY_TO_GUESS = "easy_to_guess"


def _folded(text: str) -> str:
    """Lower case without accents: "Città" and "citta" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def town_words(town_names: Sequence[str]) -> list[str]:
    """The words that name the town: of its name (and code) without the fillers."""
    words: list[str] = []
    for name in town_names:
        for word in _WORD.findall(_folded(name)):
            if len(word) >= 3 and word not in _NAME_FILLERS and word not in words:
                words.append(word)
    return words


def username_parts(username: str) -> list[str]:
    """The username and its parts ("bel.clerk": bel.clerk, clerk); 3 characters or more."""
    name = _folded(username)
    parts = [name] if len(name) >= 3 else []
    parts += [w for w in _WORD.findall(name) if len(w) >= 4 and w not in parts]
    return parts


def weakness(password: str, *, username: str, town_names: Sequence[str]) -> Weakness | None:
    """Why this password may not be chosen by this operator of this town, or None."""
    if len(password) < MIN_LENGTH:
        return Weakness.TOO_SHORT
    folded = _folded(password)
    squeezed = "".join(_WORD.findall(folded))
    if any(part in folded or part in squeezed for part in username_parts(username)):
        return Weakness.NAMES_THE_OPERATOR
    town = town_words(town_names)
    if any(len(word) >= 4 and word in squeezed for word in town):
        return Weakness.NAMES_THE_TOWN
    own_words = [*username_parts(username), *town, *CONTEXT_WORDS]
    # Synchronous on purpose: zxcvbn keeps the user's words in a module-level table
    # between its steps, so two estimates must not run in threads at once.
    estimate = zxcvbn(
        password[:ESTIMATED_LENGTH], user_inputs=own_words, max_length=ESTIMATED_LENGTH
    )
    if int(estimate["score"]) < MIN_SCORE:
        return Weakness.EASY_TO_GUESS
    return None

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

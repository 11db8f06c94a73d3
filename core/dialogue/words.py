"""What people type, folded so that "Sì", "SI", "si!" and "/si" compare equal."""

from __future__ import annotations

import re
import unicodedata

# Longer messages are cut before parsing: nobody answers a question with a novel,
# and a 2,000-character SMS body must cost no more than a short one.
MAX_INPUT = 500

_PUNCTUATION = re.compile(r"[^\w\s+,.'/-]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Trimmed text, spaces collapsed, invisible characters removed, length capped."""
    if not text:
        return ""
    kept = "".join(
        ch for ch in text[:MAX_INPUT] if unicodedata.category(ch)[0] != "C" or ch in "\n\t"
    )
    return _SPACES.sub(" ", kept).strip()


def fold(text: str | None) -> str:
    """Lower case, no accents, no emoji or punctuation around words: for keyword matching."""
    plain = unicodedata.normalize("NFKD", clean(text).lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = _PUNCTUATION.sub(" ", plain)
    return _SPACES.sub(" ", plain).strip().lstrip("/").strip(" .,!")


YES = frozenset(
    {"si", "s", "yes", "y", "ok", "certo", "va bene", "sure", "accetto", "i agree", "agree"}
)
NO = frozenset({"no", "n", "non accetto", "nope"})


def yes_or_no(text: str | None) -> bool | None:
    word = fold(text)
    if word in YES:
        return True
    if word in NO:
        return False
    return None

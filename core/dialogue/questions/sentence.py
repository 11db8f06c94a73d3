"""The one keyword a longer message holds ("Buongiorno, vorrei il saldo"): the keywords
read inside a sentence (SENTENCE_KEYWORDS) and in_sentence, which finds them."""

from __future__ import annotations

import re

from core.dialogue.keywords import KEYWORDS
from core.dialogue.questions.cards import another_card
from core.dialogue.words import (
    fold,
    plain_words,
)

# Keywords recognised inside a sentence ("saldo per favore", "vorrei sapere il mio saldo"):
# only those that cannot be an ordinary word of an answer or a greeting.
SENTENCE_KEYWORDS = frozenset(
    {
        "saldo", "balance", "credito", "negozi", "shops", "domanda", "apply", "stato",
        "status", "carta", "tessera", "card", "aiuto", "help", "lingua", "language", "menu",
        "ricorso", "appeal", "resoconto", "rimborso", "rimborsi",
    }
)  # fmt: skip
# Words after NEGOZI in a sentence that are not a town: "negozi a Belforte", "shops in …".
# ("vicino" stays: "negozi vicino a me" asks how to search near, see shop_finder.asks_near.)
_SHOP_FILLER = frozenset({"a", "ad", "di", "in", "nel", "nella", "per", "at", "the", "ci", "sono"})


# A full stop after a word, between two sentences ("saldo. grazie", "Buonasera.Mi dite"),
# never inside a number ("12.50").
_BETWEEN_SENTENCES = re.compile(r"(?<=[^\W\d])\.+(?=\s|[^\W\d]|$)")


def in_sentence(text: str | None) -> tuple[str, str] | None:
    """The one keyword a longer message contains, e.g. "Buongiorno, vorrei il saldo", also
    among sentences ("Buongiorno. Sono Giuseppe. Vorrei il saldo. Grazie")."""
    words = _BETWEEN_SENTENCES.sub(" ", fold(text).replace(",", " ")).split()
    if len(words) < 2:
        return None
    other_card = another_card(plain_words(text))
    found = {
        KEYWORDS[word] for word in words if word in SENTENCE_KEYWORDS and word not in other_card
    }
    if len(found) != 1:
        return None
    name = found.pop()
    if name == "shops":
        at = next(i for i, word in enumerate(words) if KEYWORDS.get(word) == "shops")
        rest = [word for word in words[at + 1 :] if word not in _SHOP_FILLER]
        return name, " ".join(rest)
    return name, ""

"""A sentence as question_of's rules read it (Asked), what a group of rules answers (a
Request, or READ_ON for the next group), and the keywords each rule may hold."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from itertools import pairwise
from typing import Final, TypeAlias

from core.dialogue.questions.sentence import SENTENCE_KEYWORDS

# What question_of answers: the request and its argument, or None (no question it knows;
# a rule's other keyword leaves the sentence to in_sentence).
Request: TypeAlias = tuple[str, str] | None


class ReadOn(Enum):
    """No rule of a group holds: the next group reads the sentence."""

    READ_ON = "read on"


READ_ON: Final = ReadOn.READ_ON

# The keywords each rule may hold: any other one leaves the sentence to in_sentence.
_BALANCE_KEYWORDS = frozenset({"saldo", "credito", "tessera", "carta", "balance", "card"})
_SHOPS_KEYWORDS = frozenset({"negozi", "shops", "tessera", "carta", "card"})
_APPLY_KEYWORDS = frozenset({"domanda", "apply"})


@dataclass(frozen=True)
class Asked:
    """A sentence's words as the rules read them: folded (as written, courtesy and all),
    every (those without the punctuation after them), words (the plain words, in order),
    said (as a set), pairs (each with the next) and the keywords among them."""

    folded: list[str]
    every: set[str]
    words: list[str]
    said: frozenset[str]
    pairs: set[tuple[str, str]]
    keywords: frozenset[str]

    @classmethod
    def of(cls, folded: list[str], every: set[str], words: list[str]) -> Asked:
        said = frozenset(words)
        return cls(folded, every, words, said, set(pairwise(words)), said & SENTENCE_KEYWORDS)

    def without(self, other: frozenset[str]) -> Asked:
        """The sentence without these words (another card's: "carta d'identità")."""
        return Asked.of(self.folded, self.every, [word for word in self.words if word not in other])

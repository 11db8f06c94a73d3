"""The household a question about the amounts names ("quanto danno a una famiglia di 4?",
"ho 3 figli"), and the counts ("82 anni", "3 figli") left out before a question is read."""

from __future__ import annotations

from core.dialogue.words import (
    NUMBER_WORDS,
)

# A number of years or of people said with the question ("mi chiamo Rosa, ho 82 anni e
# vorrei i buoni", "ho 3 figli, come faccio a chiedere i buoni?"): no code nor amount, left
# out before the question is read. Any other number keeps the message from being one.
_COUNTED = frozenset(
    {"anni", "anno", "figli", "figlie", "figlio", "figlia", "bambini", "nipoti", "persone",
     "years", "children", "kids"}
)  # fmt: skip


def _without_counts(words: list[str]) -> list[str]:
    """The words without "82 anni", "3 figli" (one or two digits before such a noun)."""
    kept: list[str] = []
    for at, word in enumerate(words):
        counted = word.isdigit() and len(word) <= 2 and words[at + 1 : at + 2]
        if counted and counted[0] in _COUNTED:
            continue
        kept.append(word)
    return kept


# "Famiglia di 4", "per 3 persone", "siamo in 5", "a family of four": the household size a
# question about the amounts names, taken out of its words. Up to 20 people the rules'
# amount is told; more, the office decides; 0, how many live in the house is asked. A
# size has at most two digits ("famiglia di 3331000002" is a phone), and no currency after
# it ("famiglia di 5 euro" is an amount): those are no size, and get the help.
_HOUSEHOLD_WORDS = frozenset({"famiglia", "nucleo", "family", "household"})
# The words around a size said alone, nothing else asked: "siamo in 4", "famiglia di 3",
# "una famiglia di 5 persone", "4 persone", "family of 3".
_SIZE_ALONE = frozenset(
    {"siamo", "in", "famiglia", "nucleo", "familiare", "di", "da", "per", "persone",
     "componenti", "una", "un", "noi", "a", "family", "household", "of", "people", "persons",
     "we", "are"}
)  # fmt: skip
_PEOPLE_WORDS = frozenset({"persone", "componenti", "people", "persons"})
LARGEST_HOUSEHOLD = 20
_SIZE_DIGITS = 2
_ZERO = frozenset({"0", "00", "zero"})  # not "nessuno", "niente": no size said


def _household_size(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or (word.isdigit() and len(word) > _SIZE_DIGITS):
            continue
        if number == 0 and word not in _ZERO:
            continue
        before, after = words[max(0, at - 2) : at], words[at + 1 : at + 2]
        named = (
            (len(before) == 2 and before[0] in _HOUSEHOLD_WORDS and before[1] in {"di", "da", "of"})
            or (before[-1:] == ["in"] and before[:1] in (["siamo"], ["per"], ["we"]))
            or (after and after[0] in _PEOPLE_WORDS)
        )
        if named:
            return number, words[:at] + words[at + 1 :]
    return None, words


# "3 figli", "due bambini", "three children": children named by their number, which with
# the writer make a household of one more at least (the amounts' question, _children).
_CHILDREN = frozenset(
    {"figli", "figlie", "figlio", "figlia", "bambini", "bambine", "bimbi", "ragazzi",
     "children", "kids", "child", "sons", "daughters"}
)  # fmt: skip
CHILDREN_ARG = "children:"


def _children(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or not 1 <= number < LARGEST_HOUSEHOLD:
            continue
        if words[at + 1 : at + 2] and words[at + 1] in _CHILDREN:
            return number, words[:at] + words[at + 1 :]
    return None, words

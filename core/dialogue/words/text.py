"""What people type, folded so that "Sì", "SI", "si!" and "/si" compare equal: every
other module of the package reads a message through these (clean, fold, plain_words), so
that a phone's capitals, accents, emoji, courtesy words and texting shorthand never decide
what a message means. A turn asks them about the same message several times: each message
is cleaned and folded once (forget_messages clears that, for a benchmark)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Longer messages are cut before parsing: nobody answers a question with a novel,
# and a 2,000-character SMS body must cost no more than a short one.
MAX_INPUT = 500

_PUNCTUATION = re.compile(r"[^\w\s+,.'/-]", re.UNICODE)
_SPACES = re.compile(r"\s+")


# Phones type a typographic apostrophe ("l’alimentari", "Sant’Angelo"): read as the plain
# one, or a word after it would be read apart from its article.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u00b4`", "'"))


# clean and fold are pure and a turn asks them about the same message several times (the
# router, the keyword parser, the option reader): each message is folded once.
@lru_cache(maxsize=2048)
def clean(text: str | None) -> str:
    """Trimmed text, spaces collapsed, invisible characters removed, apostrophes plain,
    length capped."""
    if not text:
        return ""
    kept = "".join(
        ch
        for ch in text[:MAX_INPUT].translate(_APOSTROPHES)
        if unicodedata.category(ch)[0] != "C" or ch in "\n\t"
    )
    return _SPACES.sub(" ", kept).strip()


def was_cut(text: str | None) -> bool:
    """Whether clean() left out the end of this message (it was longer than MAX_INPUT)."""
    return text is not None and len(text) > MAX_INPUT


@lru_cache(maxsize=2048)
def fold(text: str | None) -> str:
    """Lower case, no accents, no emoji or punctuation around words: for keyword matching."""
    plain = unicodedata.normalize("NFKD", clean(text).lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = _PUNCTUATION.sub(" ", plain)
    return _SPACES.sub(" ", plain).strip().lstrip("/").strip(" .,!")


# Signs that ask, or point at the money, sent alone: "?", "??", "💶" (VS16 left out).
_ASKING_SIGNS = frozenset("?¿💶💰💵💸€")


def signs_alone(text: str | None) -> bool:
    """Whether the message is only question marks or a money sign ("?", "??", "💶"):
    someone asking what to do here, neither an answer nor a word."""
    kept = [ch for ch in clean(text) if not ch.isspace() and ch != "\ufe0f"]
    return bool(kept) and set(kept) <= _ASKING_SIGNS


# Words of courtesy or greeting at either end of a message, which change nothing in an
# answer or a request: "sì grazie", "saldo per favore", "Buongiorno, quanto mi resta?".
COURTESY: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "per favore", "per piacere", "perfavore", "per cortesia", "cortesemente",
        "grazie mille", "mille grazie", "grazie tante", "tante grazie", "grazie", "prego",
        "gentilmente", "buongiorno", "buonasera", "buon pomeriggio", "salve", "ciao",
        "buon giorno", "buona sera", "buonanotte", "buona notte",
        "please", "thank you very much", "thank you", "thanks a lot", "many thanks", "thanks",
        "pls", "hello", "hi", "good morning", "good afternoon", "good evening",
    )
)  # fmt: skip
_EDGE_MARKS = ".,'/+-"


def plain_words(text: str | None) -> list[str]:
    """The words of a message, to compare with a small table of phrases: folded (no case,
    accents, emoji or punctuation, see fold), apostrophes gone ("si'" and "sì" are "si",
    "what's" is "whats") and courtesy words at either end left out ("si grazie" is "si",
    "Saldo per favore" is "saldo"), texting shorthand written out ("nn" is "non"). Empty
    when nothing else was said. Digits stay as written:
    a code or an amount is never a phrase (see has_digits)."""
    return list(_plain_words(text))


# Texting shorthand, read as the word it stands for wherever that word is read: "nn ho
# capito" is "non ho capito", "nn lavora nessuno" a no, "nn pago 350 euro" no amount; "ki
# siete?" is "chi siete?", "ke devo fare" "che devo fare", "ciao sn Maria" "ciao sono
# Maria". Only the word alone: "nonna", "nonno", "anno", "panna" are words of their own.
# Spoken forms of the centre and south read the same way: "nun ho capito gnente" is "non ho
# capito niente", "'ndo sta er forno?" "dove sta il forno?".
_SHORTHAND = {
    "nn": "non", "ki": "chi", "ke": "che", "sn": "sono", "cmq": "comunque", "xke": "perche",
    "xche": "perche", "nun": "non", "ndo": "dove", "ndove": "dove", "gnente": "niente",
    "gniente": "niente", "er": "il",
}  # fmt: skip


def unshortened(words: list[str]) -> list[str]:
    """Folded words with texting shorthand written out ("nn" is "non")."""
    return [_SHORTHAND.get(word, word) for word in words]


@lru_cache(maxsize=2048)
def _plain_words(text: str | None) -> tuple[str, ...]:
    # Kept once per message, like fold: the keyword parser and the yes/no reader both ask.
    words = [word.replace("'", "").strip(_EDGE_MARKS) for word in fold(text).split()]
    words = unshortened([word for word in words if word])
    changed = True
    while changed and words:
        changed = False
        for phrase in COURTESY:
            size = len(phrase)
            if tuple(words[:size]) == phrase:
                words, changed = words[size:], True
            elif len(words) >= size and tuple(words[-size:]) == phrase:
                words, changed = words[:-size], True
    return tuple(words)


# Spoken Italian as people write it: "c'ho" is "ho" ("quanto c'ho?" asks "quanto ho?"),
# "c'hai", "c'ha", "c'abbiamo" the same (plain_words has joined them: "cho").
_WITH_CI = {"cho": "ho", "chai": "hai", "cha": "ha", "cabbiamo": "abbiamo", "channo": "hanno"}
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")


def as_said(words: list[str]) -> list[str]:
    """Plain words with the spoken forms of a phone's Italian undone: "c'ho" (or "c ho") is
    "ho", and
    a first consonant written twice, as it is said after "a", "e", "sui" in the centre
    and south ("sui bbuoni", "li ssoldi", "a mme"), is one: no Italian word starts with
    one doubled. For the readings of a request (commands.phrase_of, question_of), never of
    an answer: a code, a name or an amount is read as written."""
    said = []
    for at, word in enumerate(words):
        if word == "c" and at + 1 < len(words) and words[at + 1] in _WITH_CI.values():
            continue  # "quanto c ho?", the apostrophe left out: "quanto ho?"
        word = _WITH_CI.get(word, word)
        if len(word) > 2 and word[0] == word[1] and word[0] in _CONSONANTS:
            word = word[1:]
        said.append(word)
    return said


def has_digits(words: list[str]) -> bool:
    """Whether any word holds a digit: a payment code, an amount, a phone number."""
    return any(ch.isdigit() for word in words for ch in word)


def typo_distance(a: str, b: str) -> int:
    """Edits between two words, a swap of neighbours counting as one (Damerau-Levenshtein,
    optimal string alignment): "sadlo" is one slip from "saldo", where plain Levenshtein
    counts two and difflib's similarity ratio counts no edits at all."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, start=1):
        current = [i, *([0] * len(b))]
        for j, right in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1,  # a letter too many
                current[j - 1] + 1,  # a letter missing
                previous[j - 1] + (left != right),  # a wrong letter
            )
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                current[j] = min(current[j], previous2[j - 2] + 1)  # two letters swapped
        previous2, previous = previous, current
    return previous[-1]


def forget_messages() -> None:
    """Forget the messages already cleaned and folded: a benchmark of one turn measures
    each message as new to the process."""
    clean.cache_clear()
    fold.cache_clear()
    _plain_words.cache_clear()

"""Whole numbers written in words, Italian and English: the small ones a household is
counted with (NUMBER_WORDS) and any whole number in words ("duemilacinquecento", "two
thousand five hundred"), for the amounts of the application and of the till."""

from __future__ import annotations

from core.dialogue.words.text import fold

# Numbers people write in words, in Italian and English (a household rarely has more than 20).
NUMBER_WORDS: dict[str, int] = {
    **dict.fromkeys(("zero", "nessuno", "nessuna", "niente", "nulla", "none", "nothing"), 0),
    **dict.fromkeys(("uno", "una", "un", "one", "solo", "sola", "alone"), 1),
    **dict.fromkeys(("due", "two", "coppia"), 2),
    **dict.fromkeys(("tre", "three"), 3),
    **dict.fromkeys(("quattro", "four"), 4),
    **dict.fromkeys(("cinque", "five"), 5),
    **dict.fromkeys(("sei", "six"), 6),
    **dict.fromkeys(("sette", "seven"), 7),
    **dict.fromkeys(("otto", "eight"), 8),
    **dict.fromkeys(("nove", "nine"), 9),
    **dict.fromkeys(("dieci", "ten"), 10),
    **dict.fromkeys(("undici", "eleven"), 11),
    **dict.fromkeys(("dodici", "twelve"), 12),
    **dict.fromkeys(("tredici", "thirteen"), 13),
    **dict.fromkeys(("quattordici", "fourteen"), 14),
    **dict.fromkeys(("quindici", "fifteen"), 15),
    **dict.fromkeys(("sedici", "sixteen"), 16),
    **dict.fromkeys(("diciassette", "seventeen"), 17),
    **dict.fromkeys(("diciotto", "eighteen"), 18),
    **dict.fromkeys(("diciannove", "nineteen"), 19),
    **dict.fromkeys(("venti", "twenty"), 20),
}


# The pieces whole numbers are written with, in Italian (joined in one word or not:
# "duemilacinquecento", "due mila cinquecento") and English ("two thousand five hundred").
_UNITS = {
    **dict.fromkeys(("uno", "un", "una", "one"), 1),
    **dict.fromkeys(("due", "two"), 2),
    **dict.fromkeys(("tre", "three"), 3),
    **dict.fromkeys(("quattro", "four"), 4),
    **dict.fromkeys(("cinque", "five"), 5),
    **dict.fromkeys(("sei", "six"), 6),
    **dict.fromkeys(("sette", "seven"), 7),
    **dict.fromkeys(("otto", "eight"), 8),
    **dict.fromkeys(("nove", "nine"), 9),
}
_TEENS = {
    **dict.fromkeys(("dieci", "ten"), 10),
    **dict.fromkeys(("undici", "eleven"), 11),
    **dict.fromkeys(("dodici", "twelve"), 12),
    **dict.fromkeys(("tredici", "thirteen"), 13),
    **dict.fromkeys(("quattordici", "fourteen"), 14),
    **dict.fromkeys(("quindici", "fifteen"), 15),
    **dict.fromkeys(("sedici", "sixteen"), 16),
    **dict.fromkeys(("diciassette", "seventeen"), 17),
    **dict.fromkeys(("diciotto", "eighteen"), 18),
    **dict.fromkeys(("diciannove", "nineteen"), 19),
}
_TENS = {
    # "vent" + "uno", "trent" + "otto": a ten drops its vowel before uno and otto.
    **dict.fromkeys(("venti", "vent", "twenty"), 20),
    **dict.fromkeys(("trenta", "trent", "thirty"), 30),
    **dict.fromkeys(("quaranta", "quarant", "forty"), 40),
    **dict.fromkeys(("cinquanta", "cinquant", "fifty"), 50),
    **dict.fromkeys(("sessanta", "sessant", "sixty"), 60),
    **dict.fromkeys(("settanta", "settant", "seventy"), 70),
    **dict.fromkeys(("ottanta", "ottant", "eighty"), 80),
    **dict.fromkeys(("novanta", "novant", "ninety"), 90),
}
_HUNDRED = frozenset({"cento", "cent", "hundred"})
_THOUSAND = frozenset({"mille", "mila", "thousand"})
_MILLION = frozenset({"milione", "milioni", "million"})
_AND = frozenset({"e", "and"})
_PIECES = sorted(
    {*_UNITS, *_TEENS, *_TENS, *_HUNDRED, *_THOUSAND, *_MILLION, *_AND},
    key=len,
    reverse=True,
)


def _pieces(word: str) -> list[str] | None:
    """A word cut into number pieces ("duemilacinquecento": due, mila, cinque, cento), the
    longest pieces first and going back when the rest cannot be cut; None if it cannot."""
    if not word:
        return []
    for piece in _PIECES:
        if word.startswith(piece):
            rest = _pieces(word[len(piece) :])
            if rest is not None:
                return [piece, *rest]
    return None


def _below_hundred(pieces: list[str]) -> int | None:
    """A ten and a unit ("venti", "tre"), a ten alone, a unit or a teen alone."""
    if not pieces:
        return 0
    if len(pieces) == 1:
        (piece,) = pieces
        return _UNITS.get(piece, _TEENS.get(piece, _TENS.get(piece)))
    if len(pieces) == 2 and pieces[0] in _TENS and pieces[1] in _UNITS:
        return _TENS[pieces[0]] + _UNITS[pieces[1]]
    return None


def _group(pieces: list[str]) -> int | None:
    """What comes before "mila" or at the end: "due cento cinquanta" 250, "fifteen hundred"
    1500 (in English the hundreds may go past nine)."""
    hundreds = [i for i, piece in enumerate(pieces) if piece in _HUNDRED]
    if not hundreds:
        return _below_hundred(pieces)
    if len(hundreds) > 1:
        return None
    at = hundreds[0]
    times = _below_hundred(pieces[:at]) if at else 1
    rest = _below_hundred(pieces[at + 1 :])
    if times is None or rest is None or times == 0:
        return None
    if pieces[at] != "hundred" and times > 9:
        return None
    return times * 100 + rest


def spelled_number(text: str) -> int | None:
    """A whole number written in words, Italian or English: "duemila" 2000, "mille e
    cinquecento" 1500, "duecentocinquanta" 250, "two thousand five hundred" 2500, "fifteen
    hundred" 1500. None for anything else (a digit, a word that is no number)."""
    pieces: list[str] = []
    for word in fold(text).replace("-", " ").split():
        cut = _pieces(word)
        if cut is None:
            return None
        pieces.extend(cut)
    pieces = [x for x in pieces if x not in _AND]
    if not pieces:
        return None
    total, group = 0, []
    for piece in pieces:
        if piece not in _MILLION and piece not in _THOUSAND:
            group.append(piece)
            continue
        scale = 1_000_000 if piece in _MILLION else 1000
        count = _group(group) if group else 1
        if count is None or count == 0 or (piece in ("mila", "milioni") and count < 2):
            return None
        if (piece == "mille" and group) or (piece == "milione" and count != 1):
            return None  # "due mille", "tre milione" are not how numbers are written
        if total and total % (scale * 1000):
            return None  # "mille duemila": a larger group after a smaller one
        total, group = total + count * scale, []
    rest = _group(group)
    return None if rest is None else total + rest

"""How many SMS segments a text costs (3GPP TS 23.038, GSM 03.38 default alphabet).

A text made only of GSM-7 characters travels in 7-bit septets: 160 per single
SMS, 153 per segment of a concatenated one. The characters of the extension
table (€ [ ] { } \\ ~ ^ |, form feed) take an escape septet too, so they count as
two, and a pair is never split across segments. One character outside both
tables forces the whole message into UCS-2: 70 UTF-16 units per SMS, 67 per
segment. Italian "è à ù ì ò é" are in the basic table; "È" (capital) is not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# The basic character set, in code order (0x00..0x7F); 0x1B is the escape to the extension table.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(BASIC) - {"\x1b"}
_EXTENSION = frozenset(EXTENSION)
_ANY = _BASIC | _EXTENSION
# The characters of a text outside a table, found by the regex engine in one pass over the
# text: SMS replies are checked on every turn, and `frozenset.issuperset(text)` first builds
# a set of the text's characters (most of the check's cost). No character is in both tables.
_NOT_BASIC = re.compile("[^" + re.escape("".join(sorted(_BASIC))) + "]")
_NOT_ANY = re.compile("[^" + re.escape("".join(sorted(_ANY))) + "]")
_DOUBLE_SPACE = re.compile("(?<=\\S)  +(?=\\S)")

SINGLE_GSM7 = 160
MULTI_GSM7 = 153
SINGLE_UCS2 = 70
MULTI_UCS2 = 67

Encoding = Literal["GSM-7", "UCS-2"]


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic or extension table."""
    return _NOT_ANY.search(text) is None


def non_gsm7(text: str) -> list[str]:
    """The characters that would force UCS-2, in order of appearance, without repeats."""
    seen: list[str] = []
    for ch in text:
        if ch not in _BASIC and ch not in _EXTENSION and ch not in seen:
            seen.append(ch)
    return seen


def septets(text: str) -> int:
    """Length in GSM-7 septets (extension characters count two). Raises on non-GSM-7 text."""
    length = _gsm7_length(text)
    if length is None:
        bad = next(ch for ch in text if ch not in _ANY)
        raise ValueError(f"{bad!r} is not a GSM-7 character")
    return length


def _gsm7_length(text: str) -> int | None:
    """Septets of a GSM-7 text (an extension character counts two), None for any other."""
    outside = _NOT_BASIC.findall(text)
    if outside and not _EXTENSION.issuperset(outside):
        return None
    return len(text) + len(outside)


def _ucs2_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    length: int  # septets for GSM-7, UTF-16 units for UCS-2
    segments: int

    @property
    def single(self) -> bool:
        return self.segments <= 1


def count(text: str) -> SegmentCount:
    """The encoding a phone network would use for `text` and how many segments it costs."""
    length = _gsm7_length(text)
    if length is not None:
        if length <= SINGLE_GSM7:
            return SegmentCount("GSM-7", length, 1 if length else 0)
        return SegmentCount("GSM-7", length, _gsm7_segments(text))
    units = _ucs2_units(text)
    if units <= SINGLE_UCS2:
        return SegmentCount("UCS-2", units, 1 if units else 0)
    return SegmentCount("UCS-2", units, _ucs2_segments(text))


def segments(text: str) -> int:
    return count(text).segments


def gsm7_fits_one(text: str) -> bool:
    """Whether `text`, of GSM-7 characters only (what `to_gsm7` returns, and lines of such
    texts), fits one SMS: at most 160 septets, an extension character counting two.
    `count(text).single` for such a text, without its regex pass looking for characters
    outside both tables (about 50 instructions a character) and its record (three slots
    set through a frozen dataclass's `__init__`): the dialogue asks it of every SMS reply
    it words, rendered in GSM-7 already (core.dialogue.context.fits_sms)."""
    length = len(text)
    # Ten counts of one character each, in C: a few thousand instructions in all.
    return length <= SINGLE_GSM7 and length + sum(map(text.count, EXTENSION)) <= SINGLE_GSM7


def _gsm7_segments(text: str) -> int:
    # Fill segments of 153 septets; an escape pair that does not fit moves whole to the next.
    used, parts = 0, 1
    for ch in text:
        width = 2 if ch in _EXTENSION else 1
        if used + width > MULTI_GSM7:
            parts += 1
            used = 0
        used += width
    return parts


def _ucs2_segments(text: str) -> int:
    # A surrogate pair (emoji) is never split across segments either.
    used, parts = 0, 1
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > MULTI_UCS2:
            parts += 1
            used = 0
        used += width
    return parts


# Typographic characters people type (or phones auto-correct to) and their GSM-7 look-alikes.
_LOOKALIKES = {
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u00b4": "'",  # ´
    "`": "'",
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2212": "-",  # −
    "\u2010": "-",
    "\u2011": "-",
    "\u2026": "...",  # …
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "\t": " ",
    "\u00c8": "E'",  # È: Italian writes E' where the capital is missing
    "\u00c0": "A'",
    "\u00cc": "I'",
    "\u00d2": "O'",
    "\u00d9": "U'",
    "\u00b0": "o",
}


_LOOKALIKE_LETTERS = frozenset(_LOOKALIKES)


def to_gsm7(text: str) -> str:
    """`text` in characters an SMS carries in GSM-7: à è é ì ò ù stay, “ ” become ",
    – becomes -, other accented letters lose their accent, emoji and the like go."""
    found = _NOT_ANY.findall(text)
    if not found:
        return text
    foreign = set(found)
    if foreign.issubset(_LOOKALIKE_LETTERS):
        # Most texts land here (Babel's amounts carry a no-break space): the same result
        # as the loop below, a replace per foreign letter instead of a step per letter.
        for ch in foreign:
            text = text.replace(ch, _LOOKALIKES[ch])
        if "  " in text:
            text = _DOUBLE_SPACE.sub(" ", text)
        return text.strip(" ")
    out = [ch if ch in _BASIC or ch in _EXTENSION else _gsm7_of(ch) for ch in text]
    # An emoji between two words leaves two spaces; one is enough.
    return _DOUBLE_SPACE.sub(" ", "".join(out)).strip(" ")


@lru_cache(maxsize=1024)
def _gsm7_of(ch: str) -> str:
    """What `to_gsm7` writes for a character outside both tables: its look-alike, else its
    letter without the accent, else nothing (emoji, variation selectors, other scripts)."""
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    base = "".join(x for x in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(x))
    return base if base and all(x in _BASIC or x in _EXTENSION for x in base) else ""


@lru_cache(maxsize=1024)
def _outside_septets(ch: str) -> int:
    """The septets `to_gsm7` writes for a character outside the basic table."""
    written = ch if ch in _EXTENSION else _gsm7_of(ch)
    return len(written) + sum(x in _EXTENSION for x in written)


def septets_at_most(text: str) -> int:
    """At most how many septets `to_gsm7(text)` takes, alone or as a piece of a longer text
    put through it: every character as to_gsm7 writes it (kept, an extension character
    two septets, its look-alike, its letter without the accent, or nothing), before the
    double spaces it makes one and the spaces it strips from the ends, which only take
    septets away. Counted without building the text: the dialogue asks whether an SMS
    fits one segment from its template and parameters (core.i18n.septets_at_most)."""
    outside = _NOT_BASIC.findall(text)
    if not outside:
        return len(text)
    return len(text) - len(outside) + sum(map(_outside_septets, outside))

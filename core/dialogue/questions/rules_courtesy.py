"""question_of's first rules: courtesy said with words (thanks, "ok", an apology, a
greeting or "who are you?") and STOP written inside a sentence."""

from __future__ import annotations

from itertools import pairwise

from core.dialogue.context import ACKNOWLEDGED
from core.dialogue.keywords import KEYWORDS
from core.dialogue.questions.asked import (
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.codes_and_calls import (
    _MESSAGES,
    _NO_MORE,
)
from core.dialogue.questions.courtesy import (
    _ACKNOWLEDGED,
    _ACKNOWLEDGED_PAIRS,
    _ACKNOWLEDGING,
    _APOLOGY_WORDS,
    _HELLO,
    _SORRY,
    _THANKS,
    _WHO_ARE_YOU,
    _WITH_THANKS,
    APOLOGY,
)
from core.dialogue.questions.shopkeeper import CLOSE_TILL, CLOSING


def courtesy_or_stop(asked: Asked) -> Request | ReadOn:
    """Thanks, an acknowledgement, an apology, a greeting, or how to write STOP, said in
    words; else READ_ON."""
    words, said, every = asked.words, asked.said, asked.every
    if said <= _WITH_THANKS and every & _THANKS:
        return "thanks", ""  # "ok grazie", "va bene grazie mille", "grazie, gentilissimi"
    if said <= _ACKNOWLEDGING and (
        said & _ACKNOWLEDGED or set(pairwise(words)) & _ACKNOWLEDGED_PAIRS
    ):
        # "Ok", "va bene", "ricevuto" to a notice; with thanks ("ricevuto, grazie") thanks.
        return ("thanks", "") if every & _THANKS else (ACKNOWLEDGED, "")
    if " ".join(words) in CLOSING:
        return CLOSE_TILL, ""  # "ho finito": a shop's till closing (a citizen: not understood)
    if said <= _APOLOGY_WORDS and said & _SORRY:
        return APOLOGY, ""  # "scusi ho sbagliato": no harm done, the menu
    unhello = words[1:] if words[0] in _HELLO else words
    if not unhello or " ".join(unhello) in _WHO_ARE_YOU:
        return "greeting", ""  # "pronto?", "pronto, chi parla?", "chi siete?"
    if len(words) == 1 and KEYWORDS.get(words[0]) == "stop":
        # "Stop per favore": STOP acts only alone (EXACT_ONLY), so how to write it.
        return "stop_hint", ""
    if said & _MESSAGES and said & _NO_MORE:
        return "stop_hint", ""
    return READ_ON

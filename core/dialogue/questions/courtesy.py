"""Courtesy with nothing asked: thanks, an "ok" to a notice, a greeting or "who are you?", an
apology, a thumb or joined hands sent alone, and a greeting with the writer's name."""

from __future__ import annotations

import unicodedata

from core.dialogue.questions.sentence import SENTENCE_KEYWORDS
from core.dialogue.words import (
    has_digits,
)

# "Grazie", "ok grazie mille", "thank you": thanks, answered with a word of what to write.
_THANKS = frozenset({"grazie", "thanks", "thank"})
# "Prego!", the courtesy returned to an answer.
_YOURE_WELCOME = frozenset({"prego"})
_WITH_THANKS = frozenset(
    {
        "ok", "okay", "va", "bene", "daccordo", "perfetto", "mille", "tante", "you", "very",
        "much", "gentilissimi", "gentilissima", "gentilissimo", "gentili", "gentile", "siete",
        "sei", "molto", "davvero", "tanto", "tantissimo", "infinite", "buona", "giornata",
        "serata", "arrivederci", "so", "kind", "lot", "bye", "goodbye", "a", "posto",
        "apposto", "tutto", "signora", "signore", "dottoressa", "dottore", "cara", "caro",
    }
)  # fmt: skip
# "Ok", "va bene", "ricevuto": a notice (a credit, a receipt) acknowledged, perhaps hours
# later, with nothing asked. Answered like "Prego!" ("All right." and the menu), not "I did
# not understand". Only these words: "ok ma non ho capito" is still the help, and "sì"
# alone says nothing of a notice.
_ACKNOWLEDGING = frozenset(
    {
        "ok", "okay", "va", "bene", "si", "ho", "tutto", "chiaro", "daccordo", "perfetto",
        "ricevuto", "ricevuta", "capito", "benissimo", "got", "it", "all", "right", "yes",
        "fine", "alright", "understood", "noted",
    }
)  # fmt: skip
# A thumb or a joined-hands emoji sent alone (Telegram makes them one tap): "ok", "grazie".
_ACKNOWLEDGING_SIGNS = frozenset("👍👌🆗✅✔☑")
_THANKING_SIGNS = frozenset("🙏")
# Skin tones and the emoji presentation selector change no sign's meaning.
_SIGN_MODIFIERS = frozenset("\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


def _signs(text: str | None) -> frozenset[str]:
    """The symbols of a message (emoji), without letters, digits, spaces and punctuation."""
    return frozenset(
        ch
        for ch in text or ""
        if ch not in _SIGN_MODIFIERS and not ch.isalnum() and unicodedata.category(ch) == "So"
    )


# One of these, or a pair of _ACKNOWLEDGED_PAIRS, makes the message an acknowledgement.
_ACKNOWLEDGED = frozenset(
    {"ok", "okay", "daccordo", "perfetto", "ricevuto", "ricevuta", "capito", "benissimo",
     "fine", "alright", "understood", "noted"}
)  # fmt: skip
_ACKNOWLEDGED_PAIRS = frozenset({("va", "bene"), ("got", "it"), ("all", "right")})
# A greeting alone ("ciao", "buongiorno", "pronto?") or asking who writes ("chi siete?"):
# the welcome, which says what the service is, and the menu.
_GREETINGS = frozenset(
    {"ciao", "buongiorno", "buonasera", "pomeriggio", "salve", "hello", "hi", "morning",
     "afternoon", "evening", "buonanotte",
     # "Buon giorno", "buona sera" written apart (only courtesy words in the message).
     "giorno", "sera", "notte"}
)  # fmt: skip
_HELLO = frozenset({"pronto", "ehi", "hey", "ehila"})
_WHO_ARE_YOU = frozenset(
    {
        "chi siete", "chi siete voi", "chi sei", "chi e", "chi parla", "chi scrive",
        "con chi parlo", "who are you", "who is this", "whos this", "who is it",
        # "What is this?" from someone who got this number: whose service it is.
        "what is this", "whats this", "what is this number", "what is this service",
    }
)  # fmt: skip


# "Sono Maria", "mi chiamo Giuseppe", "I am Anna": the writer's name after a greeting.
_INTRODUCTIONS = (("sono",), ("mi", "chiamo"), ("i", "am"), ("im",), ("my", "name", "is"))
_LONGEST_NAME = 3  # "la signora Bianchi", "Maria Rossi"
# Words after "sono" that say how she is or what she did, not who: "buonasera sono tornato"
# where an amount is asked is still no answer, "ciao sono senza soldi" no greeting.
_NAME_IS_NOT = frozenset(
    {
        "tornato", "tornata", "tornati", "qui", "qua", "ancora", "sempre", "di", "nuovo",
        "senza", "solo", "sola", "disoccupato", "disoccupata", "anziano", "anziana",
        "malato", "malata", "rimasto", "rimasta", "stato", "stata", "in", "non", "io",
        "back", "here", "again", "not", "alone", "a", "an", "out", "without",
    }
)  # fmt: skip


# "Scusi ho sbagliato", "scusate", "sorry, my mistake" with nothing asked: no harm done,
# answered "No problem." and the menu (commands.run), not "I did not understand".
APOLOGY = "apology"
_SORRY = frozenset(
    {"scusi", "scusa", "scusate", "scusami", "scusatemi", "perdono", "perdonate",
     "sbagliato", "sbagliata", "errore", "ops", "oops", "sorry", "pardon", "mistake"}
)  # fmt: skip
_APOLOGY_WORDS = _SORRY | frozenset(
    {"mi", "ho", "abbiamo", "per", "l", "lerrore", "un", "ma", "numero", "messaggio",
     "scritto", "chiedo", "my", "bad", "wrong", "number", "message", "im", "i", "made", "a",
     "so", "very", "tanto", "molto"}
)  # fmt: skip


def _introduces_herself(words: list[str]) -> bool:
    """Whether the words, the greeting apart, are only the writer's name: an introduction
    and at most three words after it, none a keyword or a number."""
    for intro in _INTRODUCTIONS:
        if tuple(words[: len(intro)]) == intro:
            name = words[len(intro) :]
            return (
                0 < len(name) <= _LONGEST_NAME
                and not has_digits(name)
                and not set(name) & (SENTENCE_KEYWORDS | _NAME_IS_NOT)
            )
    return False

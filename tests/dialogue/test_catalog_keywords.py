"""Each language names its own keywords: an English sentence says CANCEL, an Italian one
ANNULLA. Both words work in either language, but a sentence that mixes them ("Choose a shop,
or ANNULLA") reads as a mistake, and an English help that says CANCEL contradicts it."""

from __future__ import annotations

import re

import pytest

from core.dialogue.commands import LANGUAGE_DONE
from core.dialogue.keywords import KEYWORDS
from core.dialogue.menus import IN_ENGLISH, IN_ITALIAN, IN_OUR_LANGUAGES
from tests.dialogue.test_catalogs import catalog

# (Italian, English): the word each language's sentences name for the same command.
PAIRS = (
    ("ANNULLA", "CANCEL"),
    ("SALDO", "BALANCE"),
    ("DOMANDA", "APPLY"),
    ("NEGOZI", "SHOPS"),
    ("RICORSO", "APPEAL"),
    ("STATO", "STATUS"),
    ("CARTA", "CARD"),
    ("LINGUA", "LANGUAGE"),
    ("AIUTO", "HELP"),
    ("PAGA", "PAY"),
    ("STORNO", "REFUND"),
    ("RESOCONTO", "STATEMENT"),
    ("RIMBORSO", "REIMBURSEMENT"),
    ("CASSIERE", "CASHIER"),
    ("CASSIERI", "CASHIERS"),
    ("ESCI", "LEAVE"),
    ("INVITO", "JOIN"),
    ("REGISTRA", "REGISTER"),
    ("COMPRA", "BUY"),
    ("REGALA", "GIVE"),
    ("BUONI", "VOUCHERS"),
    ("DONA", "DONATE"),
    ("ALTRI", "MORE"),
)
FOREIGN = {
    "it": frozenset(english for _, english in PAIRS),
    "en": frozenset(italian for italian, _ in PAIRS),
}
# Naming the other language's word as an alternative is deliberate, not drift:
# "write APPEAL (or RICORSO)", "scrivi RICORSO (o APPEAL)".
_ALTERNATIVE = re.compile(r"\((?:or|o) [A-Z]+\)")
_UPPER_WORD = re.compile(r"\b[A-Z]{2,}\b")
# The confirmation of a language change ends with the way back written in the language
# left behind, whose keyword it names on purpose (a forged SMS sender can change it).
# The help's way to English, said to someone who wrote English to an Italian chat, names
# the English keyword on purpose too, and the way to Italian, said to someone who wrote
# Italian to an English chat, the Italian one. French or Spanish at a question hear both
# ways, each in its own language.
_WAY_BACK = frozenset(
    {LANGUAGE_DONE.msgid, IN_ENGLISH.msgid, IN_ITALIAN.msgid, IN_OUR_LANGUAGES.msgid}
)


def foreign_keywords(text: str, language: str) -> set[str]:
    return set(_UPPER_WORD.findall(_ALTERNATIVE.sub("", text))) & FOREIGN[language]


def test_each_pair_is_one_command_in_both_languages() -> None:
    for italian, english in PAIRS:
        assert KEYWORDS[italian.lower()] == KEYWORDS[english.lower()], (italian, english)


def test_the_check_notices_a_keyword_of_the_other_language() -> None:
    assert foreign_keywords("Choose a shop from the list, or ANNULLA.", "en") == {"ANNULLA"}
    assert foreign_keywords("Scegli un negozio, o CANCEL.", "it") == {"CANCEL"}
    assert not foreign_keywords("Write APPEAL (or RICORSO) within 3 days.", "en")
    assert not foreign_keywords("Write MENU or STOP.", "en")


@pytest.mark.parametrize("language", ["it", "en"])
def test_sentences_name_the_keywords_of_their_own_language(language: str) -> None:
    mixed = []
    for entry in catalog(language):
        if not entry.id or entry.id in _WAY_BACK:
            continue
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        for form in strings:
            found = foreign_keywords(form or "", language)
            if found:
                mixed.append((sorted(found), form))
    assert not mixed, f"{len(mixed)} {language} sentences name the other language's words: {mixed}"

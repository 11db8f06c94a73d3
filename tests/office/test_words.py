"""The office speaks Italian as "tu", like the chat: never "voi" ("Scrivete il motivo",
"Ricaricate la pagina") beside "tu" ("Scegli la decisione")."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir

from core.i18n import translations
from tests.dialogue.catalog import KEYWORDS, METHODS, ROOT
from tests.office.conftest import Towns, signed_in

# The web office's pages and refusals, and the office's command line.
OFFICE_SOURCES = ("office", "buonispesa")
# Second person plural: an imperative or present ("scrivete", "avete"), with a pronoun
# after it ("ritiratelo", "sceglietene"), or "voi", "vi", "vostro".
VOI = re.compile(
    r"\b(\w+(?:ate|ete|ite)(?:ne|lo|la|li|le|ci|vi|mi|gli)|"
    r"scrivete|ricaricate|riprovate|scegliete|ripetete|aprite|usate|avete|siete|potete|"
    r"dovete|voi|vi|vostr[oaie])\b",
    re.IGNORECASE,
)


def office_msgids() -> set[str]:
    found: set[str] = set()
    for source in OFFICE_SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / source), method_map=METHODS, keywords=KEYWORDS
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.add(msgid)
    return found


def test_the_offices_italian_says_tu_never_voi() -> None:
    italian = translations("it")
    msgids = office_msgids()
    assert len(msgids) > 300  # the extraction found the office's sentences
    plural = {msgid: said for msgid in msgids if VOI.search(said := italian.gettext(msgid))}
    assert plural == {}


async def test_an_expired_form_says_reload_in_the_tu_form(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/round/window/close", csrf=False)
    assert page.status == 403
    assert "ricarica la pagina e riprova" in page.text
    assert "ricaricate" not in page.text

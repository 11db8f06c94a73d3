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


# The call for applications (a "window" or "round" in the code) is the "bando" on every
# page and command; "turno" is a shift, "finestra" no office's word for it.
NOT_THE_BANDO = re.compile(r"\b(turn[oi]|finestr[ae])\b", re.IGNORECASE)


def test_the_offices_italian_calls_the_window_bando() -> None:
    italian = translations("it")
    other = {
        msgid: said
        for msgid in office_msgids()
        if NOT_THE_BANDO.search(said := italian.gettext(msgid))
    }
    assert other == {}


async def test_the_pages_name_the_window_bando(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    dashboard = await clerk.get("/office/")
    assert ">Bando e tranche</a>" in dashboard.text and "Bando 1, aperto fino al" in dashboard.text
    page = await clerk.get("/office/round")
    assert "<h1>Bando e tranche</h1>" in page.text and "Chiudi ora il bando" in page.text
    for text in (dashboard.text, page.text):
        assert not NOT_THE_BANDO.search(text)


# A determina's budget is its "budget" (the word the economia's pages use too), never
# "fondi": beside "il fondo del Comune" (the money received) a clerk read "Fondi 2.000,00 €"
# as the fund's money.
FONDI = re.compile(r"\bfondi\b", re.IGNORECASE)


def test_the_offices_italian_calls_a_budget_budget_never_fondi() -> None:
    italian = translations("it")
    fondi = {
        msgid: said
        for msgid in office_msgids()
        if "budget" in msgid.lower() and FONDI.search(said := italian.gettext(msgid))
    }
    assert fondi == {}


# "Questa persona" as the subject of a sentence about an applicant ("Questa persona ha dei
# soldi da spendere") reads as pointing at someone at the counter; the office's own word
# for them, as on the application's page, is "il richiedente".
PERSON_AS_SUBJECT = re.compile(
    r"(?:^|[.:;,]\s+)questa persona (?:ha|non|è|deve|riceve)\b|"
    r"questa persona ha ricevuto",
    re.IGNORECASE,
)


def test_the_offices_italian_says_il_richiedente_not_questa_persona() -> None:
    italian = translations("it")
    pointing = {
        msgid: said
        for msgid in office_msgids()
        if PERSON_AS_SUBJECT.search(said := italian.gettext(msgid))
    }
    assert pointing == {}


async def test_the_pages_say_budget_and_the_fund_apart(towns: Towns) -> None:
    clerk = await signed_in(towns.server, "bel.clerk")
    for path in ("/office/", "/office/round", "/office/fund"):
        page = await clerk.get(path)
        assert page.status == 200, path
        assert "Budget" in page.text and not FONDI.search(page.text), path

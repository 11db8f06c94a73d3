"""One thing, one name on the office's pages: an application excluded is "Esclusa: reddito
da lavoro" on the list and on its own page (not "Esclusi (reddito da lavoro)" there); the
transparency report is the "relazione per la trasparenza" wherever it is named (it was
also the "prospetto"); the citizen's grounds of an appeal and the office's reasons for
deciding it are not both "Motivo"; the liquidity limit is not also a "soglia"; the citizen
the office tells, sends a decision to or gives money back to is the "cittadino" (not also
"la persona" in the same kind of sentence)."""

from __future__ import annotations

import re
from html import unescape

from babel.messages.extract import extract_from_dir

from core.i18n import translations
from tests.dialogue.catalog import KEYWORDS, METHODS, ROOT
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in


def _italian_of(*sources: str) -> dict[str, str]:
    italian = translations("it")
    said: dict[str, str] = {}
    for source in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / source), method_map=METHODS, keywords=KEYWORDS
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    said[msgid] = italian.gettext(msgid)
    return said


def test_the_transparency_report_and_the_liquidity_limit_have_one_name() -> None:
    said = _italian_of("office", "core", "buonispesa")
    other = {
        msgid: text
        for msgid, text in said.items()
        if re.search(r"\bprospett[oi]\b|liquidità oltre la soglia", text, re.IGNORECASE)
    }
    assert other == {}


# An English sentence naming the citizen as the one told, sent to or given back to.
_TO_THE_CITIZEN = re.compile(
    r"(sent to|back to|given back to) the citizen|the citizen(, who)? (has been|was|were|is) told"
    r"|the citizen and the delegate were told|^citizen told$"
)


def test_the_citizen_told_or_given_back_to_is_always_the_cittadino() -> None:
    said = _italian_of("office", "core", "buonispesa")
    to_the_citizen = {msgid: text for msgid, text in said.items() if _TO_THE_CITIZEN.search(msgid)}
    assert len(to_the_citizen) >= 10
    other = {
        msgid: text
        for msgid, text in to_the_citizen.items()
        if "cittadino" not in text or re.search(r"\bpersona\b", text, re.IGNORECASE)
    }
    assert other == {}


async def test_an_excluded_application_reads_the_same_on_the_list_and_on_its_page(
    towns: Towns,
) -> None:
    [excluded] = await apply(towns.bel, person(1, 1, work=True))
    await close_approve_credit(towns.bel, 150_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    found = await clerk.get(f"/office/applications?q={excluded}")
    assert "Esclusa: reddito da lavoro" in found.text
    page = await clerk.get(f"/office/applications/{excluded}")
    assert '<td data-label="Lista">Esclusa: reddito da lavoro</td>' in page.text
    assert "Esclusi" not in page.text


async def test_the_appeals_page_tells_the_citizens_grounds_from_the_offices_reasons(
    towns: Towns,
) -> None:
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.get("/office/appeals")
    assert '<th scope="col">Motivi del ricorso</th>' in page.text
    assert '<th scope="col">Motivazione dell&#39;ufficio</th>' in page.text
    assert ">Motivo<" not in page.text and "Motivo del cittadino" not in page.text


async def test_the_history_says_the_tranche_was_approved_and_this_household_excluded_from_it(
    towns: Towns,
) -> None:
    [excluded] = await apply(towns.bel, person(1, 1, work=True))
    await close_approve_credit(towns.bel, 150_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{excluded}")
    history = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page.text)))
    assert (
        "Approvata l'assegnazione della tranche 1: questo nucleo ne è escluso per reddito da lavoro"
        in history
    )
    assert "approvata: esclusa" not in history

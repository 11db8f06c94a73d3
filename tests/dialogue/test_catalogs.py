"""Every sentence is translated in Italian and English, keeps its placeholders, and fits one SMS."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.dialogue.errors import error_text, known_codes
from core.dialogue.keywords import KEYWORDS
from core.dialogue.render import render_plain
from core.domain import gsm7
from core.domain.errors import DomainError
from core.i18n import LANGUAGES, LOCALES_DIR, render_text, translations
from core.services import appeals
from core.services.decisions import decision_notice
from tests.dialogue.catalog import PLACEHOLDER, SAMPLES, Message, messages_in_code

MESSAGES = messages_in_code()
SMS_MESSAGES = [message for message in MESSAGES if message.sms]


@cache
def catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _id(message: Message) -> str:
    return message.msgid[:60]


def test_the_code_has_messages_to_check() -> None:
    assert len(MESSAGES) > 150 and len(SMS_MESSAGES) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgid_is_translated(language: str) -> None:
    entries = catalog(language)
    untranslated = []
    for message in MESSAGES:
        entry = entries.get(message.msgid)
        strings = entry.string if entry is not None else None
        forms = list(strings) if isinstance(strings, tuple | list) else [strings]
        if entry is None or entry.fuzzy or not all(forms):
            untranslated.append(message.msgid)
    assert not untranslated, (
        f"{len(untranslated)} msgids without {language} translation: {untranslated}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language: str) -> None:
    broken = []
    for message in MESSAGES:
        entry = catalog(language).get(message.msgid)
        if entry is None:
            continue  # reported by the test above
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        for form in strings:
            if set(PLACEHOLDER.findall(form or "")) != message.placeholders:
                broken.append((message.msgid, form))
    assert not broken, f"placeholders dropped or renamed in {language}: {broken}"


def test_placeholder_check_notices_a_renamed_placeholder() -> None:
    # The check above compares sets of names: a renamed one is a different set.
    assert (
        set(PLACEHOLDER.findall("Saldo: {saldo}."))
        != Message("Balance: {balance}.", None, "x").placeholders
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("message", SMS_MESSAGES, ids=_id)
def test_every_sms_sentence_fits_one_gsm7_segment(message: Message, language: str) -> None:
    missing = message.placeholders - set(SAMPLES)
    assert not missing, f"add a realistic longest sample for {missing} in tests/dialogue/catalog.py"
    translations.cache_clear()
    for text in message.texts():
        body = render_text(text, language, sms=True)
        count = gsm7.count(body)
        assert count.encoding == "GSM-7", f"{gsm7.non_gsm7(body)} force UCS-2: {body!r}"
        assert count.single, f"{count.length} septets: {body!r}"


def test_every_refusal_the_flows_meet_has_a_sentence() -> None:
    generic = error_text(DomainError("no.such.code"))
    for code in known_codes():
        assert error_text(DomainError(code, until="2026-04-06T10:00:00+00:00")) != generic
    # Typed identifiers: every reason python-stdnum can give reads as a sentence.
    for kind in ("codice_fiscale", "partita_iva", "iban"):
        for reason in ("checksum", "length", "format", "component", "invalid"):
            assert error_text(DomainError(f"{kind}.{reason}")) != generic


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", [None, "work_income", "pension", "liquidity", "unknown"])
def test_a_decision_notice_fits_one_sms_with_the_longest_protocol(
    reason: str | None, language: str
) -> None:
    """The notice of an exclusion (or of a budget run out) is two sentences in one message:
    each fits alone, so the pair is measured here, with the longest samples."""
    protocol = SAMPLES["protocol"]
    assert isinstance(protocol, str)
    notice = decision_notice(
        "Europe/Rome",
        protocol,
        "excluded" if reason is not None else "admitted",
        reason,
        decided=datetime(2026, 12, 31, 22, 59, tzinfo=UTC),
        appeal_days=365,
    )
    translations.cache_clear()
    body = render_plain(notice, language, sms=True)
    assert protocol in body
    count = gsm7.count(body)
    assert count.encoding == "GSM-7" and count.single, f"{count.length} septets: {body!r}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("upheld", [True, False])
def test_an_appeal_decision_fits_one_sms_with_the_quote_and_the_protocol(
    upheld: bool, language: str
) -> None:
    """The decision quotes the start of the appeal (at most appeals.QUOTED characters, as the
    code message and the receipt do) beside the longest protocol and a reason of the office's
    usual length ("reason" sample): one segment. A longer reason makes a longer SMS."""
    protocol, reason, quote = SAMPLES["protocol"], SAMPLES["reason"], SAMPLES["quote"]
    assert isinstance(protocol, str) and isinstance(reason, str) and isinstance(quote, str)
    assert len(quote) == appeals.QUOTED
    translations.cache_clear()
    body = render_plain(
        appeals.decision_notice(protocol, quote, upheld, reason), language, sms=True
    )
    assert quote[:10] in body and protocol in body and body.endswith(reason)
    count = gsm7.count(body)
    assert count.encoding == "GSM-7" and count.single, f"{count.length} septets: {body!r}"


# The Italian keywords a reply may name. An English reply names the English word ("write
# OFFICE"): both work, but an English speaker told to write UFFICIO reads a word she does
# not know. Naming the Italian one beside it ("APPEAL (or RICORSO)") is fine.
ITALIAN_KEYWORDS = frozenset(
    {"aiuto", "annulla", "carta", "domanda", "lingua", "negozi", "paga", "resoconto",
     "ricorso", "rimborsi", "saldo", "stato", "storno", "ufficio", "cassieri", "esci"}
)  # fmt: skip
TOLD_TO_WRITE = re.compile(r"\b(?:write|reply|send|text|writing)\s+([A-Z]{2,})\b", re.IGNORECASE)


def test_english_replies_tell_to_write_english_keywords() -> None:
    assert set(KEYWORDS) >= ITALIAN_KEYWORDS
    italian = []
    for message in MESSAGES:
        entry = catalog("en").get(message.msgid)
        strings = entry.string if entry is not None else ()
        for form in strings if isinstance(strings, tuple | list) else (strings,):
            told = [w for w in TOLD_TO_WRITE.findall(form or "") if w.isupper()]
            italian += [(w, form) for w in told if w.lower() in ITALIAN_KEYWORDS]
    assert not italian, f"English replies naming an Italian keyword: {italian}"

"""Refusal codes live in one enum (core.domain.errors.Refusal): the sentences are for codes
the core raises, and no service raises a code typed as a bare string."""

from __future__ import annotations

import re
from pathlib import Path

from buonispesa.cli.refusals import _OFFICE_SENTENCES
from buonispesa.cli.refusals import describe as cli_describe
from core.dialogue.errors import known_codes
from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.errors import Refusal
from core.domain.messages import Text
from core.domain.outbox import OutboxStatus
from core.domain.shops import ShopStatus
from core.i18n import render_text
from core.services.reimbursement import NameNotInSepa
from office.refusals import describe as page_describe

ROOT = Path(__file__).resolve().parents[2]
# Codes built from what did not validate (InvalidIdentifier, InvalidAmount): families of
# codes, not single refusals.
FAMILIES = ("codice_fiscale.", "partita_iva.", "iban.", "phone.", "amount.", "bic.")
BARE = re.compile(r"\b(NotFound|NotAllowed|Conflict|DomainError)\(\s*\"")


def test_every_sentence_is_for_a_refusal_the_core_knows() -> None:
    refusals = {refusal.value for refusal in Refusal}
    for code in known_codes() | set(_OFFICE_SENTENCES):
        assert code in refusals or code.startswith(FAMILIES), code


def test_refusal_codes_are_unique_and_name_an_area_and_a_reason() -> None:
    values = [refusal.value for refusal in Refusal]
    assert len(values) == len(set(values))
    for refusal in Refusal:
        area, _, reason = refusal.value.partition(".")
        assert area and reason and refusal.name == f"{area}_{reason}".upper(), refusal


def test_no_refusal_is_raised_with_a_bare_string() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for folder in ("core", "bot", "sms", "buonispesa")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for text in [path.read_text(encoding="utf-8")]
        for match in BARE.finditer(text)
    ]
    assert found == []


def test_statuses_and_channels_keep_their_stored_values() -> None:
    # Rows written before the enums hold these strings; the enums must still read them.
    assert {s.value for s in ChargeStatus} == {
        "pending", "confirmed", "cancelled", "expired", "refunded",
    }  # fmt: skip
    assert {s.value for s in ShopStatus} == {"pending", "approved", "refused"}
    assert {s.value for s in OutboxStatus} == {
        "pending", "sending", "sent", "delivered", "undelivered", "failed",
    }  # fmt: skip
    assert {c.value for c in Channel} == {"sms", "telegram", "terminal"}


def test_a_name_sepa_cannot_write_is_said_alike_by_the_page_and_the_command() -> None:
    """The municipality's name is said in the same sentence on the office's page and by
    `admin reimburse`; a shop's names where each corrects it."""

    def said(text: Text) -> str:
        return render_text(text, "en")

    town = NameNotInSepa(name="🍞🥖", shop_id=None)
    assert said(cli_describe(town)) == said(page_describe(town))
    assert said(cli_describe(town)).startswith("The municipality's name '🍞🥖' has no letter")
    shop = NameNotInSepa(name="🍞🥖", shop_id=7)
    assert "'admin shops rename'" in said(cli_describe(shop))
    assert "on the Shops page" in said(page_describe(shop))

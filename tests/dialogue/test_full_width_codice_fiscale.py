"""A codice fiscale typed in full-width letters and digits (ＲＳＳＭＲＡ…, as some phone
keyboards send) is the plain codice fiscale at the till, as full-width digits already were
in a phone number: it was refused as "not a codice fiscale" (identity.parse_reference reads
it in NFKC). On both databases."""

from __future__ import annotations

import unicodedata

import pytest

from core.bootstrap import Core
from core.domain.identity import parse_reference
from core.domain.messages import Money
from tests.dialogue.harness import Chat, open_till, param
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, citizen_code
from tests.factories import make_town

ASKED = "Code sent to the customer ({where}) for {amount}. Ask them for it and write it here. "
# Full-width Latin letters and digits (U+FF21…, U+FF10…).
FULL_WIDTH = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９",
)


@pytest.mark.parametrize("letters_only", [True, False])
def test_a_full_width_codice_fiscale_reads_as_the_plain_one(letters_only: bool) -> None:
    plain = "RSSMRA85T10A739J"
    typed = "".join(
        ch.translate(FULL_WIDTH) if ch.isalpha() or not letters_only else ch for ch in plain
    )
    assert typed != plain and unicodedata.normalize("NFKC", typed) == plain
    assert parse_reference(typed) == ("cf", plain)
    assert parse_reference(typed.lower()) == ("cf", plain)


async def test_paga_with_a_full_width_codice_fiscale_charges_that_customer(core: Core) -> None:
    town = await make_town(core)
    till = await open_till(Chat(core, town.shop_phone))
    typed = town.citizen_cfs[0].translate(FULL_WIDTH)
    await till.expect(f"PAGA {typed} 12,50", ASK_CODE)
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    assert param(till.last, "amount") == Money(12_50)

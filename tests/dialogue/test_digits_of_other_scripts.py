"""Codes typed with the digits of another script: a phone's keyboard may write the code a
person reads out in full-width digits (１２３４５６) or Arabic-Indic ones (١٢٣٤٥٦). The
service read such digits as their value in an amount ("PAGA … ١٢,٥٠" asked 12,50 €) but
hashed them as typed in a code: the right code was a wrong code, counted against the
payment, the SMS till session and the shop (two of them ended an SMS till and warned the
customer of wrong codes). They are read as the ASCII digits they are, everywhere a code is
read (the till's code, the code that opens an SMS till, a confirmation code)."""

from __future__ import annotations

import pytest

from buonispesa.demo import seed_demo
from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain import otp
from tests.conftest import FakeClock
from tests.dialogue.harness import TILL_CODE, Chat, confirmation_code
from tests.dialogue.test_shop import citizen_code
from tests.dialogue.test_till_codes_trial import (
    CF,
    CITIZEN_PHONE,
    DEMO_DAY,
    SHOP_PHONE,
    charges,
    demo_till,
    read,
)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
SCRIPTS = {"full-width": FULL_WIDTH, "arabic-indic": ARABIC_INDIC, "persian": PERSIAN}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_code_in_another_script_reads_as_its_ascii_digits(script: str) -> None:
    typed = "123 456".translate(SCRIPTS[script])
    assert otp.normalize_typed_code(typed) == "123456"
    assert otp.read_typed_code(typed) == otp.TypedCode("123456", True)
    assert otp.read_typed_code(f"il codice è {typed}") == otp.TypedCode("123456", False)
    assert otp.normalize_invite_code("ａｂｃｄ-２３４٥") == "ABCD2345"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TERMINAL])
async def test_the_right_payment_code_in_another_script_pays(
    core: Core, clock: FakeClock, channel: Channel, script: str
) -> None:
    till = await demo_till(core, clock, channel)
    await till.send(f"PAGA {CF} 12,50")
    code = await citizen_code(core, CITIZEN_PHONE)
    assert read(await till.send(code.translate(SCRIPTS[script])), channel) == [
        "Pagamento confermato: 12,50 €. Ricevuta n. 1.\n1 Nuovo incasso\n2 Menu"
    ]
    # Paid once, with no wrong try counted against the payment.
    assert await charges(core) == [(1250, "confirmed", None, 0)]


async def test_an_sms_till_opens_with_its_code_in_arabic_indic_digits(
    core: Core, clock: FakeClock
) -> None:
    clock.current = DEMO_DAY
    assert await seed_demo(core)
    till = Chat(core, SHOP_PHONE)
    await till.expect("PAGA", TILL_CODE)
    code = await confirmation_code(till)
    await till.expect(
        code.translate(ARABIC_INDIC),
        "Who pays? Write the codice fiscale, the phone number or the card code.",
    )

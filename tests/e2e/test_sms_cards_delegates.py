"""By plain SMS, end to end: a card and its PIN at the till, a delegate's phone."""

from __future__ import annotations

import re

import pytest

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from core.services import cards, delegates
from tests.e2e.sms_harness import (
    SmsServer,
    assert_one_gsm7_segment,
)
from tests.e2e.test_sms_conversations import SHOP_NAME, SHOP_PHONE, code_in
from tests.factories import approved_request

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

DELEGATE = "+393471234567"


async def balance(server: SmsServer, cf: str) -> int:
    from core.services import ledger

    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        return await ledger.citizen_balance(uow, town.id, citizen.id)


async def open_till(server: SmsServer) -> None:
    """A till on SMS confirms its own number once, with a code sent to it."""
    asked = await server.exchange(SHOP_PHONE, "PAGA")
    await server.exchange(SHOP_PHONE, code_in(asked))


async def test_a_citizen_without_phone_pays_with_card_and_pin(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    holder = DEMO_CITIZENS[2]
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        citizen = await uow.citizens.by_codice_fiscale(town.id, holder.codice_fiscale)
        assert citizen is not None
        citizen.phone = None  # a paper application without a phone
        yes = await approved_request(uow, town, holder.codice_fiscale, "card")
        card = await cards.issue_card(
            uow, town, holder.codice_fiscale, server.core.now(), approved=yes
        )
        await uow.commit()
    assert len(card.codes) == 30
    before = await balance(server, holder.codice_fiscale)

    await open_till(server)
    refused = await server.exchange(SHOP_PHONE, f"PAGA {holder.codice_fiscale} 7,50")
    assert "carta" in refused  # the shop is told to use the card
    asked = await server.exchange(SHOP_PHONE, f"PAGA {cards_grouped(card.card_code)} 7,50")
    position = re.search(r"codice n\. (\d+)", asked)
    assert position is not None and "7,50" in asked
    code = card.codes[int(position.group(1)) - 1]
    assert not any(c in asked for c in card.codes)  # the till never sees a code
    wrong = await server.exchange(SHOP_PHONE, "000000" if code != "000000" else "111111")
    assert "sbagliato" in wrong
    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "7,50" in confirmed
    assert await balance(server, holder.codice_fiscale) == before - 7_50
    assert {record.to for record in server.twilio.accepted} == {SHOP_PHONE}
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_the_delegate_receives_the_code_and_asks_the_balance(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1]
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        cf = citizen.codice_fiscale
        yes = await approved_request(uow, town, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, town, cf, DELEGATE, server.core.now(), approved=yes)
        await uow.commit()
    [welcome] = await server.replies(DELEGATE, 1)
    assert "SALDO" in welcome.body
    [notice] = await server.replies(citizen.phone, 1)
    assert "***567" in notice.body

    await open_till(server)
    waiting = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12,50")
    # The code went to the delegate's phone, but the shop is shown the citizen's own
    # digits, as without a delegate.
    assert f"***{citizen.phone[-3:]}" in waiting and "***567" not in waiting
    code_sms = (await server.replies(DELEGATE, 2))[-1]
    assert SHOP_NAME in code_sms.body
    code = code_in(code_sms.body)
    assert code not in waiting
    assert len(server.twilio.to(citizen.phone)) == 1  # the citizen got no code
    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "12,50" in confirmed
    assert "12,50" in (await server.replies(DELEGATE, 3))[-1].body
    assert "12,50" in (await server.replies(citizen.phone, 2))[-1].body  # receipt to both

    balance_sms = await server.exchange(DELEGATE, "SALDO")
    assert citizen.codice_fiscale[:6] in balance_sms and citizen.codice_fiscale not in balance_sms
    assert "137,50" in balance_sms  # 150 € (one person) less the payment
    assert_one_gsm7_segment(server.twilio.accepted)


def cards_grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))

""" "Non sono io" by SMS, end to end over signed Twilio webhooks: Twilio's signature proves
the webhook came from Twilio, not that the sender number is the citizen's. A message "from"
her number refuses the payment at once (cancelling only protects her), but the "not me"
counts against the shop only once the challenge of the reply, which reached only her real
phone, comes back. Wrong guesses change nothing, and three end it. In both languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from core.domain.charges import ChargeStatus
from core.services import security
from core.storage import models as m
from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment
from tests.e2e.test_sms_cards_delegates import open_till
from tests.e2e.test_sms_conversations import SHOP_NAME, SHOP_PHONE

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CHALLENGE = re.compile(r"(?:NON SONO IO|NOT ME) (\d{4})$")


async def _refusals(server: SmsServer) -> list[security.NotMeRefusal]:
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        return [
            refusal
            for refusals in (await security.not_me_refusals(uow, town.id)).values()
            for refusal in refusals
        ]


async def _latest_charge(server: SmsServer) -> m.Charge:
    async with server.core.uow() as uow:
        charge = await uow.session.scalar(select(m.Charge).order_by(m.Charge.id.desc()).limit(1))
        assert charge is not None
        return charge


async def test_a_forged_not_me_cancels_but_never_counts_against_the_shop(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[0]
    await open_till(server)
    asked = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12,50")
    assert "12,50" in asked
    await server.replies(citizen.phone, 1)  # her payment code, on her phone
    her_phone_before = len(server.twilio.to(citizen.phone))

    # A stranger writes as her number: Twilio signs it like any other SMS.
    status, _ = await server.sms(citizen.phone, "non ho comprato niente")
    assert status == 200
    [reply] = [x.body for x in await server.replies(citizen.phone, her_phone_before + 1)][
        her_phone_before:
    ]
    assert reply.startswith(f"Pagamento di 12,50 € a {SHOP_NAME} rifiutato"), reply
    found = CHALLENGE.search(reply)
    assert found is not None, reply  # the digits went to her real phone, not the stranger's
    charge = await _latest_charge(server)
    assert charge.status == ChargeStatus.CANCELLED
    assert [(x.channel, x.confirmed) for x in await _refusals(server)] == [("sms", False)]

    # The stranger guesses: each guess changes nothing, the third ends the challenge.
    guesses = [g for g in ("1234", "9876", "5555", "4321") if g != found.group(1)][:3]
    said = [await server.exchange(citizen.phone, f"non sono io {g}") for g in guesses]
    assert said[0].startswith("Queste non sono le cifre che ti abbiamo mandato"), said[0]
    assert said[2].startswith("Troppe cifre sbagliate"), said[2]
    late = await server.exchange(citizen.phone, f"non sono io {found.group(1)}")
    assert not late.startswith("Grazie"), late
    assert [(x.channel, x.confirmed) for x in await _refusals(server)] == [("sms", False)]
    assert_one_gsm7_segment(server.twilio.to(citizen.phone))


async def test_her_real_phone_confirms_it_in_english(sms_server_any_db: SmsServer) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1]
    await server.say(citizen.phone, "LINGUA EN")
    await open_till(server)
    before = len(server.twilio.to(citizen.phone))
    await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 7,00")
    await server.replies(citizen.phone, before + 1)  # her payment code, on her phone
    refused = await server.exchange(citizen.phone, "not me")
    assert refused.startswith(f"Payment of €7.00 to {SHOP_NAME} refused"), refused
    found = CHALLENGE.search(refused)
    assert found is not None and refused.endswith(f"reply NOT ME {found.group(1)}"), refused
    assert [x.confirmed for x in await _refusals(server)] == [False]

    thanks = await server.exchange(citizen.phone, f"Not me {found.group(1)}")
    assert thanks == (
        f"Thank you: the office knows that the payment of €7.00 at {SHOP_NAME} was not yours. "
        "Someone has your details: write OFFICE."
    ), thanks
    assert [(x.amount_cents, x.channel, x.confirmed) for x in await _refusals(server)] == [
        (7_00, "sms", True)
    ]
    assert_one_gsm7_segment(server.twilio.to(citizen.phone))

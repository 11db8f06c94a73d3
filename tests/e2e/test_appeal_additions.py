"""A citizen who wants to add something just after filing an appeal (tills trial): told
that the appeal was filed, that the chat adds nothing to it, and how to reach the office
(the contact the town configured); never the general help. By SMS (the webhook, the
appeal confirmed with its code) and on Telegram."""

from __future__ import annotations

from functools import partial

import pytest

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from core.storage import models as m
from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_sms_conversations import code_in
from tests.e2e.test_telegram_citizen import appeals_of

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

REASON = "Siamo in quattro in famiglia, non in due"


OFFICE = "tel. 0733 123456, lun-ven 9-12"


async def office_contact(server: SmsServer | TelegramServer) -> str:
    """The contact the town configured (`admin municipality set --office-contact`)."""
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        town.office_contact = OFFICE
        await uow.commit()
    return OFFICE


async def only_appeal(server: SmsServer | TelegramServer, cf: str) -> m.Appeal:
    [appeal] = await appeals_of(server, cf)  # type: ignore[arg-type]
    assert appeal.reason == REASON and appeal.status == "open"
    return appeal


async def test_wanting_to_add_to_an_appeal_by_sms_is_told_how(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1]
    contact = await office_contact(server)
    asked = await server.exchange(citizen.phone, f"RICORSO {REASON}")
    received = await server.exchange(citizen.phone, code_in(asked))
    assert received.startswith("Ricorso n.")
    appeal = await only_appeal(server, citizen.codice_fiscale)

    for words in ("Volevo aggiungere una cosa", "vorrei aggiungere una cosa al ricorso"):
        # Too long for one SMS together: the contact follows in a second one.
        told, office = await server.say(citizen.phone, words)
        assert told.startswith(f"Il tuo ricorso n. {appeal.id} sulla domanda ")
        assert "Qui non si può aggiungere niente" in told and "AIUTO" not in told
        assert office.endswith(contact)
    assert (await only_appeal(server, citizen.codice_fiscale)).id == appeal.id
    assert_one_gsm7_segment(server.twilio.to(citizen.phone))


async def test_wanting_to_add_to_an_appeal_on_telegram_is_told_how(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    contact = await office_contact(server)
    maria = server.user(5021, language="en")
    await server.exchange(maria, lambda: maria.say("/balance"))
    await server.exchange(maria, lambda: maria.share_contact(rossi.phone.lstrip("+")))
    [received] = await server.exchange(maria, lambda: maria.say(f"/appeal {REASON}"))
    assert received["text"].startswith("Appeal no. ")
    appeal = await only_appeal(server, rossi.codice_fiscale)

    for words in ("I wanted to add something", f"/appeal I wanted to add that {REASON}"):
        [answer] = await server.exchange(maria, partial(maria.say, words))
        assert answer["text"].startswith(f"Your appeal no. {appeal.id} on application ")
        assert "Nothing can be added to it here" in answer["text"]
        assert contact in answer["text"]
    assert (await only_appeal(server, rossi.codice_fiscale)).id == appeal.id

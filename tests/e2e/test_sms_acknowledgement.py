"""An elderly citizen's "ok" to a notice, hours later, over real HTTP with Twilio's
signature (trial 11): "Va bene." and the menu in one SMS, never "Non ho capito."."""

from __future__ import annotations

import pytest

from buonispesa.demo import DEMO_CITIZENS
from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)


async def test_an_ok_to_a_notice_is_answered_all_right(sms_server_any_db: SmsServer) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1].phone
    await server.say(citizen, "SALDO")
    for text in ("ok", "Va bene", "ricevuto, ho capito"):
        reply = await server.exchange(citizen, text)
        assert reply.startswith("Va bene."), reply
        assert "Non ho capito" not in reply and "1 Saldo" in reply, reply
    await server.quiet()
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_help_asked_as_spoken_gets_no_not_understood(sms_server: SmsServer) -> None:
    server = sms_server
    reply = await server.exchange(DEMO_CITIZENS[1].phone, "nun ce capisco gnente")
    assert reply.startswith("SALDO:") and "Non ho capito" not in reply, reply

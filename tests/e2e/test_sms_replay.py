"""A signed Twilio webhook posted again with its fields split otherwise.

Twilio signs the URL followed by each field's name and value, names sorted, with nothing
between them. Moving the boundary between one field's value and the next field's name
keeps the signed text, and so the signature, the same: `MessageSid=SM…&NumMedia=0` posted
as `MessageSid=SM…NumMedia0` is signed exactly as Twilio signed it. Whoever held one
signed request (a proxy's or a debugging log, a copy of the traffic) could post it again
under a MessageSid never seen, past the deduplication on MessageSid, as many times as
there are boundaries to move: the citizen's SALDO answered again (an SMS the town pays),
a shop's PAGA asking the customer a new code, a citizen's ANNULLA, STOP or LINGUA written
again. A MessageSid is Twilio's only when it is two letters and 32 hexadecimal digits;
anything else is refused (400) before the conversation reads the message."""

from __future__ import annotations

import pytest

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from tests.e2e.sms_harness import SmsServer, new_sid

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]


async def test_a_signed_sms_split_otherwise_is_not_run_again(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    sid = new_sid()
    form = {
        "MessageSid": sid,
        "AccountSid": server.twilio.account_sid,
        "From": CITIZEN.phone,
        "To": DEMO_SMS_NUMBER,
        "Body": "SALDO",
        "NumMedia": "0",
    }
    signature = server.sign("/sms/twilio", form)
    assert (await server.post("/sms/twilio", form, signature))[0] == 200
    await server.replies(CITIZEN.phone, 1)

    # The same signed text, the boundary after the MessageSid moved: still Twilio's
    # signature, under a MessageSid the server has never seen.
    resplit = {k: v for k, v in form.items() if k != "NumMedia"}
    resplit["MessageSid"] = sid + "NumMedia0"
    assert server.sign("/sms/twilio", resplit) == signature
    status, _ = await server.post("/sms/twilio", resplit, signature)
    assert status == 400

    await server.quiet()
    # Answered once: the replays ran nothing and recorded nothing.
    assert len(server.twilio.to(CITIZEN.phone)) == 1
    assert (await server.counts())["inbound"] == 1

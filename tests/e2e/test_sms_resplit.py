"""A signed Twilio webhook split into other fields, to speak with another sender's number.

Twilio signs the URL followed by each field's name and value, names sorted, with nothing
between them. Someone who writes "SALDOFrom+39…FromA" in an SMS of their own, and holds
Twilio's signed webhook for it (a proxy's or a debugging log, a copy of the traffic), can
post the same signed text as other fields, before Twilio's own post reaches the server
(or when it never did, the server being down; Twilio does not post it again): the Body
cut short, the number written in it as From, their own From moved into a field after it,
or the number posted as a second From. The signature holds; the server would have run
the message as written by that number (a citizen's STOP, ANNULLA, a shop's PAGA …). A
signed SMS is taken only in the shape Twilio sends (sms/twilio_webhook.py): anything
else is a 400 that writes nothing."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from sms.signature import TwilioSignature
from tests.e2e.sms_harness import SmsServer, new_sid

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]
# The forger's own phone: sorts after the citizen's, so a second From is signed after it.
FORGER = "+393999999999"


def twilios(server: SmsServer, body: str, **more: str) -> dict[str, str]:
    """The form Twilio posts for the forger's SMS."""
    return {
        "MessageSid": new_sid(),
        "AccountSid": server.twilio.account_sid,
        "From": FORGER,
        "To": DEMO_SMS_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **more,
    }


def resplits(server: SmsServer) -> list[tuple[str, dict[str, str], list[tuple[str, str]]]]:
    """(what, the form Twilio signed, the same signed text posted as other fields)."""
    plain = {"AccountSid": server.twilio.account_sid, "To": DEMO_SMS_NUMBER, "NumMedia": "0"}
    cases = []
    signed = twilios(server, f"SALDOFrom{CITIZEN.phone}")
    cases.append(
        (
            "a second From",
            signed,
            [
                *plain.items(),
                ("MessageSid", signed["MessageSid"]),
                ("Body", "SALDO"),
                ("From", CITIZEN.phone),
                ("From", FORGER),
            ],
        )
    )
    signed = twilios(server, f"SALDOFrom{CITIZEN.phone}FromA")
    cases.append(
        (
            "the forger's From inside a new field",
            signed,
            [
                *plain.items(),
                ("MessageSid", signed["MessageSid"]),
                ("Body", "SALDO"),
                ("From", CITIZEN.phone),
                ("FromA", "From" + FORGER),
            ],
        )
    )
    signed = twilios(server, f"SALDOFrom{CITIZEN.phone}FromCity", FromCity="")
    cases.append(
        (
            "the forger's From inside Twilio's empty FromCity",
            signed,
            [
                *plain.items(),
                ("MessageSid", signed["MessageSid"]),
                ("Body", "SALDO"),
                ("From", CITIZEN.phone),
                ("FromCity", f"From{FORGER}FromCity"),
            ],
        )
    )
    return cases


async def test_a_signed_sms_split_into_another_sender_is_refused(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    url = server.base_url + "/sms/twilio"
    citizens_rows = len(await server.outbox_rows(CITIZEN.phone))
    for what, signed, resplit in resplits(server):
        signature = server.sign("/sms/twilio", signed)
        # The same signature holds for the fields split otherwise.
        check = TwilioSignature(server.token)
        assert check.compute(url, MultiDict(resplit)) == signature, what
        # Posted before Twilio's own (which never reached the server, or comes later): its
        # MessageSid is not known yet, so nothing but its shape tells it apart.
        before = await server.counts()
        async with server.http.post(
            url, data=resplit, headers={"X-Twilio-Signature": signature}
        ) as response:
            assert response.status == 400, (what, await response.text())
        assert await server.counts() == before, what
        # Twilio's own post of the forger's SMS is taken, and answered to the forger.
        assert (await server.post("/sms/twilio", signed, signature))[0] == 200, what
    await server.quiet()
    # The citizen was never answered: nothing ran under their number.
    assert server.twilio.to(CITIZEN.phone) == []
    assert len(await server.outbox_rows(CITIZEN.phone)) == citizens_rows


async def test_a_signed_sms_not_in_twilios_shape_is_a_400(sms_server: SmsServer) -> None:
    """Signed right, but no SMS Twilio posts to this town: another account, a number no town
    is written to, a sender that is no E.164 number, a field name Twilio does not use."""
    server = sms_server
    before = await server.counts()
    odd: list[tuple[str, dict[str, str]]] = [
        ("another account", {"AccountSid": "AC" + "9" * 32}),
        ("no account", {"AccountSid": ""}),
        ("a number no town is written to", {"To": "+390000000001"}),
        ("no To", {"To": ""}),
        ("a From without +", {"From": "393331234567"}),
        ("a field name of other characters", {"From+1": "x"}),
    ]
    for what, change in odd:
        form = {**twilios(server, "SALDO"), **change}
        form = {name: value for name, value in form.items() if value or name == "Body"}
        status, text = await server.post("/sms/twilio", form, server.sign("/sms/twilio", form))
        assert status == 400, (what, text)
    await server.quiet()
    assert await server.counts() == before
    assert server.twilio.accepted == []
    # The town's number and TWILIO_FROM_NUMBER, from a number, are taken.
    for to in (DEMO_SMS_NUMBER, "+390733905999"):
        form = {**twilios(server, "SALDO"), "To": to}
        status, _ = await server.post("/sms/twilio", form, server.sign("/sms/twilio", form))
        assert status == 200, to

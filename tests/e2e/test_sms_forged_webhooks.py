"""Someone forging Twilio's webhooks, over real HTTP, with signatures made by the twilio
library's RequestValidator as Twilio makes them.

The forger holds what leaks of genuine traffic (a proxy's or a debugging log): a shop's
signed PAGA, a citizen's signed SMS, a delivery report, each with its X-Twilio-Signature.
Posted again with another From (to write as the shop, or as the citizen answering the
code), another Body (another amount, another customer), a new MessageSid (to pass the
deduplication), or at the other webhook's URL, each is refused (403) and changes nothing;
the very same request, or any request under a MessageSid already taken, is answered and
run once. Delivery reports (a code "undelivered" tells the shop to use the card) are held
to the same signature: forged, they move no message's status. On SQLite and PostgreSQL
where it is about what is written."""

from __future__ import annotations

import asyncio

import pytest
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS, DEMO_SMS_NUMBER
from tests.e2e.sms_harness import SmsServer, new_sid

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]
OTHER = DEMO_CITIZENS[2]
SHOP_PHONE = DEMO_SHOPS[0][6]


def twilios(server: SmsServer, sender: str, body: str, sid: str | None = None) -> dict[str, str]:
    """An inbound SMS's form as Twilio posts it."""
    return {
        "MessageSid": sid or new_sid(),
        "AccountSid": server.twilio.account_sid,
        "From": sender,
        "To": DEMO_SMS_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


async def forbidden(server: SmsServer, webhook: str) -> float:
    """How many requests to `webhook` ("inbound" or "reports") were refused for their
    signature."""
    scrape = await server.scrape()
    if webhook == "inbound":
        found = scrape.value("buonispesa_inbound_messages_total", channel="sms", result="forbidden")
    else:
        found = scrape.value("buonispesa_delivery_reports_total", channel="sms", status="forbidden")
    return found or 0.0


async def test_a_captured_signature_carries_no_other_sender_body_or_message(
    sms_server_any_db: SmsServer,
) -> None:
    """The shop's signed PAGA, captured: reposted as the citizen (to answer in their name),
    for another customer or amount, under a new MessageSid, to another town number or
    account, each is a 403 and writes nothing; nobody is sent anything."""
    server = sms_server_any_db
    paga = twilios(server, SHOP_PHONE, f"PAGA {DEMO_CITIZENS[1].codice_fiscale} 12,50")
    signature = server.sign("/sms/twilio", paga)
    assert (await server.post("/sms/twilio", paga, signature))[0] == 200
    await server.replies(SHOP_PHONE, 1)
    await server.quiet()
    before, sent = await server.counts(), len(server.twilio.requests)
    forged = {
        "From the citizen": {**paga, "From": DEMO_CITIZENS[1].phone},
        "From another shop's customer": {**paga, "From": OTHER.phone},
        "another customer": {**paga, "Body": f"PAGA {OTHER.codice_fiscale} 12,50"},
        "another amount": {**paga, "Body": f"PAGA {DEMO_CITIZENS[1].codice_fiscale} 125,00"},
        "the citizen's yes": {**paga, "From": DEMO_CITIZENS[1].phone, "Body": "SI"},
        "a new MessageSid": {**paga, "MessageSid": new_sid()},
        "another number of ours": {**paga, "To": "+390733905999"},
        "another account": {**paga, "AccountSid": "AC" + "0" * 32},
        "a field added": {**paga, "NumSegments": "1"},
        "a field left out": {k: v for k, v in paga.items() if k != "NumMedia"},
    }
    for what, form in forged.items():
        status, _ = await server.post("/sms/twilio", form, signature)
        assert status == 403, what
    await server.quiet()
    assert await server.counts() == before
    assert len(server.twilio.requests) == sent
    assert await forbidden(server, "inbound") == len(forged)


async def test_signatures_of_other_urls_and_tokens_are_refused(sms_server: SmsServer) -> None:
    """The citizen's SMS signed for the delivery reports' URL, for the webhook's URL with a
    query, with the URL's query dropped, or with another account's token: 403 each."""
    server = sms_server
    form = twilios(server, CITIZEN.phone, "STOP")
    base = server.base_url
    library = RequestValidator(server.token)
    for what, path, signature in (
        ("the reports' URL", "/sms/twilio", server.sign("/sms/twilio/status", form)),
        ("a query added", "/sms/twilio", server.sign("/sms/twilio?town=1", form)),
        (
            "the query dropped",
            "/sms/twilio?town=1",
            library.compute_signature(base + "/sms/twilio", form),
        ),
        (
            "https",
            "/sms/twilio",
            library.compute_signature("https" + base[4:] + "/sms/twilio", form),
        ),
        ("another token", "/sms/twilio", server.sign("/sms/twilio", form, token="x" * 32)),
        ("the token's twin", "/sms/twilio", server.sign("/sms/twilio", form, server.token.upper())),
    ):
        status, _ = await server.post(path, form, signature)
        assert status == 403, what
    await server.quiet()
    assert (await server.counts())["inbound"] == 0
    assert server.twilio.to(CITIZEN.phone) == []


async def test_a_message_sid_already_taken_runs_nothing_whatever_it_carries(
    sms_server_any_db: SmsServer,
) -> None:
    """Under a MessageSid already run, a request signed right (a Twilio retry, or whatever
    carries that SID) is answered with the empty TwiML and is a duplicate: another Body
    (STOP), another From, at once or one after the other, run nothing and are told
    nothing."""
    server = sms_server_any_db
    sid = new_sid()
    assert (await server.sms(CITIZEN.phone, "SALDO", sid=sid))[0] == 200
    await server.replies(CITIZEN.phone, 1)
    await server.quiet()
    before = await server.counts()
    replays = [
        twilios(server, CITIZEN.phone, "STOP", sid),
        twilios(server, OTHER.phone, "SALDO", sid),
        twilios(server, SHOP_PHONE, f"PAGA {CITIZEN.codice_fiscale} 5", sid),
    ]
    answers = [await server.post("/sms/twilio", f, server.sign("/sms/twilio", f)) for f in replays]
    answers += await asyncio.gather(
        *(server.post("/sms/twilio", f, server.sign("/sms/twilio", f)) for f in replays)
    )
    assert {status for status, _ in answers} == {200}
    await server.quiet()
    assert await server.counts() == before
    assert len(server.twilio.to(CITIZEN.phone)) == 1
    assert server.twilio.to(OTHER.phone) == [] and server.twilio.to(SHOP_PHONE) == []
    # The citizen did not stop: the next SALDO is answered.
    assert await server.exchange(CITIZEN.phone, "SALDO")
    scrape = await server.scrape()
    duplicates = scrape.value(
        "buonispesa_inbound_messages_total", channel="sms", result="duplicate"
    )
    assert duplicates == len(answers)


async def test_a_captured_paga_replayed_asks_the_customer_once(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    customer = DEMO_CITIZENS[1]
    paga = twilios(server, SHOP_PHONE, f"PAGA {customer.codice_fiscale} 12,50")
    signature = server.sign("/sms/twilio", paga)
    assert (await server.post("/sms/twilio", paga, signature))[0] == 200
    await server.replies(SHOP_PHONE, 1)
    await server.quiet()
    before = await server.counts()
    for _ in range(3):
        assert (await server.post("/sms/twilio", paga, signature))[0] == 200
    await server.quiet()
    assert await server.counts() == before
    assert len(server.twilio.to(SHOP_PHONE)) == 1


async def test_forged_delivery_reports_move_no_message(sms_server: SmsServer) -> None:
    """A report of our SMS, signed right once ("delivered"): reposted as "undelivered",
    for another SID, signed for the inbound URL or with another token, each is a 403 and
    the message keeps its status; nobody is told its code was not delivered."""
    server = sms_server
    await server.exchange(CITIZEN.phone, "SALDO")
    [record] = server.twilio.to(CITIZEN.phone)
    assert record.sid is not None
    report = {
        "MessageSid": record.sid,
        "MessageStatus": "sent",
        "AccountSid": server.twilio.account_sid,
    }
    signature = server.sign("/sms/twilio/status", report)
    assert (await server.post("/sms/twilio/status", report, signature))[0] == 204
    undelivered = {**report, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    for what, form, signed in (
        ("status changed", {**report, "MessageStatus": "undelivered"}, signature),
        ("error added", {**report, "ErrorCode": "30003"}, signature),
        ("another message", {**report, "MessageSid": "SM" + "e" * 32}, signature),
        ("the inbound URL", undelivered, server.sign("/sms/twilio", undelivered)),
        ("another token", undelivered, server.sign("/sms/twilio/status", undelivered, "x" * 32)),
        ("no signature", undelivered, None),
    ):
        status, _ = await server.post("/sms/twilio/status", form, signed)
        assert status == 403, what
    [row] = [r for r in await server.outbox_rows(CITIZEN.phone) if r.provider_message_id]
    assert (row.status, row.last_error) == ("sent", None)
    assert await forbidden(server, "reports") == 6
    await server.quiet()
    assert len(server.twilio.to(CITIZEN.phone)) == 1

"""POST /sms/twilio and the server's own routes, end to end over real HTTP."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS
from buonispesa.server import build_app
from core.bootstrap import Core
from core.storage.engine import make_engine
from tests.e2e.fake_twilio import FakeTwilio
from tests.e2e.sms_harness import (
    FAST_WORKER,
    SmsServer,
    assert_one_gsm7_segment,
    free_socket,
    new_sid,
    settings_for,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]
SHOP_PHONE = DEMO_SHOPS[0][6]


def forged_requests(server: SmsServer) -> list[tuple[str, dict[str, str], str | None]]:
    """(what, form, signature): each is something Twilio did not send."""
    form = {
        "MessageSid": new_sid(),
        "From": SHOP_PHONE,
        "To": "+390733905000",
        "Body": f"PAGA {DEMO_CITIZENS[1].codice_fiscale} 50",
    }
    tampered = {**form, "Body": "PAGA " + DEMO_CITIZENS[2].codice_fiscale + " 50"}
    other_url = "http://127.0.0.1:1/sms/twilio"
    return [
        ("no signature", form, None),
        ("empty signature", form, ""),
        ("garbage", form, "not-a-signature"),
        ("another token", form, server.sign("/sms/twilio", form, token="someone-elses-token")),
        ("another URL", form, RequestValidator(server.token).compute_signature(other_url, form)),
        ("body changed after signing", tampered, server.sign("/sms/twilio", form)),
    ]


async def test_forged_signatures_get_403_and_write_nothing(sms_server_any_db: SmsServer) -> None:
    server = sms_server_any_db
    before = await server.counts()
    for what, form, signature in forged_requests(server):
        status, _ = await server.post("/sms/twilio", form, signature)
        assert status == 403, what
    await server.quiet(0.3)
    assert await server.counts() == before
    assert server.twilio.requests == []
    scrape = await server.scrape()
    assert scrape.value("buonispesa_inbound_messages_total", channel="sms", result="forbidden") == 6


async def test_a_request_signed_for_another_url_is_refused_with_one_warning_a_minute(
    sms_server: SmsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a reverse proxy without PUBLIC_BASE_URL, Twilio signs the public https URL:
    every genuine SMS is a 403, and the log says which URL was checked and what to set."""
    caplog.set_level(logging.INFO)
    checked = sms_server.base_url + "/sms/twilio"
    for number in range(6):
        form = {
            "MessageSid": new_sid(),
            "AccountSid": sms_server.twilio.account_sid,
            "From": CITIZEN.phone,
            "To": "+390733905000",
            "Body": f"SALDO segreto {number}",
        }
        signature = RequestValidator(sms_server.token).compute_signature(
            "https://buoni.comune.example.it/sms/twilio", form
        )
        status, _ = await sms_server.post("/sms/twilio", form, signature)
        assert status == 403
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    [warning] = warnings
    said = warning.getMessage()
    assert warning.name == "sms.twilio_webhook"
    assert checked in said and "set PUBLIC_BASE_URL" in said, said
    logged = caplog.text
    for personal in (CITIZEN.phone, CITIZEN.phone[-7:], "segreto"):
        assert personal not in logged


async def test_a_retried_webhook_is_answered_and_processed_once(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    sid = new_sid()
    first = await server.sms(CITIZEN.phone, "SALDO", sid=sid)
    second = await server.sms(CITIZEN.phone, "SALDO", sid=sid)
    # Twilio retrying at the same moment as its first delivery is still in flight.
    concurrent = await asyncio.gather(
        *(server.sms(CITIZEN.phone, "SALDO", sid=sid) for _ in range(3))
    )
    assert {first[0], second[0], *(status for status, _ in concurrent)} == {200}
    assert first[1] == second[1] == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

    await server.replies(CITIZEN.phone, 1)
    await server.quiet()
    assert len(server.twilio.to(CITIZEN.phone)) == 1
    assert (await server.counts())["inbound"] == 1


async def test_odd_messages_get_a_polite_reply_or_nothing_never_a_500(
    sms_server: SmsServer,
) -> None:
    server = sms_server
    odd = {
        "+393330000101": ("SALDO", "+390733905999"),  # TWILIO_FROM_NUMBER, no town's own
        "+393330000102": ("", None),
        "+393330000103": ("   \n\t  ", None),
        "+393330000104": ("saldo " * 334, None),  # 2,004 characters
        "+393330000105": ("💶💶 saldo? грн ☺", None),
        "+393330000106": ("sal\x00do\x1b", None),
        "+393330000107": ("àèìòù ÀÈÌÒÙ ç ß €", None),
    }
    for sender, (body, to) in odd.items():
        if to is None:
            status, text = await server.sms(sender, body)
        else:
            status, text = await server.sms(sender, body, to=to)
        assert status == 200, (sender, body, text)
    await server.quiet()
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_signed_request_without_sender_is_a_400(sms_server: SmsServer) -> None:
    server = sms_server
    form = {"MessageSid": new_sid(), "Body": "SALDO", "To": "+390733905000"}
    status, _ = await server.post("/sms/twilio", form, server.sign("/sms/twilio", form))
    assert status == 400
    assert (await server.counts())["inbound"] == 0


async def test_status_callbacks_need_a_signature_too(sms_server: SmsServer) -> None:
    server = sms_server
    await server.exchange(CITIZEN.phone, "SALDO")
    sid = server.twilio.to(CITIZEN.phone)[0].sid
    assert sid is not None
    form = {"MessageSid": sid, "MessageStatus": "failed"}
    status, _ = await server.post("/sms/twilio/status", form, None)
    assert status == 403
    [row] = [r for r in await server.outbox_rows(CITIZEN.phone) if r.provider_message_id == sid]
    assert row.status == "sent"


async def test_health_and_metrics(sms_server: SmsServer) -> None:
    server = sms_server
    await server.exchange(CITIZEN.phone, "SALDO")
    async with server.http.get(server.base_url + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}
    scrape = await server.scrape()
    # Without an Accept header: the classic text format 0.0.4.
    assert scrape.content_type.startswith("text/plain; version=0.0.4")
    assert scrape.families() == {
        "buonispesa_inbound_messages": "counter",
        "buonispesa_outbound_messages": "counter",
        "buonispesa_delivery_reports": "counter",
        "buonispesa_http_requests": "counter",
        "buonispesa_http_request_duration_seconds": "histogram",
        "buonispesa_outbox_messages": "gauge",
        "buonispesa_outbox_backlog": "gauge",
        "buonispesa_charges": "gauge",
        "buonispesa_payment_confirmations": "counter",
    }
    sms_in = {"channel": "sms", "result": "processed"}
    assert scrape.value("buonispesa_inbound_messages_total", **sms_in) == 1
    assert scrape.value("buonispesa_outbound_messages_total", channel="sms", result="sent") == 1
    sent = scrape.value("buonispesa_outbox_messages", channel="sms", status="sent")
    assert sent is not None and sent >= 1
    assert scrape.value("buonispesa_payment_confirmations_total") == 0
    webhook = {"method": "POST", "route": "/sms/twilio"}
    assert scrape.value("buonispesa_http_request_duration_seconds_count", **webhook) == 1
    assert scrape.value("buonispesa_http_requests_total", status="200", **webhook) == 1

    # A scraper that asks for OpenMetrics gets it.
    openmetrics = "application/openmetrics-text; version=1.0.0"
    async with server.http.get(
        server.base_url + "/metrics", headers={"Accept": openmetrics}
    ) as response:
        assert response.headers["Content-Type"].startswith(openmetrics)
        assert (await response.text()).endswith("# EOF\n")


async def test_healthz_says_when_the_database_is_unreachable(sqlite_url: str) -> None:
    twilio = FakeTwilio()
    await twilio.start()
    core = Core(engine=make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing"))
    sock = free_socket()
    host, port = sock.getsockname()
    app = await build_app(
        core,
        settings_for(sqlite_url, twilio, f"http://{host}:{port}", 10.0),
        host=host,
        port=port,
        worker_config=FAST_WORKER,
        with_telegram=False,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://{host}:{port}/healthz") as response,
        ):
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"
    finally:
        await runner.cleanup()
        await core.close()
        await twilio.stop()


async def test_a_body_that_is_not_utf8_is_a_400(sms_server: SmsServer) -> None:
    server = sms_server
    body = b"MessageSid=SM1&From=%2B393331000001&To=%2B390733905000&Body=caff\xe8"
    async with server.http.post(
        server.base_url + "/sms/twilio",
        data=body,
        headers={
            "X-Twilio-Signature": "x",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    ) as response:
        assert response.status == 400
    assert (await server.counts())["inbound"] == 0


async def test_a_sender_that_is_not_a_phone_number_is_a_400(sms_server: SmsServer) -> None:
    server = sms_server
    before = await server.counts()
    # A WhatsApp message posted to the SMS webhook carries a real number behind its prefix.
    for sender in ("hello<script>", "TIM", "+39", "whatsapp:+393339990001"):
        status, _ = await server.sms(sender, "SALDO")
        assert status == 400, sender
    await server.quiet()
    assert server.twilio.accepted == []
    assert await server.counts() == before

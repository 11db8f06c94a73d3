"""Outbound SMS, end to end: retries, permanent errors, delivery reports, the rate cap."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS, DEMO_SMS_NUMBER
from core.domain.messages import Reply, t
from core.services.outbox import enqueue
from outbox.delivery import RetryPolicy
from outbox.worker import WorkerConfig
from tests.e2e.sms_harness import (
    SmsServer,
    assert_one_gsm7_segment,
    start_sms_server,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]
SHOP_PHONE = DEMO_SHOPS[0][6]
UNDELIVERED_MSGID = (
    "The code for the payment of {amount} could not be delivered. Ask the citizen to "
    "check the phone, or use the card."
)


async def test_provider_500_then_success_delivers_once(sms_server: SmsServer) -> None:
    server = sms_server
    server.twilio.fail_next(500, 20500, "Internal Server Error")
    reply = await server.exchange(CITIZEN.phone, "SALDO")
    await server.quiet()

    attempts = [r for r in server.twilio.requests if r.to == CITIZEN.phone]
    assert [r.answered for r in attempts] == [500, 201]
    assert [r.body for r in server.twilio.to(CITIZEN.phone)] == [reply]
    row = (await server.outbox_rows(CITIZEN.phone))[-1]  # demo citizens have older notices
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 2, attempts[1].sid)


async def test_provider_429_is_retried(sms_server: SmsServer) -> None:
    server = sms_server
    server.twilio.fail_next(429, 20429, "Too Many Requests", times=2)
    await server.exchange(CITIZEN.phone, "SALDO")
    assert [r.answered for r in server.twilio.requests] == [429, 429, 201]


async def test_provider_400_is_not_retried_and_marked_failed(sms_server: SmsServer) -> None:
    server = sms_server
    server.twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    status, _ = await server.sms(CITIZEN.phone, "SALDO")
    assert status == 200
    await server.twilio.wait_until(lambda: len(server.twilio.requests) == 1)
    await server.quiet(0.5)  # several retry periods of the test worker

    assert [r.answered for r in server.twilio.requests] == [400]
    row = (await server.outbox_rows(CITIZEN.phone))[-1]  # demo citizens have older notices
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error is not None and "21211" in row.last_error


async def test_delivery_reports_update_the_message(sms_server: SmsServer) -> None:
    server = sms_server
    await server.exchange(CITIZEN.phone, "SALDO")
    sid = server.twilio.to(CITIZEN.phone)[0].sid
    assert sid is not None

    assert await server.report(sid, "sent") == 204
    assert await server.report(sid, "delivered") == 204
    assert await server.report("SM" + "f" * 32, "delivered") == 204  # not ours: ignored
    row = (await server.outbox_rows(CITIZEN.phone))[-1]  # demo citizens have older notices
    assert row.status == "delivered"
    scrape = await server.scrape()
    reports = "buonispesa_delivery_reports_total"
    assert scrape.value(reports, channel="sms", status="delivered") == 2


async def test_an_undelivered_payment_code_is_told_to_the_shop(sms_server: SmsServer) -> None:
    server = sms_server
    citizen = DEMO_CITIZENS[1]
    till_code = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12,50")
    await server.exchange(SHOP_PHONE, "".join(ch for ch in till_code if ch.isdigit())[:6])
    [code_sms] = await server.replies(citizen.phone, 1)
    assert code_sms.sid is not None

    assert await server.report(code_sms.sid, "undelivered", "30003") == 204
    [notice] = (await server.replies(SHOP_PHONE, 3))[2:]
    assert "12,50" in notice.body
    shop_rows = await server.outbox_rows(SHOP_PHONE)
    assert shop_rows[-1].payload["texts"][0]["msgid"] == UNDELIVERED_MSGID

    # A second report for the same code (failed after undelivered) tells the shop nothing new.
    assert await server.report(code_sms.sid, "failed", "30003") == 204
    await server.quiet()
    assert len(server.twilio.to(SHOP_PHONE)) == 3
    [code_row] = [r for r in await server.outbox_rows(citizen.phone) if r.charge_id is not None]
    assert code_row.status == "undelivered"
    assert_one_gsm7_segment(server.twilio.accepted)


@pytest.fixture
async def capped_server(sqlite_url: str) -> AsyncIterator[SmsServer]:
    worker = WorkerConfig(poll_seconds=0.05, retry=RetryPolicy(base_seconds=0.05))
    async for server in start_sms_server(sqlite_url, rate=10.0, worker=worker):
        yield server


async def test_one_number_is_paced_at_its_rate(capped_server: SmsServer) -> None:
    server = capped_server
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        for index in range(8):
            enqueue(
                uow,
                municipality_id=town.id,
                channel="sms",
                address=f"+39333700{index:04d}",
                language="it",
                reply=Reply.of(t("Hello")),
                now=server.core.now(),
            )
        await uow.commit()
    await server.twilio.wait_for(8)
    arrivals = sorted(r.at for r in server.twilio.accepted)
    # 10 messages/s from one number, as the provider meters it: never more than 10 in any
    # second, and the 8 spread over 7 intervals of 0.1 s (less network jitter: on a loaded
    # machine one request can reach the provider some milliseconds later than the next).
    assert max(sum(1 for t in arrivals if s <= t < s + 1.0) for s in arrivals) <= 10, arrivals
    assert arrivals[-1] - arrivals[0] >= 7 * 0.1 - 0.03, arrivals
    assert {r.from_ for r in server.twilio.accepted} == {DEMO_SMS_NUMBER}


async def test_the_twilio_clients_request_lines_stay_out_of_the_log(
    sms_server: SmsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await sms_server.exchange(CITIZEN.phone, "SALDO")
    await sms_server.quiet()
    assert sms_server.twilio.to(CITIZEN.phone)
    assert not [r for r in caplog.records if r.name.startswith("twilio")]

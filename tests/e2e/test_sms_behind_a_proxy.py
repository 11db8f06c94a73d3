"""POST /sms/twilio behind a reverse proxy: the signature is checked against the configured
PUBLIC_BASE_URL, never against what the request says of its host, scheme or port (Host,
X-Forwarded-Host, X-Forwarded-Proto, Forwarded). Signed requests are the twilio library's own
(RequestValidator), posted over real HTTP to the server `serve` runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_CITIZENS, DEMO_SMS_NUMBER
from tests.e2e.sms_harness import SmsServer, new_sid, start_sms_server

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

PUBLIC = "https://buoni.comune.example.it"
CITIZEN = DEMO_CITIZENS[0]


@pytest.fixture
async def proxied(database_url: str) -> AsyncIterator[SmsServer]:
    """The server on a loopback port, its public address the proxy's https one."""
    async for server in start_sms_server(database_url, public_base_url=PUBLIC):
        yield server


def inbound(body: str = "SALDO") -> dict[str, str]:
    return {
        "MessageSid": new_sid(),
        "AccountSid": "AC" + "0" * 32,
        "From": CITIZEN.phone,
        "To": DEMO_SMS_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


async def post(
    server: SmsServer, form: dict[str, str], signed_for: str, headers: dict[str, str]
) -> int:
    form = {**form, "AccountSid": server.twilio.account_sid}
    signature = RequestValidator(server.token).compute_signature(signed_for, form)
    async with server.http.post(
        server.base_url + "/sms/twilio",
        data=form,
        headers={"X-Twilio-Signature": signature, **headers},
    ) as response:
        return response.status


PROXY_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "buoni.comune.example.it",
    "X-Forwarded-For": "54.172.60.1",
}


async def test_twilios_signature_of_the_public_url_is_taken_with_or_without_its_port(
    proxied: SmsServer,
) -> None:
    assert await post(proxied, inbound(), PUBLIC + "/sms/twilio", PROXY_HEADERS) == 200
    assert await post(proxied, inbound(), PUBLIC + ":443/sms/twilio", PROXY_HEADERS) == 200
    assert await post(proxied, inbound(), PUBLIC + "/sms/twilio", {}) == 200
    assert (await proxied.counts())["inbound"] == 3


@pytest.mark.parametrize(
    ("signed_for", "headers"),
    [
        # What the server itself is listening on: not the address Twilio calls.
        ("{local}/sms/twilio", {}),
        # A webhook of another service on the same Twilio account, its headers copied.
        (
            "https://other.example.org/sms/twilio",
            {"Host": "other.example.org", "X-Forwarded-Host": "other.example.org"},
        ),
        (
            "https://other.example.org/sms/twilio",
            {"Forwarded": "proto=https;host=other.example.org"},
        ),
        # The public host over plain http, or on another port, as a header says.
        ("http://buoni.comune.example.it/sms/twilio", {"X-Forwarded-Proto": "http"}),
        (PUBLIC + ":8443/sms/twilio", {"X-Forwarded-Port": "8443", **PROXY_HEADERS}),
        # The status callback's signed URL, replayed to the inbound one.
        (PUBLIC + "/sms/twilio/status", PROXY_HEADERS),
    ],
)
async def test_a_url_the_headers_name_is_not_the_one_checked(
    proxied: SmsServer, signed_for: str, headers: dict[str, str]
) -> None:
    before = await proxied.counts()
    url = signed_for.format(local=proxied.base_url)
    assert await post(proxied, inbound(), url, headers) == 403
    assert await proxied.counts() == before


async def test_a_replayed_signed_sms_is_answered_and_run_once(proxied: SmsServer) -> None:
    form = inbound("SALDO")
    for _ in range(3):
        assert await post(proxied, form, PUBLIC + "/sms/twilio", PROXY_HEADERS) == 200
    assert (await proxied.counts())["inbound"] == 1
    await proxied.replies(CITIZEN.phone, 1)
    await proxied.quiet()
    assert len(proxied.twilio.to(CITIZEN.phone)) == 1

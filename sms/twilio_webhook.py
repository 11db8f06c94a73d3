"""Twilio's webhooks: an inbound SMS (POST /sms/twilio) and delivery reports
(POST /sms/twilio/status).

Both are signed by Twilio with the account's auth token (X-Twilio-Signature,
HMAC of the URL Twilio called plus the sorted form fields). The URL is the
public one, PUBLIC_BASE_URL + path: behind a reverse proxy the host and scheme
we see are not the ones Twilio signed. A request that is not signed, or not
signed right, gets 403 before anything is read into the database.

Twilio's signature runs the sorted fields' names and values together with nothing between
them, so the same signed text can be posted split into other fields. A sender who wrote
"…From+39333…" in their own SMS could post its captured signed webhook again with a
shorter Body and that number as From, their own From hidden in a field after it. So a
signed inbound SMS is taken only in Twilio's own shape, else a 400 that changes nothing:
no field twice, field names of letters and digits, AccountSid ours (when an account is
configured), From a phone number in E.164, To one of the numbers the towns are written to
(a town's SMS number or TWILIO_FROM_NUMBER), MessageSid a message SID, and a phone
number's "+<digit>" in no field but From, To and Body (a From moved into another field
keeps its "+"). A status callback (its From is ours, its To the recipient) is held to the
first three.

An inbound SMS only becomes an `Inbound` for the dialogue engine, which
deduplicates on MessageSid, runs the conversation and writes the replies to
the outbox; the HTTP answer is an empty TwiML document, the replies leave
through the outbox worker. Keywords (SALDO, PAGA, STOP …) are the engine's.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDictProxy

from core.bootstrap import Core
from core.dialogue.inbound import Channel, Inbound, InboundHandler
from core.domain.identity import phone_or_none
from core.metrics import Metrics
from outbox import delivery
from outbox.channels import OutboxWake, no_wake
from sms.signature import TwilioSignature

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio delivers at most 1,600 characters in one inbound message; more is not an SMS.
MAX_TEXT = 1600
# Control characters other than line breaks and tabs: PostgreSQL refuses NUL in text,
# and none of them means anything in a keyword or an answer.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A Twilio message SID: two letters (SM, MM) and 32 hexadecimal digits. Twilio's signature
# runs each field's name and value together, so the same signed text may be posted with the
# boundary between the MessageSid's value and the next field moved ("SM…NumMedia0"): a
# MessageSid never seen, which the deduplication would have run again. Only a SID of
# Twilio's shape is taken, so a signed request is run at most once.
_MESSAGE_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
# Twilio's field names (From, MediaUrl0, ToCountry …): letters and digits.
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# A phone number as Twilio writes it (E.164): "+", a country code, at most 15 digits.
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
# The start of a phone number inside a field's value: where no phone number belongs, a From
# moved there by splitting the signed text otherwise.
_PHONE_START = re.compile(r"\+[0-9]")
# The fields a phone number belongs in (the SMS's Body is the sender's own text).
_PHONE_FIELDS = frozenset({"From", "To", "Body"})
# A webhook to a number not found among the towns' reads them again, at most this often.
NUMBERS_REFRESH_SECONDS = 1.0
# A wrong signature is logged at most this often per process: a forger must not flood the
# log, and the operator of a misaddressed webhook still sees why every SMS gets a 403.
SIGNATURE_WARNING_SECONDS = 60.0
# Twilio's MessageStatus values; anything else is counted as "other" (bounded metric labels).
_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "partially_delivered",
        "receiving",
        "received",
    }
)


def clean_text(body: str) -> str:
    return _CONTROL.sub("", body)[:MAX_TEXT]


# The numbers the towns are written to: each town's SMS number, and TWILIO_FROM_NUMBER.
TownNumbers = Callable[[], Awaitable[frozenset[str]]]


async def no_numbers() -> frozenset[str]:
    return frozenset()


def not_twilios_shape(form: MultiDictProxy[str], account_sid: str | None) -> str | None:
    """Why a signed form is not one Twilio posts (None: it may be): what every webhook of
    Twilio's is, status callbacks included."""
    # Every name as posted (keys() gives a repeated name once).
    names = [name for name, _value in form.items()]
    if len(set(names)) != len(names):
        # Twilio never repeats a field; a repeated one is signed as one when both values
        # are equal, and under a name the first value is read: a second From.
        return "a field is repeated"
    # map, not a generator: no frame resumed per name.
    if not all(map(_FIELD_NAME.fullmatch, names)):
        return "a field name is not Twilio's"
    # Twilio writes a SID's hexadecimal digits in lower case; TWILIO_ACCOUNT_SID may not.
    if account_sid is not None and form.get("AccountSid", "").lower() != account_sid.lower():
        return "AccountSid is not this account's"
    return None


class TwilioWebhook:
    def __init__(
        self,
        *,
        core: Core,
        engine: InboundHandler,
        auth_token: str | None,
        public_base_url: str,
        metrics: Metrics,
        on_outbox: OutboxWake = no_wake,
        account_sid: str | None = None,
        town_numbers: TownNumbers = no_numbers,
    ) -> None:
        self.core = core
        self.engine = engine
        # Without a token nothing can be verified, so everything is refused.
        self._signature = TwilioSignature(auth_token) if auth_token else None
        self._public_base_url = public_base_url.rstrip("/")
        self._metrics = metrics
        self._on_outbox = on_outbox
        self._warned_at: float | None = None
        # None: no Twilio account (development), any AccountSid or none is taken.
        self._account_sid = account_sid
        self._town_numbers = town_numbers
        self._numbers: frozenset[str] | None = None
        self._numbers_read_at = 0.0

    def _count(self, result: str) -> None:
        self._metrics.series(self._metrics.inbound, Channel.SMS, result).inc()

    def public_url(self, request: web.Request) -> str:
        return self._public_base_url + request.path_qs

    async def _signed_form(self, request: web.Request) -> MultiDictProxy[str] | None:
        signature = request.headers.get(SIGNATURE_HEADER)
        if self._signature is None or not signature:
            return None
        if request.content_type != "application/x-www-form-urlencoded":
            return None
        try:
            form = await request.post()
        except UnicodeDecodeError:
            # Twilio sends UTF-8; anything else is not from Twilio, and not a server error.
            raise web.HTTPBadRequest(text="the form body is not UTF-8") from None
        fields: MultiDictProxy[str] = form  # type: ignore[assignment]  # url-encoded: text only
        if not self._signature.valid(self.public_url(request), fields, signature):
            self._warn_signature(request)
            return None
        return fields

    async def _written_to_a_town(self, to: str) -> bool:
        """Whether `to` is a number the towns are written to. Read once and again only when a
        number is not found (a town added or renumbered since), at most once a second.
        Without any number (development without TWILIO_FROM_NUMBER nor a town's number),
        any phone number."""
        now = time.monotonic()
        stale = now - self._numbers_read_at >= NUMBERS_REFRESH_SECONDS
        if self._numbers is None or (to not in self._numbers and stale):
            self._numbers = await self._town_numbers()
            self._numbers_read_at = now
        if not self._numbers:
            return _E164.fullmatch(to) is not None
        return to in self._numbers

    def _refuse(self, why: str) -> web.HTTPBadRequest:
        self._count("invalid")
        log.info("signed SMS refused (400): %s", why)
        return web.HTTPBadRequest(text=why)

    def _warn_signature(self, request: web.Request) -> None:
        """Behind a reverse proxy without PUBLIC_BASE_URL every genuine request fails here
        (Twilio signed the public https URL): say so, at most once a minute. The URL only,
        never the form (phone numbers, the text)."""
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < SIGNATURE_WARNING_SECONDS:
            return
        self._warned_at = now
        log.warning(
            "%s %s refused (403): X-Twilio-Signature is not valid for %s. Either the "
            "request is forged, or Twilio posts to another address: if Twilio posts to "
            "another address (e.g. through a reverse proxy), set PUBLIC_BASE_URL to the "
            "base of the webhook URL on the Twilio number. At most one such warning a minute.",
            request.method,
            request.path,
            self._public_base_url + request.path,
        )

    async def inbound(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        if form is None:
            self._count("forbidden")
            raise web.HTTPForbidden(text="invalid signature")
        shape = not_twilios_shape(form, self._account_sid)
        if shape is not None:
            raise self._refuse(shape)
        sender = form.get("From", "").strip()
        sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
        if not sender or not sid:
            # Signed but not an SMS (a misconfigured Twilio webhook, e.g. a voice call).
            raise self._refuse("From and MessageSid are required")
        if not _MESSAGE_SID.fullmatch(sid):
            # Signed text of another request with its fields split otherwise (a replay).
            raise self._refuse("MessageSid is not a Twilio message SID")
        # "whatsapp:+39…" (another of Twilio's channels posted here by mistake), a short code
        # or a name ("TIM") is nobody to answer by SMS; neither is a number phonenumbers
        # does not know.
        address = phone_or_none(sender) if _E164.fullmatch(sender) else None
        if address is None:
            raise self._refuse("From is not a phone number")
        # One search over the values joined by a line break (neither "+" nor a digit, so a
        # match is inside one value): a generator's frame resumed per field cost more.
        others = [value for name, value in form.items() if name not in _PHONE_FIELDS]
        if _PHONE_START.search("\n".join(others)):
            raise self._refuse("a phone number in a field that has none")
        to = form.get("To", "").strip()
        if not await self._written_to_a_town(to):
            raise self._refuse("To is not a number of the towns")
        inbound = Inbound(
            channel=Channel.SMS,
            address=address,
            text=clean_text(form.get("Body", "")),
            provider_message_id=sid,
            to=to,
        )
        try:
            result = await self.engine.handle(inbound)
        except Exception:
            log.exception("SMS %s from %s: the dialogue failed", sid, sender[-4:])
            self._count("error")
            raise web.HTTPInternalServerError(text="could not process the message") from None
        self._count("duplicate" if result.duplicate else "processed")
        if result.outbox_ids:
            self._on_outbox(payments=result.payments)
        return web.Response(text=TWIML_EMPTY, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        if form is None:
            self._metrics.series(self._metrics.reports, Channel.SMS, "forbidden").inc()
            raise web.HTTPForbidden(text="invalid signature")
        shape = not_twilios_shape(form, self._account_sid)
        if shape is not None:
            raise web.HTTPBadRequest(text=shape)
        sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
        reported = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not sid or not reported:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        outcome = await delivery.apply_report(self.core, sid, reported, form.get("ErrorCode"))
        counted = reported if reported in _STATUSES else "other"
        self._metrics.series(self._metrics.reports, Channel.SMS, counted).inc()
        if outcome == "unknown":
            log.info("delivery report %s for unknown message %s", reported, sid)
        elif outcome == "updated":
            # A failed payment code makes a notice for the shop: deliver it now.
            self._on_outbox()
        return web.Response(status=204)

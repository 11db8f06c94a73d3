"""Twilio's webhooks: an inbound SMS (POST /sms/twilio) and delivery reports
(POST /sms/twilio/status).

Both are signed by Twilio with the account's auth token (X-Twilio-Signature,
HMAC of the URL Twilio called plus the sorted form fields). The URL is the
public one, PUBLIC_BASE_URL + path: behind a reverse proxy the host and scheme
we see are not the ones Twilio signed. A request that is not signed, or not
signed right, gets 403 before anything is read into the database.

An inbound SMS only becomes an `Inbound` for the dialogue engine, which
deduplicates on MessageSid, runs the conversation and writes the replies to
the outbox; the HTTP answer is an empty TwiML document, the replies leave
through the outbox worker. Keywords (SALDO, PAGA, STOP …) are the engine's.
"""

from __future__ import annotations

import logging
import re
import time

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
    ) -> None:
        self.core = core
        self.engine = engine
        # Without a token nothing can be verified, so everything is refused.
        self._signature = TwilioSignature(auth_token) if auth_token else None
        self._public_base_url = public_base_url.rstrip("/")
        self._metrics = metrics
        self._on_outbox = on_outbox
        self._warned_at: float | None = None

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
        sender = form.get("From", "").strip()
        sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
        if not sender or not sid:
            # Signed but not an SMS (a misconfigured Twilio webhook, e.g. a voice call).
            self._count("invalid")
            raise web.HTTPBadRequest(text="From and MessageSid are required")
        if not _MESSAGE_SID.fullmatch(sid):
            # Signed text of another request with its fields split otherwise (a replay).
            self._count("invalid")
            log.info("SMS with a MessageSid that is not Twilio's: refused")
            raise web.HTTPBadRequest(text="MessageSid is not a Twilio message SID")
        # "whatsapp:+39…" is another of Twilio's channels posted here by mistake:
        # phonenumbers would read the number out of it, but its sender wrote on another
        # app and is not answered by SMS.
        address = None if ":" in sender else phone_or_none(sender)
        if address is None:
            # Not a phone number ("hello<script>", a short code): nobody to answer by SMS.
            self._count("invalid")
            log.info("SMS %s from a sender that is not a phone number: ignored", sid[:40])
            return web.Response(text=TWIML_EMPTY, content_type="text/xml")
        inbound = Inbound(
            channel=Channel.SMS,
            address=address,
            text=clean_text(form.get("Body", "")),
            provider_message_id=sid,
            to=form.get("To", "").strip() or None,
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

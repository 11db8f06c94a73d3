"""What happened to an outbox message: the outcome of a send, and later delivery reports.

Status of an outbox row:
  pending      waiting for its next attempt (next_attempt_at)
  sending      claimed by a worker; next_attempt_at is the end of its lease
  sent         accepted by the provider (provider_message_id set)
  delivered    the provider reported delivery to the handset
  undelivered  the provider reported that the carrier could not deliver it
  failed       refused for good (invalid number, unsubscribed) or retries exhausted

Used by the generic outbox worker (every channel) and by delivery-report
webhooks (SMS status callbacks).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from buonispesa.channels import SendResult, SendStatus
from core.bootstrap import Core
from core.domain.messages import Money, Reply, t
from core.services.outbox import notify_shop, scrubbed
from core.storage import models as m
from core.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PENDING, SENDING, SENT = "pending", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED = "delivered", "undelivered", "failed"

# Reports can arrive out of order (carriers resend, callbacks race): a row only moves up.
_RANK = {PENDING: 0, SENDING: 0, SENT: 1, UNDELIVERED: 2, FAILED: 2, DELIVERED: 3}

# Twilio MessageStatus values that change our record; queued/sending/sent say nothing new.
_REPORTED = {
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; a provider's Retry-After wins when longer."""

    base_seconds: float = 5.0
    cap_seconds: float = 600.0
    max_attempts: int = 10

    def delay(
        self, attempts: int, hint: float | None = None, rng: random.Random | None = None
    ) -> float:
        exponential = min(self.cap_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        # Jitter spreads retries of a burst that failed together (e.g. a provider outage).
        jittered = exponential * (0.8 + 0.4 * (rng or random).random())
        return max(jittered, hint or 0.0)


def _is_sensitive(row: m.OutboxMessage) -> bool:
    return bool(row.payload.get("sensitive"))


async def _locked_row(uow: UnitOfWork, message_id: int) -> m.OutboxMessage | None:
    query = select(m.OutboxMessage).where(m.OutboxMessage.id == message_id)
    if uow.supports_skip_locked:
        # PostgreSQL: serialise with lease recovery and other workers. SQLite already
        # holds the database write lock (BEGIN IMMEDIATE) for the whole transaction.
        query = query.with_for_update()
    return await uow.session.scalar(query)


async def record_send_result(
    core: Core,
    message_id: int,
    claimed_attempts: int,
    result: SendResult,
    retry: RetryPolicy,
    rng: random.Random | None = None,
) -> str | None:
    """Store the outcome of one send. Returns the row's new status, or None when the row
    is no longer ours (its lease expired and another worker took it)."""
    now = core.now()
    async with core.uow() as uow:
        row = await _locked_row(uow, message_id)
        if row is None or row.status != SENDING or row.attempts != claimed_attempts:
            return None
        if result.status is SendStatus.SENT:
            row.status = SENT
            row.sent_at = now
            row.provider_message_id = result.provider_message_id
            row.last_error = None
        elif result.status is SendStatus.RETRY and row.attempts < retry.max_attempts:
            row.status = PENDING
            row.next_attempt_at = now + timedelta(
                seconds=retry.delay(row.attempts, result.retry_after_seconds, rng)
            )
            row.last_error = result.error
        else:
            row.status = FAILED
            row.last_error = (
                result.error
                if result.status is SendStatus.FAILED
                else f"gave up after {row.attempts} attempts: {result.error}"
            )
            await tell_shop_code_undelivered(uow, row, now)
        if _is_sensitive(row) and row.status != PENDING:
            # The code has left (or never will): it must not stay readable in the database.
            row.payload = scrubbed(row.payload)
        status = row.status
        await uow.commit()
    return status


async def apply_report(
    core: Core, provider_message_id: str, reported: str, error_code: str | None = None
) -> str:
    """Apply a provider delivery report. Returns "updated", "ignored" or "unknown"."""
    new_status = _REPORTED.get(reported.strip().lower())
    if new_status is None:
        return "ignored"
    now = core.now()
    async with core.uow() as uow:
        row = await uow.outbox.by_provider_id(provider_message_id)
        if row is None:
            return "unknown"
        if _RANK.get(new_status, 0) <= _RANK.get(row.status, 0):
            return "ignored"
        row.status = new_status
        if new_status in (UNDELIVERED, FAILED):
            row.last_error = f"provider reported {reported}" + (
                f" ({error_code})" if error_code else ""
            )
            await tell_shop_code_undelivered(uow, row, now)
        await uow.commit()
    return "updated"


async def tell_shop_code_undelivered(uow: UnitOfWork, row: m.OutboxMessage, now: datetime) -> bool:
    """A payment code that cannot reach the citizen would leave the cashier waiting for
    nothing: tell the shop's members while the charge is still pending."""
    if row.charge_id is None or not _is_sensitive(row):
        return False
    charge = await uow.charges.by_id(row.charge_id)
    if charge is None or charge.status != "pending":
        return False
    notice = Reply.of(
        t(
            "The code for the payment of {amount} could not be delivered. Ask the citizen to "
            "check the phone, or use the card.",
            amount=Money(charge.amount_cents),
        )
    )
    told = await notify_shop(uow, charge.shop_id, notice, now, charge_id=charge.id)
    log.info("payment code of charge %s undelivered; %s shop member(s) told", charge.id, told)
    return told > 0

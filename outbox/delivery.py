"""What happened to an outbox message: the outcome of a send, and later delivery reports.

Status of an outbox row:
  pending      waiting for its next attempt (next_attempt_at)
  sending      claimed by a worker; next_attempt_at is the end of its lease
  sent         accepted by the provider (provider_message_id set)
  delivered    the provider reported delivery to the handset
  undelivered  the provider reported that the carrier could not deliver it
  failed       refused for good (invalid number, unsubscribed), or no longer worth
               sending (past its deliver_by: a code that expired, a notice after a
               provider outage longer than the notice lifetime)

A transient failure is retried with backoff for as long as the message is
useful: a notice waits out a long provider outage (up to the notice lifetime,
three days by default, from when it was written or re-queued by the office); a
code is useful only until it expires.

Used by the generic outbox worker (every channel) and by delivery-report
webhooks (SMS status callbacks).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.bootstrap import Core
from core.domain.outbox import OutboxStatus
from core.services.outbox import code_not_delivered, forget_code
from core.storage import models as m
from core.storage.outbox_trip import Accepted, mark_sent_transaction
from core.storage.uow import UnitOfWork
from outbox.channels import SendResult, SendStatus

log = logging.getLogger(__name__)

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
DELIVERED, UNDELIVERED, FAILED = (
    OutboxStatus.DELIVERED,
    OutboxStatus.UNDELIVERED,
    OutboxStatus.FAILED,
)

# Reports can arrive out of order (carriers resend, callbacks race): a row only moves up.
_RANK: dict[str, int] = {PENDING: 0, SENDING: 0, SENT: 1, UNDELIVERED: 2, FAILED: 2, DELIVERED: 3}

# Twilio MessageStatus values that change our record; queued/sending/sent say nothing new.
_REPORTED = {
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; a provider's Retry-After wins when longer.
    Retries stop at the row's deadline (`deadline`), or after max_attempts when set."""

    base_seconds: float = 5.0
    cap_seconds: float = 600.0
    max_attempts: int | None = None
    # How long a notice without its own deliver_by stays worth sending.
    notice_lifetime: timedelta = timedelta(hours=72)

    def deadline(self, row: m.OutboxMessage) -> datetime:
        return row.deliver_by or row.created_at + self.notice_lifetime

    def delay(
        self, attempts: int, hint: float | None = None, rng: random.Random | None = None
    ) -> float:
        exponential = min(self.cap_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        # Jitter spreads retries of a burst that failed together (e.g. a provider outage).
        jittered = exponential * (0.8 + 0.4 * (rng or random).random())
        return max(jittered, hint or 0.0)


@dataclass(frozen=True)
class SendOutcome:
    """How one send of a claimed row ended: the row, its attempts when it was claimed (the
    claim: a row reclaimed after its lease has more) and the sender's result."""

    message_id: int
    claimed_attempts: int
    result: SendResult
    # The row carries a code, to be scrubbed once it left (`forget_code`). When unsure,
    # True: the row is then read and written one by one, as every other non-sent result.
    carries_code: bool = True


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
    [status] = await record_send_results(
        core, [SendOutcome(message_id, claimed_attempts, result)], retry, rng
    )
    return status


async def record_send_results(
    core: Core,
    outcomes: Sequence[SendOutcome],
    retry: RetryPolicy,
    rng: random.Random | None = None,
) -> list[str | None]:
    """Store the outcomes of several sends in one transaction. Returns each row's new
    status, None for a row no longer ours (its lease expired and another worker took it:
    its claim's attempts no longer match, and nothing of this result is written).

    Rows accepted by the provider and carrying no code (nearly all) are written by a
    plan, a guarded UPDATE a row (core/storage/outbox_trip.py): on SQLite a group of
    only those joins the group commit. The others (a code to scrub, a retry, a failure,
    which may tell a shop) are read locked and written one by one in a unit of work. If
    anything fails, nothing of the group is written: its rows stay `sending` and come
    back when their lease ends."""
    now = core.now()
    statuses: list[str | None] = [None] * len(outcomes)
    quick = [
        index
        for index, outcome in enumerate(outcomes)
        if outcome.result.status is SendStatus.SENT and not outcome.carries_code
    ]
    accepted = [
        (
            outcomes[index].message_id,
            outcomes[index].claimed_attempts,
            outcomes[index].result.provider_message_id,
        )
        for index in quick
    ]
    group = core.group_commit
    if len(quick) == len(outcomes) and group is not None:
        # Nearly every group: on SQLite it joins the chat turns' group commit (one fsync
        # for both) instead of a unit of work, its write lock and a commit of its own.
        written = await group.run(mark_sent_transaction(accepted, now))
    else:
        written = await _record_in_unit_of_work(
            core, outcomes, quick, accepted, statuses, retry, now, rng
        )
    for index in quick:
        outcome = outcomes[index]
        if (outcome.message_id, outcome.claimed_attempts) in written:
            statuses[index] = SENT
    return statuses


async def _record_in_unit_of_work(
    core: Core,
    outcomes: Sequence[SendOutcome],
    quick: list[int],
    accepted: list[Accepted],
    statuses: list[str | None],
    retry: RetryPolicy,
    now: datetime,
    rng: random.Random | None,
) -> set[tuple[int, int]]:
    """The group in a unit of work: the accepted rows marked sent by one plan, the
    others read locked and written one by one (their statuses set in `statuses`)."""
    quick_set = set(quick)
    others = [index for index in range(len(outcomes)) if index not in quick_set]
    async with core.uow() as uow:
        written = await uow.outbox.mark_sent(accepted, now)
        if others:
            # PostgreSQL: serialise with lease recovery and other workers. SQLite already
            # holds the database write lock (BEGIN IMMEDIATE) for the whole transaction.
            rows = await uow.outbox.by_ids_locked(
                sorted({outcomes[index].message_id for index in others}),
                lock=uow.supports_skip_locked,
            )
            by_id = {row.id: row for row in rows}
            for index in others:
                outcome = outcomes[index]
                statuses[index] = await _apply(
                    uow, by_id.get(outcome.message_id), outcome, retry, now, rng
                )
        await uow.commit()
    return written


async def _apply(
    uow: UnitOfWork,
    row: m.OutboxMessage | None,
    outcome: SendOutcome,
    retry: RetryPolicy,
    now: datetime,
    rng: random.Random | None,
) -> str | None:
    """One outcome on its locked row; None when the row is no longer this claim's."""
    if row is None or row.status != SENDING or row.attempts != outcome.claimed_attempts:
        return None
    result = outcome.result
    if result.status is SendStatus.SENT:
        row.status = SENT
        row.sent_at = now
        row.provider_message_id = result.provider_message_id
        row.last_error = None
    elif result.status is SendStatus.RETRY and _may_retry(row, retry, now, result):
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
        await code_not_delivered(uow, row, now)
    if row.status != PENDING:
        forget_code(row)
    return str(row.status)


def _may_retry(
    row: m.OutboxMessage,
    retry: RetryPolicy,
    now: datetime,
    result: SendResult,
) -> bool:
    if retry.max_attempts is not None and row.attempts >= retry.max_attempts:
        return False
    # Not retried when even the shortest wait would bring it past its deadline.
    soonest = now + timedelta(seconds=max(result.retry_after_seconds or 0.0, 0.0))
    return soonest < retry.deadline(row)


def expire(row: m.OutboxMessage) -> None:
    """A due row past its deadline is not sent: a code that can no longer be used, a
    notice too old to mean anything."""
    row.status = FAILED
    row.last_error = "not sent: no longer useful" + (
        f" (last error: {row.last_error})" if row.last_error else ""
    )
    forget_code(row)


def close_unsent(row: m.OutboxMessage, why: str) -> None:
    """A due row no longer worth sending because what it is about moved on (a payment's
    code once the payment was confirmed, cancelled or expired): closed, never sent."""
    row.status = FAILED
    row.last_error = f"not sent: {why}"
    forget_code(row)


async def apply_report(
    core: Core, provider_message_id: str, reported: str, error_code: str | None = None
) -> str:
    """Apply a provider delivery report. Returns "updated", "ignored" or "unknown"."""
    new_status = _REPORTED.get(reported.strip().lower())
    if new_status is None:
        return "ignored"
    now = core.now()
    async with core.uow() as uow:
        # Locked: Twilio posts a report again when the first was slow, and two processes
        # reading the row as sent at once both moved it and both told the till that its code
        # was not delivered. The second now reads what the first wrote, and is ignored.
        row = await uow.outbox.by_provider_id(provider_message_id, lock=True)
        if row is None:
            return "unknown"
        if _RANK.get(new_status, 0) <= _RANK.get(row.status, 0):
            return "ignored"
        row.status = new_status
        if new_status in (UNDELIVERED, FAILED):
            row.last_error = f"provider reported {reported}" + (
                f" ({error_code})" if error_code else ""
            )
            await code_not_delivered(uow, row, now)
        await uow.commit()
    return "updated"

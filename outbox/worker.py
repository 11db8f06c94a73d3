"""Delivering the outbox: one worker per channel, in every `serve` process.

A round: in one short transaction, put back rows whose lease expired, claim the
due rows of the channel (PostgreSQL: FOR UPDATE SKIP LOCKED, so several
processes never claim the same row; SQLite: BEGIN IMMEDIATE makes the claim
atomic, one writer at a time) and mark them `sending` with a lease; commit.
Then send them without holding a transaction (a rate-limited send may take
seconds), and record the outcomes in groups (below).

Two lanes. Messages about a payment (lane 0: the code, receipts) have a loop of
their own that claims only them, so a code never waits for a batch of notices
to finish; the main loop claims every lane, payments first. Both hand rows to
the same sender, whose rate limiter lets payment messages take the next slot.

Waking. A service that wrote rows wakes the workers; a wake that arrives while a
lane is claiming or sending makes one more round after it, however many came. Only
writes that queued a payment message wake the payment loop (the others would have it
claim nothing, one transaction per inbound message under a flood). When the sender
held rows back for the rate limiter (handed back with a retry time: nothing more
could leave before it), the main loop does not claim again until that time, or
poll_seconds, whichever comes first: wakes meanwhile are coalesced into that one
claim, and payment messages still go at once through their own loop.

Leases are short (15 s by default) and renewed every few seconds while the rows
are in hand, however long the rate limiter makes them wait: the rows of a
process that was killed are taken over by any other (or the restarted) process
within one lease.

Recording results: a group commit. The first result to finish starts a transaction;
the results that finish while it commits wait, and go together in the next one, however
many they are (at most the rows in hand). No timer: alone, a result is recorded at once;
under load one transaction records many (`delivery.record_send_results`: one guarded
statement for the rows the provider accepted). A result waits at most for the one
commit in flight, a payment code's too, whatever the size of the group before it. Rows
stay in hand, their leases renewed, until their group committed. Each row is written
only while its claim holds it (`sending`, the attempts of the claim): a result that
comes after another worker took the row over is dropped. A group that cannot be
recorded writes nothing: its rows come back when their lease ends (sent ones may be
sent twice), and the next groups are recorded as usual.

Guarantees: a message accepted by the provider is recorded as sent and never
claimed again. A process that dies between the provider's answer and the
commit leaves its rows `sending`; when their lease ends they are sent again,
so such a crash (or a timeout after the provider accepted) can duplicate a
message but never loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.bootstrap import Core
from core.services.outbox import (
    PAYMENT_LANE,
    code_not_delivered,
    not_worth_sending,
    open_payload,
)
from outbox import delivery
from outbox.channels import OutgoingMessage, Sender, SendResult, SendStatus, loggable_error
from outbox.ratelimit import Priority

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 20
    # The payment lane claims few rows at a time: they go first anyway.
    payment_batch_size: int = 5
    poll_seconds: float = 1.0
    # Short, and renewed while the rows are in hand: only a dead worker's rows outlive it,
    # and only by this long.
    lease_seconds: float = 15.0
    # On shutdown, how long the batch in hand may take to finish.
    drain_seconds: float = 30.0
    retry: delivery.RetryPolicy = field(default_factory=delivery.RetryPolicy)
    # Only rows queued from then on are claimed (and only their leases released): a
    # development server's console sender delivers the rows its own start made, never
    # those a real provider was meant to send (buonispesa/server.py).
    created_since: datetime | None = None

    @property
    def renew_seconds(self) -> float:
        return self.lease_seconds / 3


# on_result(channel, status): one delivery attempt ended (the root counts them in /metrics).
ResultHook = Callable[[str, SendStatus], None]
RecordGroup = Callable[[list[delivery.SendOutcome]], Awaitable[Sequence[str | None]]]


@dataclass(slots=True)
class _Waiting:
    outcome: delivery.SendOutcome
    recorded: asyncio.Future[str | None]


class ResultGroups:
    """Results recorded in groups: `record(outcome)` returns once the transaction that
    carried it committed (see the module's doc). One writer task at a time, started by
    the first result when none runs, ended when nothing waits."""

    def __init__(self, record_group: RecordGroup) -> None:
        self._record_group = record_group
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # transactions that committed, for tests and benchmarks
        self.recorded = 0  # results they carried

    async def record(self, outcome: delivery.SendOutcome) -> str | None:
        """The row's new status (None: no longer ours). Raises what the group's
        transaction raised, with nothing of the group written."""
        recorded: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(outcome, recorded))
        if self._writer is None or self._writer.done():
            # Started here, without awaiting: results finishing in the same turn of the
            # event loop join the first group.
            self._writer = asyncio.create_task(self._write(), name="outbox-results")
        return await recorded

    async def _write(self) -> None:
        group: list[_Waiting] = []
        try:
            while self._waiting:
                # Everything that finished meanwhile, payment messages among it: each
                # waited at most for the commit that was in flight.
                group, self._waiting = self._waiting, []
                try:
                    statuses = await self._record_group([waiting.outcome for waiting in group])
                except Exception as error:
                    for waiting in group:
                        if not waiting.recorded.done():
                            waiting.recorded.set_exception(error)
                    continue
                self.groups += 1
                self.recorded += len(group)
                for waiting, status in zip(group, statuses, strict=True):
                    if not waiting.recorded.done():  # else its caller was cancelled
                        waiting.recorded.set_result(status)
                group = []
        finally:
            # Cancelled (the loop is closing): nobody may wait for a result forever, and
            # the rows come back after their lease, as for a group that failed.
            for waiting in [*group, *self._waiting]:
                if not waiting.recorded.done():
                    waiting.recorded.set_exception(RuntimeError("result not recorded"))
            self._waiting = []

    async def close(self, within: float) -> None:
        """Wait for the groups still being recorded, up to `within` seconds; then stop
        (rows not recorded come back after their lease)."""
        writer = self._writer
        if writer is None or writer.done():
            return
        _done, pending = await asyncio.wait({writer}, timeout=within)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class RepeatedFailures:
    """The log of a loop that fails every round while something it needs is down (the
    database): the first failure with its traceback, then one line a round, and one line
    when it works again. A traceback a round (about 150 lines) buried everything else."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failures = 0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.failures == 1:
            log.exception("%s failed", self.what)
            return
        # The first line of the error: SQLAlchemy's go on with the statement.
        first = (str(error).splitlines() or [""])[0][:200]
        log.warning(
            "%s failed again (%d in a row): %s: %s",
            self.what,
            self.failures,
            type(error).__name__,
            first,
        )

    def succeeded(self) -> None:
        if self.failures:
            log.warning("%s works again, after %d failures", self.what, self.failures)
            self.failures = 0


class OutboxWorker:
    def __init__(
        self,
        core: Core,
        sender: Sender,
        config: WorkerConfig | None = None,
        on_result: ResultHook = lambda _channel, _status: None,
    ) -> None:
        self.core = core
        self.sender = sender
        self.channel = sender.channel
        self.on_result = on_result
        self.config = config or WorkerConfig()
        # [0] the main loop's, [1] the payment loop's.
        self._wakes = (asyncio.Event(), asyncio.Event())
        # Loop time before which the sender said no notice can leave (rows it handed back).
        self._held_until = float("-inf")
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._renewal: asyncio.Task[None] | None = None
        self._in_hand: set[int] = set()
        self.results = ResultGroups(self._record_group)

    def wake(self, *, payments: bool = True) -> None:
        """New rows were written: look now instead of at the next poll. `payments=False`:
        none is about a payment, the payment loop need not look."""
        self._wakes[0].set()
        if payments:
            self._wakes[1].set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._run(self._wakes[0], self.config.batch_size, None),
                name=f"outbox-{self.channel}",
            ),
            asyncio.create_task(
                self._run(self._wakes[1], self.config.payment_batch_size, PAYMENT_LANE),
                name=f"outbox-{self.channel}-payments",
            ),
        ]
        self._renewal = asyncio.create_task(self._renew(), name=f"outbox-{self.channel}-leases")

    async def stop(self) -> None:
        """Let the batches in hand finish (up to drain_seconds), then stop."""
        self._stopping.set()
        self.wake()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=self.config.drain_seconds)
        if pending:
            # Rows still in flight keep their lease and are retried after it: none is lost.
            log.warning(
                "outbox %s: batch not finished after %ss", self.channel, self.config.drain_seconds
            )
        for task in [*pending, self._renewal]:
            if task is None:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # A group whose callers were cancelled is still recorded (fewer rows sent twice).
        await self.results.close(self.config.drain_seconds)

    async def _run(self, wake: asyncio.Event, batch_size: int, lane: int | None) -> None:
        loop = asyncio.get_running_loop()
        name = f"outbox {self.channel}" + (" (payments)" if lane == PAYMENT_LANE else "")
        failures = RepeatedFailures(f"{name}: round")
        while not self._stopping.is_set():
            # Cleared before the round, not after: a wake while claiming or sending (rows
            # committed after the claim looked) makes exactly one more round.
            wake.clear()
            try:
                handled = await self.run_once(batch_size, lane)
            except Exception as error:
                # The database may be unavailable: log, wait, try again.
                failures.failed(error)
                handled = 0
            else:
                failures.succeeded()
            if self._stopping.is_set():
                break
            held = self._held_until - loop.time() if lane is None else 0.0
            if held > 0:
                # The limiter lets nothing more out before then: a claim now would only
                # hand rows back. Wakes meanwhile are coalesced into the claim after it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), min(held, self.config.poll_seconds)
                    )
            elif handled < batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.config.poll_seconds)

    async def run_once(self, batch_size: int | None = None, lane: int | None = None) -> int:
        """Claim one batch and deliver it. Returns how many rows were handled."""
        claimed = await self.claim(batch_size, lane)
        if not claimed:
            return 0
        await self.deliver(claimed)
        return len(claimed)

    async def deliver(self, claimed: list[tuple[OutgoingMessage, int]]) -> None:
        """Send claimed rows and record their results."""
        results = await asyncio.gather(
            *(self._deliver(message, attempts) for message, attempts in claimed)
        )
        waits = [
            result.retry_after_seconds
            for (message, _), result in zip(claimed, results, strict=True)
            if result is not None
            and message.priority != Priority.URGENT
            and result.status is SendStatus.RETRY
            and result.retry_after_seconds
        ]
        if waits:
            # Handed back for the rate limiter (or a 429): the soonest of them is when a
            # notice may next leave.
            self._held_until = asyncio.get_running_loop().time() + min(waits)

    async def claim(
        self, batch_size: int | None = None, lane: int | None = None
    ) -> list[tuple[OutgoingMessage, int]]:
        """Due rows of this channel (of one lane, or payments first), now ours for a lease.
        Rows no longer worth sending are closed here instead."""
        now = self.core.now()
        async with self.core.uow() as uow:
            since = self.config.created_since
            await uow.outbox.release_expired_leases(self.channel, now, created_since=since)
            rows = await uow.outbox.due(
                self.channel,
                now,
                batch_size or self.config.batch_size,
                lock=uow.supports_skip_locked,
                lane=lane,
                created_since=since,
            )
            claimed = []
            given_up: list[tuple[int, int, str]] = []
            unreadable: list[int] = []
            lease_end = now + timedelta(seconds=self.config.lease_seconds)
            # Codes of payments closed since they were queued (one query for the batch).
            moved_on = await not_worth_sending(uow, rows, now)
            for row in rows:
                if self.config.retry.deadline(row) <= now:
                    if row.last_error:
                        # Its attempts failed until it was no longer worth sending.
                        error = loggable_error(row.last_error, row.address)
                        given_up.append((row.id, row.attempts, error))
                    delivery.expire(row)
                    continue
                if row.id in moved_on:
                    delivery.close_unsent(row, moved_on[row.id])
                    continue
                try:
                    payload = open_payload(uow.keys, row.payload)
                except ValueError:
                    # Sealed with another server secret, or altered: it can never be read.
                    # Closed here, or it would fail every round of its lane, and every
                    # message behind it would wait; a cashier waiting for its code is told.
                    unreadable.append(row.id)
                    await code_not_delivered(uow, row, now)
                    delivery.close_unsent(row, "sealed with another secret, or altered")
                    continue
                row.status = delivery.SENDING
                row.attempts += 1
                row.next_attempt_at = lease_end
                message = OutgoingMessage(
                    id=row.id,
                    municipality_id=row.municipality_id,
                    channel=row.channel,
                    address=row.address,
                    language=row.language,
                    payload=payload,
                    priority=Priority.URGENT if row.lane == PAYMENT_LANE else Priority.NORMAL,
                )
                claimed.append((message, row.attempts))
            await uow.commit()
        for message_id in unreadable:
            log.error(
                "outbox %s: message %s cannot be opened (sealed with another server secret, "
                "or altered): closed, never sent",
                self.channel,
                message_id,
            )
        for message_id, attempts, error in given_up:
            log.error(
                "outbox %s: message %s not delivered, given up after %d attempts "
                "(no longer useful): %s",
                self.channel,
                message_id,
                attempts,
                error,
            )
        self._in_hand.update(message.id for message, _ in claimed)
        return claimed

    async def renew_leases(self) -> int:
        """Push the lease of every row in hand a full lease ahead. Returns how many."""
        held = sorted(self._in_hand)
        if not held:
            return 0
        until = self.core.now() + timedelta(seconds=self.config.lease_seconds)
        async with self.core.uow() as uow:
            renewed = await uow.outbox.renew_leases(held, until)
            await uow.commit()
        return renewed

    async def _renew(self) -> None:
        failures = RepeatedFailures(f"outbox {self.channel}: renewing leases")
        while True:
            await asyncio.sleep(self.config.renew_seconds)
            try:
                await self.renew_leases()
            except Exception as error:
                # Missed once, the lease still has two thirds to run: try again next time.
                failures.failed(error)
            else:
                failures.succeeded()

    async def _deliver(self, message: OutgoingMessage, attempts: int) -> SendResult | None:
        result: SendResult | None = None
        try:
            try:
                result = await self.sender.send(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A sender bug must not stop the outbox; retrying is safe, the row is ours.
                log.exception("outbox %s: sender raised on message %s", self.channel, message.id)
                result = SendResult(SendStatus.RETRY, error=f"sender error: {exc!r}")
            self.on_result(self.channel, result.status)
            outcome = delivery.SendOutcome(
                message.id, attempts, result, carries_code=bool(message.payload.get("sensitive"))
            )
            try:
                # The row stays in hand (its lease renewed) until its group committed.
                status = await self.results.record(outcome)
            except Exception:
                # Not recorded: the lease brings the row back (a sent one may be sent twice).
                log.exception(
                    "outbox %s: could not record the result of %s", self.channel, message.id
                )
            else:
                self._log_failure(message, attempts, result, status)
        finally:
            self._in_hand.discard(message.id)
        return result

    def _log_failure(
        self, message: OutgoingMessage, attempts: int, result: SendResult, status: str | None
    ) -> None:
        """A failed attempt at WARNING, the giving-up at ERROR: by outbox id, channel and
        error, never the address or the text. (A permanent refusal is the sender's to log:
        a citizen who blocked the bot is no operator's problem.)"""
        if result.status is not SendStatus.RETRY or result.held_back:
            return
        error = loggable_error(result.error, message.address)
        if status == delivery.PENDING:
            log.warning(
                "outbox %s: message %s, attempt %d failed, retried later: %s",
                self.channel,
                message.id,
                attempts,
                error,
            )
        elif status == delivery.FAILED:
            log.error(
                "outbox %s: message %s not delivered, given up after %d attempts: %s",
                self.channel,
                message.id,
                attempts,
                error,
            )

    async def _record_group(self, outcomes: list[delivery.SendOutcome]) -> Sequence[str | None]:
        """One transaction for a group of results."""
        return await delivery.record_send_results(self.core, outcomes, self.config.retry)

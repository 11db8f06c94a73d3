"""Delivering the outbox: one worker per channel, in every `serve` process.

A round: in one short transaction, put back rows whose lease expired, claim the
due rows of the channel (PostgreSQL: FOR UPDATE SKIP LOCKED, so several
processes never claim the same row; SQLite: BEGIN IMMEDIATE makes the claim
atomic, one writer at a time) and mark them `sending` with a lease; commit.
Then send them without holding a transaction (a rate-limited send may take
seconds), and record each outcome in its own short transaction.

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
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update

from buonispesa import delivery
from buonispesa.channels import OutgoingMessage, Sender, SendResult, SendStatus
from core.bootstrap import Core
from core.metrics import Metrics
from core.services.outbox import open_payload
from core.storage import models as m

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 20
    poll_seconds: float = 1.0
    # Longer than any batch takes to send: only a dead worker's rows outlive it.
    lease_seconds: float = 300.0
    # On shutdown, how long the batch in hand may take to finish.
    drain_seconds: float = 30.0
    retry: delivery.RetryPolicy = field(default_factory=delivery.RetryPolicy)


class OutboxWorker:
    def __init__(
        self, core: Core, sender: Sender, metrics: Metrics, config: WorkerConfig | None = None
    ) -> None:
        self.core = core
        self.sender = sender
        self.channel = sender.channel
        self.metrics = metrics
        self.config = config or WorkerConfig()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New rows were written: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-{self.channel}")

    async def stop(self) -> None:
        """Let the batch in hand finish (up to drain_seconds), then stop."""
        self._stopping.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.config.drain_seconds)
        except TimeoutError:
            # Rows still in flight keep their lease and are retried after it: none is lost.
            log.warning(
                "outbox %s: batch not finished after %ss", self.channel, self.config.drain_seconds
            )
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                # The database may be briefly unavailable: log, wait, try again.
                log.exception("outbox %s: round failed", self.channel)
                handled = 0
            if self._stopping.is_set():
                break
            if handled < self.config.batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch and deliver it. Returns how many rows were handled."""
        claimed = await self.claim()
        if not claimed:
            return 0
        await asyncio.gather(*(self._deliver(message, attempts) for message, attempts in claimed))
        return len(claimed)

    async def claim(self) -> list[tuple[OutgoingMessage, int]]:
        now = self.core.now()
        async with self.core.uow() as uow:
            await uow.session.execute(
                update(m.OutboxMessage)
                .where(
                    m.OutboxMessage.channel == self.channel,
                    m.OutboxMessage.status == delivery.SENDING,
                    m.OutboxMessage.next_attempt_at <= now,
                )
                .values(status=delivery.PENDING)
                .execution_options(synchronize_session=False)
            )
            rows = await uow.outbox.due(
                self.channel, now, self.config.batch_size, lock=uow.supports_skip_locked
            )
            claimed = []
            lease_end = now + timedelta(seconds=self.config.lease_seconds)
            for row in rows:
                row.status = delivery.SENDING
                row.attempts += 1
                row.next_attempt_at = lease_end
                message = OutgoingMessage(
                    id=row.id,
                    municipality_id=row.municipality_id,
                    channel=row.channel,
                    address=row.address,
                    language=row.language,
                    payload=open_payload(uow.keys, row.payload),
                )
                claimed.append((message, row.attempts))
            await uow.commit()
        return claimed

    async def _deliver(self, message: OutgoingMessage, attempts: int) -> None:
        try:
            result = await self.sender.send(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A sender bug must not stop the outbox; retrying is safe, the row is ours.
            log.exception("outbox %s: sender raised on message %s", self.channel, message.id)
            result = SendResult(SendStatus.RETRY, error=f"sender error: {exc!r}")
        self.metrics.outbound.labels(channel=self.channel, result=result.status.value).inc()
        try:
            await delivery.record_send_result(
                self.core, message.id, attempts, result, self.config.retry
            )
        except Exception:
            # Not recorded: the lease brings the row back (a sent one may be sent twice).
            log.exception("outbox %s: could not record the result of %s", self.channel, message.id)

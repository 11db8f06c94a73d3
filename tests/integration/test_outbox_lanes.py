"""Payment messages go first: a code queued behind a broadcast is the next SMS to leave,
within the provider's rate (outbox.worker lanes and outbox.ratelimit priorities)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import update

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import Channel, Inbound
from core.domain.messages import Reply, t
from core.services.outbox import NOTICE_LANE, REPLY_LANE, enqueue
from core.storage import models as m
from outbox.channels import OutgoingMessage, SendResult, SendStatus
from outbox.ratelimit import RateLimiter
from outbox.worker import OutboxWorker, WorkerConfig
from sms.sender import sms_limiter
from tests.factories import make_town, request

RATE = 10.0


class PacedProvider:
    """A sender paced by the SMS limiter of one number, recording the order and times."""

    channel = "sms"

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.sent: list[tuple[int, float]] = []
        self.count = asyncio.Condition()

    async def send(self, message: OutgoingMessage) -> SendResult:
        await self.limiter.acquire({"number": "+390733905000"}, 1, message.priority)
        self.sent.append((message.id, time.monotonic()))
        async with self.count:
            self.count.notify_all()
        return SendResult(SendStatus.SENT, provider_message_id=f"SM{message.id:032d}")

    async def wait_for(self, ready: object) -> None:
        async with asyncio.timeout(30), self.count:
            await self.count.wait_for(ready)  # type: ignore[arg-type]


async def queue_notices(core: Core, count: int) -> None:
    """A broadcast waiting in the outbox: `count` notices to other numbers, and nothing else
    pending (the town's own messages are marked sent)."""
    async with core.uow() as uow:
        await uow.session.execute(update(m.OutboxMessage).values(status="sent"))
        for index in range(count):
            enqueue(
                uow,
                municipality_id=None,
                channel="sms",
                address=f"+39333{7000000 + index:07d}",
                language="it",
                reply=Reply.of(t("Hello {n}", n=index)),
                now=core.now(),
            )
        await uow.commit()


async def test_a_code_queued_behind_200_notices_is_sent_first(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await queue_notices(core, 200)
    provider = PacedProvider(sms_limiter(RATE))
    worker = OutboxWorker(core, provider, WorkerConfig(batch_size=10, poll_seconds=0.05))
    worker.start()
    try:
        await provider.wait_for(lambda: len(provider.sent) >= 3)
        requested = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
        async with core.uow() as uow:
            [code_row] = [
                row
                for row in await uow.outbox.for_address("sms", town.citizen_phones[0])
                if row.charge_id == requested.charge_id
            ]
        queued_after = len(provider.sent)
        worker.wake()
        await provider.wait_for(lambda: code_row.id in {i for i, _ in provider.sent})
    finally:
        await worker.stop()
    order = [message_id for message_id, _ in provider.sent]
    position = order.index(code_row.id)
    # Notices still waiting (about 190) did not go before it: at most the one whose slot
    # was already granted, and one claimed in the same instant.
    assert position <= queued_after + 2, (position, queued_after)
    # ...while most of the 200 were still waiting.
    assert 200 - position > 150
    assert code_row.lane == 0 and code_row.deliver_by is not None
    assert code_row.deliver_by <= code_row.created_at + timedelta(minutes=10)


async def test_answers_to_a_citizen_go_before_the_notices_of_a_tranche(core: Core) -> None:
    """A citizen who texts while a tranche's notices drain is answered next, not after
    them: answers are in their own lane, between payments and notices. Both the one-trip
    SALDO and a general-path turn (MENU) write there."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    await queue_notices(core, 200)
    provider = PacedProvider(sms_limiter(RATE))
    worker = OutboxWorker(core, provider, WorkerConfig(batch_size=10, poll_seconds=0.05))
    worker.start()
    try:
        await provider.wait_for(lambda: len(provider.sent) >= 3)
        engine = DialogueEngine(core)
        for text, sid in (("SALDO", "SM-lane-1"), ("MENU", "SM-lane-2")):
            await engine.handle(Inbound(Channel.SMS, phone, text=text, provider_message_id=sid))
        async with core.uow() as uow:
            answers = list(await uow.outbox.for_address("sms", phone))
        answers = [row for row in answers if row.status != "sent"]
        queued_after = len(provider.sent)
        worker.wake()
        ids = {row.id for row in answers}
        await provider.wait_for(lambda: ids <= {i for i, _ in provider.sent})
    finally:
        await worker.stop()
    assert len(answers) == 2
    assert {row.lane for row in answers} == {REPLY_LANE}
    order = [message_id for message_id, _ in provider.sent]
    last = max(order.index(row.id) for row in answers)
    # Only the notices already in hand (a batch of 10) may go before them.
    assert last <= queued_after + 10 + 2, (last, queued_after)
    assert 200 - last > 150
    async with core.uow() as uow:
        notice = (await uow.outbox.for_address("sms", "+393337000199"))[0]
    assert notice.lane == NOTICE_LANE

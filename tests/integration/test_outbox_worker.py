"""The outbox worker and delivery outcomes, on SQLite and PostgreSQL (outbox.worker)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from core.bootstrap import Core
from core.domain.keys import ServerKeys, new_secret
from core.domain.messages import Reply, t
from core.metrics import Metrics
from core.services import charges
from core.services.outbox import NOTICE_LANE, PAYMENT_LANE, enqueue, reply_of
from core.storage import models as m
from core.storage import outbox_trip
from core.storage.repositories import outbox as outbox_repository
from outbox import delivery
from outbox.channels import OutgoingMessage, SendResult, SendStatus
from outbox.ratelimit import Priority
from outbox.worker import OutboxWorker, WorkerConfig
from tests.conftest import FakeClock
from tests.factories import confirm, make_town, outbox_to, request

UNDELIVERED_MSGID = (
    "The code for the payment of {amount} could not be delivered. Ask the citizen to "
    "check the phone, or use the card."
)


class ScriptedSender:
    """Answers from a script, then accepts everything; remembers what it was given."""

    channel = "sms"

    def __init__(self, script: Sequence[SendResult] = (), delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.sent: list[OutgoingMessage] = []
        self.called = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        self.called.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            return self.script.pop(0)
        return SendResult(SendStatus.SENT, provider_message_id=f"SM{message.id:032d}")


class Broken:
    channel = "sms"

    async def send(self, message: OutgoingMessage) -> SendResult:
        raise RuntimeError("bug in a sender")


def worker(
    core: Core, sender: object, metrics: Metrics | None = None, **config: object
) -> OutboxWorker:
    counted = metrics or Metrics()
    return OutboxWorker(
        core,
        sender,  # type: ignore[arg-type]
        WorkerConfig(**config),  # type: ignore[arg-type]
        on_result=lambda channel, status: counted.outbound.labels(
            channel=channel, result=status.value
        ).inc(),
    )


async def add_messages(core: Core, count: int, address: str = "+393330000001") -> list[int]:
    async with core.uow() as uow:
        rows = [
            enqueue(
                uow,
                municipality_id=None,
                channel="sms",
                address=address,
                language="it",
                reply=Reply.of(t("Hello {n}", n=i)),
                now=core.now(),
            )
            for i in range(count)
        ]
        await uow.commit()
        return [row.id for row in rows]


async def rows(core: Core) -> dict[int, m.OutboxMessage]:
    async with core.uow() as uow:
        found = await uow.session.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id))
        return {row.id: row for row in found}


async def test_sent_once_and_never_claimed_again(core: Core) -> None:
    ids = await add_messages(core, 3)
    sender = ScriptedSender()
    metrics = Metrics()
    w = worker(core, sender, metrics)

    assert await w.run_once() == 3
    assert await w.run_once() == 0

    stored = await rows(core)
    assert [message.id for message in sender.sent] == ids
    for message_id in ids:
        assert stored[message_id].status == "sent"
        assert stored[message_id].attempts == 1
        assert stored[message_id].provider_message_id == f"SM{message_id:032d}"
        assert stored[message_id].sent_at == core.now()
    assert metrics.value("buonispesa_outbound_messages_total", channel="sms", result="sent") == 3


async def test_transient_error_is_retried_after_backoff(core: Core, clock: FakeClock) -> None:
    [message_id] = await add_messages(core, 1)
    sender = ScriptedSender([SendResult(SendStatus.RETRY, error="twilio 500")])
    w = worker(core, sender, retry=delivery.RetryPolicy(base_seconds=10))

    await w.run_once()
    row = (await rows(core))[message_id]
    assert row.status == "pending" and row.last_error == "twilio 500"
    assert (
        clock.current + timedelta(seconds=8)
        <= row.next_attempt_at
        <= clock.current + timedelta(seconds=12)
    )
    assert await w.run_once() == 0  # not due yet

    clock.advance(seconds=13)
    assert await w.run_once() == 1
    row = (await rows(core))[message_id]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(sender.sent) == 2


async def test_permanent_error_is_not_retried(core: Core, clock: FakeClock) -> None:
    [message_id] = await add_messages(core, 1)
    sender = ScriptedSender([SendResult(SendStatus.FAILED, error="twilio 400 21211")])
    w = worker(core, sender)

    await w.run_once()
    clock.advance(hours=2)
    assert await w.run_once() == 0
    row = (await rows(core))[message_id]
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "twilio 400 21211")
    assert len(sender.sent) == 1


async def test_retries_give_up_after_max_attempts(core: Core, clock: FakeClock) -> None:
    [message_id] = await add_messages(core, 1)
    retry = SendResult(SendStatus.RETRY, error="timeout")
    w = worker(core, ScriptedSender([retry] * 5), retry=delivery.RetryPolicy(max_attempts=3))
    for _ in range(5):
        await w.run_once()
        clock.advance(hours=1)
    row = (await rows(core))[message_id]
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: timeout"


async def test_a_sender_that_raises_is_retried_not_fatal(core: Core) -> None:
    [message_id] = await add_messages(core, 1)
    await worker(core, Broken()).run_once()
    row = (await rows(core))[message_id]
    assert row.status == "pending" and "bug in a sender" in (row.last_error or "")


async def test_expired_lease_brings_back_a_crashed_workers_rows(
    core: Core, clock: FakeClock
) -> None:
    ids = await add_messages(core, 2)
    crashed = worker(core, ScriptedSender(), lease_seconds=60)
    claimed = await crashed.claim()  # ...and the process dies before sending
    assert [message.id for message, _ in claimed] == ids

    survivor = worker(core, ScriptedSender(), lease_seconds=60)
    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=61)
    assert await survivor.run_once() == 2
    assert {(r.status, r.attempts) for r in (await rows(core)).values()} == {("sent", 2)}


async def test_late_result_of_a_reclaimed_row_is_ignored(core: Core, clock: FakeClock) -> None:
    [message_id] = await add_messages(core, 1)
    first = worker(core, ScriptedSender(), lease_seconds=60)
    [(message, attempts)] = await first.claim()
    clock.advance(seconds=61)
    second = worker(core, ScriptedSender(), lease_seconds=60)
    await second.run_once()
    late = SendResult(SendStatus.FAILED, error="late")
    assert (
        await delivery.record_send_result(core, message.id, attempts, late, first.config.retry)
        is None
    )
    assert (await rows(core))[message_id].status == "sent"


async def test_two_workers_never_claim_the_same_row(core: Core) -> None:
    await add_messages(core, 40)
    a, b = (
        worker(core, ScriptedSender(), batch_size=15),
        worker(core, ScriptedSender(), batch_size=15),
    )
    claims = await asyncio.gather(a.claim(), b.claim(), a.claim(), b.claim())
    ids = [message.id for claim in claims for message, _ in claim]
    assert len(ids) == 40 and len(set(ids)) == 40


async def test_stop_finishes_the_batch_in_hand(core: Core) -> None:
    ids = await add_messages(core, 5)
    sender = ScriptedSender(delay=0.2)
    w = worker(core, sender, batch_size=5, poll_seconds=0.05)
    w.start()
    await sender.called.wait()
    await w.stop()
    stored = await rows(core)
    assert [stored[i].status for i in ids] == ["sent"] * 5


async def code_request(core: Core) -> tuple[int, str, str]:
    """A pending charge whose code waits in the outbox: (charge id, citizen phone, shop phone)."""
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.charge_id.is_(None)).values(status="sent")
        )
        await uow.commit()
    return requested.charge_id, town.citizen_phones[0], town.shop_phone


async def code_row(core: Core, citizen: str) -> m.OutboxMessage:
    [row] = [x for x in await outbox_to(core, citizen) if x.charge_id is not None]
    return row


async def code_in_outbox(core: Core, citizen: str) -> str:
    code = reply_of(core.keys, await code_row(core, citizen)).texts[0].params["code"]
    assert isinstance(code, str) and len(code) == 6
    return code


async def test_a_waiting_code_is_sealed_and_opened_only_to_send_it(core: Core) -> None:
    """Even while the provider is down the row holds no code digits, only a sealed body."""
    _, citizen, _ = await code_request(core)
    code = await code_in_outbox(core, citizen)
    row = await code_row(core, citizen)
    assert code not in json.dumps(row.payload)
    assert row.payload["sealed"].startswith("v1:")
    # A copy of the database opened with another secret cannot read it.
    with pytest.raises(ValueError):
        ServerKeys(new_secret()).unseal(row.payload["sealed"])

    down = ScriptedSender([SendResult(SendStatus.RETRY, error="503")])
    await worker(core, down).run_once()
    row = await code_row(core, citizen)
    assert row.status == "pending" and code not in json.dumps(row.payload)

    clock: FakeClock = core.clock  # type: ignore[assignment]
    clock.advance(minutes=1)
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    assert [x.payload["texts"][0]["params"]["code"] for x in sender.sent] == [code]
    assert "sealed" not in (await code_row(core, citizen)).payload


async def test_a_code_no_secret_can_open_is_closed_and_the_lane_goes_on(core: Core) -> None:
    """Trial finding: one sealed row that could not be opened (written by a process with
    another secret) failed every round of its lane, and nothing behind it left."""
    _, citizen, shop = await code_request(core)
    code_id = (await code_row(core, citizen)).id
    async with core.uow() as uow:
        row = await uow.session.get(m.OutboxMessage, code_id)
        assert row is not None
        row.payload = {**row.payload, "sealed": ServerKeys(new_secret()).seal({"texts": []})}
        await uow.commit()
    [after] = await add_messages(core, 1)
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    assert [message.id for message in sender.sent] == [after]
    row = await code_row(core, citizen)
    assert row.status == "failed" and "another secret" in (row.last_error or "")
    assert "sealed" not in row.payload
    # The cashier is not left waiting for a code that will never arrive.
    assert len(notices(await outbox_to(core, shop))) == 1


def notices(messages: Sequence[m.OutboxMessage]) -> list[m.OutboxMessage]:
    return [x for x in messages if x.payload["texts"][0]["msgid"] == UNDELIVERED_MSGID]


async def test_a_delivered_code_is_scrubbed_from_the_outbox(core: Core) -> None:
    charge_id, citizen, _ = await code_request(core)
    code = await code_in_outbox(core, citizen)

    await worker(core, ScriptedSender()).run_once()

    row = await code_row(core, citizen)
    assert row.status == "sent" and row.charge_id == charge_id
    assert code not in json.dumps(row.payload)
    assert row.payload["sensitive"] is True


async def test_a_code_refused_by_the_provider_is_reported_to_the_shop(core: Core) -> None:
    _, citizen, shop = await code_request(core)
    code = await code_in_outbox(core, citizen)

    await worker(core, ScriptedSender([SendResult(SendStatus.FAILED, error="21610")])).run_once()

    row = await code_row(core, citizen)
    assert row.status == "failed" and code not in json.dumps(row.payload)
    [notice] = notices(await outbox_to(core, shop))
    assert notice.payload["texts"][0]["params"] == {"amount": {"money": 12_50}}


async def test_delivery_reports_move_forward_only_and_tell_the_shop_once(core: Core) -> None:
    _, citizen, shop = await code_request(core)
    await worker(core, ScriptedSender()).run_once()
    row = await code_row(core, citizen)
    sid = row.provider_message_id
    assert sid is not None

    assert await delivery.apply_report(core, sid, "queued") == "ignored"
    assert await delivery.apply_report(core, sid, "undelivered", "30003") == "updated"
    assert await delivery.apply_report(core, sid, "failed", "30003") == "ignored"
    assert await delivery.apply_report(core, "SMunknown", "delivered") == "unknown"

    row = await code_row(core, citizen)
    assert row.status == "undelivered"
    assert row.last_error == "provider reported undelivered (30003)"
    assert len(notices(await outbox_to(core, shop))) == 1


async def test_the_same_report_twice_at_once_tells_the_shop_once(core: Core, rival: Core) -> None:
    """Twilio posts a status callback again when the first took too long: both arrive
    together, in two processes. Both read the code's row as sent; each told the till that
    the code could not be delivered. The row moves forward once, and only that report
    tells the shop."""
    _, citizen, shop = await code_request(core)
    await worker(core, ScriptedSender()).run_once()
    sid = (await code_row(core, citizen)).provider_message_id
    assert sid is not None
    outcomes = await asyncio.gather(
        delivery.apply_report(core, sid, "undelivered", "30003"),
        delivery.apply_report(rival, sid, "undelivered", "30003"),
        delivery.apply_report(core, sid, "failed", "30003"),
    )
    assert sorted(outcomes) == ["ignored", "ignored", "updated"]
    assert len(notices(await outbox_to(core, shop))) == 1
    assert (await code_row(core, citizen)).status in ("undelivered", "failed")


async def test_no_notice_once_the_charge_is_no_longer_pending(core: Core) -> None:
    charge_id, citizen, shop = await code_request(core)
    await worker(core, ScriptedSender()).run_once()
    async with core.uow() as uow:
        await uow.charges.mark(charge_id, "pending", status="cancelled", closed_reason="by_shop")
        await uow.commit()
    row = await code_row(core, citizen)
    assert row.provider_message_id is not None
    assert await delivery.apply_report(core, row.provider_message_id, "failed") == "updated"
    assert notices(await outbox_to(core, shop)) == []


async def test_delivered_report(core: Core) -> None:
    [message_id] = await add_messages(core, 1)
    await worker(core, ScriptedSender()).run_once()
    sid = (await rows(core))[message_id].provider_message_id
    assert sid is not None
    assert await delivery.apply_report(core, sid, "delivered") == "updated"
    assert await delivery.apply_report(core, sid, "undelivered") == "ignored"
    assert (await rows(core))[message_id].status == "delivered"


async def test_a_dead_workers_rows_are_taken_over_after_one_short_lease(
    core: Core, clock: FakeClock
) -> None:
    ids = await add_messages(core, 2)
    killed = worker(core, ScriptedSender())
    assert killed.config.lease_seconds <= 15
    await killed.claim()  # ...and the process is killed before sending

    survivor = worker(core, ScriptedSender())
    assert await survivor.run_once() == 0
    clock.advance(seconds=killed.config.lease_seconds + 1)
    assert await survivor.run_once() == 2
    assert [(r.id, r.status) for r in (await rows(core)).values()] == [
        (ids[0], "sent"),
        (ids[1], "sent"),
    ]


async def test_leases_are_renewed_while_the_rows_are_in_hand(core: Core, clock: FakeClock) -> None:
    """A row that waits long in the rate limiter is still ours: nobody else sends it."""
    await add_messages(core, 3)
    slow = worker(core, ScriptedSender(), lease_seconds=10)
    claimed = await slow.claim()
    other = worker(core, ScriptedSender(), lease_seconds=10)
    for _ in range(5):  # 40 s in hand, renewed every 8 s
        clock.advance(seconds=8)
        assert await slow.renew_leases() == 3
        assert await other.run_once() == 0
    # Once the results are recorded, nothing of it is in hand any more.
    for message, attempts in claimed:
        await delivery.record_send_result(
            core, message.id, attempts, SendResult(SendStatus.SENT, "SMx"), slow.config.retry
        )
    assert await slow.renew_leases() == 0
    assert {r.status for r in (await rows(core)).values()} == {"sent"}


async def test_notices_wait_out_a_long_provider_outage(core: Core, clock: FakeClock) -> None:
    [message_id] = await add_messages(core, 1)
    down = SendResult(SendStatus.RETRY, error="twilio 503")
    outage = ScriptedSender([down] * 1000)
    w = worker(core, outage)
    for _ in range(2 * 24 * 6):  # two days, looking every 10 minutes
        await w.run_once()
        clock.advance(minutes=10)
    row = (await rows(core))[message_id]
    assert row.status == "pending" and row.attempts > 100

    # Back up: the notice is delivered at its next attempt (at most the capped backoff).
    clock.advance(minutes=13)
    await worker(core, ScriptedSender()).run_once()
    assert (await rows(core))[message_id].status == "sent"


async def test_a_notice_is_given_up_only_when_no_longer_useful(
    core: Core, clock: FakeClock
) -> None:
    [message_id] = await add_messages(core, 1)
    down = SendResult(SendStatus.RETRY, error="twilio 503")
    w = worker(core, ScriptedSender([down] * 10_000))
    lifetime = w.config.retry.notice_lifetime
    while clock.current < (await rows(core))[message_id].created_at + lifetime + timedelta(hours=1):
        await w.run_once()
        clock.advance(minutes=30)
    row = (await rows(core))[message_id]
    assert row.status == "failed"
    assert row.last_error == "not sent: no longer useful (last error: twilio 503)"


async def test_a_code_expires_with_its_charge(core: Core, clock: FakeClock) -> None:
    charge_id, citizen, _ = await code_request(core)
    code = await code_in_outbox(core, citizen)
    down = ScriptedSender([SendResult(SendStatus.RETRY, error="503")] * 100)
    w = worker(core, down)
    await w.run_once()
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None
        expires = charge.expires_at
    assert (await code_row(core, citizen)).deliver_by == expires

    clock.current = expires + timedelta(seconds=1)
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    assert [x.id for x in sender.sent if x.address == citizen] == []
    row = await code_row(core, citizen)
    assert row.status == "failed" and code not in json.dumps(row.payload)


class HeldBack:
    """A sender behind a slow cap: one notice leaves, the others are handed back to wait
    for the limiter (as Telegram's sender does beyond five seconds); payment messages go."""

    channel = "sms"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.handed_back: list[OutgoingMessage] = []
        self.changed = asyncio.Condition()

    async def send(self, message: OutgoingMessage) -> SendResult:
        async with self.changed:
            self.changed.notify_all()
            if message.priority == Priority.URGENT or not self.sent:
                self.sent.append(message)
                return SendResult(SendStatus.SENT, provider_message_id=f"SM{message.id:032d}")
            self.handed_back.append(message)
            return SendResult(SendStatus.RETRY, error="rate limit", retry_after_seconds=30.0)

    async def wait_for(self, ready: Callable[[], bool]) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(ready)


class CountingWorker(OutboxWorker):
    """Counts claims (each one a transaction) per lane; `gate` holds the main loop's claims
    after they looked at the table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims: Counter[int | None] = Counter()
        self.gate: asyncio.Event | None = None
        self.claiming = asyncio.Event()

    async def claim(
        self, batch_size: int | None = None, lane: int | None = None
    ) -> list[tuple[OutgoingMessage, int]]:
        self.claims[lane] += 1
        claimed = await super().claim(batch_size, lane)
        if lane is None and self.gate is not None:
            self.claiming.set()
            await self.gate.wait()
        return claimed


async def settle() -> None:
    # Long enough for a loop woken by mistake to run several claims; the assertions below
    # hold however long this is.
    await asyncio.sleep(0.3)


async def test_wakes_while_the_limiter_holds_notices_back_claim_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await uow.session.execute(update(m.OutboxMessage).values(status="sent"))
        await uow.commit()
    ids = await add_messages(core, 10)
    sender = HeldBack()
    w = CountingWorker(core, sender, WorkerConfig(batch_size=5, poll_seconds=60))
    w.start()
    try:
        await sender.wait_for(lambda: len(sender.sent) + len(sender.handed_back) == 5)
        for _ in range(100):
            w.wake(payments=False)  # what the webhook does after each reply it wrote
            await asyncio.sleep(0)
        await settle()
        # One claim for the main loop, one for the payment loop at start: the 100 wakes
        # came while the limiter holds the notices back, and none was about a payment.
        assert w.claims == {None: 1, PAYMENT_LANE: 1}
        stored = await rows(core)
        assert [stored[i].attempts for i in ids] == [1] * 5 + [0] * 5

        # A code is not held back with the notices: its wake reaches the payment loop.
        requested = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
        w.wake()
        await sender.wait_for(
            lambda: any(message.priority == Priority.URGENT for message in sender.sent)
        )
        code = await code_row(core, town.citizen_phones[0])
        assert code.charge_id == requested.charge_id
        assert code.id in {message.id for message in sender.sent}
        assert w.claims[None] == 1
    finally:
        await w.stop()


async def test_wakes_during_a_claim_make_one_more_claim(core: Core) -> None:
    ids = await add_messages(core, 3)
    sender = ScriptedSender()
    w = CountingWorker(core, sender, WorkerConfig(batch_size=5, poll_seconds=60))
    w.gate = asyncio.Event()
    w.start()
    try:
        await w.claiming.wait()
        # Written after the claim looked: only a round after it sees them.
        late = await add_messages(core, 2, address="+393330000002")
        for _ in range(100):
            w.wake()
            await asyncio.sleep(0)
        w.gate.set()
        async with asyncio.timeout(10):
            while True:
                sender.called.clear()
                if {message.id for message in sender.sent} == set(ids + late):
                    break
                await sender.called.wait()
        await settle()
        assert w.claims[None] == 2
    finally:
        await w.stop()


# Results recorded in groups (a group commit; see outbox.worker's doc).


def commits_of(core: Core) -> list[int]:
    """A counter of the transactions committed on this core's engine from now on."""
    counted = [0]

    def on_commit(_connection: Any) -> None:
        counted[0] += 1

    event.listen(core.engine.sync_engine, "commit", on_commit)
    return counted


class GroupsSeen(OutboxWorker):
    """Remembers the rows of each group it records; `gate`, when set, holds the first
    group before its transaction begins (a commit in flight, as long as the test likes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups_seen: list[list[int]] = []
        self.gate: asyncio.Event | None = None
        self.recording = asyncio.Event()

    async def _record_group(self, outcomes: list[delivery.SendOutcome]) -> Sequence[str | None]:
        self.groups_seen.append([outcome.message_id for outcome in outcomes])
        if self.gate is not None and len(self.groups_seen) == 1:
            self.recording.set()
            await self.gate.wait()
        return await super()._record_group(outcomes)


async def test_results_that_finish_together_are_committed_together(core: Core) -> None:
    ids = await add_messages(core, 12)
    sender = ScriptedSender(
        [
            SendResult(SendStatus.SENT, provider_message_id=None),
            SendResult(SendStatus.RETRY, error="twilio 500"),
            SendResult(SendStatus.FAILED, error="twilio 400 21211"),
        ]
    )
    w = GroupsSeen(core, sender, WorkerConfig(batch_size=12))
    claimed = await w.claim()
    commits = commits_of(core)

    await w.deliver(claimed)

    # Twelve results, one transaction: the sends ended in the same turn of the loop.
    assert commits[0] < len(ids)
    assert (commits[0], w.results.groups, w.results.recorded) == (1, 1, 12)
    assert w.groups_seen == [ids]
    stored = await rows(core)
    first, retried, failed, *others = (stored[i] for i in ids)
    assert (first.status, first.provider_message_id, first.sent_at) == ("sent", None, core.now())
    assert (retried.status, retried.last_error) == ("pending", "twilio 500")
    assert (failed.status, failed.last_error) == ("failed", "twilio 400 21211")
    assert [(r.status, r.attempts, r.provider_message_id) for r in others] == [
        ("sent", 1, f"SM{r.id:032d}") for r in others
    ]
    assert await w.renew_leases() == 0  # nothing left in hand


async def test_accepted_results_join_the_turns_group_commit(core: Core) -> None:
    if core.group_commit is None:
        pytest.skip("SQLite's group commit")
    ids = await add_messages(core, 4)
    w = GroupsSeen(core, ScriptedSender(), WorkerConfig(batch_size=4))
    claimed = await w.claim()
    commits = commits_of(core)
    batches = core.group_commit.batches

    await w.deliver(claimed)

    # One group, written in a batch of the group commit: no transaction of its own.
    assert (w.results.groups, commits[0]) == (1, 0)
    assert (core.group_commit.batches, core.group_commit.committed) == (batches + 1, 1)
    stored = await rows(core)
    assert [(stored[i].status, stored[i].sent_at, stored[i].last_error) for i in ids] == [
        ("sent", core.now(), None)
    ] * 4
    assert [stored[i].provider_message_id for i in ids] == [f"SM{i:032d}" for i in ids]


async def test_a_group_that_cannot_be_recorded_comes_back_after_its_lease(
    core: Core, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await add_messages(core, 3, address="+393330000001")
    later = await add_messages(core, 3, address="+393330000002")
    go_on = asyncio.Event()

    class Late(ScriptedSender):
        async def send(self, message: OutgoingMessage) -> SendResult:
            if message.id in later:
                await go_on.wait()
            return await super().send(message)

    w = GroupsSeen(core, Late(), WorkerConfig(batch_size=6, lease_seconds=60))
    claimed = await w.claim()
    failing = [True]
    mark_sent = outbox_trip.mark_sent_plan

    def fail_first_group(
        sent: Sequence[outbox_trip.Accepted], now: datetime
    ) -> Generator[Any, Any, set[tuple[int, int]]]:
        written = yield from mark_sent(sent, now)
        if failing[0]:
            # The first group's transaction fails once its rows are written (the disk, the
            # server gone); the other results finish meanwhile.
            failing[0] = False
            go_on.set()
            raise OSError("the database went away")
        return written

    # The plan as the group commit (SQLite) and a unit of work (PostgreSQL) make it.
    monkeypatch.setattr(outbox_trip, "mark_sent_plan", fail_first_group)
    monkeypatch.setattr(outbox_repository, "mark_sent_plan", fail_first_group)
    await w.deliver(claimed)

    assert w.groups_seen[0] == first
    assert sorted(id_ for group in w.groups_seen[1:] for id_ in group) == later
    stored = await rows(core)
    assert [(stored[i].status, stored[i].attempts) for i in first] == [("sending", 1)] * 3
    assert [stored[i].status for i in later] == ["sent"] * 3
    assert await w.renew_leases() == 0  # not in hand any more: the lease runs out

    other = worker(core, ScriptedSender(), lease_seconds=60)
    assert await other.run_once() == 0  # still under the lease
    clock.advance(seconds=61)
    assert await other.run_once() == 3
    stored = await rows(core)
    assert [(stored[i].status, stored[i].attempts) for i in first] == [("sent", 2)] * 3
    assert [(stored[i].status, stored[i].attempts) for i in later] == [("sent", 1)] * 3


async def test_a_grouped_result_never_overwrites_a_row_taken_over(
    core: Core, clock: FakeClock
) -> None:
    taken = await add_messages(core, 2)
    late = worker(core, ScriptedSender(), lease_seconds=60)
    old_claim = await late.claim()
    clock.advance(seconds=61)
    new_owner = worker(core, ScriptedSender(), lease_seconds=60)
    new_claim = await new_owner.claim()  # attempts 2, still being sent
    [fresh] = await add_messages(core, 1, address="+393330000002")
    [(fresh_message, fresh_attempts)] = await late.claim()
    assert fresh_message.id == fresh

    (x, x_attempts), (y, y_attempts) = old_claim
    statuses = await delivery.record_send_results(
        core,
        [
            delivery.SendOutcome(x.id, x_attempts, SendResult(SendStatus.SENT, "SMlate"), False),
            delivery.SendOutcome(y.id, y_attempts, SendResult(SendStatus.FAILED, error="late")),
            delivery.SendOutcome(fresh, fresh_attempts, SendResult(SendStatus.SENT, None), False),
        ],
        late.config.retry,
    )

    assert statuses == [None, None, "sent"]
    stored = await rows(core)
    assert [
        (stored[i].status, stored[i].attempts, stored[i].provider_message_id, stored[i].last_error)
        for i in taken
    ] == [("sending", 2, None, None)] * 2
    assert stored[fresh].status == "sent"
    # The new owner's results are the ones recorded.
    await new_owner.deliver(new_claim)
    stored = await rows(core)
    assert [(stored[i].status, stored[i].provider_message_id) for i in taken] == [
        ("sent", f"SM{i:032d}") for i in taken
    ]


async def test_rows_waiting_for_their_group_stay_in_hand(core: Core, clock: FakeClock) -> None:
    ids = await add_messages(core, 2)
    w = GroupsSeen(core, ScriptedSender(), WorkerConfig(lease_seconds=10))
    w.gate = asyncio.Event()
    delivering = asyncio.create_task(w.deliver(await w.claim()))
    await w.recording.wait()  # sent; their group's commit is held
    other = worker(core, ScriptedSender(), lease_seconds=10)
    for _ in range(5):  # 40 s waiting for the group, renewed every 8 s
        clock.advance(seconds=8)
        assert await w.renew_leases() == 2
        assert await other.run_once() == 0
    w.gate.set()
    await delivering
    assert await w.renew_leases() == 0
    stored = await rows(core)
    assert [(stored[i].status, stored[i].attempts) for i in ids] == [("sent", 1)] * 2


async def test_a_payment_code_waits_for_one_commit_at_most(core: Core) -> None:
    _, citizen, _ = await code_request(core)
    code = await code_in_outbox(core, citizen)
    notices = await add_messages(core, 10)
    sender = ScriptedSender()
    w = GroupsSeen(core, sender, WorkerConfig())
    w.gate = asyncio.Event()
    first = asyncio.create_task(w.deliver(await w.claim(10, lane=NOTICE_LANE)))
    await w.recording.wait()  # ten notices' commit in flight

    more = await add_messages(core, 5, address="+393330000002")
    claimed = await w.claim(5, lane=NOTICE_LANE) + await w.claim(5, lane=PAYMENT_LANE)
    second = asyncio.create_task(w.deliver(claimed))
    while len(sender.sent) < 16:  # each answered at once, then waits for a commit
        sender.called.clear()
        await sender.called.wait()
    w.gate.set()
    await asyncio.gather(first, second)

    [code_id] = [message.id for message, _ in claimed if message.priority == Priority.URGENT]
    assert w.groups_seen == [notices, [*more, code_id]]  # the next commit carried it
    row = await code_row(core, citizen)
    assert row.status == "sent" and code not in json.dumps(row.payload)


async def test_a_code_of_a_payment_closed_before_it_left_is_closed_unsent(core: Core) -> None:
    """Chat trial finding 3: with the outbox stopped, a shop asks for a payment and cancels it
    (or it is confirmed): when the outbox runs again the code is not sent, the notice that
    the payment was cancelled and the receipt are."""
    cancelled, citizen, shop = await code_request(core)
    code = await code_in_outbox(core, citizen)
    async with core.uow() as uow:
        shop_id = (await uow.charges.by_id(cancelled)).shop_id  # type: ignore[union-attr]
        assert await charges.cancel_charge(
            uow, charge_id=cancelled, shop_id=shop_id, now=core.now()
        )
        await uow.commit()
    clock: FakeClock = core.clock  # type: ignore[assignment]
    clock.advance(minutes=1)
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    said = [(x.address, x.payload["texts"][0]["msgid"]) for x in sender.sent]
    assert said == [
        (citizen, "{shop} cancelled the payment of {amount}. The code is no longer valid.")
    ]
    row = await code_row_of(core, citizen)
    assert (row.status, row.last_error, row.sent_at) == (
        "failed",
        "not sent: payment cancelled",
        None,
    )
    assert code not in json.dumps(row.payload) and "sealed" not in row.payload
    assert notices(await outbox_to(core, shop)) == []  # not "could not be delivered"


async def test_a_code_of_a_payment_confirmed_before_it_left_is_not_sent(core: Core) -> None:
    charge_id, citizen, _ = await code_request(core)
    code = await code_in_outbox(core, citizen)
    async with core.uow() as uow:
        shop_id = (await uow.charges.by_id(charge_id)).shop_id  # type: ignore[union-attr]
    assert (await confirm(core, shop_id, charge_id, code)).outcome == "confirmed"
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    said = [x.payload["texts"][0]["msgid"] for x in sender.sent if x.address == citizen]
    assert said == ["Paid {amount} at {shop}. Remaining balance: {balance}."]
    row = await code_row_of(core, citizen)
    assert (row.status, row.last_error) == ("failed", "not sent: payment confirmed")


async def code_row_of(core: Core, citizen: str) -> m.OutboxMessage:
    [row] = [x for x in await outbox_to(core, citizen) if x.payload.get("sensitive")]
    return row


async def test_codes_of_closed_payments_cost_one_query_per_claimed_batch(core: Core) -> None:
    town = await make_town(core, citizens=3)
    ids = [(await request(core, town.shop_id, cf, 1_00)).charge_id for cf in town.citizen_cfs]
    async with core.uow() as uow:
        for charge_id in ids[:2]:
            await charges.cancel_charge(
                uow, charge_id=charge_id, shop_id=town.shop_id, now=core.now()
            )
        await uow.commit()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(core.engine.sync_engine, "before_cursor_execute", seen)
    try:
        claimed = await worker(core, ScriptedSender()).claim()
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", seen)
    assert len([x for x in statements if "FROM charges" in x]) == 1, statements
    sent_codes = [x for x, _ in claimed if x.payload.get("sensitive")]
    assert [x.address for x in sent_codes] == [town.citizen_phones[2]]
    closed = [await code_row_of(core, phone) for phone in town.citizen_phones[:2]]
    assert [(x.status, x.last_error) for x in closed] == [
        ("failed", "not sent: payment cancelled")
    ] * 2

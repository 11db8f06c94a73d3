"""A payment code goes only where the citizen is reached when it commits, however the
office's change and the shop's PAGA interleave (migration 0038_code_destination_guard).

The office removing a delegate, or giving the citizen a new phone, cancels in its own
transaction the payments whose code went to the number that stopped being the citizen's
(core.services.code_destinations). On PostgreSQL a PAGA runs beside it: one that read the
delegate or the old phone just before the office's change committed would write its code
for that number after the sweep, and that code would confirm the payment. The database
now refuses that code's row (the PAGA runs again and its code goes where the citizen is
reached now), and a removal that meets a code not committed yet waits for it and then
cancels its payment. SQLite has one writer (BEGIN IMMEDIATE): only the rule for writes
that skip the services is tested there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.services import charges
from core.services.outbox import Payer, payer_of, reply_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.transient import is_transient
from tests.dialogue.harness import Chat, msgids, open_till
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, balance, citizen_code
from tests.factories import Town, assert_ledger_ok, confirm, make_town
from tests.integration.test_cards_delegates import DELEGATE, _remove, add, notices_to
from tests.integration.test_phone_changes import NEW_PHONE, _approve, _ask, _operators

CODE_ELSEWHERE = "payment.code_elsewhere"
SHOP_TOLD = (
    "The office cancelled the payment of {amount}: it cannot be completed, do not wait for "
    "the code."
)


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no race to test")


@pytest.fixture
async def office(core: Core, database_url: str) -> AsyncIterator[Core]:
    """The office's process: another core on the same database."""
    other = Core(engine=make_engine(database_url), clock=core.clock)
    yield other
    await other.close()


class HeldAfterReading:
    """Holds the first PAGA just after it read where its code goes (payer_of), its
    transaction open, until `release`; a PAGA run again is not held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read = asyncio.Event()
        self.released = asyncio.Event()
        self.reads: list[str | None] = []

        async def held(uow: UnitOfWork, citizen: m.Citizen) -> Payer | None:
            payer = await payer_of(uow, citizen)
            self.reads.append(payer.address if payer else None)
            if len(self.reads) == 1:
                self.read.set()
                await self.released.wait()
            return payer

        # Read where a payment is asked, and where a till looks at what still waits.
        monkeypatch.setattr(charges.asking, "payer_of", held)
        monkeypatch.setattr(charges.waiting, "payer_of", held)

    async def while_held(self, paga: Awaitable[Any], office_change: Awaitable[Any]) -> Any:
        """`paga` started and held after its read; `office_change` done and committed
        meanwhile; then `paga` goes on. Its outcome."""
        task = asyncio.ensure_future(paga)
        await asyncio.wait_for(self.read.wait(), timeout=10)
        await asyncio.wait_for(office_change, timeout=10)
        self.released.set()
        return await asyncio.wait_for(task, timeout=10)


async def codes_waiting(core: Core) -> list[tuple[str, str]]:
    """(address, charge status) of every payment code queued, oldest first."""
    async with core.uow() as uow:
        rows = await uow.session.execute(
            select(m.OutboxMessage, m.Charge.status)
            .join(m.Charge, m.Charge.id == m.OutboxMessage.charge_id)
            .order_by(m.OutboxMessage.id)
        )
        return [(row.address, status) for row, status in rows if row.payload.get("sensitive")]


async def charges_of(core: Core) -> list[tuple[int, str, str | None]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(select(m.Charge).order_by(m.Charge.id))
        return [(row.amount_cents, row.status, row.closed_reason) for row in rows]


async def test_a_paga_that_read_the_delegate_just_removed_sends_the_code_to_the_citizen(
    core: Core, database_url: str, office: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql_only(database_url)
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    await add(core, town, 0, DELEGATE)
    till = await open_till(Chat(core, town.shop_phone))
    held = HeldAfterReading(monkeypatch)

    said = await held.while_held(till.send(f"PAGA {town.citizen_cfs[0]} 10"), _remove(office, town))

    # The PAGA read the delegate, the office removed it, the database refused the code for
    # it: the PAGA ran again and its code went to the citizen, as a PAGA a moment later.
    assert await codes_waiting(core) == [(phone, "pending")]
    assert held.reads == [DELEGATE, phone]
    assert ASK_CODE in msgids(said)
    assert await charges_of(core) == [(10_00, "pending", None)]
    assert not any("asks {amount}" in msgid for msgid in await notices_to(core, DELEGATE))
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 10_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_paga_that_read_the_old_phone_sends_the_code_to_the_new_one(
    core: Core, database_url: str, office: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql_only(database_url)
    town = await make_town(core, citizens=1)
    old_phone = town.citizen_phones[0]
    team = await _operators(core, town)
    asked = await _ask(core, town, team["clerk"])  # money at stake: a second operator approves
    assert asked.waiting is not None
    till = await open_till(Chat(core, town.shop_phone))
    held = HeldAfterReading(monkeypatch)

    said = await held.while_held(
        till.send(f"PAGA {town.citizen_cfs[0]} 7"),
        _approve(office, team["manager"], asked.waiting.id),
    )

    assert await codes_waiting(core) == [(NEW_PHONE, "pending")]
    assert held.reads == [old_phone, NEW_PHONE]
    assert ASK_CODE in msgids(said)
    assert await charges_of(core) == [(7_00, "pending", None)]
    await till.expect(await citizen_code(core, NEW_PHONE), CONFIRMED)
    assert await balance(core, town) == 150_00 - 7_00
    await assert_ledger_ok(core, town.municipality_id)


async def _blocked_or_done(core: Core, pid: int, task: asyncio.Future[Any]) -> None:
    """Wait until `task` waits for the transaction of backend `pid`, or has ended (a
    condition, not a time)."""
    async with core.engine.connect() as watcher:
        while not task.done():
            blocked = await watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": pid},
            )
            await watcher.rollback()
            if blocked:
                return
            await asyncio.sleep(0.01)


async def test_a_removal_meeting_a_code_not_yet_committed_waits_and_cancels_it(
    core: Core, database_url: str, office: Core
) -> None:
    postgresql_only(database_url)
    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    async with core.uow() as uow:
        requested = await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=town.citizen_cfs[0],
            amount_cents=12_00,
            requested_by="test",
            now=core.now(),
        )
        await uow.flush()  # the code's row is written for the delegate, not committed
        [row] = await uow.outbox.for_charge(requested.charge_id)
        assert row.address == DELEGATE
        code = reply_of(uow.keys, row).texts[0].params["code"]
        pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
        removal = asyncio.ensure_future(_remove(office, town))
        await asyncio.wait_for(_blocked_or_done(core, pid, removal), timeout=10)
        assert not removal.done()  # it waits for the code to commit, or roll back
        await uow.commit()
    await asyncio.wait_for(removal, timeout=10)

    # The removal then saw the payment, and cancelled it as it cancels those before it.
    assert await charges_of(core) == [(12_00, "cancelled", "code_elsewhere")]
    assert await codes_waiting(core) == [(DELEGATE, "cancelled")]
    result = await confirm(core, town.shop_id, requested.charge_id, str(code))
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING
    assert SHOP_TOLD in await notices_to(core, town.shop_phone)
    assert (await notices_to(core, DELEGATE))[-1].endswith("codes you received no longer work.")
    assert await balance(core, town) == 150_00
    await assert_ledger_ok(core, town.municipality_id)


def _code_row(row: m.OutboxMessage, channel: str, address: str) -> m.OutboxMessage:
    """Another code row for the same payment, to (channel, address)."""
    return m.OutboxMessage(
        municipality_id=row.municipality_id,
        channel=channel,
        address=address,
        language=row.language,
        payload=dict(row.payload),
        status="pending",
        attempts=0,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        charge_id=row.charge_id,
        lane=row.lane,
        deliver_by=row.deliver_by,
    )


async def written(core: Core, row: m.OutboxMessage) -> DBAPIError | None:
    """Add one row (a write that skips the services) and commit; the database's refusal."""
    try:
        async with core.uow() as uow:
            uow.add(row)
            await uow.commit()
    except DBAPIError as refused:
        return refused
    return None


async def a_code_for_the_delegate(core: Core, town: Town) -> m.OutboxMessage:
    await add(core, town, 0, DELEGATE)
    async with core.uow() as uow:
        await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=town.citizen_cfs[0],
            amount_cents=3_00,
            requested_by="test",
            now=core.now(),
        )
        await uow.commit()
    async with core.uow() as uow:
        [row] = [
            row
            for row in await uow.outbox.for_address("sms", DELEGATE)
            if row.payload.get("sensitive")
        ]
    return row


async def test_the_database_refuses_a_code_for_a_number_not_the_citizens(
    core: Core, database_url: str
) -> None:
    town = await make_town(core, citizens=2)
    row = await a_code_for_the_delegate(core, town)
    mine, other = town.citizen_phones
    for channel, address in (
        ("sms", other),  # another citizen's phone
        ("sms", "+393470000123"),  # nobody's
        ("telegram", mine),  # the citizen's phone is no Telegram chat
    ):
        refused = await written(core, _code_row(row, channel, address))
        assert refused is not None and CODE_ELSEWHERE in str(refused), (channel, address)
        # PostgreSQL: a lost race, which the dialogue runs again (core.services.transactions).
        assert is_transient(refused) == database_url.startswith("postgresql")
    # The citizen's own phone and the delegate's are theirs; a notice goes anywhere.
    assert await written(core, _code_row(row, "sms", mine)) is None
    assert await written(core, _code_row(row, "sms", DELEGATE)) is None
    notice = _code_row(row, "sms", other)
    notice.payload = {"texts": [{"msgid": "Hello", "params": {}}]}
    assert await written(core, notice) is None

    await _remove(core, town)
    assert CODE_ELSEWHERE in str(await written(core, _code_row(row, "sms", DELEGATE)))
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.telegram_chat_id = "4242"
        await uow.commit()
    assert await written(core, _code_row(row, "telegram", "4242")) is None

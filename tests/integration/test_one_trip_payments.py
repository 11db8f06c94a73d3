"""A payment confirmed in one trip to the database keeps every guard of the general path
(core/storage/payment_trip.py, docs/decisions/0005-one-trip-transactions.md).

The concurrent tests run through two Cores, each with its own engine: on SQLite the
in-process writer lock does not serialise them, so only the database's guards (BEGIN
IMMEDIATE, the compare-and-set, the guarded debit) stand between them and a double
payment; on PostgreSQL they are concurrent transactions on different connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.messages import Money, reply_from_json
from core.services import ledger
from core.services.charges import ConfirmOutcome
from core.storage import engine as engine_module
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.payment_trip import _pay
from core.storage.repositories.charges import ChargeRepository
from core.storage.trips import Plan, Row, run_plan
from tests.conftest import FakeClock
from tests.factories import (
    Town,
    assert_ledger_ok,
    confirm,
    last_code_for,
    make_town,
    outbox_to,
    pay,
    request,
)
from tests.integration.test_payments import another_shop


@pytest.fixture
async def second_core(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """Another process's view of the same database: its own engine and writer lock."""
    other = Core(engine=make_engine(database_url), clock=clock)
    yield other
    await other.close()


@pytest.fixture
def general_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Charge ids the general (ORM) confirmation path loaded: empty when every
    confirmation took the one-trip path."""
    calls: list[int] = []
    original: Callable[..., Any] = ChargeRepository.with_parties

    async def counting(self: ChargeRepository, charge_id: int) -> Any:
        calls.append(charge_id)
        return await original(self, charge_id)

    monkeypatch.setattr(ChargeRepository, "with_parties", counting)
    return calls


async def requested_with_code(
    core: Core, town: Town, cents: int, *, shop_id: int | None = None
) -> tuple[int, str]:
    requested = await request(core, shop_id or town.shop_id, town.citizen_cfs[0], cents)
    return requested.charge_id, await last_code_for(
        core, town.citizen_phones[0], requested.charge_id
    )


async def citizen_balance(core: Core, town: Town) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0])


async def test_a_plain_confirmation_writes_what_the_general_path_writes(
    core: Core, general_path_calls: list[int]
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)  # the general path opens the shop's account
    general_path_calls.clear()
    charge_id, code = await requested_with_code(core, town, 12_50)

    result = await confirm(core, town.shop_id, charge_id, code)

    assert general_path_calls == []
    assert result.outcome is ConfirmOutcome.CONFIRMED
    assert result.citizen_balance_cents == 150_00 - 1_00 - 12_50
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None
        assert charge.status == "confirmed" and charge.confirmed_at == core.now()
        postings = (
            await uow.session.scalars(select(m.Posting).where(m.Posting.charge_id == charge_id))
        ).all()
    assert [(p.kind, p.amount_cents, p.created_at) for p in postings] == [
        ("payment", 12_50, core.now())
    ]
    receipt = (await outbox_to(core, town.citizen_phones[0]))[-1]
    assert (receipt.charge_id, receipt.lane, receipt.status, receipt.language) == (
        charge_id,
        0,
        "pending",
        "it",
    )
    text = reply_from_json(receipt.payload).texts[0]
    assert text.msgid.startswith("Paid {amount} at {shop}")
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
    assert shop is not None
    assert text.params == {
        "amount": Money(12_50),
        "shop": shop.name,
        "balance": Money(150_00 - 1_00 - 12_50),
    }
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_plain_confirmation_is_two_trips_on_sqlite(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction in one trip, its commit in another: nothing else reaches the
    database thread (no BEGIN of its own, no reset of the connection on return)."""
    core = Core(engine=make_engine(sqlite_url), clock=clock)
    try:
        town = await make_town(core, citizens=1)
        await pay(core, town, 1_00)
        charge_id, code = await requested_with_code(core, town, 3_00)
        trips = 0
        original: Callable[..., Any] = aiosqlite.Connection._execute

        async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
            nonlocal trips
            trips += 1
            return await original(self, fn, *args, **kw)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        # Typed by the shop's owner, named here: the check of the chat is in the same trip.
        result = await confirm(core, town.shop_id, charge_id, code, by=("sms", town.shop_phone))
        monkeypatch.undo()
        assert result.outcome is ConfirmOutcome.CONFIRMED
        assert trips == 2
    finally:
        await core.close()


async def test_concurrent_confirmations_of_one_charge_pay_once(
    core: Core, second_core: Core
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)
    charge_id, code = await requested_with_code(core, town, 7_00)

    results = await asyncio.gather(
        *(
            confirm(core if index % 2 else second_core, town.shop_id, charge_id, code)
            for index in range(8)
        )
    )

    outcomes = [r.outcome for r in results]
    assert outcomes.count(ConfirmOutcome.CONFIRMED) == 1
    assert outcomes.count(ConfirmOutcome.ALREADY_CONFIRMED) == 7
    # One receipt, the shop's second, shown to every till that typed the code.
    assert {r.receipt_number for r in results} == {2}
    assert await citizen_balance(core, town) == 150_00 - 1_00 - 7_00
    async with core.uow() as uow:
        paid = await uow.session.scalar(
            select(func.count()).select_from(m.Posting).where(m.Posting.charge_id == charge_id)
        )
        receipts = await uow.session.scalar(
            select(func.count())
            .select_from(m.OutboxMessage)
            .where(m.OutboxMessage.charge_id == charge_id, m.OutboxMessage.lane == 0)
        )
    assert paid == 1
    assert receipts == 2  # the code, and one receipt
    await assert_ledger_ok(core, town.municipality_id)


async def receipt_numbers(core: Core, shop_id: int) -> tuple[list[int | None], int]:
    """The shop's confirmed payments' receipt numbers, in payment order, and its counter."""
    async with core.uow() as uow:
        numbers = (
            await uow.session.scalars(
                select(m.Charge.receipt_number)
                .where(m.Charge.shop_id == shop_id, m.Charge.status == "confirmed")
                .order_by(m.Charge.id)
            )
        ).all()
        shop = await uow.shops.by_id(shop_id)
        assert shop is not None
        return list(numbers), shop.last_receipt


async def test_receipts_count_per_shop_without_gaps_under_concurrent_payments(
    core: Core, second_core: Core, general_path_calls: list[int]
) -> None:
    town = await make_town(core, citizens=6)
    other = await another_shop(core, town, 1)
    # The first payment at each shop opens its account on the general path: receipt 1.
    await pay(core, town, 1_00)
    requested = await request(core, other, town.citizen_cfs[0], 1_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    assert (await confirm(core, other, requested.charge_id, code)).receipt_number == 1
    waiting = []
    for citizen in range(1, 6):
        for shop_id in (town.shop_id, other):
            charge = await request(core, shop_id, town.citizen_cfs[citizen], 2_00)
            code = await last_code_for(core, town.citizen_phones[citizen], charge.charge_id)
            waiting.append((shop_id, charge.charge_id, code))
    general_path_calls.clear()

    results = await asyncio.gather(
        *(
            confirm(core if index % 2 else second_core, shop_id, charge_id, code)
            for index, (shop_id, charge_id, code) in enumerate(waiting)
        )
    )

    assert general_path_calls == []  # numbered on the hot path, in one trip
    assert {r.outcome for r in results} == {ConfirmOutcome.CONFIRMED}
    for shop_id in (town.shop_id, other):
        told = sorted(
            r.receipt_number or 0
            for r, (paid_at, _, _) in zip(results, waiting, strict=True)
            if paid_at == shop_id
        )
        # Each shop counts its own receipts: 2 to 6 after its first, none twice, none skipped.
        assert told == [2, 3, 4, 5, 6]
        numbers, last = await receipt_numbers(core, shop_id)
        assert sorted(n for n in numbers if n is not None) == [1, 2, 3, 4, 5, 6]
        assert last == 6
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_payment_refused_for_the_balance_takes_no_receipt_number(
    core: Core, second_core: Core
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 50_00)  # receipt 1; 100 € left
    other = await another_shop(core, town, 1)
    await pay_at(core, town, other, 1_00)  # opens the other shop's account: its receipt 1
    first = await requested_with_code(core, town, 80_00)
    second = await requested_with_code(core, town, 80_00, shop_id=other)

    results = await asyncio.gather(
        confirm(core, town.shop_id, *first), confirm(second_core, other, *second)
    )

    paid = next(r for r in results if r.outcome is ConfirmOutcome.CONFIRMED)
    refused = next(r for r in results if r.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS)
    assert paid.receipt_number == 2 and refused.receipt_number is None
    refused_shop = other if refused.charge_id == second[0] else town.shop_id
    # The refused shop's count did not move: its next receipt is 2, no gap.
    assert await receipt_numbers(core, refused_shop) == ([1], 1)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(refused.charge_id)
        assert charge is not None and charge.receipt_number is None


async def pay_at(core: Core, town: Town, shop_id: int, cents: int) -> int | None:
    requested = await request(core, shop_id, town.citizen_cfs[0], cents)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    result = await confirm(core, shop_id, requested.charge_id, code)
    assert result.outcome is ConfirmOutcome.CONFIRMED
    return result.receipt_number


async def test_two_charges_against_one_balance_cannot_overdraw(
    core: Core, second_core: Core, general_path_calls: list[int]
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 50_00)  # 100 € left
    other = await another_shop(core, town, 1)  # a shop's new charge replaces its pending one
    first = await requested_with_code(core, town, 80_00)
    second = await requested_with_code(core, town, 80_00, shop_id=other)
    general_path_calls.clear()

    results = await asyncio.gather(
        confirm(core, town.shop_id, *first), confirm(second_core, other, *second)
    )

    assert general_path_calls == []  # both judged and written in one trip
    assert sorted(r.outcome for r in results) == [
        ConfirmOutcome.CONFIRMED,
        ConfirmOutcome.INSUFFICIENT_FUNDS,
    ]
    assert await citizen_balance(core, town) == 20_00
    refused = next(r for r in results if r.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(refused.charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason, charge.confirmed_at) == (
            "cancelled",
            "insufficient_funds",
            None,
        )
        postings = await uow.session.scalar(
            select(func.count())
            .select_from(m.Posting)
            .where(m.Posting.charge_id == refused.charge_id)
        )
    assert postings == 0
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_wrong_code_takes_the_general_path_and_counts(
    core: Core, general_path_calls: list[int]
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)
    charge_id, code = await requested_with_code(core, town, 5_00)
    general_path_calls.clear()
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)

    result = await confirm(core, town.shop_id, charge_id, wrong)

    assert result.outcome is ConfirmOutcome.WRONG_CODE
    assert general_path_calls == [charge_id]
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None and (charge.status, charge.attempts) == ("pending", 1)
    assert (await confirm(core, town.shop_id, charge_id, code)).outcome is (
        ConfirmOutcome.CONFIRMED
    )
    assert await citizen_balance(core, town) == 150_00 - 1_00 - 5_00


async def test_an_expired_charge_is_not_paid_in_one_trip(
    core: Core, clock: FakeClock, general_path_calls: list[int]
) -> None:
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)
    charge_id, code = await requested_with_code(core, town, 5_00)
    clock.advance(minutes=60)
    general_path_calls.clear()

    result = await confirm(core, town.shop_id, charge_id, code)

    assert result.outcome is ConfirmOutcome.EXPIRED
    assert general_path_calls == [charge_id]
    assert await citizen_balance(core, town) == 150_00 - 1_00


async def test_on_postgresql_the_payment_statement_writes_nothing_when_its_guard_refuses(
    core: Core, database_url: str
) -> None:
    """The debit, the credit, the posting and the receipt travel as one statement on
    PostgreSQL; the guard alone (no check before it) keeps it from writing any of them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the combined statement is PostgreSQL's")
    town = await make_town(core, citizens=1)
    await pay(core, town, 1_00)  # opens the shop's account
    charge_id, _code = await requested_with_code(core, town, 5_00)
    async with core.uow() as uow:
        rows = (await uow.session.execute(select(m.Account.kind, m.Account.id))).all()
        accounts = {kind: account_id for kind, account_id in rows}
        counts_before = await _counts(uow)

        def plan() -> Plan[list[Row]]:
            too_much = 150_00  # 149 € are left
            rows = yield (
                _pay(1),
                (
                    too_much,
                    accounts["citizen"],
                    too_much,
                    too_much,
                    accounts["shop"],
                    town.municipality_id,
                    "payment",
                    accounts["citizen"],
                    accounts["shop"],
                    too_much,
                    core.now(),
                    charge_id,
                    town.shop_id,  # the shop's receipt number
                    charge_id,
                    town.municipality_id,
                    "sms",
                    town.citizen_phones[0],
                    "it",
                    {"texts": []},
                    "pending",
                    core.now(),
                    core.now(),
                    charge_id,
                    0,
                ),
            )
            return rows

        assert await run_plan(uow.session, plan()) == []
        assert await _counts(uow) == counts_before
        await uow.commit()
    assert await citizen_balance(core, town) == 150_00 - 1_00
    await assert_ledger_ok(core, town.municipality_id)


async def _counts(uow: Any) -> tuple[Any, ...]:
    balances = (await uow.session.execute(select(m.Account.balance_cents))).scalars().all()
    postings = await uow.session.scalar(select(func.count()).select_from(m.Posting))
    messages = await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage))
    receipts = (
        await uow.session.execute(
            select(m.Shop.last_receipt, m.Charge.receipt_number).join(m.Charge)
        )
    ).all()
    return sorted(balances), postings, messages, sorted(receipts, key=str)


async def test_on_postgresql_a_pooled_connection_the_server_closed_is_replaced(
    core: Core, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping on every checkout (core/storage/engine.py): a connection the server
    closed is replaced before use, and one idle for long is pinged first."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool's check is asyncpg's")
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        backend = await uow.session.scalar(select(func.pg_backend_pid()))
    other = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:  # the server ends the pooled connection's session, as at a restart
        assert await other.fetchval("SELECT pg_terminate_backend($1)", backend)
    finally:
        await other.close()
    await asyncio.sleep(0.5)  # the closed socket reaches the event loop

    await pay(core, town, 2_00)

    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING", 0.0)
    await pay(core, town, 3_00)
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.pg_backend_pid())) != backend
    assert await citizen_balance(core, town) == 150_00 - 5_00

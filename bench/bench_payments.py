"""Confirmed payments per second through the service layer on SQLite, against raw sqlite3.

Every side starts from a byte-identical copy of one database holding the same
pending charges:

- raw sqlite3: the statements of the payment plan (their text taken from
  core/storage/payment_trip.py), in its order, on a plain sqlite3 connection in the
  bench's thread, one transaction (one fsync) per payment, the server's pragmas, one
  payment after another: no code check and none of the plan's Python;
- one trip: `charges.confirm_charge_committed`, one payment after another, as a till
  confirms on SQLite: the code check, then the compare-and-set, guarded debit, posting,
  receipt in the outbox and the COMMIT in one trip to the database thread (the group
  commit's writer, with nobody to share a batch with);
- unit of work: `charges.confirm_charge` in a unit of work per payment, then its commit:
  the plan in one trip, the COMMIT in another (docs/decisions/0005-one-trip-transactions.md;
  what a service that does more than the payment in its transaction pays);
- group commit: `charges.confirm_charge_committed` from TILLS tills at once, several
  payments per fsync (docs/decisions/0006-group-commit.md).

Three runs; each printed with the load average beside it, then min/median/max.
Target: one trip / raw >= 0.50 (median). The machine is shared: figures are noisy.

    python bench/bench_payments.py [--payments 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.runs import spread
from core.bootstrap import Core
from core.domain.channels import Channel
from core.domain.charges import ChargeStatus, new_pending_code
from core.domain.fund import MAX_AMOUNT_CENTS
from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.domain.ledger import AccountKind
from core.domain.shops import MemberRole, ShopCategory
from core.services import charges
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m
from core.storage import payment_trip
from core.storage.engine import make_engine
from core.storage.migrate import migrate
from core.storage.payment_trip import confirm_plan
from core.storage.trips import Plan, _sqlite_value
from tests.factories import make_partita_iva, make_town

TARGET = 0.50
TILLS = 32  # concurrent confirmations for the group-commit figure
CHUNK = 50  # payments a sequential side confirms before the next side takes its turn
SIDES = {
    "raw": "raw sqlite3, the plan's SQL, one after another:",
    "trip": "one trip (a till's path), one after another:",
    "uow": "unit of work, plan then commit (two trips):",
    "group": f"group commit, {TILLS} tills at once:",
}
PER_CITIZEN = 10  # charges of 1 € per citizen; each has 150 €
# The till that types every code: a cashier of every shop (only a shop's own member
# may confirm its payments).
TILL = (Channel.SMS.value, "+393339000000")
TYPED_BY = f"{TILL[0]}:{TILL[1]}"
# The server's pragmas (core/storage/engine.py), for the raw side.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
)


async def seed(path: Path, payments: int, now: datetime) -> list[tuple[int, str, int]]:
    return await seed_url(f"sqlite+aiosqlite:///{path}", payments, now)


async def seed_url(
    url: str, payments: int, now: datetime, keys: ServerKeys = PROCESS_KEYS, shops: int = 1
) -> list[tuple[int, str, int]]:
    """Pending charges (PER_CITIZEN per citizen) and their codes and shops, in order.

    With several shops, citizen c pays at shop c % shops: payments of consecutive
    citizens go to different shops (a town, not a rush at one till)."""
    engine = make_engine(url)
    await migrate(engine)
    core = Core(engine=engine, clock=lambda: now, keys=keys)
    town = await make_town(core, citizens=payments // PER_CITIZEN, budget_cents=MAX_AMOUNT_CENTS)
    shop_ids = [town.shop_id]
    async with core.uow() as uow:
        for index in range(1, shops):
            shop = await register_shop(
                uow,
                town.municipality_id,
                ShopInput(
                    f"Bottega {index}",
                    make_partita_iva(1 + index),
                    ShopCategory.GROCERY,
                    f"Via Roma {1 + index}",
                    "Testville",
                    "62020",
                    43.16,
                    13.24,
                    "IT40S0542811101000000123456",
                ),
                owner_channel="sms",
                owner_address=f"+39333{9000000 + index:07d}",
                now=now,
            )
            await approve_shop(uow, town.municipality_id, shop.id, now, notify=False)
            shop_ids.append(shop.id)
        for shop_id in shop_ids:
            uow.add(
                m.ShopMember(
                    shop_id=shop_id,
                    channel=TILL[0],
                    address=TILL[1],
                    role=MemberRole.CASHIER.value,
                    created_at=now,
                )
            )
        await uow.commit()
    pending: list[tuple[int, str, int]] = []
    async with core.uow() as uow:
        for number, citizen_id in enumerate(town.citizen_ids):
            shop_id = shop_ids[number % shops]
            for _ in range(PER_CITIZEN):
                # Made as request_charge makes them, not through it: a shop's new charge
                # replaces its pending one for the same person, and a person receives at
                # most a few codes an hour; what is measured is confirming many at once.
                made = new_pending_code(uow.keys, now, 10)
                charge = m.Charge(
                    municipality_id=town.municipality_id,
                    shop_id=shop_id,
                    citizen_id=citizen_id,
                    amount_cents=100,
                    status=ChargeStatus.PENDING.value,
                    code_salt=made.code_salt,
                    code_hash=made.code_hash,
                    attempts=0,
                    requested_by="bench",
                    created_at=now,
                    expires_at=made.expires_at,
                )
                uow.add(charge)
                await uow.flush()
                pending.append((charge.id, made.code, shop_id))
        # A shop's account exists from its first payment on: open them here, as after
        # that first payment (concurrent first payments would each try to open it).
        for shop_id in shop_ids:
            await uow.ledger.account(town.municipality_id, AccountKind.SHOP, shop_id)
        await uow.commit()
    await core.close()
    return pending


Pending = list[tuple[int, str, int]]


# The receipt the raw sides write: no code check, no message to make.
FIXED_RECEIPT = {"texts": [{"msgid": "Paid {amount} at {shop}.", "params": {"amount": 100}}]}


def raw_plan(charge_id: int, shop_id: int, now: datetime, *, postgresql: bool) -> Plan[Any]:
    """The payment plan of the server (core/storage/payment_trip.py) as the raw sides run it:
    every charge accepted, the fixed receipt."""
    return confirm_plan(
        charge_id,
        shop_id,
        TILL,
        now,
        accept=lambda _payment: True,
        receipt=lambda _payment, _balance: FIXED_RECEIPT,
        postgresql=postgresql,
    )


def raw_side(db: sqlite3.Connection, now: datetime) -> Callable[[Pending, int], Awaitable[None]]:
    """The statements the payment plan sends (their text taken from
    core/storage/payment_trip.py, so they cannot drift apart), in its order, on a plain
    sqlite3 connection in the bench's thread, written as a program using sqlite3 directly
    would: no unit of work, no thread trip, no code check, the time and the receipt
    formatted once. None of the plan's own Python runs here: it is part of what is
    measured against this."""
    stamp = _sqlite_value(now)
    receipt = json.dumps(FIXED_RECEIPT)
    load = (Channel.SMS.value, AccountKind.CITIZEN.value, AccountKind.SHOP.value)

    async def confirm(chunk: Pending, shop_id: int) -> None:
        for charge_id, _code, _shop in chunk:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(payment_trip._LOAD, (*TILL, *load, charge_id)).fetchone()
            municipality, shop, amount = row[1], row[2], row[4]
            phone, language, citizen_account, shop_account = row[17], row[18], row[21], row[22]
            assert shop == shop_id and phone is not None
            confirmed = (ChargeStatus.CONFIRMED.value, stamp, charge_id, "pending")
            assert db.execute(payment_trip._MARK_CONFIRMED, confirmed).fetchall()
            debit = (amount, citizen_account, amount)
            assert db.execute(payment_trip._DEBIT, debit).fetchall()
            db.execute(payment_trip._CREDIT, (amount, shop_account)).fetchall()
            posting = ("payment", citizen_account, shop_account, amount, stamp, charge_id)
            db.execute(payment_trip._POSTING, (municipality, *posting)).fetchall()
            [(number,)] = db.execute(payment_trip._NUMBER, (shop,)).fetchall()
            db.execute(payment_trip._RECEIPT, (number, charge_id)).fetchall()
            queued = (receipt, "pending", stamp, stamp, charge_id, payment_trip.PAYMENT_LANE)
            db.execute(payment_trip._OUTBOX, (municipality, "sms", phone, language, *queued))
            db.execute("COMMIT")

    return confirm


def one_trip_side(core: Core, now: datetime) -> Callable[[Pending, int], Awaitable[None]]:
    """As a till confirms on SQLite (`confirm_charge_committed`): the code check, then the
    plan and its COMMIT in one trip to the database thread (the group commit's writer,
    with nobody to share a batch with)."""

    async def confirm(chunk: Pending, shop_id: int) -> None:
        for charge_id, code, _shop in chunk:
            result = await charges.confirm_charge_committed(
                core,
                charge_id=charge_id,
                shop_id=shop_id,
                typed_code=code,
                now=now,
                typed_by=TYPED_BY,
            )
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    return confirm


def unit_of_work_side(core: Core, now: datetime) -> Callable[[Pending, int], Awaitable[None]]:
    """`confirm_charge` in a unit of work, then its commit: two trips."""

    async def confirm(chunk: Pending, shop_id: int) -> None:
        for charge_id, code, _shop in chunk:
            async with core.uow() as uow:
                result = await charges.confirm_charge(
                    uow,
                    charge_id=charge_id,
                    shop_id=shop_id,
                    typed_code=code,
                    now=now,
                    typed_by=TYPED_BY,
                )
                await uow.commit()
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    return confirm


async def run_one_after_another(
    copies: dict[str, Path], pending: Pending, shop_id: int, now: datetime
) -> dict[str, float]:
    """Seconds each sequential side took for all payments, the sides taking turns by
    chunks of CHUNK payments (the first side changing every chunk): a pause of the disk
    or a neighbour's burst falls on all of them alike."""
    cores = {
        side: Core(engine=make_engine(f"sqlite+aiosqlite:///{copies[side]}"), clock=lambda: now)
        for side in ("trip", "uow")
    }
    db = sqlite3.connect(copies["raw"], isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(pragma)
    confirms = {
        "raw": raw_side(db, now),
        "trip": one_trip_side(cores["trip"], now),
        "uow": unit_of_work_side(cores["uow"], now),
    }
    seconds = dict.fromkeys(confirms, 0.0)
    order = list(confirms)
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        for side in order:
            began = time.perf_counter()
            await confirms[side](chunk, shop_id)
            seconds[side] += time.perf_counter() - began
        order.append(order.pop(0))
    group = cores["trip"].group_commit
    assert group is not None and group.batches == len(pending), "one trip per payment"
    db.close()
    for core in cores.values():
        await core.close()
    return seconds


async def run_grouped(
    path: Path, pending: list[tuple[int, str, int]], shop_id: int, now: datetime
) -> tuple[float, float]:
    """Seconds for all payments from TILLS tills at once; and payments per COMMIT."""
    core = Core(engine=make_engine(f"sqlite+aiosqlite:///{path}"), clock=lambda: now)
    queue = iter(pending)

    async def till() -> None:
        for charge_id, code, _shop in queue:
            result = await charges.confirm_charge_committed(
                core,
                charge_id=charge_id,
                shop_id=shop_id,
                typed_code=code,
                now=now,
                typed_by=TYPED_BY,
            )
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    start = time.perf_counter()
    await asyncio.gather(*(till() for _ in range(TILLS)))
    elapsed = time.perf_counter() - start
    assert core.group_commit is not None
    per_commit = core.group_commit.committed / max(core.group_commit.batches, 1)
    await core.close()
    return elapsed, per_commit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    now = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    print(
        f"payments confirmed: {args.payments:,} per side on SQLite (WAL, synchronous=FULL); "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start"
    )
    rates: dict[str, list[float]] = {side: [] for side in SIDES}
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        seeded = Path(folder) / "seeded.sqlite3"
        pending = asyncio.run(seed(seeded, args.payments, now))
        shop_id = 1
        for run in range(1, args.runs + 1):
            copies = {side: Path(folder) / f"{side}-{run}.sqlite3" for side in SIDES}
            for target in copies.values():
                shutil.copyfile(seeded, target)
            taken = asyncio.run(run_one_after_another(copies, pending, shop_id, now))
            raw, trip, uow = (len(pending) / taken[side] for side in ("raw", "trip", "uow"))
            seconds, per_commit = asyncio.run(run_grouped(copies["group"], pending, shop_id, now))
            group = len(pending) / seconds
            for side, rate in zip(SIDES, (raw, trip, uow, group), strict=True):
                rates[side].append(rate)
            ratios.append(trip / raw)
            print(
                f"run {run}: raw sqlite3 {raw:,.0f}/s, one trip {trip:,.0f}/s "
                f"(ratio {trip / raw:.2f}), unit of work {uow:,.0f}/s ({uow / raw:.2f}), "
                f"group commit {group:,.0f}/s ({group / raw:.2f} of raw; "
                f"{per_commit:.1f} payments per fsync, {TILLS} tills); "
                f"load {os.getloadavg()[0]:.1f}"
            )
    ratio = statistics.median(ratios)
    grouped = statistics.median(rates["group"]) / statistics.median(rates["raw"])
    for side, label in SIDES.items():
        print(f"{label:<52} min/median/max {spread(rates[side])}/s")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"{verdict}: one trip / raw median ratio {ratio:.2f} (target >= {TARGET}); "
        f"group commit / raw median {grouped:.2f}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())

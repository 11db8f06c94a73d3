"""Confirmed payments per second through the service layer on SQLite, against raw sqlite3.

Every side starts from a byte-identical copy of one database holding the same
pending charges:

- raw sqlite3: the same SQL statements with the standard library's sqlite3, one
  transaction (one fsync) per payment, same pragmas, one payment after another;
- one trip: `charges.confirm_charge` in a unit of work per payment (code check,
  compare-and-set, guarded debit, posting, receipt in the outbox, commit), one
  payment after another: the transaction in one trip to the database thread, the
  commit in another (docs/decisions/0005-one-trip-transactions.md);
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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.runs import spread
from core.bootstrap import Core
from core.domain.charges import ChargeStatus, new_pending_code
from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.domain.ledger import AccountKind
from core.domain.shops import ShopCategory
from core.services import charges
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m
from core.storage.engine import make_engine
from core.storage.migrate import migrate
from tests.factories import make_partita_iva, make_town

TARGET = 0.50
TILLS = 32  # concurrent confirmations for the group-commit figure
PER_CITIZEN = 10  # charges of 1 € per citizen; each has 150 €


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
    town = await make_town(core, citizens=payments // PER_CITIZEN, budget_cents=10**12)
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


async def run_service(
    path: Path, pending: list[tuple[int, str, int]], shop_id: int, now: datetime
) -> float:
    core = Core(engine=make_engine(f"sqlite+aiosqlite:///{path}"), clock=lambda: now)
    start = time.perf_counter()
    for charge_id, code, _shop in pending:
        async with core.uow() as uow:
            result = await charges.confirm_charge(
                uow, charge_id=charge_id, shop_id=shop_id, typed_code=code, now=now
            )
            await uow.commit()
        assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result
    elapsed = time.perf_counter() - start
    await core.close()
    return elapsed


async def run_grouped(
    path: Path, pending: list[tuple[int, str, int]], shop_id: int, now: datetime
) -> tuple[float, float]:
    """Seconds for all payments from TILLS tills at once; and payments per COMMIT."""
    core = Core(engine=make_engine(f"sqlite+aiosqlite:///{path}"), clock=lambda: now)
    queue = iter(pending)

    async def till() -> None:
        for charge_id, code, _shop in queue:
            result = await charges.confirm_charge_committed(
                core, charge_id=charge_id, shop_id=shop_id, typed_code=code, now=now
            )
            assert result.outcome is charges.ConfirmOutcome.CONFIRMED, result

    start = time.perf_counter()
    await asyncio.gather(*(till() for _ in range(TILLS)))
    elapsed = time.perf_counter() - start
    assert core.group_commit is not None
    per_commit = core.group_commit.committed / max(core.group_commit.batches, 1)
    await core.close()
    return elapsed, per_commit


def run_raw(path: Path, pending: list[tuple[int, str, int]], shop_id: int, now: datetime) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    start = time.perf_counter()
    for charge_id, _code, _shop in pending:
        # The statements the service emits for one confirmation, in its order.
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT charges.*, citizens.*, shops.*, municipalities.* FROM charges "
            "JOIN citizens ON citizens.id = charges.citizen_id "
            "JOIN shops ON shops.id = charges.shop_id "
            "JOIN municipalities ON municipalities.id = charges.municipality_id "
            "WHERE charges.id = ?",
            (charge_id,),
        ).fetchone()
        municipality_id, citizen_id, amount = row[1], row[3], row[4]
        changed = db.execute(
            "UPDATE charges SET status = 'confirmed', confirmed_at = ? "
            "WHERE id = ? AND status = 'pending'",
            (stamp, charge_id),
        ).rowcount
        assert changed == 1
        accounts = dict(
            db.execute(
                "SELECT kind, id FROM accounts WHERE municipality_id = ? AND "
                "((kind = 'citizen' AND owner_id = ?) OR (kind = 'shop' AND owner_id = ?))",
                (municipality_id, citizen_id, shop_id),
            ).fetchall()
        )
        left = db.execute(
            "UPDATE accounts SET balance_cents = balance_cents - ? "
            "WHERE id = ? AND balance_cents >= ? RETURNING balance_cents",
            (amount, accounts["citizen"], amount),
        ).fetchone()
        assert left is not None
        db.execute(
            "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?",
            (amount, accounts["shop"]),
        )
        db.execute(
            "INSERT INTO outbox (municipality_id, channel, address, language, payload, status, "
            "attempts, next_attempt_at, created_at, charge_id) "
            "VALUES (?, 'sms', ?, 'it', ?, 'pending', 0, ?, ?, ?)",
            (municipality_id, "+390000000000", json.dumps({"texts": []}), stamp, stamp, charge_id),
        )
        db.execute(
            "INSERT INTO postings (municipality_id, kind, from_account_id, to_account_id, "
            "amount_cents, created_at, charge_id) VALUES (?, 'payment', ?, ?, ?, ?, ?)",
            (municipality_id, accounts["citizen"], accounts["shop"], amount, stamp, charge_id),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


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
    raw_rates: list[float] = []
    trip_rates: list[float] = []
    group_rates: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        seeded = Path(folder) / "seeded.sqlite3"
        pending = asyncio.run(seed(seeded, args.payments, now))
        shop_id = 1
        for run in range(1, args.runs + 1):
            copies = [Path(folder) / f"{name}-{run}.sqlite3" for name in ("raw", "trip", "group")]
            for target in copies:
                shutil.copyfile(seeded, target)
            raw = len(pending) / run_raw(copies[0], pending, shop_id, now)
            trip = len(pending) / asyncio.run(run_service(copies[1], pending, shop_id, now))
            seconds, per_commit = asyncio.run(run_grouped(copies[2], pending, shop_id, now))
            group = len(pending) / seconds
            raw_rates.append(raw)
            trip_rates.append(trip)
            group_rates.append(group)
            ratios.append(trip / raw)
            print(
                f"run {run}: raw sqlite3 {raw:,.0f}/s, one trip {trip:,.0f}/s "
                f"(ratio {trip / raw:.2f}), group commit {group:,.0f}/s "
                f"({group / raw:.2f} of raw; {per_commit:.1f} payments per fsync, "
                f"{TILLS} tills); load {os.getloadavg()[0]:.1f}"
            )
    ratio = statistics.median(ratios)
    grouped = statistics.median(group_rates) / statistics.median(raw_rates)
    print(f"raw sqlite3, same SQL, one after another:  min/median/max {spread(raw_rates)}/s")
    print(f"one trip, unit of work, one after another: min/median/max {spread(trip_rates)}/s")
    print(f"group commit, {TILLS} tills at once:           min/median/max {spread(group_rates)}/s")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"{verdict}: one trip / raw median ratio {ratio:.2f} (target >= {TARGET}); "
        f"group commit / raw median {grouped:.2f}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())

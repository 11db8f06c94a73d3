"""One process of the mixed-load battery: random payments, refused payments and refunds
against a shared database for a few seconds, each operation its own transaction.

    python -m tests.battery.mixed_worker URL SEED SECONDS SHOP_ID CF:PHONE [CF:PHONE ...]

Prints one JSON line of counts; exits 1 if any operation failed with anything but a
refusal the service is meant to give (a deadlock, a lock timeout, a traceback)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import traceback

from core.bootstrap import Core
from core.domain.errors import DomainError
from core.services import charges
from core.services.transactions import in_transaction
from core.storage.engine import make_engine
from core.storage.uow import UnitOfWork
from tests.factories import last_code_for, owner_chat


async def run(url: str, seed: int, seconds: float, shop_id: int, people: list[str]) -> int:
    rng = random.Random(seed)
    core = Core(engine=make_engine(url))
    counts = {"paid": 0, "refused": 0, "refunded": 0, "failed": 0}
    paid: list[int] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            cf, phone = rng.choice(people).split(":")
            try:
                if paid and rng.random() < 0.35:
                    charge_id = paid.pop(rng.randrange(len(paid)))

                    async def refund(uow: UnitOfWork, charge_id: int = charge_id) -> int:
                        return await charges.refund_charge(
                            uow,
                            charge_id=charge_id,
                            shop_id=shop_id,
                            by=await owner_chat(uow, shop_id),
                            now=core.now(),
                        )

                    await in_transaction(core.uow, refund)
                    counts["refunded"] += 1
                    continue
                # Now and then more than anybody holds: the guarded debit must refuse it.
                cents = rng.choice([rng.randint(1_00, 25_00), 10_000_00])

                async def ask(uow: UnitOfWork, cf: str = cf, cents: int = cents) -> int:
                    requested = await charges.request_charge(
                        uow,
                        shop_id=shop_id,
                        citizen_reference=cf,
                        amount_cents=cents,
                        requested_by="battery",
                        now=core.now(),
                    )
                    return requested.charge_id

                charge_id = await in_transaction(core.uow, ask)
                code = await last_code_for(core, phone, charge_id)

                async def confirm(
                    uow: UnitOfWork, charge_id: int = charge_id, code: str = code
                ) -> charges.ConfirmOutcome:
                    result = await charges.confirm_charge(
                        uow,
                        charge_id=charge_id,
                        shop_id=shop_id,
                        typed_code=code,
                        now=core.now(),
                        typed_by=":".join(await owner_chat(uow, shop_id)),
                    )
                    return result.outcome

                outcome = await in_transaction(core.uow, confirm)
                if outcome is charges.ConfirmOutcome.CONFIRMED:
                    counts["paid"] += 1
                    paid.append(charge_id)
                else:
                    counts["refused"] += 1
            except DomainError:
                counts["refused"] += 1  # e.g. the balance is too low to even ask
            except Exception:
                counts["failed"] += 1
                traceback.print_exc()
    finally:
        await core.close()
    print(json.dumps(counts), flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    url, seed, seconds, shop_id, *people = sys.argv[1:]
    sys.exit(asyncio.run(run(url, int(seed), float(seconds), int(shop_id), people)))

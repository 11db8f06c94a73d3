"""Running a unit of work again when the database says it lost a race.

Accounts are locked in one global order, so deadlocks between postings should not happen;
a payment's confirmation locks its charge before them and its shop after them
(core/storage/payment_trip.py: _LOCK_CHARGE), the order a wrong code's follows too. Any
deadlock that still happens (other rows, another process's order) is retried here, a
bounded number of times, and never reaches a person."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.services.unit_of_work import UnitOfWork
from core.storage.transient import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U", bound=UnitOfWork)
ATTEMPTS = 6


async def retrying(attempt: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T:
    """Await `attempt()` (a whole transaction, begun and ended inside it) until it does not
    fail with a transient database error; the last failure is raised."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except Exception as error:
            if number == attempts or not is_transient(error):
                raise
            log.info("transaction retried after a transient error (%d/%d)", number, attempts)
            # Random back-off, growing: two retried rivals should not collide again.
            await asyncio.sleep(random.uniform(0, 0.02 * 2**number))
    raise AssertionError("unreachable")


async def in_transaction(
    new_uow: Callable[[], U],
    work: Callable[[U], Awaitable[T]],
    attempts: int = ATTEMPTS,
) -> T:
    """Run `work` in a fresh unit of work and commit it, retrying transient failures."""

    async def once() -> T:
        uow = new_uow()
        async with uow:
            result = await work(uow)
            await uow.commit()
            return result

    return await retrying(once, attempts)

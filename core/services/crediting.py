"""Crediting a tranche in bulk: a few set-based statements per chunk of lines, not a loop of
postings, so a region-wide round takes seconds (bench/bench_credit.py measures it).

What it guarantees (docs/rounds-and-tranches.md): every line with an amount, whose
application is not revoked, gets exactly one posting fund -> citizen (the unique key on
postings.allocation_line_id makes a second impossible), the running balances move by the
same sums, and each household gets its notice in the same transaction (unless it wrote STOP);
so does every applicant the tranche decided without paying, once (notify_unpaid), STOP or
not: that notice starts the days to appeal, and a STOP by SMS may be anybody's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.domain.ledger import AccountKind
from core.domain.messages import Money, Reply, reply_to_json, t
from core.services.decisions import decision_notice
from core.services.municipalities import policy_of
from core.services.outbox import NOTICE_LANE, Reachable, citizen_channel, seal_payload
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# Lines per chunk: big enough for bulk statements, small enough for a progress bar that moves.
CHUNK = 5_000


@dataclass(frozen=True)
class CreditResult:
    tranche: int
    citizens: int
    total_cents: int
    # Notices queued: a credit notice per household paid (not to one that wrote STOP, nor
    # to one erased or unreachable) and one per reachable applicant decided without money.
    notices: int = 0


def credit_notice(town: str, amount_cents: int, balance_cents: int) -> Reply:
    return Reply.of(
        t(
            "{town}: {amount} of grocery vouchers have been credited to you. Balance: {balance}. "
            "To find shops, write NEGOZI.",
            town=town,
            amount=Money(amount_cents),
            balance=Money(balance_cents),
        )
    )


def notice_destination(row: Reachable, stopped: set[tuple[str, str]]) -> tuple[str, str] | None:
    """Where a credit run sends a household's notice: none when erased, unreachable, or it
    wrote STOP (the balance is there on request). The office's figures count the same."""
    destination = citizen_channel(row)
    return None if destination is None or destination in stopped else destination


async def credit_tranche(
    uow: UnitOfWork,
    municipality: m.Municipality,
    allocation: m.Allocation,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> CreditResult:
    """Pay a tranche the caller has just marked credited (its compare-and-set won)."""
    repo = uow.ledger
    line_ids = await uow.allocations.line_ids_to_credit(allocation.id)
    fund = await repo.account(municipality.id, AccountKind.FUND, 0)
    await repo.open_citizen_accounts(municipality.id, allocation.id)
    await repo.refresh_statistics()
    # Every account this transaction changes, locked at once in id order: payments and
    # refunds lock theirs in the same order, so no cycle of waits can form.
    await repo.lock_for_credit(municipality.id, allocation.id, fund.id)
    stopped = await uow.conversations.stopped_addresses(municipality.id)
    total_lines = len(line_ids)
    if progress is not None:
        progress(0, total_lines)
    paid = 0
    households = 0
    queued = 0
    for start in range(0, total_lines, CHUNK):
        chunk = line_ids[start : start + CHUNK]
        first, last = chunk[0], chunk[-1]
        await repo.post_allocation_lines(municipality.id, allocation.id, fund.id, first, last, now)
        credited = await repo.credited_lines(allocation.id, first, last)
        households += len(credited)
        paid += sum(row.amount_cents for row in credited)
        notices: list[dict[str, Any]] = []
        for row in credited:
            destination = notice_destination(row, stopped)
            if destination is None:
                continue
            reply = credit_notice(municipality.name, row.amount_cents, row.balance_cents)
            notices.append(_notice(uow, destination, row.language, reply))
        await uow.outbox.add_many(_common(municipality, now), notices)
        queued += len(notices)
        if progress is not None:
            progress(min(start + CHUNK, total_lines), total_lines)
    await repo.debit_fund(fund.id, paid)
    queued += await notify_unpaid(uow, municipality, allocation, now)
    return CreditResult(allocation.tranche, households, paid, queued)


async def notify_unpaid(
    uow: UnitOfWork,
    municipality: m.Municipality,
    allocation: m.Allocation,
    now: datetime,
) -> int:
    """Tell every applicant this tranche decided without paying (excluded, or no money
    left) the outcome, why, and how to appeal by when: once per application, in the run's
    transaction, so the appeal window starts at this notice. It goes to a household that
    wrote STOP too, as a receipt of one's own payment does: it is a decision on their own
    application whose days to appeal run from now, not a general notice, and a STOP by SMS
    may come from a forged sender, who would otherwise let those days pass unseen. Erased
    or unreachable households are marked all the same (the office's application page says
    no message went). Returns how many notices were queued."""
    decided = await uow.allocations.mark_decided_unpaid(allocation.id, now)
    days = policy_of(municipality).appeal_days
    notices: list[dict[str, Any]] = []
    for row in decided:
        destination = citizen_channel(row)
        if destination is None:
            continue
        reply = decision_notice(
            municipality.timezone,
            row.protocol,
            row.assignment,
            row.exclusion_reason,
            decided=now,
            appeal_days=days,
        )
        notices.append(
            _notice(uow, destination, row.language, reply, application_id=row.application_id)
        )
    for start in range(0, len(notices), CHUNK):
        await uow.outbox.add_many(_common(municipality, now), notices[start : start + CHUNK])
    return len(notices)


def _notice(
    uow: UnitOfWork, destination: tuple[str, str], language: str, reply: Reply, **columns: Any
) -> dict[str, Any]:
    """The columns of one notice of a credit run: where it goes, in which language, the
    reply (sealed if it is sensitive) and any column of its own (`application_id`)."""
    return {
        "channel": destination[0],
        "address": destination[1],
        "language": language,
        "payload": seal_payload(uow.keys, reply_to_json(reply)),
        **columns,
    }


def _common(municipality: m.Municipality, now: datetime) -> dict[str, Any]:
    """The columns every notice of a credit run shares."""
    return {
        "municipality_id": municipality.id,
        "status": "pending",
        "lane": NOTICE_LANE,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }

"""Posting money between accounts and proving the balances equal the postings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.domain.errors import InsufficientFunds
from core.domain.ledger import ALLOWED_FLOWS, AccountKind, PostingKind, may_go_negative
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.repositories.results import TrancheFigures


@dataclass(frozen=True)
class Posted:
    posting: m.Posting  # flushed with the unit of work
    source_balance_cents: int  # what is left on the paying account


async def post(
    uow: UnitOfWork,
    *,
    municipality_id: int,
    kind: PostingKind,
    from_owner: int,
    to_owner: int,
    amount_cents: int,
    now: datetime,
    charge_id: int | None = None,
    allocation_id: int | None = None,
    settlement_id: int | None = None,
) -> Posted:
    """Move money in one posting. Raises InsufficientFunds (nothing written) on overdraft."""
    if amount_cents <= 0:
        raise ValueError("a posting moves a positive amount")
    from_kind, to_kind = ALLOWED_FLOWS[kind]
    source, target = await uow.ledger.pair(
        municipality_id, (from_kind, from_owner), (to_kind, to_owner)
    )
    # Lock both in id order before touching either: a payment (citizen -> shop) and a
    # refund (shop -> citizen) would otherwise lock the same two rows in opposite orders.
    await uow.ledger.lock([source.id, target.id])
    remaining = await uow.ledger.debit_guarded(source.id, amount_cents, may_go_negative(from_kind))
    if remaining is None:
        balance = await uow.ledger.balance(source.id)
        raise InsufficientFunds(balance_cents=balance, amount_cents=amount_cents)
    await uow.ledger.credit(target.id, amount_cents)
    posting = m.Posting(
        municipality_id=municipality_id,
        kind=kind.value,
        from_account_id=source.id,
        to_account_id=target.id,
        amount_cents=amount_cents,
        created_at=now,
        charge_id=charge_id,
        allocation_id=allocation_id,
        settlement_id=settlement_id,
    )
    uow.add(posting)
    return Posted(posting, remaining)


async def citizen_balance(uow: UnitOfWork, municipality_id: int, citizen_id: int) -> int:
    return await uow.ledger.balance_of_owner(municipality_id, AccountKind.CITIZEN, citizen_id)


async def is_beneficiary(uow: UnitOfWork, municipality_id: int, citizen_id: int) -> bool:
    """Whether the citizen ever received vouchers here (an account exists from the first
    credit on): what a shop may learn about a codice fiscale, and nothing more."""
    return await uow.ledger.find(municipality_id, AccountKind.CITIZEN, citizen_id) is not None


async def shop_balance(uow: UnitOfWork, municipality_id: int, shop_id: int) -> int:
    return await uow.ledger.balance_of_owner(municipality_id, AccountKind.SHOP, shop_id)


async def owed_to_shops(uow: UnitOfWork, municipality_id: int) -> int:
    """What all the town's shops are owed together, in cents: the total of the shops page
    and of the reimbursement page, added up by the database, never by a page."""
    return await uow.ledger.owed_to_shops(municipality_id)


@dataclass(frozen=True)
class LedgerCheck:
    accounts: int
    mismatches: list[tuple[int, int, int]]  # (account id, running balance, derived balance)
    total_cents: int  # sum of all balances: always 0 in a balanced ledger
    # Tranches whose postings are not their approved total (or that paid a line twice).
    tranches: list[TrancheFigures] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.total_cents == 0 and not self.bad_tranches

    @property
    def bad_tranches(self) -> list[TrancheFigures]:
        return [figures for figures in self.tranches if not figures.ok]


async def verify(uow: UnitOfWork, municipality_id: int) -> LedgerCheck:
    """Recompute every balance from the postings and compare with the running totals; and
    prove each tranche paid exactly its approved lines (those of applications revoked before
    the credit excepted), each with one posting of its own amount."""
    derived = await uow.ledger.derived_balances(municipality_id)
    accounts = await uow.ledger.accounts(municipality_id)
    mismatches = [
        (a.id, a.balance_cents, derived.get(a.id, 0))
        for a in accounts
        if a.balance_cents != derived.get(a.id, 0)
    ]
    negative = [
        a for a in accounts if a.balance_cents < 0 and not may_go_negative(AccountKind(a.kind))
    ]
    mismatches += [(a.id, a.balance_cents, derived.get(a.id, 0)) for a in negative]
    tranches = await uow.ledger.tranche_figures(municipality_id)
    return LedgerCheck(len(accounts), mismatches, sum(a.balance_cents for a in accounts), tranches)

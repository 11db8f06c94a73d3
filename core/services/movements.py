"""What a citizen's and a shop's money did: the last postings, in words the dialogue can show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from core.domain.ledger import AccountKind, PostingKind
from core.services.unit_of_work import UnitOfWork


class Movement(NamedTuple):
    """A posting as the citizen sees it. A NamedTuple, not a frozen dataclass: every SALDO
    builds three, and a frozen dataclass sets each field through object.__setattr__."""

    kind: PostingKind
    amount_cents: int  # positive: money in; negative: money out
    at: datetime
    shop_name: str | None  # the shop of a payment or a refund
    charge_id: int | None


async def citizen_movements(
    uow: UnitOfWork, municipality_id: int, citizen_id: int, limit: int = 3
) -> list[Movement]:
    """The latest postings on the citizen's account, newest first."""
    account = await uow.ledger.find(municipality_id, AccountKind.CITIZEN, citizen_id)
    if account is None:
        return []
    movements = []
    for posting, shop_name in await uow.read.latest_postings(account.id, limit):
        sign = 1 if posting.to_account_id == account.id else -1
        movements.append(
            Movement(
                kind=PostingKind(posting.kind),
                amount_cents=sign * posting.amount_cents,
                at=posting.created_at,
                shop_name=shop_name,
                charge_id=posting.charge_id,
            )
        )
    return movements


@dataclass(frozen=True)
class Reimbursements:
    """The transfers the municipality has ordered to the shop. Ordered, not paid: the SEPA
    file is made when the run is approved, and the bank executes it on its date."""

    total_cents: int  # every run's transfer to the shop, the last one included
    last_cents: int
    last_ordered_at: datetime | None  # when the last run made its file; None: never
    last_execution: date | None  # the day the bank is asked to pay it (None: not kept)


async def shop_reimbursements(
    uow: UnitOfWork, municipality_id: int, shop_id: int
) -> Reimbursements:
    account = await uow.ledger.find(municipality_id, AccountKind.SHOP, shop_id)
    if account is None:
        return Reimbursements(0, 0, None, None)
    total, _ = await uow.read.paid_out(account.id, PostingKind.REIMBURSEMENT)
    last = await uow.read.last_paid_out(account.id, PostingKind.REIMBURSEMENT)
    if last is None:
        return Reimbursements(0, 0, None, None)
    return Reimbursements(total, last[0], last[1], last[2])

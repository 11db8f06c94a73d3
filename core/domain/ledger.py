"""Double-entry ledger rules.

Money moves only as postings from one account to another: fund -> citizen at
allocation, citizen -> shop at payment, shop -> citizen at refund, shop ->
settled at reimbursement, citizen -> fund at revocation. Every account's
balance is the sum of what it received minus what it gave, so the balances of
one municipality always add up to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.domain.errors import InsufficientFunds


class AccountKind(StrEnum):
    FUND = "fund"
    CITIZEN = "citizen"
    SHOP = "shop"
    SETTLED = "settled"


class PostingKind(StrEnum):
    ALLOCATION = "allocation"
    PAYMENT = "payment"
    REFUND = "refund"
    REIMBURSEMENT = "reimbursement"
    REVOCATION = "revocation"


# Which account kinds each posting kind may move money between (from, to).
ALLOWED_FLOWS: dict[PostingKind, tuple[AccountKind, AccountKind]] = {
    PostingKind.ALLOCATION: (AccountKind.FUND, AccountKind.CITIZEN),
    PostingKind.PAYMENT: (AccountKind.CITIZEN, AccountKind.SHOP),
    PostingKind.REFUND: (AccountKind.SHOP, AccountKind.CITIZEN),
    PostingKind.REIMBURSEMENT: (AccountKind.SHOP, AccountKind.SETTLED),
    PostingKind.REVOCATION: (AccountKind.CITIZEN, AccountKind.FUND),
}


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: PostingKind
    from_kind: AccountKind
    to_kind: AccountKind
    amount_cents: int


def may_go_negative(kind: AccountKind) -> bool:
    """Only the fund is allowed to be overdrawn: it is the municipality's budget, spent down."""
    return kind is AccountKind.FUND


def check_transfer(transfer: Transfer, from_balance_cents: int) -> None:
    """Raise unless the transfer is a legal posting that leaves no account but the fund negative."""
    if transfer.amount_cents <= 0:
        raise ValueError("a posting moves a positive amount")
    allowed = ALLOWED_FLOWS[transfer.kind]
    if (transfer.from_kind, transfer.to_kind) != allowed:
        raise ValueError(f"{transfer.kind} must move money {allowed[0]} -> {allowed[1]}")
    if not may_go_negative(transfer.from_kind) and from_balance_cents < transfer.amount_cents:
        raise InsufficientFunds(
            balance_cents=from_balance_cents, amount_cents=transfer.amount_cents
        )


def balance_of(account_id: int, postings: list[tuple[int, int, int]]) -> int:
    """Balance from (from_account, to_account, amount) triples: received minus given."""
    balance = 0
    for from_account, to_account, amount in postings:
        if to_account == account_id:
            balance += amount
        if from_account == account_id:
            balance -= amount
    return balance

"""Double-entry ledger rules.

Money moves only as postings from one account to another: fund -> citizen at
allocation, citizen -> shop at payment, shop -> citizen at refund, shop ->
settled at reimbursement, citizen -> fund at revocation. Every account's
balance is the sum of what it received minus what it gave, so the balances of
one municipality always add up to zero.
"""

from __future__ import annotations

from enum import StrEnum


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


def may_go_negative(kind: AccountKind) -> bool:
    """Only the fund is allowed to be overdrawn: it is the municipality's budget, spent down."""
    return kind is AccountKind.FUND

"""Double-entry ledger rules.

Money moves only as postings from one account to another: fund -> citizen at
allocation, citizen -> shop at payment, shop -> citizen at refund, shop ->
settled at reimbursement, citizen -> fund at revocation (and fund -> citizen when a
mistaken revocation is undone, never more than it took). Every account's
balance is the sum of what it received minus what it gave, so the balances of
one municipality always add up to zero.

Community money comes from outside, through the payment provider (Telegram
Payments): provider -> voucher when someone buys a shop's voucher, voucher ->
voucher_spent (the shop's) when it is spent, voucher -> provider when the shop
refunds an unspent one; provider -> donations for a gift to the fund, and
donations -> fund when the office grants them to a tranche. A spent voucher
never reaches the shop's own account: the shop was paid at purchase, so it is
not part of what the municipality reimburses (docs/community-vouchers.md).
"""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    FUND = "fund"
    CITIZEN = "citizen"
    SHOP = "shop"
    SETTLED = "settled"
    # Money received through the payment provider (owner 0): goes negative as it comes in.
    PROVIDER = "provider"
    # One bought voucher (owner: the voucher's id), usable only at its shop.
    VOUCHER = "voucher"
    # Vouchers spent at a shop (owner: the shop's id): paid at purchase, never reimbursed.
    VOUCHER_SPENT = "voucher_spent"
    # Donations to the municipality's fund not granted to a tranche yet (owner 0).
    DONATIONS = "donations"


class PostingKind(StrEnum):
    ALLOCATION = "allocation"
    PAYMENT = "payment"
    REFUND = "refund"
    REIMBURSEMENT = "reimbursement"
    REVOCATION = "revocation"
    # A revocation made by mistake, undone: what it returned goes back, fund -> citizen.
    REVOCATION_UNDO = "revocation_undo"
    VOUCHER_SALE = "voucher_sale"
    VOUCHER_PAYMENT = "voucher_payment"
    VOUCHER_REFUND = "voucher_refund"
    DONATION = "donation"
    DONATION_GRANT = "donation_grant"


# Which account kinds each posting kind may move money between (from, to).
ALLOWED_FLOWS: dict[PostingKind, tuple[AccountKind, AccountKind]] = {
    PostingKind.ALLOCATION: (AccountKind.FUND, AccountKind.CITIZEN),
    PostingKind.PAYMENT: (AccountKind.CITIZEN, AccountKind.SHOP),
    PostingKind.REFUND: (AccountKind.SHOP, AccountKind.CITIZEN),
    PostingKind.REIMBURSEMENT: (AccountKind.SHOP, AccountKind.SETTLED),
    PostingKind.REVOCATION: (AccountKind.CITIZEN, AccountKind.FUND),
    PostingKind.REVOCATION_UNDO: (AccountKind.FUND, AccountKind.CITIZEN),
    PostingKind.VOUCHER_SALE: (AccountKind.PROVIDER, AccountKind.VOUCHER),
    PostingKind.VOUCHER_PAYMENT: (AccountKind.VOUCHER, AccountKind.VOUCHER_SPENT),
    PostingKind.VOUCHER_REFUND: (AccountKind.VOUCHER, AccountKind.PROVIDER),
    PostingKind.DONATION: (AccountKind.PROVIDER, AccountKind.DONATIONS),
    PostingKind.DONATION_GRANT: (AccountKind.DONATIONS, AccountKind.FUND),
}


def may_go_negative(kind: AccountKind) -> bool:
    """Only the fund (the municipality's budget, spent down) and the provider (money from
    outside, counted as it comes in) are allowed below zero."""
    return kind in (AccountKind.FUND, AccountKind.PROVIDER)

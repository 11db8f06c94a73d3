"""Payments: a shop asks, the citizen's one-time code confirms (docs/payments-and-codes.md).

One module per step of a payment's life, each importable from here as before:
lookup (whom the cashier means), asking (the code sent), outcomes and confirming (the code
typed), notices (what the holder is told), shop_locks (wrong codes against a shop),
cancelling (a payment that will not happen), refunds (storno) and waiting (what a till or a
citizen still has open)."""

from core.services.charges.asking import (
    ChargeRequested,
    check_amount,
    check_code_cap,
    pending_columns,
    request_charge,
)
from core.services.charges.cancelling import (
    BY_CITIZEN,
    BY_OFFICE,
    REVOKED,
    cancel_charge,
    cancelled_by_office,
    expire_charges,
    refuse_charge,
)
from core.services.charges.confirming import (
    Transactions,
    confirm_charge,
    confirm_charge_committed,
)
from core.services.charges.lookup import (
    LOOKUPS_PER_HOUR,
    LOOKUPS_PER_SHOP_PER_HOUR,
    find_beneficiary,
    find_citizen,
)
from core.services.charges.notices import (
    cancelled_after_wrong_codes,
    tell_refused_for_balance,
    wrong_codes_warning,
)
from core.services.charges.outcomes import (
    OUTCOME_OF,
    ConfirmOutcome,
    ConfirmResult,
    decide_on_code,
    not_paid,
)
from core.services.charges.refunds import (
    Refundable,
    confirmed_charge,
    refund_charge,
    refundable_charges,
)
from core.services.charges.shop_locks import count_wrong_code, unlock_shop
from core.services.charges.waiting import (
    WaitingCharge,
    awaiting_code,
    closed_codes,
    code_is_for,
    expired_codes,
    waiting_at_till,
    waits_at_another_till,
)

__all__ = [
    "BY_CITIZEN",
    "BY_OFFICE",
    "LOOKUPS_PER_HOUR",
    "LOOKUPS_PER_SHOP_PER_HOUR",
    "OUTCOME_OF",
    "REVOKED",
    "ChargeRequested",
    "ConfirmOutcome",
    "ConfirmResult",
    "Refundable",
    "Transactions",
    "WaitingCharge",
    "awaiting_code",
    "cancel_charge",
    "cancelled_after_wrong_codes",
    "cancelled_by_office",
    "check_amount",
    "check_code_cap",
    "closed_codes",
    "code_is_for",
    "confirm_charge",
    "confirm_charge_committed",
    "confirmed_charge",
    "count_wrong_code",
    "decide_on_code",
    "expire_charges",
    "expired_codes",
    "find_beneficiary",
    "find_citizen",
    "not_paid",
    "pending_columns",
    "refund_charge",
    "refundable_charges",
    "refuse_charge",
    "request_charge",
    "tell_refused_for_balance",
    "unlock_shop",
    "waiting_at_till",
    "waits_at_another_till",
    "wrong_codes_warning",
]

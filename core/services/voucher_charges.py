"""Spending a community voucher at the till: the same one-time-code payment as buoni spesa.

The cashier types the voucher's number and the amount; a code goes to the voucher's
holder (their Telegram chat, or the phone it was given to); the cashier types the code
the holder reads out. The voucher works only at its own shop, every wrong code counts
against the shop like any other, and the money moves voucher -> the shop's spent
vouchers, never into what the municipality reimburses (the shop was paid at purchase).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from core.domain import community as rules
from core.domain import otp
from core.domain.channels import chat_of
from core.domain.charges import (
    Confirmation,
    new_pending_code,
)
from core.domain.errors import InsufficientFunds, NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone
from core.domain.ledger import AccountKind, PostingKind
from core.domain.messages import Money, Reply, Text, t, tn
from core.services import ledger, security
from core.services.charges import (
    LOOKUPS_PER_HOUR,
    LOOKUPS_PER_SHOP_PER_HOUR,
    ChargeRequested,
    ConfirmOutcome,
    ConfirmResult,
    cancelled_after_wrong_codes,
    check_amount,
    check_code_cap,
    count_wrong_code,
    decide_on_code,
    not_paid,
    pending_columns,
    wrong_codes_warning,
)
from core.services.charges.outcomes import of_this_shop, refused_for_balance
from core.services.municipalities import policy_of
from core.services.outbox import PAYMENT_LANE, enqueue
from core.services.shop_rights import check_shop_can_charge, refuse_code_to_own_staff
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def is_voucher_reference(reference: str) -> bool:
    return rules.normalize_voucher_code(reference) is not None


async def request_voucher_charge(
    uow: UnitOfWork,
    *,
    shop_id: int,
    voucher_reference: str,
    amount_cents: int,
    requested_by: str,
    now: datetime,
) -> ChargeRequested:
    """A pending charge on a voucher and its code to the holder. Holds no money yet."""
    shop = check_shop_can_charge(await uow.shops.by_id(shop_id), now)
    # No voucher holds more than the largest a shop may sell: the same ceiling for all.
    check_amount(amount_cents, rules.LIMIT_MAX_CENTS)
    # Looking up a voucher counts like looking up a person, whatever it finds.
    await security.count_lookup(
        uow,
        shop,
        now,
        till=requested_by,
        limit=LOOKUPS_PER_HOUR,
        shop_limit=LOOKUPS_PER_SHOP_PER_HOUR,
    )
    code_text = rules.normalize_voucher_code(voucher_reference) or ""
    voucher = await uow.community.voucher_by_code(code_text)
    if voucher is None or voucher.municipality_id != shop.municipality_id:
        await security.record(
            uow, security.LOOKUP_MISS, now, municipality_id=shop.municipality_id, shop_id=shop.id
        )
        raise NotFound(Refusal.VOUCHER_NOT_FOUND)
    if voucher.shop_id != shop.id:
        raise NotAllowed(Refusal.VOUCHER_OTHER_SHOP)
    payment = await uow.community.payment(voucher.payment_id)
    if payment is not None and payment.refunded_at is not None:
        raise NotAllowed(Refusal.VOUCHER_REFUNDED)
    # The holder's consent, as a buono spesa's: never to the shop's own staff (a voucher
    # bought from a cashier's chat, or given to the phone of one of the shop's members).
    await refuse_code_to_own_staff(
        uow,
        shop,
        (voucher.holder_channel, voucher.holder_address),
        Refusal.VOUCHER_CODE_TO_SHOP,
    )
    municipality = await uow.municipalities.by_id(shop.municipality_id)
    assert municipality is not None
    policy = policy_of(municipality)
    # The same rules as buoni spesa (charges.request_charge): a cap on codes per holder per
    # hour (over it nothing is sent; a holder may hold vouchers of several shops), and a new
    # charge replaces the one still pending on this voucher.
    holder_codes = partial(
        uow.community.code_times_to_holder, voucher.holder_channel, voucher.holder_address
    )
    await check_code_cap(holder_codes, policy, shop.id, now)
    replaced = False
    wrong = 0  # wrong codes typed for the charges replaced: the holder is warned of them
    for earlier in await uow.community.pending_charges_of(voucher.id):
        if earlier.expires_at > now and await uow.community.mark_charge(
            earlier.id, "pending", status="cancelled", closed_reason="replaced"
        ):
            replaced = True
            wrong += earlier.attempts
    balance = await uow.ledger.balance_of_owner(
        shop.municipality_id, AccountKind.VOUCHER, voucher.id
    )
    pending = new_pending_code(uow.keys, now, policy.charge_ttl_minutes)
    code = pending.code
    charge = m.VoucherCharge(
        voucher_id=voucher.id, **pending_columns(shop, amount_cents, requested_by, now, pending)
    )
    uow.add(charge)
    await uow.flush()
    if wrong:
        # As a buono spesa's (charges.request_charge): never a plain "the previous one is no
        # longer valid" after wrong codes were typed for it.
        text = tn(
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the old one is "
            "void after {count} wrong code.",
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the old one is "
            "void after {count} wrong codes.",
            wrong,
            shop=shop.name,
            amount=Money(amount_cents),
            voucher=voucher.code,
            code=code,
        )
    elif replaced:
        # One message: the new code, and that the one sent before for this voucher is void.
        text = t(
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the previous one "
            "is no longer valid.",
            shop=shop.name,
            amount=Money(amount_cents),
            voucher=voucher.code,
            code=code,
        )
    elif balance >= amount_cents:
        text = t(
            "{shop} asks {amount} from voucher {voucher}. Code: {code}. Tell it to the cashier "
            "only if you agree.",
            shop=shop.name,
            amount=Money(amount_cents),
            voucher=voucher.code,
            code=code,
        )
    else:
        # As with buoni spesa: only the holder learns that the voucher is short.
        text = t(
            "{shop} asks {amount}. Code: {code}. Voucher {voucher} has {balance}: not enough, "
            "the payment will be refused.",
            shop=shop.name,
            amount=Money(amount_cents),
            code=code,
            voucher=voucher.code,
            balance=Money(balance),
        )
    _tell_holder(uow, voucher, text, now, sensitive=True)
    shown = mask_phone(voucher.holder_address) if voucher.holder_channel == "sms" else "Telegram"
    return ChargeRequested(
        charge.id, amount_cents, charge.expires_at, shown, voucher.holder_channel
    )


def _tell_holder(
    uow: UnitOfWork, voucher: m.Voucher, text: Text, now: datetime, *, sensitive: bool = False
) -> None:
    enqueue(
        uow,
        municipality_id=voucher.municipality_id,
        channel=voucher.holder_channel,
        address=voucher.holder_address,
        language=voucher.language,
        reply=Reply.of(text, sensitive=sensitive),
        now=now,
        # A voucher's payment has no charge_id (that column names buoni spesa charges):
        # its code and receipts still go first, someone is waiting at the till.
        lane=PAYMENT_LANE,
    )


async def confirm_voucher_charge(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    typed_code: str,
    now: datetime,
    typed_by: str,
    till_tries: int | None = None,
) -> ConfirmResult:
    """Check the code; on success pay from the voucher in this transaction (the caller
    commits). Paid at most once: the status moves with a compare-and-set, and the debit
    is guarded in the UPDATE that takes the money. Wrong codes as charges.confirm_charge
    (`till_tries` too), and as there only the shop's owner or a cashier (`typed_by`,
    "channel:address") may type the code: any other chat is told the payment does not
    exist, and no try is spent."""
    if await uow.shops.member_at(shop_id, *chat_of(typed_by)) is None:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    charge, voucher, shop, municipality = of_this_shop(
        await uow.community.charge_with_parties(charge_id), shop_id
    )
    policy = policy_of(municipality)
    matched = otp.code_matches(uow.keys, typed_code, charge.code_salt, charge.code_hash)
    decision = decide_on_code(charge, shop, matched, policy, now, till_tries)
    if decision.counts_against_shop:
        lock = await count_wrong_code(
            uow, shop, policy, now, typed_by, detail=f"voucher_charge:{charge.id}"
        )
        decision = decision.after_count(lock)
    if decision.step is not Confirmation.ACCEPT:

        async def warn() -> None:
            _tell_holder(uow, voucher, wrong_codes_warning(shop.name, charge.amount_cents), now)

        async def void() -> None:
            _tell_holder(uow, voucher, _void(shop.name, charge.amount_cents, charge.attempts), now)

        return await not_paid(
            decision,
            charge.id,
            charge.amount_cents,
            uow.community.mark_charge,
            warn=warn,
            void=void,
        )
    if not await uow.community.mark_charge(
        charge.id, "pending", status="confirmed", confirmed_at=now
    ):
        return ConfirmResult(ConfirmOutcome.NOT_PENDING, charge.id, charge.amount_cents)
    try:
        posted = await ledger.post(
            uow,
            municipality_id=charge.municipality_id,
            kind=PostingKind.VOUCHER_PAYMENT,
            from_owner=voucher.id,
            to_owner=shop.id,
            amount_cents=charge.amount_cents,
            now=now,
        )
    except InsufficientFunds:
        await refused_for_balance(uow.community.mark_charge, charge.id)
        # As for buoni spesa: the holder is told why, the cashier to ask the customer.
        left = await uow.ledger.balance_of_owner(
            shop.municipality_id, AccountKind.VOUCHER, voucher.id
        )
        _tell_holder(
            uow,
            voucher,
            t(
                "The payment of {amount} at {shop} was refused: voucher {voucher} has {balance}.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
                voucher=voucher.code,
                balance=Money(left),
            ),
            now,
        )
        return ConfirmResult(ConfirmOutcome.INSUFFICIENT_FUNDS, charge.id, charge.amount_cents)
    await uow.flush()
    await uow.community.mark_charge(charge.id, "confirmed", posting_id=posted.posting.id)
    _tell_holder(
        uow,
        voucher,
        t(
            "Paid {amount} at {shop} with voucher {voucher}. Left on it: {balance}.",
            amount=Money(charge.amount_cents),
            shop=shop.name,
            voucher=voucher.code,
            balance=Money(posted.source_balance_cents),
        ),
        now,
    )
    return ConfirmResult(
        ConfirmOutcome.CONFIRMED,
        charge.id,
        charge.amount_cents,
        citizen_balance_cents=posted.source_balance_cents,
    )


async def cancel_voucher_charge(
    uow: UnitOfWork, *, charge_id: int, shop_id: int, now: datetime, reason: str = "by_shop"
) -> bool:
    """The cashier gave up (ANNULLA; `reason` as charges.cancel_charge): the holder's code
    is void, and the holder is told."""
    charge, voucher, shop, _ = of_this_shop(
        await uow.community.charge_with_parties(charge_id), shop_id
    )
    if not await uow.community.mark_charge(
        charge_id, "pending", status="cancelled", closed_reason=reason
    ):
        return False
    _tell_holder(uow, voucher, _void(shop.name, charge.amount_cents, charge.attempts), now)
    return True


def _void(shop_name: str, amount_cents: int, wrong: int) -> Text:
    """The holder's code is for a payment that will not happen; after `wrong` wrong codes
    typed for it, a warning that says so (as a buono spesa's: charges._tell_void)."""
    if wrong:
        return cancelled_after_wrong_codes(shop_name, amount_cents, wrong)
    return t(
        "{shop} cancelled the payment of {amount}. The code is no longer valid.",
        shop=shop_name,
        amount=Money(amount_cents),
    )

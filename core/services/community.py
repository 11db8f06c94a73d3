"""Community vouchers and donations: checking a purchase, recording a provider's payment,
giving and refunding a voucher, the town's and the shop's switches, the office's view.

Money enters only when the payment provider reports a payment (Telegram's
successful_payment), recorded once per Telegram charge id with the provider's own
reference. docs/community-vouchers.md explains the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from core.domain import community as rules
from core.domain.community import Purchase, Purpose
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.identity import normalize_phone
from core.domain.ledger import AccountKind, PostingKind
from core.domain.messages import Money, Reply, Text, t
from core.domain.shops import ShopStatus
from core.services import fund, identity, ledger
from core.services.municipalities import policy_of
from core.services.outbox import enqueue
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

MAX_REFERENCE = 128


def limits_of(purchase: Purchase, shop: m.Shop | None) -> tuple[int, int]:
    if purchase.purpose is Purpose.DONATION or shop is None:
        return rules.DONATION_MIN_CENTS, rules.DONATION_MAX_CENTS
    return shop.voucher_min_cents, shop.voucher_max_cents


async def check_purchase(
    uow: UnitOfWork, purchase: Purchase, *, currency: str = rules.CURRENCY
) -> Refusal | None:
    """Whether this purchase may be paid now: asked before the invoice and again when the
    provider asks (pre-checkout), since a shop may stop accepting in between."""
    municipality = await uow.municipalities.by_id(purchase.municipality_id)
    if municipality is None or not municipality.community_enabled:
        return Refusal.PURCHASE_NOT_ENABLED
    if currency != rules.CURRENCY:
        return Refusal.PURCHASE_WRONG_CURRENCY
    shop = None
    if purchase.purpose is Purpose.VOUCHER:
        shop = await uow.shops.by_id(purchase.shop_id or 0)
        if not accepts_vouchers(shop, municipality.id):
            return Refusal.PURCHASE_SHOP_NOT_ACCEPTING
    minimum, maximum = limits_of(purchase, shop)
    return rules.amount_refusal(purchase.amount_cents, minimum, maximum)


async def accepting_shops(uow: UnitOfWork, municipality_id: int) -> Sequence[m.Shop]:
    """The town's approved shops that sell vouchers now, for a buyer to choose from."""
    return await uow.community.accepting_shops(municipality_id)


def accepts_vouchers(shop: m.Shop | None, municipality_id: int) -> bool:
    return (
        shop is not None
        and shop.municipality_id == municipality_id
        and shop.status == ShopStatus.APPROVED
        and shop.blocked_at is None
        and shop.vouchers_enabled
    )


@dataclass(frozen=True)
class PaymentReport:
    """What the provider reported (Telegram's SuccessfulPayment), and from which chat."""

    payload: str
    currency: str
    total_amount: int  # cents
    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    channel: str
    address: str
    language: str


@dataclass(frozen=True)
class Recorded:
    payment: m.ProviderPayment
    voucher: m.Voucher | None
    duplicate: bool  # the same payment reported again: nothing was written
    receipt: Text | None = None  # for the payer's chat; None for a repeated report


async def record_payment(uow: UnitOfWork, report: PaymentReport, now: datetime) -> Recorded:
    """Record a payment the provider reports as done; a repeated report changes nothing.

    The money was taken: it is recorded even if the shop stopped accepting meanwhile (the
    pre-checkout refused what it could). Raises NotFound for a payload that is not ours."""
    existing = await uow.community.payment_by_charge_id(report.telegram_payment_charge_id)
    if existing is not None:
        return await _duplicate(uow, existing)
    purchase = rules.parse_payload(report.payload)
    if purchase is None or await uow.municipalities.by_id(purchase.municipality_id) is None:
        raise NotFound(Refusal.COMMUNITY_UNKNOWN_PAYMENT)
    payment = m.ProviderPayment(
        municipality_id=purchase.municipality_id,
        purpose=purchase.purpose.value,
        shop_id=purchase.shop_id,
        amount_cents=report.total_amount,
        currency=report.currency,
        telegram_payment_charge_id=report.telegram_payment_charge_id[:MAX_REFERENCE],
        provider_payment_charge_id=report.provider_payment_charge_id[:MAX_REFERENCE],
        payer_channel=report.channel,
        payer_address=report.address,
        created_at=now,
    )
    try:
        async with uow.savepoint():
            uow.add(payment)
            await uow.flush()
    except IntegrityError:
        # Reported twice at the same moment: the other report recorded it (unique key).
        found = await uow.community.payment_by_charge_id(report.telegram_payment_charge_id)
        if found is None:
            raise
        return await _duplicate(uow, found)
    if purchase.purpose is Purpose.VOUCHER:
        voucher, shop = await _issue_voucher(uow, payment, report, now)
        receipt = t(
            "Paid: voucher {voucher} of {amount} for {shop}. At the till give its number; "
            "the code comes here.",
            voucher=voucher.code,
            amount=Money(voucher.amount_cents),
            shop=shop.name,
        )
        return Recorded(payment, voucher, duplicate=False, receipt=receipt)
    posted = await ledger.post(
        uow,
        municipality_id=payment.municipality_id,
        kind=PostingKind.DONATION,
        from_owner=0,
        to_owner=0,
        amount_cents=payment.amount_cents,
        now=now,
    )
    await uow.flush()
    payment.posting_id = posted.posting.id
    town = await uow.municipalities.by_id(payment.municipality_id)
    assert town is not None
    receipt = t(
        "Thank you: we received your donation of {amount} to the fund of {town}. "
        "Receipt no. D{receipt}.",
        amount=Money(payment.amount_cents),
        town=town.name,
        receipt=str(payment.id),
    )
    return Recorded(payment, None, duplicate=False, receipt=receipt)


async def _duplicate(uow: UnitOfWork, payment: m.ProviderPayment) -> Recorded:
    return Recorded(payment, await uow.community.voucher_of_payment(payment.id), duplicate=True)


async def _issue_voucher(
    uow: UnitOfWork, payment: m.ProviderPayment, report: PaymentReport, now: datetime
) -> tuple[m.Voucher, m.Shop]:
    assert payment.shop_id is not None
    shop = await uow.shops.by_id(payment.shop_id)
    if shop is None or shop.municipality_id != payment.municipality_id:
        raise NotFound(Refusal.COMMUNITY_UNKNOWN_PAYMENT)
    voucher = m.Voucher(
        municipality_id=payment.municipality_id,
        shop_id=shop.id,
        payment_id=payment.id,
        code=rules.new_voucher_code(),
        amount_cents=payment.amount_cents,
        holder_channel=report.channel,
        holder_address=report.address,
        language=report.language,
        created_at=now,
    )
    uow.add(voucher)
    await uow.flush()
    posted = await ledger.post(
        uow,
        municipality_id=payment.municipality_id,
        kind=PostingKind.VOUCHER_SALE,
        from_owner=0,
        to_owner=voucher.id,
        amount_cents=payment.amount_cents,
        now=now,
    )
    await uow.flush()
    payment.posting_id = posted.posting.id
    return voucher, shop


def _tell(
    uow: UnitOfWork,
    municipality_id: int,
    channel: str,
    address: str,
    language: str,
    text: Text,
    now: datetime,
    *,
    sensitive: bool = False,
) -> None:
    enqueue(
        uow,
        municipality_id=municipality_id,
        channel=channel,
        address=address,
        language=language,
        reply=Reply.of(text, sensitive=sensitive),
        now=now,
    )


# Holding and giving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldVoucher:
    voucher: m.Voucher
    shop: m.Shop
    balance_cents: int


async def vouchers_held(
    uow: UnitOfWork, municipality_id: int, channel: str, address: str
) -> list[HeldVoucher]:
    rows = await uow.community.vouchers_held(municipality_id, channel, address)
    return [HeldVoucher(v, s, b) for v, s, b in rows]


async def give_voucher(
    uow: UnitOfWork,
    *,
    municipality_id: int,
    code: str,
    channel: str,
    address: str,
    phone: str,
    now: datetime,
) -> HeldVoucher:
    """Hand a voucher over to a phone number: its codes and receipts go there from now on.
    Only its holder may give it, and only while something is left on it."""
    number = normalize_phone(phone)
    voucher = await uow.community.voucher_by_code(code)
    if (
        voucher is None
        or voucher.municipality_id != municipality_id
        or (voucher.holder_channel, voucher.holder_address) != (channel, address)
    ):
        raise NotFound(Refusal.VOUCHER_NOT_FOUND)
    balance = await uow.ledger.balance_of_owner(municipality_id, AccountKind.VOUCHER, voucher.id)
    if balance <= 0:
        raise NotAllowed(Refusal.VOUCHER_EMPTY)
    # Its codes go to that number by SMS from now on: a landline would strand the voucher.
    await identity.refuse_unreachable_phone(uow, number)
    shop = await uow.shops.by_id(voucher.shop_id)
    assert shop is not None
    voucher.holder_channel, voucher.holder_address, voucher.given_at = "sms", number, now
    _tell(
        uow,
        municipality_id,
        "sms",
        number,
        voucher.language,
        t(
            "A gift for you: voucher {voucher} of {amount} at {shop}. At the till give the "
            "number and the code we send you.",
            voucher=voucher.code,
            amount=Money(balance),
            shop=shop.name,
        ),
        now,
    )
    return HeldVoucher(voucher, shop, balance)


# Refunds by the shop ---------------------------------------------------------------------------


async def refund_voucher(
    uow: UnitOfWork, *, shop_id: int, code: str, refund_reference: str, now: datetime
) -> HeldVoucher:
    """The shop gave the money back at the provider: record it with the provider's refund
    reference. Only a voucher of this shop that nobody spent, within the policy's days."""
    reference = refund_reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise NotAllowed(Refusal.VOUCHER_REFUND_REFERENCE)
    voucher = await uow.community.voucher_by_code(code)
    shop = await uow.shops.by_id(shop_id)
    if voucher is None or shop is None or voucher.shop_id != shop.id:
        raise NotFound(Refusal.VOUCHER_NOT_FOUND)
    payment = await uow.community.payment(voucher.payment_id)
    municipality = await uow.municipalities.by_id(voucher.municipality_id)
    assert payment is not None and municipality is not None
    spent = await uow.community.spent_on(voucher.id) > 0
    days = policy_of(municipality).voucher_refund_days
    if not rules.can_refund(
        payment.created_at, now, days, spent=spent, refunded=payment.refunded_at is not None
    ):
        raise NotAllowed(Refusal.VOUCHER_NOT_REFUNDABLE)
    if not await uow.community.mark_refunded(
        payment.id, refunded_at=now, refund_reference=reference
    ):
        raise NotAllowed(Refusal.VOUCHER_NOT_REFUNDABLE)
    await ledger.post(
        uow,
        municipality_id=voucher.municipality_id,
        kind=PostingKind.VOUCHER_REFUND,
        from_owner=voucher.id,
        to_owner=0,
        amount_cents=voucher.amount_cents,
        now=now,
    )
    _tell(
        uow,
        voucher.municipality_id,
        voucher.holder_channel,
        voucher.holder_address,
        voucher.language,
        t(
            "{shop} refunded your voucher {voucher} of {amount}: the money comes back through "
            "the payment provider.",
            shop=shop.name,
            voucher=voucher.code,
            amount=Money(voucher.amount_cents),
        ),
        now,
    )
    return HeldVoucher(voucher, shop, 0)


# The town's and the shop's switches ----------------------------------------------------------


async def set_town_enabled(uow: UnitOfWork, code: str, enabled: bool) -> m.Municipality:
    municipality = await uow.municipalities.by_code(code)
    if municipality is None:
        raise NotFound(Refusal.MUNICIPALITY_NOT_FOUND, code=code)
    municipality.community_enabled = enabled
    return municipality


async def set_shop_vouchers(
    uow: UnitOfWork,
    shop_id: int,
    *,
    enabled: bool | None = None,
    minimum_cents: int | None = None,
    maximum_cents: int | None = None,
) -> m.Shop:
    """A shop turns its vouchers on or off, or sets the amounts it sells (1 to 1,000 euro)."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.status != "approved":
        raise NotAllowed(Refusal.SHOP_NOT_APPROVED)
    minimum = shop.voucher_min_cents if minimum_cents is None else minimum_cents
    maximum = shop.voucher_max_cents if maximum_cents is None else maximum_cents
    try:
        rules.check_limits(minimum, maximum)
    except ValueError as error:
        raise NotAllowed(Refusal.VOUCHER_BAD_LIMITS) from error
    shop.voucher_min_cents, shop.voucher_max_cents = minimum, maximum
    if enabled is not None:
        shop.vouchers_enabled = enabled
    return shop


# The office's view ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopVouchers:
    shop: str
    sold: int  # vouchers
    sold_cents: int
    spent_cents: int  # at the shop: paid at purchase, never reimbursed
    refunded_cents: int
    outstanding_cents: int  # still to be spent


@dataclass(frozen=True)
class CommunityTotals:
    shops: list[ShopVouchers]
    donations_cents: int  # received, all time
    donations_count: int
    granted_cents: int  # moved into the fund for tranches
    available_cents: int  # donations not granted yet


async def totals(uow: UnitOfWork, municipality_id: int) -> CommunityTotals:
    by_shop: dict[str, list[int]] = {}
    for voucher, payment, shop, balance in await uow.community.vouchers_of_town(municipality_id):
        row = by_shop.setdefault(shop.name, [0, 0, 0, 0, 0])
        refunded = voucher.amount_cents if payment.refunded_at is not None else 0
        row[0] += 1
        row[1] += voucher.amount_cents
        row[2] += voucher.amount_cents - balance - refunded
        row[3] += refunded
        row[4] += balance
    donated, count = await uow.community.posted_total(municipality_id, PostingKind.DONATION)
    granted, _ = await uow.community.posted_total(municipality_id, PostingKind.DONATION_GRANT)
    available = await uow.ledger.balance_of_owner(municipality_id, AccountKind.DONATIONS, 0)
    return CommunityTotals(
        [ShopVouchers(name, *row) for name, row in by_shop.items()],
        donated,
        count,
        granted,
        available,
    )


async def grant_donations(
    uow: UnitOfWork, municipality_id: int, amount_cents: int | None, now: datetime
) -> int:
    """Move donations into the fund, to be allocated with the next tranche: all that is
    available, or `amount_cents` of it, recorded as money the town's fund received (what
    a determina may commit, core.services.fund). Returns the amount moved."""
    available = await uow.ledger.balance_of_owner(municipality_id, AccountKind.DONATIONS, 0)
    amount = available if amount_cents is None else amount_cents
    if amount <= 0 or amount > available:
        raise NotAllowed(Refusal.DONATIONS_NOT_AVAILABLE, available_cents=available)
    await ledger.post(
        uow,
        municipality_id=municipality_id,
        kind=PostingKind.DONATION_GRANT,
        from_owner=0,
        to_owner=0,
        amount_cents=amount,
        now=now,
    )
    town = await uow.municipalities.by_id(municipality_id)
    assert town is not None
    await fund.record(
        uow,
        town,
        amount,
        "Donazioni dalla chat (admin community grant)",
        now.astimezone(ZoneInfo(town.timezone)).date(),
        now,
        actor="cli",
        again=True,  # each grant is its own posting: two equal ones the same day are two
    )
    return amount

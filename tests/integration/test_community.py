"""Community vouchers and donations in the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.domain.community import Purchase, Purpose
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.ledger import AccountKind
from core.domain.shops import ShopCategory
from core.services import community, ledger, reimbursement, reports, voucher_charges
from core.services.charges import ConfirmOutcome, ConfirmResult
from core.services.outbox import NOTICE_LANE, PAYMENT_LANE, reply_of
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import (
    TEST_FUND_CENTS,
    Town,
    assert_ledger_ok,
    make_partita_iva,
    make_town,
    till_of,
)

BUYER_CHAT = "7001"


async def enable(core: Core, town: Town, *, shop_id: int | None = None) -> None:
    async with core.uow() as uow:
        await community.set_town_enabled(uow, town.code, True)
        await community.set_shop_vouchers(
            uow, shop_id or town.shop_id, enabled=True, minimum_cents=500, maximum_cents=50_00
        )
        await uow.commit()


async def second_shop(core: Core, town: Town) -> int:
    async with core.uow() as uow:
        shop = await register_shop(
            uow,
            town.municipality_id,
            ShopInput(
                "Panificio Due",
                make_partita_iva(2),
                ShopCategory.BAKERY,
                "Via Roma 2",
                "Testville",
                "62020",
                None,
                None,
                "IT40S0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address="+393338888888",
            now=core.now(),
        )
        await approve_shop(uow, town.municipality_id, shop.id, core.now())
        await uow.commit()
        return shop.id


def report(payload: str, amount: int, charge_id: str = "tg-charge-1") -> community.PaymentReport:
    return community.PaymentReport(
        payload=payload,
        currency="EUR",
        total_amount=amount,
        telegram_payment_charge_id=charge_id,
        provider_payment_charge_id=f"provider-{charge_id}",
        channel="telegram",
        address=BUYER_CHAT,
        language="en",
    )


async def buy(core: Core, town: Town, amount: int, charge_id: str = "tg-charge-1") -> m.Voucher:
    purchase = Purchase(Purpose.VOUCHER, town.municipality_id, amount, shop_id=town.shop_id)
    async with core.uow() as uow:
        recorded = await community.record_payment(
            uow, report(purchase.payload(), amount, charge_id), core.now()
        )
        await uow.commit()
    assert recorded.voucher is not None
    return recorded.voucher


async def last_code(core: Core, address: str) -> str:
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("telegram", address)
    for row in reversed(rows):
        code = reply_of(core.keys, row).texts[0].params.get("code")
        if isinstance(code, str):
            return code
    raise AssertionError("no code sent")


async def ask_voucher_payment(
    core: Core, shop_id: int, voucher: m.Voucher, cents: int, requested_by: str = "test"
) -> int:
    """The shop asks `cents` from the voucher (its code goes to the holder): the charge."""
    async with core.uow() as uow:
        requested = await voucher_charges.request_voucher_charge(
            uow,
            shop_id=shop_id,
            voucher_reference=voucher.code,
            amount_cents=cents,
            requested_by=requested_by,
            now=core.now(),
        )
        await uow.commit()
    return requested.charge_id


async def type_voucher_code(
    core: Core, shop_id: int, charge_id: int, typed: str, till_tries: int | None = None
) -> ConfirmResult:
    """The till (the shop's owner) types `typed` as the code of the voucher payment
    `charge_id`."""
    typed_by = await till_of(core, shop_id)
    async with core.uow() as uow:
        result = await voucher_charges.confirm_voucher_charge(
            uow,
            charge_id=charge_id,
            shop_id=shop_id,
            typed_code=typed,
            now=core.now(),
            typed_by=typed_by,
            till_tries=till_tries,
        )
        await uow.commit()
    return result


async def type_wrong_codes(
    core: Core, shop_id: int, charge_id: int, right: str, count: int
) -> None:
    """The till types `count` wrong codes (never `right`, the one the holder was sent)."""
    for typed in ("111111", "222222")[:count]:
        await type_voucher_code(core, shop_id, charge_id, typed if typed != right else "333333")


async def voucher_payment_after_wrong_codes(core: Core, wrong: int) -> tuple[Town, m.Voucher, int]:
    """A town's shop asks 12 € from a 30 € voucher and types `wrong` wrong codes for it:
    (the town, the voucher, the payment still waiting)."""
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 30_00)
    charge_id = await ask_voucher_payment(core, town.shop_id, voucher, 12_00)
    code = await last_code(core, voucher.holder_address)
    await type_wrong_codes(core, town.shop_id, charge_id, code, wrong)
    return town, voucher, charge_id


async def spend(core: Core, shop_id: int, voucher: m.Voucher, amount: int) -> ConfirmOutcome:
    charge_id = await ask_voucher_payment(core, shop_id, voucher, amount)
    code = await last_code(core, voucher.holder_address)
    return (await type_voucher_code(core, shop_id, charge_id, code)).outcome


async def test_a_purchase_is_checked_against_the_town_and_the_shop(core: Core) -> None:
    town = await make_town(core, citizens=0)
    purchase = Purchase(Purpose.VOUCHER, town.municipality_id, 20_00, shop_id=town.shop_id)
    async with core.uow() as uow:
        assert await community.check_purchase(uow, purchase) is Refusal.PURCHASE_NOT_ENABLED
    await enable(core, town)
    async with core.uow() as uow:
        assert await community.check_purchase(uow, purchase) is None
        assert await community.check_purchase(uow, purchase, currency="USD") is (
            Refusal.PURCHASE_WRONG_CURRENCY
        )
        too_much = Purchase(Purpose.VOUCHER, town.municipality_id, 60_00, shop_id=town.shop_id)
        assert await community.check_purchase(uow, too_much) is Refusal.PURCHASE_AMOUNT_OUT_OF_RANGE
        await community.set_shop_vouchers(uow, town.shop_id, enabled=False)
        assert await community.check_purchase(uow, purchase) is Refusal.PURCHASE_SHOP_NOT_ACCEPTING


async def test_a_payment_reported_twice_makes_one_voucher(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    first = await buy(core, town, 25_00)
    again = await buy(core, town, 25_00)
    assert again.id == first.id
    async with core.uow() as uow:
        vouchers = (await uow.session.scalars(select(m.Voucher))).all()
        payments = (await uow.session.scalars(select(m.ProviderPayment))).all()
        balance = await uow.ledger.balance_of_owner(
            town.municipality_id, AccountKind.VOUCHER, first.id
        )
    assert len(vouchers) == 1 and len(payments) == 1
    assert payments[0].provider_payment_charge_id == "provider-tg-charge-1"
    assert payments[0].posting_id is not None
    assert balance == 25_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_the_unique_charge_id_is_enforced_by_the_database(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    await buy(core, town, 10_00)
    from sqlalchemy.exc import IntegrityError

    async with core.uow() as uow:
        uow.session.add(
            m.ProviderPayment(
                municipality_id=town.municipality_id,
                purpose="donation",
                amount_cents=1_00,
                currency="EUR",
                telegram_payment_charge_id="tg-charge-1",
                provider_payment_charge_id="x",
                payer_channel="telegram",
                payer_address="1",
                created_at=core.now(),
            )
        )
        with pytest.raises(IntegrityError):
            await uow.flush()


async def test_a_tills_last_wrong_code_cancels_a_voucher_payment_and_warns_its_holder(
    core: Core,
) -> None:
    """The same rule as for buoni spesa: the last wrong code a till may type (an SMS
    session's second, `till_tries` 1) cancels the payment and warns the holder."""
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 30_00)
    charge_id = await ask_voucher_payment(
        core, town.shop_id, voucher, 12_00, requested_by=f"sms:{town.shop_phone}"
    )
    code = await last_code(core, voucher.holder_address)
    outcomes = []
    for wrong_code, till_tries in (("111111", 2), ("222222", 1)):
        typed = wrong_code if wrong_code != code else "333333"
        result = await type_voucher_code(core, town.shop_id, charge_id, typed, till_tries)
        outcomes.append((result.outcome, result.attempts_left))
    assert outcomes == [
        (ConfirmOutcome.WRONG_CODE, 1),
        (ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS, 0),
    ]
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("telegram", voucher.holder_address)
        charge = await uow.session.get(m.VoucherCharge, charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason) == ("cancelled", "too_many_attempts")
    assert reply_of(core.keys, rows[-1]).texts[0].msgid == (
        "Warning: {shop} typed a wrong code too many times. The payment of {amount} was "
        "cancelled. Never give your code to anyone but the cashier."
    )


@pytest.mark.parametrize("wrong", [0, 2])
async def test_a_voucher_payment_given_up_after_wrong_codes_warns_its_holder(
    core: Core, wrong: int
) -> None:
    """ANNULLA at the till after `wrong` wrong codes: the holder reads how many, as a
    buono spesa's holder does, not that the shop simply cancelled; none, the plain notice."""
    town, voucher, charge_id = await voucher_payment_after_wrong_codes(core, wrong)
    async with core.uow() as uow:
        assert await voucher_charges.cancel_voucher_charge(
            uow, charge_id=charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
        rows = await uow.outbox.for_address("telegram", voucher.holder_address)
    told = reply_of(core.keys, rows[-1]).texts[0]
    if wrong:
        assert (told.msgid, told.params["count"]) == (
            "Warning: {shop} cancelled the payment of {amount} after {count} wrong code. "
            "Give your code only to the cashier.",
            2,
        )
    else:
        assert (
            told.msgid == "{shop} cancelled the payment of {amount}. The code is no longer valid."
        )


@pytest.mark.parametrize("wrong", [0, 2])
async def test_a_voucher_payment_asked_again_after_wrong_codes_warns_its_holder(
    core: Core, wrong: int
) -> None:
    """PAGA again after `wrong` wrong codes: the new code's message says how many were typed
    for the old one, as a buono spesa's does; none, the plain "the previous one is no
    longer valid"."""
    town, voucher, _ = await voucher_payment_after_wrong_codes(core, wrong)
    await ask_voucher_payment(core, town.shop_id, voucher, 12_00)
    async with core.uow() as uow:
        rows = await uow.outbox.for_address("telegram", voucher.holder_address)
    told = reply_of(core.keys, rows[-1]).texts[0]
    if wrong:
        assert (told.msgid, told.params["count"]) == (
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the old one is "
            "void after {count} wrong code.",
            2,
        )
    else:
        assert told.msgid == (
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the previous one "
            "is no longer valid."
        )


async def test_a_voucher_is_spent_only_at_its_shop_and_never_reimbursed(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    other = await second_shop(core, town)
    voucher = await buy(core, town, 30_00)

    with pytest.raises(NotAllowed) as refused:
        await spend(core, other, voucher, 5_00)
    assert refused.value.code == "voucher.other_shop"

    assert await spend(core, town.shop_id, voucher, 12_00) is ConfirmOutcome.CONFIRMED
    assert await spend(core, town.shop_id, voucher, 20_00) is ConfirmOutcome.INSUFFICIENT_FUNDS
    async with core.uow() as uow:
        left = await uow.ledger.balance_of_owner(
            town.municipality_id, AccountKind.VOUCHER, voucher.id
        )
        shop_due = await ledger.shop_balance(uow, town.municipality_id, town.shop_id)
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        pending = await reimbursement.pending_reimbursements(uow, municipality)
        totals = await community.totals(uow, town.municipality_id)
    assert left == 18_00
    # Paid at purchase: nothing of the voucher is owed to the shop by the municipality.
    assert shop_due == 0
    assert pending == []
    [shop_line] = totals.shops
    assert (shop_line.sold, shop_line.sold_cents, shop_line.spent_cents) == (1, 30_00, 12_00)
    assert shop_line.outstanding_cents == 18_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_given_voucher_sends_its_codes_to_the_new_phone(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 15_00)
    async with core.uow() as uow:
        with pytest.raises(NotFound):
            await community.give_voucher(
                uow,
                municipality_id=town.municipality_id,
                code=voucher.code,
                channel="telegram",
                address="somebody-else",
                phone="3331112223",
                now=core.now(),
            )
        given = await community.give_voucher(
            uow,
            municipality_id=town.municipality_id,
            code=voucher.code,
            channel="telegram",
            address=BUYER_CHAT,
            phone="333 111 2223",
            now=core.now(),
        )
        await uow.commit()
    assert given.voucher.holder_address == "+393331112223"
    async with core.uow() as uow:
        await voucher_charges.request_voucher_charge(
            uow,
            shop_id=town.shop_id,
            voucher_reference=voucher.code,
            amount_cents=5_00,
            requested_by="test",
            now=core.now(),
        )
        await uow.commit()
        sms = await uow.outbox.for_address("sms", "+393331112223")
    assert [reply_of(core.keys, row).texts[0].msgid[:12] for row in sms] == [
        "A gift for y",
        "{shop} asks ",
    ]
    # The gift is a notice; the code is about a payment and goes before notices.
    assert [row.lane for row in sms] == [NOTICE_LANE, PAYMENT_LANE]


async def test_refund_of_an_unspent_voucher_within_the_policy_days(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    spent = await buy(core, town, 20_00, "tg-a")
    unspent = await buy(core, town, 20_00, "tg-b")
    late = await buy(core, town, 20_00, "tg-c")
    assert await spend(core, town.shop_id, spent, 1_00) is ConfirmOutcome.CONFIRMED

    async def refund(voucher: m.Voucher, reference: str = "re_123") -> None:
        async with core.uow() as uow:
            await community.refund_voucher(
                uow,
                shop_id=town.shop_id,
                code=voucher.code,
                refund_reference=reference,
                now=core.now(),
            )
            await uow.commit()

    with pytest.raises(NotAllowed):
        await refund(spent)
    with pytest.raises(NotAllowed):
        await refund(unspent, reference=" ")
    await refund(unspent)
    with pytest.raises(NotAllowed):
        await refund(unspent)  # once only
    clock.advance(days=15)
    with pytest.raises(NotAllowed):
        await refund(late)  # the default policy allows 14 days
    async with core.uow() as uow:
        payment = await uow.community.payment(unspent.payment_id)
        assert payment is not None and payment.refund_reference == "re_123"
        with pytest.raises(NotAllowed) as refused:
            await voucher_charges.request_voucher_charge(
                uow,
                shop_id=town.shop_id,
                voucher_reference=unspent.code,
                amount_cents=1_00,
                requested_by="test",
                now=core.now(),
            )
    assert refused.value.code == "voucher.refunded"
    await assert_ledger_ok(core, town.municipality_id)


async def test_donations_show_in_the_report_and_can_be_granted(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await enable(core, town)
    donation = Purchase(Purpose.DONATION, town.municipality_id, 40_00)
    async with core.uow() as uow:
        await community.record_payment(uow, report(donation.payload(), 40_00, "d1"), core.now())
        await community.record_payment(uow, report(donation.payload(), 40_00, "d1"), core.now())
        await uow.commit()
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        published = await reports.transparency_report(uow, municipality, core.now())
        assert published.donations.value == 40_00
        assert "donations,40.00" in published.to_csv()
        with pytest.raises(NotAllowed):
            await community.grant_donations(uow, town.municipality_id, 50_00, core.now())
        assert await community.grant_donations(uow, town.municipality_id, None, core.now()) == (
            40_00
        )
        await uow.commit()
    async with core.uow() as uow:
        totals = await community.totals(uow, town.municipality_id)
        # Granted donations are money the town's fund received: a determina may commit them.
        fund_cents = await uow.fund.total(town.municipality_id)
    assert (totals.donations_cents, totals.granted_cents, totals.available_cents) == (
        40_00,
        40_00,
        0,
    )
    assert fund_cents == TEST_FUND_CENTS + 40_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_shop_limits_are_checked(core: Core) -> None:
    town = await make_town(core, citizens=0)
    async with core.uow() as uow:
        for low, high in ((50, 10_00), (20_00, 10_00), (10_00, 2_000_00)):
            with pytest.raises(NotAllowed):
                await community.set_shop_vouchers(
                    uow, town.shop_id, minimum_cents=low, maximum_cents=high
                )

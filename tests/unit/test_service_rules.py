"""Service rules on the in-memory unit of work (tests/unit/fakes.py): no database, each
test in milliseconds. What only a database proves (two transactions at once, the guarded
UPDATE under concurrency, SKIP LOCKED, constraints) stays in tests/integration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.charges import ChargeStatus, ShopLock
from core.domain.community import Purchase, Purpose
from core.domain.errors import Conflict, DomainError, NotAllowed, NotFound, Refusal
from core.domain.identity import PhoneProof
from core.domain.messages import Money
from core.domain.shops import ShopStatus
from core.services import (
    act_figures,
    acts,
    allocation,
    applications,
    audit,
    charges,
    community,
    delegates,
    identity,
    ledger,
    municipalities,
    operators,
    paper_applications,
    security,
    shops,
    voucher_charges,
)
from core.services.outbox import reply_of
from core.storage import models as m
from tests.factories import approved_request, make_cf, record_fund
from tests.unit.fakes import FakeUnitOfWork, add_all

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning in Rome (10:00)
SHOP_PHONE = "+393339999999"
CASHIER_PHONE = "+393339999998"


@dataclass
class Town:
    uow: FakeUnitOfWork
    municipality: m.Municipality
    citizens: list[m.Citizen]
    shop: m.Shop
    now: datetime

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def open_round(uow: FakeUnitOfWork, sizes: list[int]) -> tuple[m.Municipality, list[int]]:
    """A municipality with a closed window holding one application per household size."""
    async with uow:
        town = await municipalities.add_municipality(
            uow, code="FAK", name="Fakeville", now=START - timedelta(days=10)
        )
        await record_fund(uow, town)
        round_ = await municipalities.open_window(uow, town, START - timedelta(days=10), days=4)
        people = [
            m.Citizen(
                municipality_id=town.id,
                codice_fiscale=make_cf(index),
                phone=f"+39333{2000000 + index:07d}",
                card_code=f"CARD{index:06d}",
                created_at=START - timedelta(days=9),
            )
            for index in range(len(sizes))
        ]
        add_all(uow, people)
        add_all(
            uow,
            [
                m.Application(
                    municipality_id=town.id,
                    round_id=round_.id,
                    citizen_id=person.id,
                    protocol=f"FAK-{index}",
                    household_size=size,
                    has_work_income=False,
                    has_pension=False,
                    liquidity_cents=0,
                    public_support_monthly_cents=0,
                    rent_monthly_cents=0,
                    source="paper",
                    submitted_at=START - timedelta(days=9, minutes=-index),
                    updated_at=START - timedelta(days=9),
                )
                for index, (person, size) in enumerate(zip(people, sizes, strict=True))
            ],
        )
        await uow.commit()
    return town, [person.id for person in people]


async def approve_and_credit(uow: FakeUnitOfWork, town: m.Municipality, budget: int) -> int:
    async with uow:
        await allocation.approve(uow, town, budget, START - timedelta(days=5))
        result = await allocation.credit(uow, town, START - timedelta(days=5))
        await uow.commit()
    return result.total_cents


@pytest.fixture
async def town() -> Town:
    """Three one-person households credited 150 € each, and an approved shop."""
    uow = FakeUnitOfWork()
    municipality, ids = await open_round(uow, [1, 1, 1])
    await approve_and_credit(uow, municipality, 100_000_00)
    async with uow:
        shop = m.Shop(
            municipality_id=municipality.id,
            name="Alimentari Finti",
            vat_number="12345678901",
            category="grocery",
            address="Via Roma 1",
            town="Fakeville",
            postcode="62020",
            iban="IT40S0542811101000000123456",
            status=ShopStatus.APPROVED.value,
            created_at=START,
            approved_at=START,
        )
        add_all(uow, [shop])
        add_all(
            uow,
            [
                m.ShopMember(
                    shop_id=shop.id, channel="sms", address=address, role=role, created_at=START
                )
                for address, role in ((SHOP_PHONE, "owner"), (CASHIER_PHONE, "cashier"))
            ],
        )
        await uow.commit()
    people = [await uow.citizens.by_id(citizen_id) for citizen_id in ids]
    return Town(uow, municipality, [p for p in people if p], shop, START)


async def balance(town: Town, citizen: int = 0) -> int:
    return await ledger.citizen_balance(town.uow, town.municipality.id, town.citizens[citizen].id)


async def request(town: Town, cents: int, citizen: int = 0) -> tuple[int, str]:
    """A charge at the shop and the code the citizen received."""
    uow = town.uow
    async with uow:
        asked = await charges.request_charge(
            uow,
            shop_id=town.shop.id,
            citizen_reference=town.citizens[citizen].codice_fiscale,
            amount_cents=cents,
            requested_by="test",
            now=town.now,
        )
        await uow.commit()
    phone = town.citizens[citizen].phone
    assert phone is not None
    [message] = [x for x in uow.outbox.to(phone) if x.charge_id == asked.charge_id]
    code = reply_of(uow.keys, message).texts[0].params["code"]
    assert isinstance(code, str)
    return asked.charge_id, code


async def confirm(town: Town, charge_id: int, code: str) -> charges.ConfirmResult:
    uow = town.uow
    async with uow:
        result = await charges.confirm_charge(
            uow,
            charge_id=charge_id,
            shop_id=town.shop.id,
            typed_code=code,
            now=town.now,
            typed_by=f"sms:{SHOP_PHONE}",
        )
        await uow.commit()
    return result


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def refusal(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# Payments -------------------------------------------------------------------------------


async def test_the_right_code_pays_once(town: Town) -> None:
    charge_id, code = await request(town, 40_00)
    assert await balance(town) == 150_00  # a pending charge holds no money
    first = await confirm(town, charge_id, code)
    second = await confirm(town, charge_id, code)
    assert first.outcome is charges.ConfirmOutcome.CONFIRMED
    assert first.citizen_balance_cents == 110_00
    assert second.outcome is charges.ConfirmOutcome.ALREADY_CONFIRMED
    assert await balance(town) == 110_00
    assert await ledger.shop_balance(town.uow, town.municipality.id, town.shop.id) == 40_00
    assert (await ledger.verify(town.uow, town.municipality.id)).ok


async def test_a_wrong_code_counts_against_the_shop_and_leaves_the_charge_pending(
    town: Town,
) -> None:
    charge_id, code = await request(town, 10_00)
    result = await confirm(town, charge_id, wrong(code))
    assert result.outcome is charges.ConfirmOutcome.WRONG_CODE
    assert result.attempts_left == 2
    assert await security.wrong_codes_of_shop(town.uow, town.shop.id, town.now) == 1
    assert (await confirm(town, charge_id, code)).outcome is charges.ConfirmOutcome.CONFIRMED


async def test_too_many_wrong_codes_cancel_the_charge_and_warn_the_citizen(town: Town) -> None:
    charge_id, code = await request(town, 10_00)
    outcomes = [(await confirm(town, charge_id, wrong(code))).outcome for _ in range(3)]
    assert outcomes[-1] is charges.ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS
    assert (await confirm(town, charge_id, code)).outcome is charges.ConfirmOutcome.NOT_PENDING
    phone = town.citizens[0].phone
    assert phone is not None
    warning = reply_of(town.uow.keys, town.uow.outbox.to(phone)[-1])
    assert warning.texts[0].msgid.startswith("Warning: {shop} typed a wrong code")
    assert await balance(town) == 150_00


async def test_five_wrong_codes_lock_the_shop_and_ten_block_it_until_the_office(
    town: Town,
) -> None:
    locks = []
    for _ in range(5):
        charge_id, code = await request(town, 1_00)
        locks.append((await confirm(town, charge_id, wrong(code))).shop_lock)
    assert locks == [ShopLock.NONE] * 4 + [ShopLock.TIMED]
    with pytest.raises(NotAllowed) as refused:
        await request(town, 1_00)
    assert refusal(refused) == Refusal.SHOP_LOCKED
    locks = []
    for _ in range(5):
        town.later(minutes=31)  # each timed lock ends; the count of the day goes on
        charge_id, code = await request(town, 1_00)
        locks.append((await confirm(town, charge_id, wrong(code))).shop_lock)
    assert locks == [ShopLock.TIMED] * 4 + [ShopLock.OFFICE]
    town.later(hours=2)
    with pytest.raises(NotAllowed) as blocked:
        await request(town, 1_00)
    assert refusal(blocked) == Refusal.SHOP_BLOCKED
    async with town.uow:
        await charges.unlock_shop(
            town.uow, town.municipality.id, town.shop.id, by="office", now=town.now
        )
        await town.uow.commit()
    assert await security.wrong_codes_of_shop(town.uow, town.shop.id, town.now) == 0
    charge_id, code = await request(town, 1_00)
    assert (await confirm(town, charge_id, code)).outcome is charges.ConfirmOutcome.CONFIRMED


WRONG_CODES_WARNING = (
    "Warning: {shop} typed a wrong code too many times. The payment of {amount} was "
    "cancelled. Never give your code to anyone but the cashier."
)
VOID = "{shop} cancelled the payment of {amount}. The code is no longer valid."


async def test_the_wrong_code_that_locks_the_shop_warns_the_citizen_of_wrong_codes(
    town: Town,
) -> None:
    for _ in range(4):
        charge_id, code = await request(town, 1_00)
        await confirm(town, charge_id, wrong(code))
    charge_id, code = await request(town, 2_00)
    result = await confirm(town, charge_id, wrong(code))
    assert (result.outcome, result.shop_lock) == (
        charges.ConfirmOutcome.SHOP_LOCKED,
        ShopLock.TIMED,
    )
    charge = await town.uow.charges.by_id(charge_id)
    assert charge is not None
    assert (charge.status, charge.closed_reason) == (ChargeStatus.CANCELLED, "shop_locked")
    phone = town.citizens[0].phone
    assert phone is not None
    told = [reply_of(town.uow.keys, x).texts[0] for x in town.uow.outbox.to(phone)]
    assert told[-1].msgid == WRONG_CODES_WARNING  # not "the shop cancelled"
    assert told[-1].params["amount"] == Money(2_00)
    assert (await confirm(town, charge_id, code)).outcome is charges.ConfirmOutcome.NOT_PENDING


async def test_an_expired_code_pays_nothing(town: Town) -> None:
    charge_id, code = await request(town, 10_00)
    town.later(minutes=10)
    assert (await confirm(town, charge_id, code)).outcome is charges.ConfirmOutcome.EXPIRED
    charge = await town.uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == ChargeStatus.EXPIRED
    assert await balance(town) == 150_00


async def test_a_charge_above_the_balance_is_refused_after_the_code_and_takes_nothing(
    town: Town,
) -> None:
    charge_id, code = await request(town, 150_01)
    result = await confirm(town, charge_id, code)
    assert result.outcome is charges.ConfirmOutcome.INSUFFICIENT_FUNDS
    charge = await town.uow.charges.by_id(charge_id)
    assert charge is not None and charge.status == ChargeStatus.CANCELLED
    assert charge.closed_reason == "insufficient_funds"
    assert await balance(town) == 150_00
    assert (await ledger.verify(town.uow, town.municipality.id)).ok


async def test_the_sweep_expires_only_pending_charges_past_their_time(town: Town) -> None:
    paid, code = await request(town, 5_00)
    await confirm(town, paid, code)
    stale, _ = await request(town, 5_00)
    town.later(minutes=5)
    fresh, _ = await request(town, 5_00, citizen=1)  # the same citizen's would replace it
    async with town.uow:
        swept = await charges.expire_charges(town.uow, town.later(minutes=6))
        await town.uow.commit()
    assert swept == 1
    statuses = [
        (c.status if c else None)
        for c in [await town.uow.charges.by_id(x) for x in (paid, stale, fresh)]
    ]
    assert statuses == [ChargeStatus.CONFIRMED, ChargeStatus.EXPIRED, ChargeStatus.PENDING]


async def test_lookups_are_limited_per_till_and_per_shop(town: Town) -> None:
    uow = town.uow
    forged = "sms:+393331000101"  # the shop's number, which an SMS forger can use
    for _ in range(charges.LOOKUPS_PER_HOUR):
        async with uow:
            with pytest.raises(NotFound):
                await charges.find_beneficiary(
                    uow, town.shop, "RSSMRA80A01H501U", town.now, till=forged
                )
            await uow.commit()
    async with uow:
        with pytest.raises(NotAllowed) as refused:
            await charges.find_beneficiary(
                uow, town.shop, town.citizens[0].codice_fiscale, town.now, till=forged
            )
    assert refusal(refused) == Refusal.LOOKUP_TOO_MANY
    # The shop's other tills still charge: lookups forged as one number block only it.
    async with uow:
        found = await charges.find_beneficiary(
            uow, town.shop, town.citizens[0].codice_fiscale, town.now, till="telegram:77"
        )
        await uow.commit()
    assert found.id == town.citizens[0].id
    async with uow:
        found = await charges.find_beneficiary(
            uow, town.shop, town.citizens[0].codice_fiscale, town.later(hours=1), till=forged
        )
    assert found.id == town.citizens[0].id


async def test_a_shop_with_many_tills_still_has_a_ceiling(town: Town) -> None:
    uow = town.uow
    tills = [f"telegram:{index}" for index in range(5)]
    for index in range(charges.LOOKUPS_PER_SHOP_PER_HOUR):
        async with uow:
            with pytest.raises(NotFound):
                await charges.find_beneficiary(
                    uow, town.shop, "RSSMRA80A01H501U", town.now, till=tills[index % 4]
                )
            await uow.commit()
    async with uow:
        with pytest.raises(NotAllowed) as refused:
            await charges.find_beneficiary(
                uow, town.shop, town.citizens[0].codice_fiscale, town.now, till=tills[4]
            )
    assert refusal(refused) == Refusal.LOOKUP_TOO_MANY


async def test_what_is_not_committed_is_not_kept(town: Town) -> None:
    uow = town.uow
    async with uow:
        await charges.request_charge(
            uow,
            shop_id=town.shop.id,
            citizen_reference=town.citizens[0].codice_fiscale,
            amount_cents=10_00,
            requested_by="test",
            now=town.now,
        )
    assert uow.store.rows(m.Charge) == []
    assert await security.count(uow, security.LOOKUP_MISS, START - timedelta(days=1)) == 0


# Refunds --------------------------------------------------------------------------------


async def refund(
    town: Town, charge_id: int, *, by_cashier: bool = False, citizen_confirmed: bool = False
) -> int:
    async with town.uow:
        left = await charges.refund_charge(
            town.uow,
            charge_id=charge_id,
            shop_id=town.shop.id,
            by=("sms", CASHIER_PHONE if by_cashier else SHOP_PHONE),
            now=town.now,
            citizen_confirmed=citizen_confirmed,
        )
        await town.uow.commit()
    return left


async def test_a_payment_is_refunded_the_same_day_only(town: Town) -> None:
    charge_id, code = await request(town, 30_00)
    await confirm(town, charge_id, code)
    town.later(hours=8)  # 18:00 in Rome: still the same day
    assert await refund(town, charge_id) == 150_00
    with pytest.raises(NotAllowed) as twice:
        await refund(town, charge_id)
    assert refusal(twice) == Refusal.REFUND_NOT_TODAY

    other, code = await request(town, 20_00)
    await confirm(town, other, code)
    town.later(hours=6)  # past midnight in Rome
    with pytest.raises(NotAllowed) as late:
        await refund(town, other)
    assert refusal(late) == Refusal.REFUND_NOT_TODAY
    assert await balance(town) == 130_00
    assert (await ledger.verify(town.uow, town.municipality.id)).ok


async def test_a_cashier_refunds_only_with_the_citizens_code(town: Town) -> None:
    charge_id, code = await request(town, 30_00)
    await confirm(town, charge_id, code)
    with pytest.raises(NotAllowed) as refused:
        await refund(town, charge_id, by_cashier=True)
    assert refusal(refused) == Refusal.REFUND_NEEDS_CITIZEN_CODE
    assert await refund(town, charge_id, by_cashier=True, citizen_confirmed=True) == 150_00


# Tranches -------------------------------------------------------------------------------


async def test_a_further_tranche_pays_only_what_is_still_due() -> None:
    uow = FakeUnitOfWork()
    town, ids = await open_round(uow, [7, 2, 1])
    assert await approve_and_credit(uow, town, 425_00) == 425_00  # half of 850 €
    assert await approve_and_credit(uow, town, 1_000_00) == 425_00  # the other half only
    async with uow:  # nothing is due any more: a tranche of nothing is refused
        with pytest.raises(Conflict) as nobody:
            await allocation.approve(uow, town, 1_000_00, START)
    assert refusal(nobody) == Refusal.ALLOCATION_PAYS_NOBODY
    balances = [await ledger.citizen_balance(uow, town.id, citizen_id) for citizen_id in ids]
    assert balances == [500_00, 200_00, 150_00]
    check = await ledger.verify(uow, town.id)
    assert check.ok and [t.tranche for t in check.tranches] == [1, 2]


async def test_a_withdrawn_tranche_is_never_credited_and_the_next_takes_its_place() -> None:
    uow = FakeUnitOfWork()
    town, _ = await open_round(uow, [1, 1])
    async with uow:
        await allocation.approve(uow, town, 300_00, START)
        with pytest.raises(Conflict) as waiting:
            await allocation.approve(uow, town, 300_00, START)
        assert refusal(waiting) == Refusal.ALLOCATION_NOT_YET_CREDITED
        withdrawn = await allocation.withdraw(uow, town, START, "manager")
        await uow.commit()
    assert withdrawn.tranche == 1 and withdrawn.withdrawn_by == "manager"
    async with uow:
        with pytest.raises(NotFound) as nothing:
            await allocation.credit(uow, town, START)
    assert refusal(nothing) == Refusal.ALLOCATION_NONE
    assert await approve_and_credit(uow, town, 300_00) == 300_00
    async with uow:
        with pytest.raises(Conflict) as again:
            await allocation.credit(uow, town, START)
    assert refusal(again) == Refusal.ALLOCATION_ALREADY_CREDITED
    figures = (await ledger.verify(uow, town.id)).tranches
    assert [(f.tranche, f.credited, f.posted_cents) for f in figures] == [
        (1, False, 0),
        (2, True, 300_00),
    ]


async def test_no_tranche_is_approved_while_the_window_is_open() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        town = await municipalities.add_municipality(uow, code="OPN", name="Open", now=START)
        await municipalities.open_window(uow, town, START, days=4)
        with pytest.raises(Conflict) as refused:
            await allocation.approve(uow, town, 100_00, START + timedelta(days=1))
    assert refusal(refused) == Refusal.WINDOW_STILL_OPEN


# Identity ------------------------------------------------------------------------------


async def claim(
    uow: FakeUnitOfWork, municipality_id: int, cf: str, phone: str, telegram: str | None = None
) -> m.Citizen:
    async with uow:
        citizen, _ = await identity.claim_citizen(
            uow,
            municipality_id,
            cf,
            phone=phone,
            proof=PhoneProof.SMS_CODE,
            now=START,
            telegram_user=telegram,
            channel="sms",
        )
        await uow.commit()
    return citizen


async def test_a_phone_and_a_codice_fiscale_each_belong_to_one_household(town: Town) -> None:
    uow, town_id = town.uow, town.municipality.id
    newcomer = await claim(uow, town_id, make_cf(50), "+393330000050", telegram="777")
    assert newcomer.phone == "+393330000050"
    assert await uow.identity_events.count_since(newcomer.id, "phone_bound", START) == 1
    assert await uow.identity_events.count_since(newcomer.id, "telegram_bound", START) == 1
    refusals = []
    for cf, phone, telegram in [
        (make_cf(51), "+393330000050", None),  # someone else's phone
        (make_cf(50), "+393330000051", None),  # a codice fiscale proven with another phone
        (make_cf(52), "+393330000052", "777"),  # someone else's Telegram user
    ]:
        with pytest.raises(identity.IdentityRefused) as refused:
            await claim(uow, town_id, cf, phone, telegram)
        refusals.append(refused.value.reason)
    assert refusals == ["phone_bound", "codice_fiscale_bound", "telegram_bound"]
    assert len(uow.store.rows(m.Citizen)) == 4  # the three of the town and the newcomer


async def test_a_duplicate_refused_at_the_flush_leaves_nothing_behind(town: Town) -> None:
    uow = town.uow
    erased = town.citizens[2]
    async with uow:
        erased.erased_at = START  # an erased record does not hold its codice fiscale...
        await uow.commit()
    # ...but the row still does (in reality it holds a pseudonym): the unique key refuses
    # the new citizen at its flush, and the savepoint undoes it alone.
    with pytest.raises(identity.IdentityRefused) as refused:
        await claim(uow, town.municipality.id, erased.codice_fiscale, "+393330000060")
    assert refused.value.reason == "concurrent_claim"
    assert len(uow.store.rows(m.Citizen)) == 3


# Shops: cashiers and delegates ----------------------------------------------------------


async def test_a_cashier_joins_with_the_owners_code_once_and_wrong_codes_are_limited(
    town: Town,
) -> None:
    uow = town.uow
    async with uow:
        code = await shops.create_invite(uow, town.shop.id, town.now)
        await uow.commit()

    async def accept(code: str, address: str) -> m.Shop:
        async with uow:
            try:
                return await shops.accept_invite(
                    uow, code, channel="sms", address=address, now=town.now
                )
            finally:
                await uow.commit()  # a wrong code is counted even when refused

    assert (await accept(code, "+393330000070")).id == town.shop.id
    told = reply_of(uow.keys, uow.outbox.to(SHOP_PHONE)[-1])
    assert told.texts[0].msgid.startswith("A cashier joined {shop}")
    with pytest.raises(NotAllowed) as used:
        await accept(code, "+393330000071")
    assert refusal(used) == Refusal.INVITE_INVALID
    for _ in range(shops.INVITE_TRIES_PER_DAY - 1):
        with pytest.raises(NotAllowed):
            await accept("WRONGCODE1", "+393330000071")
    async with uow:
        fresh = await shops.create_invite(uow, town.shop.id, town.now)
        await uow.commit()
    with pytest.raises(NotAllowed) as limited:
        await accept(fresh, "+393330000071")
    assert refusal(limited) == Refusal.INVITE_TOO_MANY
    town.later(days=1, minutes=1)
    assert (await accept(fresh, "+393330000071")).id == town.shop.id


async def test_a_delegate_receives_the_code_and_both_receive_the_receipt(town: Town) -> None:
    uow, holder = town.uow, town.citizens[0]
    delegate_phone = "+393330000080"
    for phone, expected in [
        (town.citizens[1].phone, Refusal.DELEGATE_PHONE_IS_CITIZEN),
        (SHOP_PHONE, Refusal.DELEGATE_PHONE_IS_SHOP),
        (holder.phone, Refusal.DELEGATE_OWN_PHONE),
    ]:
        assert phone is not None
        async with uow:
            with pytest.raises(Conflict) as refused:
                await delegates.add_delegate(
                    uow, town.municipality, holder.codice_fiscale, phone, town.now
                )
        assert refusal(refused) == expected
    async with uow:
        # The holder has vouchers: the delegate is registered once a second operator approved.
        with pytest.raises(NotAllowed) as alone:
            await delegates.add_delegate(
                uow, town.municipality, holder.codice_fiscale, delegate_phone, town.now
            )
        assert refusal(alone) == Refusal.DELEGATE_NEEDS_APPROVAL
        yes = await approved_request(
            uow, town.municipality, holder.codice_fiscale, "delegate", delegate_phone
        )
        await delegates.add_delegate(
            uow, town.municipality, holder.codice_fiscale, delegate_phone, town.now, approved=yes
        )
        await uow.commit()
    assert holder.phone is not None
    before = len(uow.outbox.to(holder.phone))
    async with uow:
        asked = await charges.request_charge(
            uow,
            shop_id=town.shop.id,
            citizen_reference=holder.codice_fiscale,
            amount_cents=5_00,
            requested_by="test",
            now=town.now,
        )
        await uow.commit()
    [coded] = [x for x in uow.outbox.to(delegate_phone) if x.charge_id == asked.charge_id]
    code = reply_of(uow.keys, coded).texts[0].params["code"]
    assert isinstance(code, str)
    assert len(uow.outbox.to(holder.phone)) == before  # the code went to one place only
    assert (await confirm(town, asked.charge_id, code)).outcome is charges.ConfirmOutcome.CONFIRMED
    receipts = [
        reply_of(uow.keys, row).texts[0].msgid
        for phone in (delegate_phone, holder.phone)
        for row in uow.outbox.to(phone)
        if row.charge_id == asked.charge_id and not row.payload.get("sensitive")
    ]
    assert receipts == ["Paid {amount} at {shop}. Remaining balance: {balance}."] * 2


# Community vouchers ---------------------------------------------------------------------


async def sell_voucher(town: Town, cents: int, buyer: str = "555") -> m.Voucher:
    uow = town.uow
    purchase = Purchase(Purpose.VOUCHER, town.municipality.id, cents, town.shop.id)
    report = community.PaymentReport(
        payload=purchase.payload(),
        currency="EUR",
        total_amount=cents,
        telegram_payment_charge_id=f"tg-{buyer}-{cents}",
        provider_payment_charge_id="provider",
        channel="telegram",
        address=buyer,
        language="it",
    )
    async with uow:
        first = await community.record_payment(uow, report, town.now)
        again = await community.record_payment(uow, report, town.now)
        await uow.commit()
    assert first.voucher is not None and not first.duplicate
    assert again.duplicate and again.voucher is not None and again.voucher.id == first.voucher.id
    return first.voucher


async def voucher_request(town: Town, voucher: m.Voucher, cents: int) -> tuple[int, str]:
    uow = town.uow
    async with uow:
        asked = await voucher_charges.request_voucher_charge(
            uow,
            shop_id=town.shop.id,
            voucher_reference=voucher.code,
            amount_cents=cents,
            requested_by="test",
            now=town.now,
        )
        await uow.commit()
    [message] = [
        x
        for x in uow.outbox.to(voucher.holder_address)
        if x.payload.get("sensitive") and x.created_at == town.now
    ][-1:]
    code = reply_of(uow.keys, message).texts[0].params["code"]
    assert isinstance(code, str)
    return asked.charge_id, code


async def voucher_confirm(town: Town, charge_id: int, code: str) -> charges.ConfirmResult:
    async with town.uow:
        result = await voucher_charges.confirm_voucher_charge(
            town.uow,
            charge_id=charge_id,
            shop_id=town.shop.id,
            typed_code=code,
            now=town.now,
            typed_by=f"sms:{SHOP_PHONE}",
        )
        await town.uow.commit()
    return result


async def test_a_voucher_pays_once_up_to_what_is_left_on_it(town: Town) -> None:
    voucher = await sell_voucher(town, 20_00)
    charge_id, code = await voucher_request(town, voucher, 15_00)
    paid = await voucher_confirm(town, charge_id, code)
    again = await voucher_confirm(town, charge_id, code)
    assert (paid.outcome, paid.citizen_balance_cents) == (charges.ConfirmOutcome.CONFIRMED, 5_00)
    assert again.outcome is charges.ConfirmOutcome.ALREADY_CONFIRMED
    town.later(minutes=1)
    short, code = await voucher_request(town, voucher, 5_01)
    refused = await voucher_confirm(town, short, code)
    assert refused.outcome is charges.ConfirmOutcome.INSUFFICIENT_FUNDS
    assert await town.uow.community.spent_on(voucher.id) == 15_00
    assert (await ledger.verify(town.uow, town.municipality.id)).ok


async def test_wrong_voucher_codes_count_against_the_shop_like_any_other(town: Town) -> None:
    voucher = await sell_voucher(town, 50_00)
    # Two wrong codes on buoni spesa, three on vouchers: the fifth locks the shop.
    for _ in range(2):
        charge_id, code = await request(town, 1_00)
        await confirm(town, charge_id, wrong(code))
    locks = []
    for _ in range(3):
        town.later(seconds=1)
        charge_id, code = await voucher_request(town, voucher, 1_00)
        locks.append((await voucher_confirm(town, charge_id, wrong(code))).shop_lock)
    assert locks == [ShopLock.NONE, ShopLock.NONE, ShopLock.TIMED]
    assert await security.wrong_codes_of_shop(town.uow, town.shop.id, town.now) == 5


async def test_the_wrong_voucher_code_that_locks_the_shop_warns_the_holder_of_wrong_codes(
    town: Town,
) -> None:
    voucher = await sell_voucher(town, 50_00)
    for _ in range(4):
        charge_id, code = await request(town, 1_00)
        await confirm(town, charge_id, wrong(code))
    town.later(seconds=1)
    charge_id, code = await voucher_request(town, voucher, 3_00)
    result = await voucher_confirm(town, charge_id, wrong(code))
    assert (result.outcome, result.shop_lock) == (
        charges.ConfirmOutcome.SHOP_LOCKED,
        ShopLock.TIMED,
    )
    told = reply_of(town.uow.keys, town.uow.outbox.to(voucher.holder_address)[-1]).texts[0]
    assert told.msgid == WRONG_CODES_WARNING  # not "the shop cancelled"
    assert told.params["amount"] == Money(3_00)
    assert (await voucher_confirm(town, charge_id, code)).outcome is (
        charges.ConfirmOutcome.NOT_PENDING
    )
    assert await town.uow.community.spent_on(voucher.id) == 0


async def test_the_last_wrong_voucher_code_cancels_and_warns_the_holder(town: Town) -> None:
    voucher = await sell_voucher(town, 50_00)
    charge_id, code = await voucher_request(town, voucher, 4_00)
    outcomes = [(await voucher_confirm(town, charge_id, wrong(code))).outcome for _ in range(3)]
    assert outcomes[-1] is charges.ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS
    told = reply_of(town.uow.keys, town.uow.outbox.to(voucher.holder_address)[-1]).texts[0]
    assert told.msgid == WRONG_CODES_WARNING


async def test_a_voucher_payment_at_a_shop_locked_meanwhile_is_void_and_its_holder_told(
    town: Town,
) -> None:
    voucher = await sell_voucher(town, 50_00)
    charge_id, code = await voucher_request(town, voucher, 5_00)
    for _ in range(5):  # another till of the same shop types wrong codes
        other, other_code = await request(town, 1_00)
        await confirm(town, other, wrong(other_code))
    result = await voucher_confirm(town, charge_id, code)
    assert (result.outcome, result.shop_lock) == (
        charges.ConfirmOutcome.SHOP_LOCKED,
        ShopLock.TIMED,
    )
    told = reply_of(town.uow.keys, town.uow.outbox.to(voucher.holder_address)[-1]).texts[0]
    assert told.msgid == VOID
    assert await town.uow.community.spent_on(voucher.id) == 0


# Revocation ------------------------------------------------------------------------------


async def test_a_revocation_takes_back_what_is_left_and_records_what_was_spent(
    town: Town,
) -> None:
    charge_id, code = await request(town, 40_00)
    await confirm(town, charge_id, code)
    pending, _ = await request(town, 10_00)
    protocol = "FAK-0"
    async with town.uow:
        revoked = await audit.revoke(town.uow, town.municipality, protocol, town.now)
        await town.uow.commit()
    assert revoked == audit.Revocation(
        returned_cents=110_00, to_recover_cents=40_00, cancelled_charges=1
    )
    assert await balance(town) == 0
    left = await town.uow.charges.by_id(pending)
    assert left is not None and left.status == ChargeStatus.CANCELLED
    async with town.uow:
        with pytest.raises(audit.AlreadyRevoked):
            await audit.revoke(town.uow, town.municipality, protocol, town.now)
    assert (await ledger.verify(town.uow, town.municipality.id)).ok


# Four eyes -------------------------------------------------------------------------------


async def test_a_determina_runs_only_when_another_manager_approves_it() -> None:
    uow = FakeUnitOfWork()
    town, _ = await open_round(uow, [1, 2])
    async with uow:
        clerk, manager, other = (
            m.Operator(
                municipality_id=town.id,
                username=name,
                role=role.value,
                password_hash="not used here",
                created_at=START,
            )
            for name, role in [
                ("clerk", operators.Role.CLERK),
                ("anna", operators.Role.MANAGER),
                ("bruno", operators.Role.MANAGER),
            ]
        )
        add_all(uow, [clerk, manager, other])
        await uow.commit()
    async with uow:
        # Two households cannot take 100.000 €: prepared only when the amount is typed again.
        with pytest.raises(Conflict) as unspent:
            await acts.prepare(
                uow, manager, acts.ActKind.DETERMINA, {"budget_cents": 100_000_00}, START
            )
        assert refusal(unspent) == Refusal.ACT_BUDGET_UNSPENT
        figures = await act_figures.determina(uow, town, 100_000_00)
        assert unspent.value.params["unspent_cents"] == figures.unspent_cents > 0
        assert figures.unspent_cents == figures.left_cents == 100_000_00 - figures.allocated_cents
        assert not await acts.open_acts(uow, town.id)  # nothing prepared
        with pytest.raises(Conflict):
            await acts.prepare(
                uow,
                manager,
                acts.ActKind.DETERMINA,
                {"budget_cents": 100_000_00, "confirm_cents": 10_000_00},
                START,
            )
        act = await acts.prepare(
            uow,
            manager,
            acts.ActKind.DETERMINA,
            {"budget_cents": 100_000_00, "confirm_cents": 100_000_00},
            START,
        )
    assert act.params == {
        "budget_cents": 100_000_00,
        "tranche": 1,
        "state": figures.state,
        "unspent_cents": figures.unspent_cents,
    }
    committed = uow.commits
    async with uow:
        with pytest.raises(operators.RoleRefused):
            await acts.approve(uow, clerk, act.id, START)
        with pytest.raises(acts.SamePerson):
            await acts.approve(uow, manager, act.id, START)
    assert uow.commits == committed
    round_ = await uow.rounds.latest(town.id)
    assert round_ is not None
    assert await uow.allocations.latest_standing(round_.id) is None  # nothing ran
    async with uow:
        approved = await acts.approve(uow, other, act.id, START)
    assert uow.commits == committed + 1  # the use case committed its own transaction
    assert approved.status == "approved" and approved.outcome is not None
    assert approved.outcome["tranche"] == 1 and approved.outcome["households"] == 2
    assert approved.outcome["allocated_cents"] == figures.allocated_cents
    assert approved.outcome["changed_since_preparation"] is False
    log = [entry.action for entry in await uow.activity.newest_first(town.id, None, 0)]
    assert log == ["determina.approve", "determina.prepare", "fund.record"]  # fund: the setup
    async with uow:
        with pytest.raises(acts.ActNotOpen):
            await acts.approve(uow, other, act.id, START)


# Applications ----------------------------------------------------------------------------


def answers(index: int, phone: str | None = None) -> applications.ApplicationInput:
    return applications.ApplicationInput(
        make_cf(index), phone or f"+39333{3000000 + index:07d}", 2, False, False, 0, 0, 0
    )


async def test_one_application_per_household_while_the_window_is_open() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        town = await municipalities.add_municipality(uow, code="APP", name="Apply", now=START)
        await municipalities.open_window(uow, town, START, days=4)
        first = await applications.submit_application(
            uow, town, answers(1), source="paper", now=START
        )
        second = await applications.submit_application(
            uow, town, answers(2), source="paper", now=START
        )
        with pytest.raises(Conflict) as twice:
            await applications.submit_application(uow, town, answers(1), source="paper", now=START)
        await uow.commit()
    assert refusal(twice) == Refusal.APPLICATION_ALREADY_APPLIED
    assert first.protocol != second.protocol
    async with uow:
        with pytest.raises(NotAllowed) as closed:
            await applications.submit_application(
                uow, town, answers(3), source="paper", now=START + timedelta(days=4)
            )
    assert refusal(closed) == Refusal.APPLICATION_WINDOW_CLOSED
    assert len(uow.store.rows(m.Application)) == 2


async def test_a_paper_import_is_all_or_nothing() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        town = await municipalities.add_municipality(uow, code="IMP", name="Import", now=START)
        await municipalities.open_window(uow, town, START, days=4)
        await uow.commit()
    shared_phone = "+393334444444"
    rows = [
        (answers(1), START),
        (answers(2, shared_phone), START),
        (answers(3, shared_phone), START),
    ]
    async with uow:
        with pytest.raises(paper_applications.ImportRefused) as refused:
            await applications.import_applications(uow, town, rows, START)
    assert [problem.index for problem in refused.value.problems] == [2]
    assert uow.store.rows(m.Application) == [] and uow.store.rows(m.Citizen) == []
    async with uow:
        count = await applications.import_applications(uow, town, rows[:2], START)
        await uow.commit()
    assert count == 2
    protocols = sorted(x.protocol for x in uow.store.rows(m.Application))
    assert len(set(protocols)) == 2

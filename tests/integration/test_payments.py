"""Charges and one-time codes over real databases (docs/payments-and-codes.md)."""

from __future__ import annotations

import asyncio
from importlib import resources

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import InsufficientFunds, NotAllowed, NotFound
from core.domain.ledger import PostingKind
from core.domain.messages import Money, reply_from_json
from core.domain.shops import ShopCategory
from core.services import audit, charges, ledger, municipalities, refund_codes
from core.services.charges import ConfirmOutcome
from core.services.outbox import reply_of
from core.services.shops import ShopInput, approve_shop, register_shop
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import (
    Town,
    assert_ledger_ok,
    confirm,
    distinct_draws,
    last_code_for,
    make_partita_iva,
    make_town,
    outbox_to,
    owner_chat,
    request,
)


def default_policy_text() -> str:
    return resources.files("core.policies").joinpath("belforte.toml").read_text("utf-8")


async def another_shop(core: Core, town: Town, index: int) -> int:
    """One more approved shop in the town (each shop has one pending charge per person)."""
    async with core.uow() as uow:
        shop = await register_shop(
            uow,
            town.municipality_id,
            ShopInput(
                f"Bottega {index}",
                make_partita_iva(200 + index),
                ShopCategory.GROCERY,
                "Via Roma 3",
                "Testville",
                "62020",
                None,
                None,
                "IT40S0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address=f"+39334{5000000 + index:07d}",
            now=core.now(),
        )
        await approve_shop(uow, town.municipality_id, shop.id, core.now())
        await uow.commit()
        return shop.id


async def balance(core: Core, municipality_id: int, citizen_id: int) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, municipality_id, citizen_id)


async def test_code_confirms_payment_and_citizen_gets_receipt(core: Core) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    assert len(code) >= 6 and code.isdigit()

    result = await confirm(core, town.shop_id, requested.charge_id, code[:3] + " " + code[3:])

    assert result.outcome is ConfirmOutcome.CONFIRMED
    assert result.citizen_balance_cents == 150_00 - 12_50
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 137_50
    receipt = reply_from_json((await outbox_to(core, town.citizen_phones[0]))[-1].payload)
    assert receipt.texts[0].msgid.startswith("Paid {amount} at {shop}")
    await assert_ledger_ok(core, town.municipality_id)


async def test_code_is_stored_hashed(core: Core) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_phones[0], 5_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None
        assert code not in (charge.code_hash, charge.code_salt)


async def test_pending_charge_holds_no_money(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await request(core, town.shop_id, town.citizen_cfs[0], 100_00)
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00


async def test_confirming_twice_pays_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 20_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    first = await confirm(core, town.shop_id, requested.charge_id, code)
    second = await confirm(core, town.shop_id, requested.charge_id, code)
    assert (first.outcome, second.outcome) == (
        ConfirmOutcome.CONFIRMED,
        ConfirmOutcome.ALREADY_CONFIRMED,
    )
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 130_00
    async with core.uow() as uow:
        postings = await uow.session.scalar(
            select(func.count())
            .select_from(m.Posting)
            .where(m.Posting.charge_id == requested.charge_id)
        )
    assert postings == 1


async def test_wrong_codes_cancel_the_charge_and_warn_the_citizen(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    code = await last_code_for(core, phone, requested.charge_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    outcomes = [
        (await confirm(core, town.shop_id, requested.charge_id, wrong)).outcome for _ in range(3)
    ]
    assert outcomes == [
        ConfirmOutcome.WRONG_CODE,
        ConfirmOutcome.WRONG_CODE,
        ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS,
    ]
    # The right code no longer works on a cancelled charge.
    assert (await confirm(core, town.shop_id, requested.charge_id, code)).outcome is (
        ConfirmOutcome.NOT_PENDING
    )
    warnings = [reply_from_json(x.payload).texts[0].msgid for x in await outbox_to(core, phone)]
    assert sum(w.startswith("Warning:") for w in warnings) == 1
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00


async def test_the_last_wrong_code_a_till_may_type_cancels_and_warns_on_every_till(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SMS till's session allows two wrong codes (`till_tries`): its second is the
    payment's last, judged by the same state machine as the third elsewhere: the charge is
    cancelled for too many attempts and the citizen warned, never told the shop cancelled.
    An old code of an earlier payment of the same citizen is one of those wrong codes."""
    distinct_draws(monkeypatch)  # the earlier payment's code is never this one's
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    earlier = await request(core, town.shop_id, town.citizen_cfs[0], 3_00)
    old = await last_code_for(core, phone, earlier.charge_id)
    assert (await confirm(core, town.shop_id, earlier.charge_id, old)).outcome is (
        ConfirmOutcome.CONFIRMED
    )
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 12_50)
    code = await last_code_for(core, phone, requested.charge_id)
    guess = "123456" if code != "123456" else "654321"
    results = []
    for typed, till_tries in ((old, 2), (guess, 1)):
        async with core.uow() as uow:
            results.append(
                await charges.confirm_charge(
                    uow,
                    charge_id=requested.charge_id,
                    shop_id=town.shop_id,
                    typed_code=typed,
                    now=core.now(),
                    typed_by=f"sms:{town.shop_phone}",
                    till_tries=till_tries,
                )
            )
            await uow.commit()
    assert [(r.outcome, r.attempts_left) for r in results] == [
        (ConfirmOutcome.WRONG_CODE, 1),
        (ConfirmOutcome.CANCELLED_TOO_MANY_ATTEMPTS, 0),
    ]
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason, charge.attempts) == (
            "cancelled",
            "too_many_attempts",
            2,
        )
        paid = await uow.charges.by_id(earlier.charge_id)
        assert paid is not None and paid.status == "confirmed"
    told = [reply_from_json(x.payload).texts[0] for x in await outbox_to(core, phone)]
    assert [x.msgid for x in told[-1:]] == [
        "Warning: {shop} typed a wrong code too many times. The payment of {amount} was "
        "cancelled. Never give your code to anyone but the cashier."
    ]
    assert told[-1].params["amount"] == Money(12_50)
    assert not any(x.msgid.startswith("{shop} cancelled the payment") for x in told)
    assert (await confirm(core, town.shop_id, requested.charge_id, code)).outcome is (
        ConfirmOutcome.NOT_PENDING
    )
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00 - 3_00


async def test_a_cancelled_charge_tells_the_citizen_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 7_00)
    for expected in (True, False):
        async with core.uow() as uow:
            cancelled = await charges.cancel_charge(
                uow, charge_id=requested.charge_id, shop_id=town.shop_id, now=core.now()
            )
            await uow.commit()
        assert cancelled is expected
    notices = [
        reply_from_json(row.payload).texts[0]
        for row in await outbox_to(core, town.citizen_phones[0])
    ]
    void = "{shop} cancelled the payment of {amount}. The code is no longer valid."
    assert [x.params["amount"] for x in notices if x.msgid == void] == [Money(7_00)]
    result = await confirm(core, town.shop_id, requested.charge_id, "123456")
    assert result.outcome is not ConfirmOutcome.CONFIRMED


async def test_expired_charge_cannot_be_confirmed(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    clock.advance(minutes=11)
    result = await confirm(core, town.shop_id, requested.charge_id, code)
    assert result.outcome is ConfirmOutcome.EXPIRED
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00


async def test_charge_above_balance_is_refused_only_after_the_code(core: Core) -> None:
    """The shop learns nothing of the balance before the citizen gives the code; the code
    message tells the citizen the balance is not enough; the shop's answer is neutral."""
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 150_01)
    [message] = [
        x for x in await outbox_to(core, town.citizen_phones[0]) if x.charge_id is not None
    ]
    said = reply_of(core.keys, message).texts[0]
    assert said.msgid.startswith("{shop} asks {amount}. Code: {code}. You only have {balance}")
    assert said.params["balance"] == Money(150_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    result = await confirm(core, town.shop_id, requested.charge_id, code)
    assert result.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS
    assert result.citizen_balance_cents is None
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_unknown_citizen_and_other_shop_are_refused(core: Core) -> None:
    town = await make_town(core, citizens=1)
    with pytest.raises(NotFound):
        await request(core, town.shop_id, "ZZZZZZZZZZ", 1_00)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    with pytest.raises(NotFound):
        await confirm(core, town.shop_id + 999, requested.charge_id, code)


async def test_refund_same_day_only(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    paid = []
    for _ in range(2):
        requested = await request(core, town.shop_id, town.citizen_cfs[0], 30_00)
        code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
        await confirm(core, town.shop_id, requested.charge_id, code)
        paid.append(requested.charge_id)
    async with core.uow() as uow:
        assert (
            await charges.refund_charge(
                uow,
                charge_id=paid[0],
                shop_id=town.shop_id,
                by=await owner_chat(uow, town.shop_id),
                now=core.now(),
            )
            == 120_00
        )
        await uow.commit()
    clock.advance(days=1)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed):
            await charges.refund_charge(
                uow,
                charge_id=paid[1],
                shop_id=town.shop_id,
                by=await owner_chat(uow, town.shop_id),
                now=core.now(),
            )
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 120_00
    await assert_ledger_ok(core, town.municipality_id)


async def test_fifty_concurrent_confirms_pay_exactly_what_the_balance_allows(core: Core) -> None:
    """Balance for exactly 10 charges, 50 charges (of 50 shops: a shop's new charge replaces
    its pending one) confirmed at once: 10 paid, balance 0."""
    policy = default_policy_text().replace(
        "codes_per_person_per_hour = 6", "codes_per_person_per_hour = 60"
    )
    town = await make_town(core, citizens=1, policy_toml=policy)
    shops = [town.shop_id, *[await another_shop(core, town, index) for index in range(49)]]
    pending = []
    for shop_id in shops:
        requested = await request(core, shop_id, town.citizen_cfs[0], 15_00)
        pending.append(
            (
                shop_id,
                requested.charge_id,
                await last_code_for(core, town.citizen_phones[0], requested.charge_id),
            )
        )

    results = await asyncio.gather(
        *(confirm(core, shop_id, charge_id, code) for shop_id, charge_id, code in pending)
    )

    outcomes = [r.outcome for r in results]
    assert outcomes.count(ConfirmOutcome.CONFIRMED) == 10
    assert outcomes.count(ConfirmOutcome.INSUFFICIENT_FUNDS) == 40
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 0
    async with core.uow() as uow:
        check = await ledger.verify(uow, town.municipality_id)
        total = await uow.session.scalar(select(func.sum(m.Account.balance_cents)))
    assert check.ok and total == 0


async def test_repeated_concurrent_confirm_of_one_charge_posts_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 7_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    results = await asyncio.gather(
        *(confirm(core, town.shop_id, requested.charge_id, code) for _ in range(10))
    )
    assert [r.outcome for r in results].count(ConfirmOutcome.CONFIRMED) == 1
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 143_00


async def test_unit_of_work_rolls_back_unless_committed(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await charges.request_charge(
            uow,
            shop_id=town.shop_id,
            citizen_reference=town.citizen_cfs[0],
            amount_cents=1_00,
            requested_by="test",
            now=core.now(),
        )
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.Charge)) == 0


async def test_posting_refuses_overdraft_and_empty_amounts(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        with pytest.raises(InsufficientFunds):
            await ledger.post(
                uow,
                municipality_id=town.municipality_id,
                kind=PostingKind.PAYMENT,
                from_owner=town.citizen_ids[0],
                to_owner=town.shop_id,
                amount_cents=150_01,
                now=core.now(),
            )
        with pytest.raises(ValueError):
            await ledger.post(
                uow,
                municipality_id=town.municipality_id,
                kind=PostingKind.PAYMENT,
                from_owner=town.citizen_ids[0],
                to_owner=town.shop_id,
                amount_cents=0,
                now=core.now(),
            )
    async with core.uow() as uow:
        assert (
            await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0]) == 150_00
        )
    await assert_ledger_ok(core, town.municipality_id)


async def test_a_payment_made_before_a_revocation_is_not_refunded(core: Core) -> None:
    """Trial finding: the office revoked a household's vouchers (the balance left went back
    to the fund, what was spent became the sum to recover); a shop's STORNO of an earlier
    payment then put that money back on the revoked balance, spendable again, while the
    office still claimed it. Only the office undoes it; a payment made afterwards (money of
    another round) is still refunded as usual."""
    town = await make_town(core, citizens=1)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 30_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    await confirm(core, town.shop_id, requested.charge_id, code)
    async with core.uow() as uow:
        application = await uow.applications.latest_for_citizen(town.citizen_ids[0])
        assert application is not None
        municipality = await municipalities.require(uow, town.code)
        await audit.revoke(uow, municipality, application.protocol, core.now(), reason="ISEE")
        await uow.commit()
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 0
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as refused:
            await charges.refund_charge(
                uow,
                charge_id=requested.charge_id,
                shop_id=town.shop_id,
                by=await owner_chat(uow, town.shop_id),
                now=core.now(),
            )
        assert refused.value.code == "refund.revoked"
        # A cashier's refund is refused before any code goes to the customer.
        with pytest.raises(NotAllowed):
            await refund_codes.send_refund_code(
                uow,
                charge_id=requested.charge_id,
                shop_id=town.shop_id,
                now=core.now(),
                by=("sms", town.shop_phone),
                content="refund",
            )
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 0
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None and charge.status == "confirmed"
    await assert_ledger_ok(core, town.municipality_id)

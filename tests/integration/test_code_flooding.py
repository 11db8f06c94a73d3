"""No flooding of payment codes (docs/payments-and-codes.md), on SQLite and PostgreSQL: a new
charge from a shop replaces the one it has pending for the same person, and a person receives
at most `codes_per_person_per_hour` payment codes an hour from all shops together."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import pytest

from core.bootstrap import Core
from core.domain.charges import ChargeStatus
from core.domain.community import Purchase, Purpose
from core.domain.errors import NotAllowed, Refusal
from core.domain.messages import Money
from core.services import charges, community
from core.services.charges import ConfirmOutcome
from core.services.outbox import reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import confirm, last_code_for, make_town, outbox_to, request, till_of
from tests.integration.test_community import (
    ask_voucher_payment,
    buy,
    enable,
    last_code,
    report,
    second_shop,
    type_voucher_code,
)

REPLACED = (
    "{shop} asks {amount}. New code: {code} (the previous one is no longer valid). Tell it "
    "to the cashier only if you agree. Valid {minutes} min."
)


async def statuses(core: Core, *charge_ids: int) -> list[tuple[str, str | None]]:
    async with core.uow() as uow:
        found = [await uow.charges.by_id(x) for x in charge_ids]
    return [(x.status, x.closed_reason) for x in found if x is not None]


async def test_a_new_charge_of_the_same_shop_replaces_the_pending_one(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    first = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    old_code = await last_code_for(core, phone, first.charge_id)
    before = len(await outbox_to(core, phone))
    second = await request(core, town.shop_id, town.citizen_cfs[0], 6_00)
    # One message, the new code's, says that the previous code is void.
    sent = await outbox_to(core, phone)
    assert len(sent) == before + 1
    assert reply_of(core.keys, sent[-1]).texts[0].msgid == REPLACED
    assert await statuses(core, first.charge_id, second.charge_id) == [
        (ChargeStatus.CANCELLED, "replaced"),
        (ChargeStatus.PENDING, None),
    ]
    refused = await confirm(core, town.shop_id, first.charge_id, old_code)
    assert refused.outcome is ConfirmOutcome.NOT_PENDING
    new_code = await last_code_for(core, phone, second.charge_id)
    paid = await confirm(core, town.shop_id, second.charge_id, new_code)
    assert paid.outcome is ConfirmOutcome.CONFIRMED


async def test_another_shops_pending_charge_is_left_alone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await second_shop(core, town)
    first = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    await request(core, other, town.citizen_cfs[0], 6_00)
    assert await statuses(core, first.charge_id) == [(ChargeStatus.PENDING, None)]


async def test_codes_per_person_per_hour_across_shops(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=2)
    other = await second_shop(core, town)
    phone = town.citizen_phones[0]
    for index in range(6):
        await request(core, (town.shop_id, other)[index % 2], town.citizen_cfs[0], 1_00)
    async with core.uow() as uow:
        pending = [x.id for x in await uow.charges.pending_for_citizen(town.citizen_ids[0])]
    before = len(await outbox_to(core, phone))
    with pytest.raises(NotAllowed) as refused:
        await request(core, other, town.citizen_cfs[0], 1_00)
    assert refused.value.code == Refusal.PAYMENT_CODES_TOO_MANY
    # Nothing sent, and the codes held stay valid.
    assert len(await outbox_to(core, phone)) == before
    async with core.uow() as uow:
        still = [x.id for x in await uow.charges.pending_for_citizen(town.citizen_ids[0])]
    assert still == pending and len(still) == 2
    # Another person is not limited by it; an hour later this one is not either.
    await request(core, other, town.citizen_cfs[1], 1_00)
    clock.advance(minutes=61)
    await request(core, other, town.citizen_cfs[0], 1_00)


async def test_one_shop_using_up_the_cap_does_not_stop_another_shop(core: Core) -> None:
    """Trial finding: a shop that asked six charges and cancelled them kept the person from
    paying at every other shop for an hour. Another shop's first code in the hour goes."""
    town = await make_town(core, citizens=1)
    other = await second_shop(core, town)
    phone = town.citizen_phones[0]
    for _index in range(6):
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    with pytest.raises(NotAllowed) as flooding:
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    assert flooding.value.code == Refusal.PAYMENT_CODES_TOO_MANY
    honest = await request(core, other, town.citizen_cfs[0], 4_00)
    code = await last_code_for(core, phone, honest.charge_id)
    paid = await confirm(core, other, honest.charge_id, code)
    assert paid.outcome is ConfirmOutcome.CONFIRMED
    # The cap still holds for that shop too from its second code in the hour.
    with pytest.raises(NotAllowed) as again:
        await request(core, other, town.citizen_cfs[0], 1_00)
    assert again.value.code == Refusal.PAYMENT_CODES_TOO_MANY


async def test_the_time_a_refused_shop_is_told_depends_only_on_its_own_codes(
    core: Core, clock: FakeClock
) -> None:
    """Trial 9: a shop refused after five codes of its own was told "try again from" the
    minute another shop's older code left the hour: when another shop had asked this
    person for a code. It is told when its own codes leave the hour; the person still
    receives no more than the cap."""
    town = await make_town(core, citizens=1)
    other = await second_shop(core, town)
    phone = town.citizen_phones[0]
    await request(core, other, town.citizen_cfs[0], 1_00)  # 08:00, another shop
    clock.advance(minutes=20)
    for _index in range(5):  # 08:20 … 08:24, this shop
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
        clock.advance(minutes=1)
    before = len(await outbox_to(core, phone))
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    assert refused.value.code == Refusal.PAYMENT_CODES_TOO_MANY
    assert len(await outbox_to(core, phone)) == before
    # Its last code (08:24) leaves the hour at 09:24: from 09:25, never 09:01.
    told = datetime.fromisoformat(str(refused.value.params["when"]))
    assert told == datetime(2026, 4, 6, 9, 25, tzinfo=UTC)
    # And it is let through then.
    clock.current = told
    await request(core, town.shop_id, town.citizen_cfs[0], 1_00)


async def test_the_cap_is_a_policy_setting(core: Core) -> None:
    default = resources.files("core.policies").joinpath("belforte.toml").read_text("utf-8")
    assert "codes_per_person_per_hour = 6" in default
    town = await make_town(
        core,
        citizens=1,
        policy_toml=default.replace(
            "codes_per_person_per_hour = 6", "codes_per_person_per_hour = 2"
        ),
    )
    for _index in range(2):
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    with pytest.raises(NotAllowed):
        await request(core, town.shop_id, town.citizen_cfs[0], 1_00)


async def test_community_vouchers_follow_the_same_rules(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 30_00)

    async def ask(cents: int) -> int:
        return await ask_voucher_payment(core, town.shop_id, voucher, cents)

    first = await ask(5_00)
    second = await ask(6_00)
    async with core.uow() as uow:
        rows = [await uow.session.get(m.VoucherCharge, x) for x in (first, second)]
        sent = await uow.outbox.for_address("telegram", voucher.holder_address)
    assert [(x.status, x.closed_reason) for x in rows if x is not None] == [
        ("cancelled", "replaced"),
        ("pending", None),
    ]
    assert (
        reply_of(core.keys, sent[-1])
        .texts[0]
        .msgid.startswith(
            "{shop} asks {amount} from voucher {voucher}. New code: {code}; the previous"
        )
    )
    code = await last_code(core, voucher.holder_address)
    result = await type_voucher_code(core, town.shop_id, second, code)
    assert result.outcome is ConfirmOutcome.CONFIRMED
    for _index in range(4):
        await ask(1_00)
    with pytest.raises(NotAllowed) as refused:
        await ask(1_00)
    assert refused.value.code == Refusal.PAYMENT_CODES_TOO_MANY


REFUSED = "The payment of {amount} at {shop} was refused: your balance is {balance}."


@pytest.mark.parametrize("committed", [False, True])
async def test_a_payment_the_balance_no_longer_covers_is_refused_and_the_citizen_told(
    core: Core, committed: bool
) -> None:
    """Two shops each ask 100 of 150; both codes are given; the second payment is refused
    and the citizen hears why, with the balance (the shop hears only that it was refused)."""
    town = await make_town(core, citizens=1)
    other = await second_shop(core, town)
    phone = town.citizen_phones[0]
    first = await request(core, town.shop_id, town.citizen_cfs[0], 100_00)
    second = await request(core, other, town.citizen_cfs[0], 100_00)
    first_code = await last_code_for(core, phone, first.charge_id)
    second_code = await last_code_for(core, phone, second.charge_id)
    assert (await confirm(core, town.shop_id, first.charge_id, first_code)).outcome is (
        ConfirmOutcome.CONFIRMED
    )
    if committed:
        result = await charges.confirm_charge_committed(
            core,
            charge_id=second.charge_id,
            shop_id=other,
            typed_code=second_code,
            now=core.now(),
            typed_by=await till_of(core, other),
        )
    else:
        result = await confirm(core, other, second.charge_id, second_code)
    assert result.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS
    notice = reply_of(core.keys, (await outbox_to(core, phone))[-1]).texts[0]
    assert notice.msgid == REFUSED
    assert notice.params["balance"] == Money(50_00)
    assert notice.params["amount"] == Money(100_00)
    assert await statuses(core, second.charge_id) == [
        (ChargeStatus.CANCELLED, "insufficient_funds")
    ]


async def test_a_voucher_payment_refused_for_its_balance_tells_the_holder(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 30_00)
    charge_id = await ask_voucher_payment(core, town.shop_id, voucher, 40_00)
    code = await last_code(core, voucher.holder_address)
    result = await type_voucher_code(core, town.shop_id, charge_id, code)
    async with core.uow() as uow:
        sent = await uow.outbox.for_address("telegram", voucher.holder_address)
    assert result.outcome is ConfirmOutcome.INSUFFICIENT_FUNDS
    notice = reply_of(core.keys, sent[-1]).texts[0]
    assert notice.msgid == (
        "The payment of {amount} at {shop} was refused: voucher {voucher} has {balance}."
    )
    assert notice.params["balance"] == Money(30_00)


async def test_a_holders_voucher_at_another_shop_is_not_refused_for_this_shops_codes(
    core: Core, clock: FakeClock
) -> None:
    """Trial 10: community vouchers kept the plain cap per holder. A holder with a voucher
    at each of two shops: one shop asking six codes of its voucher kept the other shop from
    charging its own for an hour, and the other shop was told "try again from" the minute
    the first shop's oldest code left the hour (that another shop had asked this person,
    and when). As for buoni spesa: a shop's first code in the hour goes, and a refused
    shop is told when its own codes leave the hour."""
    town = await make_town(core, citizens=0)
    await enable(core, town)
    other = await second_shop(core, town)
    await enable(core, town, shop_id=other)
    here = await buy(core, town, 30_00)
    purchase = Purchase(Purpose.VOUCHER, town.municipality_id, 30_00, shop_id=other)
    async with core.uow() as uow:
        bought = await community.record_payment(
            uow, report(purchase.payload(), 30_00, "tg-charge-2"), core.now()
        )
        await uow.commit()
    there = bought.voucher
    assert there is not None and there.holder_address == here.holder_address
    for _index in range(6):  # 08:00 … 08:05, the first shop
        await ask_voucher_payment(core, town.shop_id, here, 1_00)
        clock.advance(minutes=1)
    clock.advance(minutes=20)  # 08:26
    first = await ask_voucher_payment(core, other, there, 4_00)
    code = await last_code(core, there.holder_address)
    paid = await type_voucher_code(core, other, first, code)
    assert paid.outcome is ConfirmOutcome.CONFIRMED
    clock.advance(minutes=1)  # 08:27
    with pytest.raises(NotAllowed) as refused:
        await ask_voucher_payment(core, other, there, 1_00)
    assert refused.value.code == Refusal.PAYMENT_CODES_TOO_MANY
    # Its own code (08:26) leaves the hour at 09:26: from 09:27, never 09:01.
    told = datetime.fromisoformat(str(refused.value.params["when"]))
    assert told == datetime(2026, 4, 6, 9, 27, tzinfo=UTC)

"""Only the shop that asked a payment confirms it (docs/payments-and-codes.md, "Who may
type the code"): the service itself checks the chat that types the customer's code, on
SQLite and PostgreSQL, whatever the dialogue checked before.

A chat that is not the owner nor a cashier of the payment's shop (a stranger, another
shop's till, a cashier removed meanwhile) is told what an unknown payment is told, before
the code is looked at: no try is spent, nothing counts against the shop, nobody is
warned, and the shop's own till still confirms with the same code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import NotFound, Refusal
from core.domain.shops import MemberRole
from core.services import charges, voucher_charges
from core.services.charges import ConfirmOutcome
from core.storage import models as m
from tests.factories import Town, confirm, last_code_for, make_town, outbox_to, request, till_of
from tests.integration.test_community import ask_voucher_payment, buy, enable, last_code
from tests.integration.test_payments import another_shop, balance

CASHIER = ("telegram", "4242")
STRANGER = ("sms", "+393471234567")


async def add_cashier(core: Core, shop_id: int, chat: tuple[str, str]) -> None:
    async with core.uow() as uow:
        uow.session.add(
            m.ShopMember(
                shop_id=shop_id,
                channel=chat[0],
                address=chat[1],
                role=MemberRole.CASHIER.value,
                created_at=core.now(),
                phone="+393470000042",
            )
        )
        await uow.commit()


async def waiting(core: Core, town: Town, cents: int = 12_50) -> tuple[int, str]:
    """A payment the town's shop asked of its first citizen, with the code she received."""
    requested = await request(core, town.shop_id, town.citizen_cfs[0], cents)
    return requested.charge_id, await last_code_for(
        core, town.citizen_phones[0], requested.charge_id
    )


async def charge_row(core: Core, charge_id: int) -> tuple[str, int]:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None
    return charge.status, charge.attempts


async def wrong_code_rows(core: Core) -> int:
    async with core.uow() as uow:
        counted = await uow.session.scalar(
            select(func.count())
            .select_from(m.SecurityEvent)
            .where(m.SecurityEvent.kind == "wrong_payment_code")
        )
    return int(counted or 0)


async def refused(core: Core, town: Town, charge_id: int, code: str, by: tuple[str, str]) -> None:
    """`by` types `code` for the payment: refused as a payment that does not exist, and
    nothing of the payment, the shop or the customer changed."""
    messages = len(await outbox_to(core, town.citizen_phones[0]))
    with pytest.raises(NotFound) as raised:
        await confirm(core, town.shop_id, charge_id, code, by=by)
    assert raised.value.code == Refusal.CHARGE_NOT_FOUND
    assert await charge_row(core, charge_id) == ("pending", 0)
    assert await wrong_code_rows(core) == 0
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00
    assert len(await outbox_to(core, town.citizen_phones[0])) == messages


async def test_a_stranger_with_the_right_code_is_told_the_payment_does_not_exist(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    charge_id, code = await waiting(core, town)

    await refused(core, town, charge_id, code, STRANGER)

    # The code was not spent: the shop's own till confirms with it.
    result = await confirm(core, town.shop_id, charge_id, code)
    assert result.outcome is ConfirmOutcome.CONFIRMED
    assert await balance(core, town.municipality_id, town.citizen_ids[0]) == 150_00 - 12_50


async def test_a_wrong_code_from_a_stranger_spends_no_try_and_counts_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    charge_id, code = await waiting(core, town)
    wrong = "000000" if code != "000000" else "111111"

    for _ in range(5):
        await refused(core, town, charge_id, wrong, STRANGER)

    assert (await confirm(core, town.shop_id, charge_id, code)).outcome is ConfirmOutcome.CONFIRMED


async def test_another_shops_till_cannot_confirm_this_shops_payment(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    charge_id, code = await waiting(core, town)
    channel, _, address = (await till_of(core, other)).partition(":")

    await refused(core, town, charge_id, code, (channel, address))
    # Naming its own shop does not help: the payment is not that shop's.
    with pytest.raises(NotFound):
        await confirm(core, other, charge_id, code, by=(channel, address))
    assert await charge_row(core, charge_id) == ("pending", 0)


async def test_any_cashier_of_the_shop_confirms_and_a_removed_one_cannot(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_cashier(core, town.shop_id, CASHIER)
    charge_id, code = await waiting(core, town, 10_00)

    paid = await confirm(core, town.shop_id, charge_id, code, by=CASHIER)
    assert paid.outcome is ConfirmOutcome.CONFIRMED

    again, code = await waiting(core, town, 5_00)
    async with core.uow() as uow:
        member = await uow.shops.member_at(town.shop_id, *CASHIER)
        assert member is not None
        await uow.delete(member)
        await uow.commit()
    with pytest.raises(NotFound):
        await confirm(core, town.shop_id, again, code, by=CASHIER)
    assert await charge_row(core, again) == ("pending", 0)


async def test_a_committed_confirmation_checks_the_chat_too(core: Core) -> None:
    """`confirm_charge_committed`: on SQLite the group commit's one trip, on PostgreSQL a
    unit of work."""
    town = await make_town(core, citizens=1)
    charge_id, code = await waiting(core, town)

    with pytest.raises(NotFound):
        await charges.confirm_charge_committed(
            core,
            charge_id=charge_id,
            shop_id=town.shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=":".join(STRANGER),
        )

    assert await charge_row(core, charge_id) == ("pending", 0)
    result = await charges.confirm_charge_committed(
        core,
        charge_id=charge_id,
        shop_id=town.shop_id,
        typed_code=code,
        now=core.now(),
        typed_by=await till_of(core, town.shop_id),
    )
    assert result.outcome is ConfirmOutcome.CONFIRMED


async def test_a_community_voucher_payment_is_confirmed_only_by_its_shop(core: Core) -> None:
    town = await make_town(core, citizens=0)
    await enable(core, town)
    voucher = await buy(core, town, 30_00)
    charge_id = await ask_voucher_payment(core, town.shop_id, voucher, 12_00)
    code = await last_code(core, voucher.holder_address)
    owner = await till_of(core, town.shop_id)

    async with core.uow() as uow:
        with pytest.raises(NotFound):
            await voucher_charges.confirm_voucher_charge(
                uow,
                charge_id=charge_id,
                shop_id=town.shop_id,
                typed_code=code,
                now=core.now(),
                typed_by=":".join(STRANGER),
            )
    async with core.uow() as uow:
        charge = await uow.session.get(m.VoucherCharge, charge_id)
        assert charge is not None and (charge.status, charge.attempts) == ("pending", 0)
        result = await voucher_charges.confirm_voucher_charge(
            uow,
            charge_id=charge_id,
            shop_id=town.shop_id,
            typed_code=code,
            now=core.now(),
            typed_by=owner,
        )
        await uow.commit()
    assert result.outcome is ConfirmOutcome.CONFIRMED

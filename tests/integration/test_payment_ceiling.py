"""The largest single payment a shop may ask (Policy.payment_ceiling_cents), in the charge
service: refused before anybody is looked up and before any code is sent, in the same
words for every customer (docs/payments-and-codes.md, "No oracles for shops")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import InvalidIdentifier, NotAllowed, PolicyError, Refusal
from core.domain.policy import parse_policy
from core.services import charges, security, voucher_charges
from core.services.municipalities import default_policy_text
from core.storage import models as m
from tests.factories import make_cf, make_town, request
from tests.integration.test_community import buy, enable


async def outbox_rows(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count(m.OutboxMessage.id))) or 0)


async def lookups(core: Core) -> int:
    async with core.uow() as uow:
        return await security.count(uow, security.LOOKUP, core.now() - timedelta(hours=1))


def test_the_ceiling_is_the_largest_household_amount_unless_the_town_sets_one() -> None:
    assert parse_policy(default_policy_text()).payment_ceiling_cents() == 500_00
    own = parse_policy(default_policy_text() + "\nmax_payment_eur = 250\n")
    assert own.payment_ceiling_cents() == 250_00
    for wrong in ("0", "10000.01", "-1", '"abc"'):
        with pytest.raises(PolicyError) as refused:
            parse_policy(default_policy_text() + f"\nmax_payment_eur = {wrong}\n")
        assert refused.value.key == "payments.max_payment_eur"


async def test_above_the_ceiling_nothing_is_looked_up_nor_sent(core: Core) -> None:
    town = await make_town(core, citizens=1)
    before = await outbox_rows(core)
    # A holder and nobody at all: the same refusal, the same figure, no lookup counted.
    for who in (town.citizen_cfs[0], make_cf(77)):
        with pytest.raises(NotAllowed) as refused:
            await request(core, town.shop_id, who, 500_01)
        assert refused.value.code == Refusal.PAYMENT_ABOVE_LIMIT
        assert refused.value.params == {"limit": 500_00}
    assert await lookups(core) == 0
    assert await outbox_rows(core) == before
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count(m.Charge.id))) == 0
    # Exactly the ceiling is asked, even above this customer's balance (150 €): whether it
    # is enough is said to the customer only, after the code.
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 500_00)
    assert requested.amount_cents == 500_00
    assert await lookups(core) == 1


async def test_a_town_sets_its_own_ceiling(core: Core) -> None:
    town = await make_town(
        core, citizens=1, policy_toml=default_policy_text() + "\nmax_payment_eur = 100\n"
    )
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 100_01)
    assert refused.value.params == {"limit": 100_00}
    await request(core, town.shop_id, town.citizen_cfs[0], 100_00)


async def test_a_community_voucher_is_never_asked_more_than_a_voucher_can_hold(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await enable(core, town)
    voucher = await buy(core, town, 20_00)
    before = await outbox_rows(core)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as refused:
            await voucher_charges.request_voucher_charge(
                uow,
                shop_id=town.shop_id,
                voucher_reference=voucher.code,
                amount_cents=1_000_01,
                requested_by="test",
                now=core.now(),
            )
    assert refused.value.code == Refusal.PAYMENT_ABOVE_LIMIT
    assert await outbox_rows(core) == before
    assert await lookups(core) == 0


async def test_a_till_finds_the_payments_it_left_waiting(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        for index, cents in ((0, 5_00), (1, 7_00)):
            await charges.request_charge(
                uow,
                shop_id=town.shop_id,
                citizen_reference=town.citizen_cfs[index],
                amount_cents=cents,
                requested_by="terminal:+393330009999",
                now=core.now(),
            )
        await uow.commit()
    async with core.uow() as uow:
        waiting = await charges.waiting_at_till(
            uow, shop_id=town.shop_id, till="terminal:+393330009999", now=core.now()
        )
        other = await charges.waiting_at_till(
            uow, shop_id=town.shop_id, till="sms:+393330000000", now=core.now()
        )
        later = await charges.waiting_at_till(
            uow,
            shop_id=town.shop_id,
            till="terminal:+393330009999",
            now=core.now() + timedelta(hours=1),
        )
    assert [w.amount_cents for w in waiting] == [7_00, 5_00]  # newest first
    assert waiting[0].sent_to == "***" + town.citizen_phones[1][-3:]
    assert other == [] and later == []


async def test_a_number_no_sms_reaches_is_refused_before_any_lookup(core: Core) -> None:
    """A landline or a toll-free number can never pay (the customer's code could never
    arrive): the service refuses it before anybody is looked up, the same whoever has it
    (here a holder whose number on file is a landline, and one nobody has)."""
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.phone = "+390612345678"
        await uow.commit()
    before = await outbox_rows(core)
    for who in ("0612345678", "+390698765432", "800123456"):
        with pytest.raises(InvalidIdentifier) as refused:
            await request(core, town.shop_id, who, 5_00)
        assert refused.value.code == Refusal.PAYER_NO_SMS
    assert await lookups(core) == 0
    assert await outbox_rows(core) == before
    # A holder's mobile is looked up as ever.
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    assert requested.amount_cents == 5_00

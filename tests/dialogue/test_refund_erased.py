"""Trial finding: the owner's STORNO, which needs no code from the customer, put money back
on the account of a customer the office had erased since the payment (privacy.erase_citizen
leaves it at zero for good: nobody can spend it, nor be reimbursed for it). Refused now by
the service, with the same words whether the erasure came before the pick or while the
owner waited for their code, and by the database (migration 0051_no_refund_to_erased), on
both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.errors import NotAllowed
from core.domain.ledger import AccountKind, PostingKind
from core.services import charges, refund_codes
from core.storage import models as m
from core.storage.transient import is_transient
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, add_member, open_till
from tests.dialogue.test_refund_refusals import REFUNDED, pay, rows
from tests.dialogue.test_shop import balance, own_code
from tests.factories import Town, make_town
from tests.integration.test_erasure_races import erase

ERASED = (
    "This customer's account was closed by the office: nothing was refunded. For a refund, "
    "the office can help."
)
SURE = "Refund {amount} (receipt no. {receipt}) to the customer?"


async def spent_and_erasable(core: Core, clock: FakeClock) -> tuple[Town, Chat, int]:
    """A town whose first citizen spends everything today, past the days to appeal: the
    office may erase them. The till, and the receipt of that payment."""
    town = await make_town(core, citizens=2)
    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    till = await open_till(Chat(core, town.shop_phone))
    everything = await balance(core, town)
    assert everything % 100 == 0
    receipt = await pay(till, town, 0, str(everything // 100))
    return town, till, receipt


async def test_the_owner_cannot_refund_a_customer_erased_since(
    core: Core, clock: FakeClock
) -> None:
    town, till, receipt = await spent_and_erasable(core, clock)
    await erase(core, town)
    before = await rows(core, town, except_address=town.shop_phone)
    await till.expect(f"STORNO {receipt}", ERASED)
    await till.expect("ANNULLA")
    assert await rows(core, town, except_address=town.shop_phone) == before
    assert await balance(core, town) == 0

    # Another customer's payment is refunded as before.
    other = await pay(till, town, 1, "5")
    await till.expect(f"STORNO {other}", SURE)
    await till.expect("1")
    await till.expect(await own_code(till), REFUNDED)
    assert await balance(core, town, 1) == 150_00


async def test_an_erasure_while_the_owner_waits_for_the_code_leaves_nothing(
    core: Core, clock: FakeClock
) -> None:
    town, till, receipt = await spent_and_erasable(core, clock)
    await till.expect(f"STORNO {receipt}", SURE)
    await till.send("1")  # the code to the shop's own number is sent
    await erase(core, town)
    before = await rows(core, town, except_address=town.shop_phone)
    await till.expect(await own_code(till), ERASED)
    assert await rows(core, town, except_address=town.shop_phone) == before
    assert await balance(core, town) == 0


async def test_the_service_refuses_the_owner_and_a_cashier(core: Core, clock: FakeClock) -> None:
    """Whoever calls it, even committing after the refusal as the dialogue does."""
    town, _till, receipt = await spent_and_erasable(core, clock)
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    await erase(core, town)
    before = await rows(core, town, except_address=town.shop_phone)
    owner, cashier = ("sms", town.shop_phone), ("telegram", "7002")
    for by in (owner, cashier):
        async with core.uow() as uow:
            with pytest.raises(NotAllowed) as caught:
                await charges.refund_charge(
                    uow,
                    charge_id=receipt,
                    shop_id=town.shop_id,
                    by=by,
                    now=core.now(),
                    citizen_confirmed=by == cashier,
                )
            assert caught.value.code == "refund.customer_erased"
            await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as caught:
            await refund_codes.send_refund_code(
                uow, charge_id=receipt, shop_id=town.shop_id, now=core.now(), by=cashier, content=""
            )
        assert caught.value.code == "refund.customer_erased"
    assert await rows(core, town, except_address=town.shop_phone) == before


async def test_a_cashier_is_told_the_same_before_any_code(core: Core, clock: FakeClock) -> None:
    town, _till, receipt = await spent_and_erasable(core, clock)
    await add_member(core, town.shop_id, "7003", "cashier", channel="telegram")
    await erase(core, town)
    cashier = Chat(core, "7003", channel=Channel.TELEGRAM)
    await cashier.expect(f"STORNO {receipt}", ERASED)


async def _refund_posting(core: Core, town: Town, now: datetime) -> None:
    """A refund posting written without the services: shop -> the citizen's account."""
    async with core.uow() as uow:
        accounts = {
            row.kind: row.id
            for row in await uow.session.scalars(
                select(m.Account).where(
                    m.Account.municipality_id == town.municipality_id,
                    (
                        (m.Account.kind == AccountKind.SHOP.value)
                        & (m.Account.owner_id == town.shop_id)
                    )
                    | (
                        (m.Account.kind == AccountKind.CITIZEN.value)
                        & (m.Account.owner_id == town.citizen_ids[0])
                    ),
                )
            )
        }
        uow.add(
            m.Posting(
                municipality_id=town.municipality_id,
                kind=PostingKind.REFUND.value,
                from_account_id=accounts[AccountKind.SHOP.value],
                to_account_id=accounts[AccountKind.CITIZEN.value],
                amount_cents=1_00,
                created_at=now,
            )
        )
        await uow.commit()


async def test_the_database_refuses_a_refund_posting_to_an_erased_citizen(
    core: Core, clock: FakeClock, database_url: str
) -> None:
    town, _till, _receipt = await spent_and_erasable(core, clock)
    await erase(core, town)
    with pytest.raises(DBAPIError) as refused:
        await _refund_posting(core, town, core.now())
    assert "refund.customer_erased" in str(refused.value)
    # On PostgreSQL a lost race, run again: the service then refuses it in words.
    assert is_transient(refused.value) == database_url.startswith("postgresql")
    assert await balance(core, town) == 0

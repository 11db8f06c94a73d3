"""A refund the shop may not make changes nothing: a payment the town has already reimbursed
to the shop (STORNO after the SEPA run), on both databases, through the chat that commits its
turn after the refusal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.business_days import next_business_day
from core.domain.errors import NotAllowed
from core.domain.messages import Day, Money
from core.services import audit, charges, municipalities, paperwork, reimbursement, shops
from core.storage import models as m
from core.storage.repositories.charges import ChargeRepository
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, add_member, open_till, outbox_of, param
from tests.dialogue.test_shop import CONFIRMED, balance, citizen_code, own_code
from tests.factories import Town, make_town, owner_chat

SETTLED = (
    "This payment has already been reimbursed by the municipality: contact the office to undo it."
)
REFUNDED = "Refunded {amount} (receipt no. {receipt}). The customer has been told."
# Said of a payment made before the office revoked the customer's vouchers: what the shop
# can do (nothing here, ask the office), never that the customer's vouchers were revoked.
REVOKED = "Only the municipality's office can undo this payment now: contact the office."


async def pay(till: Chat, town: Town, index: int, amount: str) -> int:
    await till.send(f"PAGA {town.citizen_cfs[index]} {amount}")
    await till.expect(await citizen_code(till.core, town.citizen_phones[index]), CONFIRMED)
    return int(param(till.last, "receipt"))


def execution_day(core: Core) -> date:
    """Two days from now, or the bank's next business day after them."""
    return next_business_day(core.now().date() + timedelta(days=2))


async def settle(core: Core, town: Town) -> None:
    """The office's reimbursement run: the SEPA file, every shop's balance posted as settled."""
    async with core.uow() as uow:
        record = await municipalities.require(uow, town.code)
        await reimbursement.settle(uow, record, core.now(), execution_day(core))
        await uow.commit()


async def rows(core: Core, town: Town, *, except_address: str) -> dict[str, Any]:
    """Every row a refund could touch, and what the shop's statements say."""
    since, until = core.now() - timedelta(days=1), core.now() + timedelta(days=1)
    async with core.uow() as uow:

        async def table(model: type[m.Base]) -> list[tuple[Any, ...]]:
            found = await uow.session.execute(select(model.__table__).order_by(model.id))  # type: ignore[attr-defined]
            return [tuple(row) for row in found]

        shop = await uow.shops.by_id(town.shop_id)
        record = await municipalities.require(uow, town.code)
        assert shop is not None
        outbox = [
            (row.id, row.channel, row.address, row.status)
            for row in await uow.session.scalars(
                select(m.OutboxMessage).order_by(m.OutboxMessage.id)
            )
            if row.address != except_address
        ]
        pdf = await paperwork.shop_statement(uow, record, shop.id, since, until)
        return {
            "charges": await table(m.Charge),
            "postings": await table(m.Posting),
            "accounts": await table(m.Account),
            "settlements": await table(m.Settlement),
            "outbox": outbox,
            "statement": await shops.statement(uow, shop, since, until),
            "pdf": (pdf.statement, pdf.payments),
        }


async def test_the_owner_refunding_a_reimbursed_payment_changes_nothing(core: Core) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    first = await pay(till, town, 0, "20")
    await till.expect("STORNO", "Which payment of today do you want to refund?")
    await till.expect(str(first), "Refund {amount} (receipt no. {receipt}) to the customer?")
    await till.send("1")  # the code to the shop's own number is sent
    # The office's run reimburses the shop while the owner waits for the code.
    await settle(core, town)
    before = await rows(core, town, except_address=town.shop_phone)
    await till.expect(await own_code(till), SETTLED)
    assert await rows(core, town, except_address=town.shop_phone) == before
    assert before["statement"].refunds == 0
    assert [status for _, _, status in before["pdf"][1]] == ["confirmed"]
    assert await balance(core, town) == 130_00

    # RESOCONTO counts no refund; the payment is still one of today's payments.
    await till.expect("RESOCONTO", "Statement of which period?")
    replies = await till.expect("1", "Today: {count} payment, {amount}.")
    assert "Of these, refunded: {count} payment, {amount}." not in [
        text.msgid for reply in replies for text in reply.texts
    ]
    # STORNO no longer offers it, nor takes it by number.
    await till.expect(
        "STORNO",
        "The payments of today have already been reimbursed by the municipality: to undo one, "
        "contact the office.",
    )
    await till.expect(f"STORNO {first}", SETTLED)
    await till.expect("ANNULLA")

    # A payment made after the run is listed, with a word on the one that is not, and the
    # refund of it still works.
    second = await pay(till, town, 1, "5")
    await till.expect(
        "STORNO",
        "Not listed: {count} payment already reimbursed by the municipality; for it, contact "
        "the office.",
        "Which payment of today do you want to refund?",
    )
    assert [o.key for o in till.last[-1].options] == [f"r{second}"]
    await till.expect(str(second), "Refund {amount} (receipt no. {receipt}) to the customer?")
    await till.expect("1")
    await till.expect(await own_code(till), REFUNDED)
    assert await balance(core, town, 1) == 150_00
    after = await rows(core, town, except_address=town.shop_phone)
    assert [c for c in after["charges"] if c[0] == first] == [
        c for c in before["charges"] if c[0] == first
    ]
    assert after["statement"].refunds == 1 and after["statement"].refunded_cents == 5_00


async def test_storno_of_a_payment_before_a_revocation_is_refused_before_any_code(
    core: Core,
) -> None:
    """Trial finding: a STORNO after the office revoked the customer's vouchers put the money
    back on the revoked balance. Refused when the payment is picked, before the owner's
    code, and nothing changes."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    first = await pay(till, town, 0, "20")
    async with core.uow() as uow:
        application = await uow.applications.latest_for_citizen(town.citizen_ids[0])
        assert application is not None
        record = await municipalities.require(uow, town.code)
        await audit.revoke(uow, record, application.protocol, core.now(), reason="ISEE")
        await uow.commit()
    before = await balance(core, town)
    await till.expect(f"STORNO {first}", REVOKED)
    assert (await till.state())[0] == "refund"  # still at the pick: another number may follow
    await till.expect("ANNULLA")
    assert await balance(core, town) == before == 0


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_cashier_refused_a_refund_after_a_revocation_learns_nothing_of_it(
    core: Core, language: str
) -> None:
    """A revocation follows a check that found a false declaration: the customer's business,
    not the shop's. The till hears what it can do, never that (nor whose) vouchers were
    revoked; the same for a payment the office stopped while it waited (charge_texts)."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    receipt = await pay(till, town, 0, "20")
    await add_member(core, town.shop_id, "7003", "cashier", channel="telegram")
    cashier = Chat(core, "7003", channel=Channel.TELEGRAM, language_hint=language)
    async with core.uow() as uow:
        application = await uow.applications.latest_for_citizen(town.citizen_ids[0])
        assert application is not None
        record = await municipalities.require(uow, town.code)
        await audit.revoke(uow, record, application.protocol, core.now(), reason="ISEE")
        await uow.commit()
    replies = await cashier.expect(f"STORNO {receipt}", REVOKED)
    said = " ".join(render_plain(reply, language, sms=False) for reply in replies).lower()
    for word in ("revok", "revoc", "voucher", "buoni"):
        assert word not in said, said


async def test_a_cashier_gets_no_customer_code_for_a_reimbursed_payment(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    receipt = await pay(till, town, 0, "30")
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    await cashier.send(f"STORNO {receipt}")
    await settle(core, town)
    before = await rows(core, town, except_address="7002")
    # Picked before the run, confirmed after it: refused before a code reaches the customer.
    await cashier.expect("yes", SETTLED)
    assert await rows(core, town, except_address="7002") == before
    asked = [
        reply
        for _, reply in await outbox_of(core, "sms", town.citizen_phones[0])
        if reply.texts[0].msgid.startswith("{shop} wants to refund you {amount}")
    ]
    assert asked == []


async def test_the_refund_service_refuses_without_a_trace_even_if_the_caller_commits(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    receipt = await pay(till, town, 0, "20")
    await settle(core, town)
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
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
            assert caught.value.code == "refund.already_settled"
            await uow.commit()  # as the dialogue does, for its conversation
    assert await rows(core, town, except_address=town.shop_phone) == before


async def test_the_database_refuses_to_mark_a_reimbursed_payment_refunded(core: Core) -> None:
    """The rule holds in the statement itself, whatever checked (or raced) before it."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    settled = await pay(till, town, 0, "20")
    await settle(core, town)
    later = await pay(till, town, 1, "30")
    async with core.uow() as uow:
        assert await uow.charges.settled([settled, later]) == {settled}
        assert not await uow.charges.mark_refunded(settled, core.now())
        assert await uow.charges.mark_refunded(later, core.now())


async def test_a_run_between_the_check_and_the_writes_leaves_nothing(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's own check misses a run that commits just after it: the writes (posting,
    then the guarded mark) are undone together, whether the shop's account is empty or holds a
    later payment's money."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    settled = await pay(till, town, 0, "20")
    await settle(core, town)
    real = ChargeRepository.settled
    calls = 0

    async def blind_first(self: ChargeRepository, charge_ids: list[int]) -> set[int]:
        nonlocal calls
        calls += 1
        return set() if calls == 1 else await real(self, charge_ids)

    for shop_holds in ("nothing", "a later payment"):
        if shop_holds != "nothing":
            await pay(till, town, 1, "30")
        before = await rows(core, town, except_address=town.shop_phone)
        calls = 0
        monkeypatch.setattr(ChargeRepository, "settled", blind_first)
        async with core.uow() as uow:
            with pytest.raises(NotAllowed) as caught:
                await charges.refund_charge(
                    uow,
                    charge_id=settled,
                    shop_id=town.shop_id,
                    by=await owner_chat(uow, town.shop_id),
                    now=core.now(),
                )
            assert caught.value.code == "refund.already_settled"
            await uow.commit()
        monkeypatch.setattr(ChargeRepository, "settled", real)
        assert await rows(core, town, except_address=town.shop_phone) == before, shop_holds


async def test_reimbursements_say_ordered_and_when_not_paid(core: Core, clock: FakeClock) -> None:
    """RIMBORSI after the run: the transfer is being paid until its execution date, and
    afterwards it is the last transfer ordered, never money said to have arrived."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    await pay(till, town, 0, "20")
    day = execution_day(core)
    await settle(core, town)  # execution date: two days from now
    replies = await till.expect(
        "RIMBORSI",
        "To be reimbursed by the municipality: {amount}.",
        "Transfer of {amount} being paid: ordered on {ordered}, execution date {day}.",
    )
    said = replies[-1].texts[1]
    zone = ZoneInfo("Europe/Rome")
    assert said.params["amount"] == Money(20_00)
    assert said.params["ordered"] == Day(core.now().astimezone(zone).date())
    assert said.params["day"] == Day(day)
    assert "Transfers so far: {amount}." not in [t.msgid for t in replies[-1].texts]

    clock.advance(days=3)
    till = await open_till(Chat(core, town.shop_phone))
    await pay(till, town, 1, "7,50")
    await settle(core, town)
    clock.advance(days=5)  # past the execution date (a Saturday's moved to the Monday)
    replies = await till.expect(
        "RIMBORSI",
        "To be reimbursed by the municipality: {amount}.",
        "Last transfer: {amount}, ordered on {ordered}, execution date {day}.",
        "Transfers so far: {amount}.",
    )
    texts = replies[-1].texts
    assert texts[1].params["amount"] == Money(7_50) and texts[2].params["amount"] == Money(27_50)

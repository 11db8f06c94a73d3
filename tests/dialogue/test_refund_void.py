"""A cashier's refund request whose code the customer holds becomes void otherwise than
by the customer's code: the customer is told, in their language and one SMS, in the
transaction that voids it; the code typed later, by the customer here or by the cashier,
is answered as void. On SQLite and PostgreSQL (the `core` fixture)."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.domain import gsm7
from core.i18n import render_text
from core.services import charges, delegates, identity, security
from core.services import refund_codes as refund_code_service
from core.services.municipalities import policy_of
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, outbox_of
from tests.dialogue.test_shop_codes import (
    CUSTOMER_ASKED,
    REFUNDED,
    citizen_balance,
    receipt,
    refunded,
)
from tests.dialogue.test_shop_guards import (
    ask_refund,
    block,
    cashier_of,
    refund_codes,
    remove,
)
from tests.factories import Town, approved_request, make_town, pay

VOID_NOTICE = (
    "The refund of {amount} from {shop} was cancelled: the code you received no longer "
    "works. Your balance has not changed."
)
LATE_CODE = (
    "This code was for a refund of {amount} from {shop}, which was cancelled: it no longer works."
)
FOR_THE_CASHIER = (
    "This code is for the cashier of {shop}: read it to them only if you agree to the "
    "refund of {amount}."
)
ALREADY_REFUNDED = "{shop} has already refunded you {amount}: this code is no longer needed."
EARLIER_CODE = (
    "That code is from an earlier refund request and no longer works: ask the customer for "
    "the code in their last message."
)


async def notices(core: Core, phone: str) -> list[m.OutboxMessage]:
    """The void notices queued for the customer's phone, the oldest first."""
    return [
        row
        for row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and reply.texts[0].msgid == VOID_NOTICE
    ]


async def asked(core: Core, town: Town, cents: int = 5_00) -> tuple[Chat, str, int]:
    """A cashier asks the refund of a payment: the cashier's chat, the customer's code, the
    payment."""
    charge = await pay(core, town, cents)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    return cashier, (await refund_codes(core, town.citizen_phones[0]))[-1], charge


async def test_the_cashier_cancels_and_the_customer_is_told(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, code, charge = await asked(core, town)
    assert await notices(core, phone) == []
    await cashier.send("ANNULLA")
    [notice] = await notices(core, phone)
    assert notice.charge_id == charge
    reply = next(r for row, r in await outbox_of(core, "sms", phone) if row.id == notice.id)
    for language in ("it", "en"):
        said = render_text(reply.texts[0], language, sms=True)
        assert gsm7.count(said).single, said
    assert "5,00" in render_text(reply.texts[0], "it", sms=True)
    # The customer, confused, sends the dead code to us: told it is void, nothing else.
    customer = Chat(core, phone)
    replies = await customer.send(code)
    assert LATE_CODE in msgids(replies)
    # And told once: cancelling again tells nothing more.
    await cashier.send("ANNULLA")
    assert len(await notices(core, phone)) == 1
    assert await refunded(core) == []


async def test_the_notice_is_in_the_customers_language(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    async with core.uow() as uow:
        citizen = await uow.session.get(m.Citizen, town.citizen_ids[0])
        assert citizen is not None
        citizen.language = "en"
        await uow.commit()
    cashier, _, _ = await asked(core, town)
    await cashier.send("ANNULLA")
    [notice] = await notices(core, phone)
    assert notice.language == "en"


async def test_another_request_at_the_till_voids_the_refund_and_tells_the_customer(
    core: Core,
) -> None:
    """MENU (or a new STORNO) at the customer's code step: nothing brings that refund
    back, so its code is void and the customer is told."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, code, _ = await asked(core, town)
    await cashier.send("MENU")
    assert len(await notices(core, phone)) == 1
    replies = await Chat(core, phone).send(code)
    assert LATE_CODE in msgids(replies)


async def test_a_cashier_removed_from_the_shop_voids_the_refunds_they_asked(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, code, _ = await asked(core, town)
    await remove(core, town, "7002")
    assert len(await notices(core, phone)) == 1
    async with core.uow() as uow:
        [row] = (
            await uow.session.scalars(
                select(m.SecurityEvent).where(
                    m.SecurityEvent.detail == refund_code_service.REFUND_CODE
                )
            )
        ).all()
    assert row.voided == refund_code_service.REFUND_CASHIER_GONE
    assert row.asked_by is None  # nothing keeps the address of someone who left
    await cashier.send(code)
    assert await refunded(core) == []
    assert len(await notices(core, phone)) == 1


async def test_a_shop_blocked_for_wrong_codes_voids_its_refunds(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    await asked(core, town)
    async with core.uow() as uow:
        shop = await uow.session.get(m.Shop, town.shop_id)
        assert shop is not None
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        policy = policy_of(municipality)
        for _ in range(policy.shop_block_after_wrong_codes):
            await charges.count_wrong_code(uow, shop, policy, core.now(), "sms:+393330000001")
        assert shop.blocked_at is not None
        await uow.commit()
    assert len(await notices(core, phone)) == 1


async def test_a_refund_refused_after_the_customers_code_tells_them(core: Core) -> None:
    """The customer read out their code, but the shop was blocked meanwhile: nothing is
    refunded, and the customer, who expects the money back, is told."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, code, _ = await asked(core, town)
    await block(core, town.shop_id)
    await cashier.send(code)
    assert await refunded(core) == []
    assert len(await notices(core, phone)) == 1


async def test_a_payment_refunded_otherwise_is_told_as_refunded(core: Core) -> None:
    """Another cashier refunds the same payment with a code of their own: the first
    cashier's request is over, and the customer hears of the refund, not of a
    cancellation; their older code sent here says so."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    _, first_code, charge = await asked(core, town)
    other = await cashier_of(core, town, "7003")
    await ask_refund(other, await receipt(core, charge), CUSTOMER_ASKED)
    second_code = (await refund_codes(core, phone))[-1]
    await other.expect(second_code, REFUNDED)
    assert await refunded(core) == [charge]
    assert await notices(core, phone) == []
    replies = await Chat(core, phone).send(first_code)
    assert ALREADY_REFUNDED in msgids(replies)


async def test_a_waiting_code_sent_here_is_for_the_cashier(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, code, charge = await asked(core, town)
    replies = await Chat(core, phone).send(code)
    assert FOR_THE_CASHIER in msgids(replies)
    # Read only: the cashier still refunds with it.
    await cashier.expect(code, REFUNDED)
    assert await refunded(core) == [charge]


async def test_the_cashier_typing_an_earlier_code_loses_no_try(core: Core) -> None:
    """The customer reads out the code of an earlier request (cancelled): the cashier is
    told it is an old one, and all the tries are left for the last code."""
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    cashier, old, charge = await asked(core, town)
    await cashier.send("ANNULLA")
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    new = (await refund_codes(core, phone))[-1]
    for _ in range(security.CODE_TRIES):
        await cashier.expect(old, EARLIER_CODE)
    await cashier.expect(new, REFUNDED)
    assert await refunded(core) == [charge]


ENDED_AT_TILL = (
    "That is a customer's code for a refund that is no longer open: it does nothing now. "
    "To refund, write STORNO again."
)


async def test_the_code_of_a_cancelled_refund_typed_at_the_till_is_said_to_be_over(
    core: Core,
) -> None:
    """The customer reads out the dead code after the cashier cancelled: the cashier hears
    that it belongs to a refund no longer open, and the shop is not counted a wrong code."""
    town = await make_town(core, citizens=1)
    cashier, code, _ = await asked(core, town)
    await cashier.send("ANNULLA")
    await cashier.expect(code, ENDED_AT_TILL)
    async with core.uow() as uow:
        assert await security.wrong_codes_of_shop(uow, town.shop_id, core.now()) == 0
    assert await refunded(core) == []


STOPPED_BY_OFFICE = (
    "The office cancelled this refund request: the customer's code no longer works. Nothing "
    "was refunded; ask again with STORNO."
)


async def test_a_refund_code_the_former_delegate_holds_refunds_nothing(core: Core) -> None:
    """The customer's code of a cashier's refund went to their delegate; the office removes
    the delegate: the code consents to nothing more (the former delegate may be the one the
    office took the power from). The citizen is told at their own phone, the till that types
    the code is told the office cancelled it, and nothing is refunded."""
    town = await make_town(core, citizens=1)
    delegate, own = "+393339998801", town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert municipality is not None and citizen is not None
        cf = citizen.codice_fiscale
        approved = await approved_request(uow, municipality, cf, "delegate", delegate)
        await delegates.add_delegate(uow, municipality, cf, delegate, core.now(), approved=approved)
        await uow.commit()
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, delegate)
    assert await notices(core, own) == []
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await delegates.remove_delegate(uow, municipality, cf, core.now())
        await uow.commit()
    [notice] = await notices(core, own)
    assert notice.charge_id == charge
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    # The till is free again: a new STORNO sends a new code, to the citizen's own phone.
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [new_code] = await refund_codes(core, own)
    await cashier.expect(new_code, REFUNDED)
    assert await refunded(core) == [charge]


async def test_a_refund_code_on_a_lost_phone_refunds_nothing(core: Core) -> None:
    """The office gives the citizen a new phone (the old one lost or stolen) while a
    cashier's refund waits for the code sent to the old one: whoever holds it consents to
    nothing; the citizen hears of it on the new phone and the till that types it is told."""
    town = await make_town(core, citizens=1)
    old, new = town.citizen_phones[0], "+393339998802"
    charge = await pay(core, town, 5_00)
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, old)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert municipality is not None and citizen is not None
        cf = citizen.codice_fiscale
        approved = await approved_request(uow, municipality, cf, "phone", new)
        await identity.rebind_phone(
            uow, municipality, cf, new, operator="office", now=core.now(), approved=approved
        )
        await uow.commit()
    [notice] = await notices(core, new)
    assert notice.charge_id == charge
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before

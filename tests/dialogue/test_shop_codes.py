"""A shop's confirmation code confirms what its message says, and nothing else.

The shop's side has codes too: to the shop's own number for a refund (STORNO), a shop's
registration, a new cashier code (CASSIERE), joining with one (INVITO), removing a
cashier (CASSIERI), leaving (ESCI) and opening a till by SMS (PAGA); and to the customer
for a cashier's refund. A dishonest cashier, or whoever forges the shop's number, must
not have a code sent for one thing (a refund of 5 €, cashier A, shop A) confirm another
(a refund of 30 €, cashier B, shop B). Each code keeps a keyed digest of its content
(core.services.security.content_digest): for each kind, the right code for the same
content is taken, and for a content changed since it was sent it is refused with the
reason and nothing changes. On SQLite and PostgreSQL (the `core` fixture).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain import gsm7
from core.domain.messages import Money, Reply
from core.i18n import render_text
from core.services import ledger, security
from core.services import shops as shop_service
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    CASHIER_CODE,
    INVITED,
    JOIN_CODE,
    LEAVE_CODE,
    REFUND_CODE,
    REGISTER_CODE,
    REMOVE_CODE,
    TILL_CODE,
    Chat,
    add_member,
    confirmation_code,
    open_till,
    outbox_of,
    param,
)
from tests.factories import (
    Town,
    confirm,
    last_code_for,
    make_partita_iva,
    make_town,
    pay,
    request,
)
from tests.integration.test_payments import another_shop

OTHER_ANSWERS = (
    "That code was sent for other answers than the ones here now: it confirms nothing. "
    "Nothing was changed."
)
OTHER_CONTENT = (
    "Too many codes were sent to this number, and the last one confirms other content. "
    "Nothing was changed: you can confirm this from {when}."
)
ALREADY_SENT = (
    "A code was already sent to this number at {when}: write it here, or ANNULLA to stop."
)
REPLACED = (
    "That code is no longer valid: a newer one was sent, or the request was started again or "
    "changed. Nothing was changed. Check what the last code message confirms."
)
WRONG = "Wrong code: {count} attempt left."
SURE_REFUND = "Refund {amount} (receipt no. {receipt}) to the customer?"
REFUNDED = "Refunded {amount} (receipt no. {receipt}). The customer has been told."
CUSTOMER_ASKED = (
    "Code sent to the customer ({where}). Ask them for it and write it here to refund, or ANNULLA."
)
INVITE = INVITED
JOINED = "You now work for {shop}: you can charge its vouchers."
SURE_REMOVE = (
    "Remove cashier {who}? They will no longer be able to charge, refund or see the statement."
)
REMOVED = "Done: {who} no longer works for {shop} and was told."
SURE_LEAVE = (
    "Stop working for {shop}? This chat will no longer charge its vouchers; the owner is told."
)
LEFT = "You no longer work for {shop}."
WHO_PAYS = "Who pays? Write the codice fiscale, the phone number or the card code."
REGISTRATION_SENT = (
    "Registration of {shop} sent. The municipality will check it and write to you here."
)

CASHIER_A = "+393339990051"
CASHIER_B = "+393339990052"


async def change_what_the_request_holds(chat: Chat, **changes: Any) -> None:
    """The request now holds other content than its code was sent for, the code left as
    it was (what a forger's restart would do if the code went on with it, and what a code
    kept before codes knew their content looks like)."""
    async with chat.core.uow() as uow:
        conversation = await uow.session.scalar(
            select(m.Conversation).where(
                m.Conversation.channel == chat.channel.value,
                m.Conversation.address == chat.address,
            )
        )
        assert conversation is not None
        data = dict(conversation.data)
        state = dict(data["state"])
        held = state.get("otp") or state.get("customer")
        assert held is not None and held["content"], state  # the code knows its content
        state.update(changes)
        data["state"] = state
        conversation.data = data
        await uow.commit()


async def codes_already_sent(core: Core, town: Town, phone: str, kind: str) -> None:
    """All but one of the codes an hour a number may get, for other requests of the same
    purpose as `kind` (codes are limited per purpose): the next code is the last one
    before the limit."""
    async with core.uow() as uow:
        for index in range(security.CODES_PER_HOUR - 1):
            await security.code_sent(
                uow,
                "sms",
                phone,
                kind,
                core.now(),
                salt=f"{index:032d}",
                code_hash=f"{index:064d}",
                municipality_id=town.municipality_id,
            )
        await uow.commit()


async def citizen_balance(core: Core, town: Town) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0])


async def refunded(core: Core) -> list[int]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.Charge.id).where(m.Charge.status == "refunded").order_by(m.Charge.id)
        )
        return list(rows.all())


async def receipt(core: Core, charge_id: int) -> int:
    async with core.uow() as uow:
        charge = await uow.session.get(m.Charge, charge_id)
        assert charge is not None and charge.receipt_number is not None
        return charge.receipt_number


async def members_of(core: Core, shop_id: int) -> list[str]:
    async with core.uow() as uow:
        return sorted(x.address for x in await uow.shops.members_of(shop_id))


async def count(core: Core, model: type[m.Base]) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def act_for(chat: Chat, shop_id: int) -> None:
    """A chat that works for two shops picks the one it acts for (the menu lists both)."""
    await chat.send("MENU")
    await chat.send(option=f"shop:{shop_id}")
    _flow, _step, data = await chat.state()
    assert data["shop_id"] == shop_id


def said_in_both(replies: list[Any], *words: str) -> None:
    """The code's message names its content in Italian and English, in one SMS."""
    [text] = [t for reply in replies for t in reply.texts if t.msgid.startswith("Code {code}")]
    for language in ("it", "en"):
        said = render_text(text, language, sms=True)
        assert gsm7.count(said).single, said
        for word in words:
            assert word in said, (language, said)


# A refund by the shop's own number (STORNO) ---------------------------------------------


async def test_a_refund_code_names_the_refund_and_refunds_only_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    small, large = await pay(core, town, 5_00), await pay(core, town, 30_00)
    owner = Chat(core, town.shop_phone)
    await owner.expect(f"STORNO {await receipt(core, small)}", SURE_REFUND)
    replies = await owner.expect("1", REFUND_CODE)
    assert param(replies, "amount") == Money(5_00)
    assert param(replies, "receipt") == str(await receipt(core, small))
    number = await receipt(core, small)
    said_in_both(replies, str(number))
    text = replies[-1].texts[0]
    assert f"storno di 5,00 € (ricevuta n. {number})" in render_text(text, "it", sms=True)
    assert f"refund of €5.00 (receipt no. {number})" in render_text(text, "en", sms=True)
    await owner.expect(await confirmation_code(owner), REFUNDED)
    assert await refunded(core) == [small]
    assert large not in await refunded(core)


async def test_a_refund_code_sent_for_one_payment_refunds_no_other(core: Core) -> None:
    town = await make_town(core, citizens=1)
    small, large = await pay(core, town, 5_00), await pay(core, town, 30_00)
    before = await citizen_balance(core, town)
    owner = Chat(core, town.shop_phone)
    await owner.send(f"STORNO {await receipt(core, small)}")
    await owner.expect("1", REFUND_CODE)
    held = await confirmation_code(owner)
    # Now the request holds the 30 € payment: the code sent for 5 € refunds nothing.
    await change_what_the_request_holds(
        owner, charge_id=large, amount=30_00, receipt=await receipt(core, large)
    )
    replies = await owner.expect(held, OTHER_ANSWERS, REFUND_CODE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    # The new code's message names what it would confirm: the 30 € payment.
    assert param(replies, "amount") == Money(30_00)
    assert await confirmation_code(owner) != held


async def test_a_refund_code_of_one_shop_refunds_nothing_at_another(core: Core) -> None:
    """The owner of two shops: a code sent for a refund at one is no code of the other's
    payment with the same receipt number and amount."""
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, other, town.shop_phone, "owner")
    mine = await pay(core, town, 5_00)
    requested = await request(core, other, town.citizen_cfs[0], 5_00)
    code = await last_code_for(core, town.citizen_phones[0], requested.charge_id)
    await confirm(core, other, requested.charge_id, code)
    theirs = requested.charge_id
    assert await receipt(core, mine) == await receipt(core, theirs)
    owner = Chat(core, town.shop_phone)
    await act_for(owner, town.shop_id)
    await owner.expect(f"STORNO {await receipt(core, mine)}", SURE_REFUND)
    await owner.expect("1", REFUND_CODE)
    held = await confirmation_code(owner)
    await change_what_the_request_holds(owner, shop_id=other, charge_id=theirs)
    await owner.expect(held, OTHER_ANSWERS, REFUND_CODE)
    assert await refunded(core) == []


async def test_a_forged_storno_of_another_payment_voids_the_owners_code(core: Core) -> None:
    """A forger writing as the shop's number asks the 30 € refund while the owner waits
    for the code of the 5 € one: the new code, on the owner's phone, names 30 €; the
    owner's code is void (no try lost) and refunds nothing."""
    town = await make_town(core, citizens=1)
    small, large = await pay(core, town, 5_00), await pay(core, town, 30_00)
    owner = Chat(core, town.shop_phone)
    await owner.send(f"STORNO {await receipt(core, small)}")
    await owner.expect("1", REFUND_CODE)
    held = await confirmation_code(owner)
    forger = Chat(core, town.shop_phone)
    await forger.send(f"STORNO {await receipt(core, large)}")
    replies = await forger.expect("1", REFUND_CODE)
    assert param(replies, "amount") == Money(30_00)
    await owner.expect(held, REPLACED)
    assert await refunded(core) == []
    await owner.expect("000000" if held != "000000" else "111111", WRONG)
    assert param(owner.last, "count") == 2  # the void code cost no try
    assert await refunded(core) == []


async def test_at_the_code_limit_a_forged_storno_never_gets_the_owners_code(
    core: Core, clock: FakeClock
) -> None:
    """The owner waits for the code of a 5 € refund, the last before the limit; a forger
    writing as the shop's number asks the 30 € one. Before, the request went on with the
    code the phone held; now nothing new is confirmed until the limit resets, and the
    owner's code refunds nothing of the forger's. The owner asking the same refund again
    goes on with the code the phone holds."""
    town = await make_town(core, citizens=1)
    small, large = await pay(core, town, 5_00), await pay(core, town, 30_00)
    before = await citizen_balance(core, town)
    await codes_already_sent(core, town, town.shop_phone, "charge")  # the till's purpose
    owner = Chat(core, town.shop_phone)
    await owner.send(f"STORNO {await receipt(core, small)}")
    await owner.expect("1", REFUND_CODE)  # the fifth code of the hour
    held = await confirmation_code(owner)
    forger = Chat(core, town.shop_phone)  # the same number, written by someone else
    await forger.expect(f"STORNO {await receipt(core, large)}", SURE_REFUND)
    await forger.expect("1", OTHER_CONTENT)
    assert (await forger.state())[:2] == (None, None)
    await owner.send(held)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    # The owner's own refund, asked again: the code the phone holds was sent for it.
    await owner.send(f"STORNO {await receipt(core, small)}")
    await owner.expect("1", ALREADY_SENT)
    await owner.expect(held, REFUNDED)
    assert await refunded(core) == [small]


# The customer's code for a cashier's refund ----------------------------------------------


async def refund_asked_by_a_cashier(core: Core, town: Town, charge_id: int) -> tuple[Chat, Reply]:
    """A cashier of the town's shop, on Telegram, asks STORNO of the payment and says yes:
    (the cashier's chat, the SMS that asks the customer for their code)."""
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    await cashier.send(f"STORNO {await receipt(core, charge_id)}")
    await cashier.expect("yes", CUSTOMER_ASKED)
    [asked] = [
        reply
        for _row, reply in await outbox_of(core, "sms", town.citizen_phones[0])
        if reply.texts[0].msgid.startswith("{shop} wants to refund you {amount}")
    ]
    return cashier, asked


async def test_the_customers_code_consents_to_one_refund_only(core: Core) -> None:
    town = await make_town(core, citizens=1)
    small, large = await pay(core, town, 5_00), await pay(core, town, 30_00)
    before = await citizen_balance(core, town)
    cashier, asked = await refund_asked_by_a_cashier(core, town, small)
    # The customer reads which shop and how much.
    assert asked.texts[0].params["amount"] == Money(5_00)
    assert asked.texts[0].params["shop"] == "Alimentari Test"
    code = str(asked.texts[0].params["code"])
    await change_what_the_request_holds(
        cashier, charge_id=large, amount=30_00, receipt=await receipt(core, large)
    )
    await cashier.expect(code, OTHER_ANSWERS)
    assert (await cashier.state())[:2] == (None, None)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before


async def test_the_customers_code_refunds_the_payment_it_was_sent_for(core: Core) -> None:
    town = await make_town(core, citizens=1)
    small = await pay(core, town, 5_00)
    await pay(core, town, 30_00)
    cashier, asked = await refund_asked_by_a_cashier(core, town, small)
    await cashier.expect(str(asked.texts[0].params["code"]), REFUNDED)
    assert await refunded(core) == [small]


# A shop's registration -------------------------------------------------------------------


REGISTRATION = (
    "Forno Nuovo",
    make_partita_iva(31),
    "2",  # bakery
    "Via Roma 5",
    "1",  # this town
    "62020",
    "IT60X0542811101000000123456",
)


async def reach_the_registration_code(chat: Chat) -> str:
    await chat.send("REGISTRA")
    for answer in REGISTRATION:
        await chat.send(answer)
    replies = await chat.expect("1", REGISTER_CODE)
    assert param(replies, "shop") == "Forno Nuovo"
    assert param(replies, "vat") == REGISTRATION[1]
    said_in_both(replies, "Forno Nuovo", REGISTRATION[1])
    return await confirmation_code(chat)


async def shops_named(core: Core, name: str) -> list[m.Shop]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.Shop).where(m.Shop.name == name)))


async def test_a_registration_code_registers_the_shop_it_names(core: Core) -> None:
    await make_town(core, citizens=1)
    shop = Chat(core, "+393471112233")
    held = await reach_the_registration_code(shop)
    await shop.expect(held, REGISTRATION_SENT)
    [registered] = await shops_named(core, "Forno Nuovo")
    assert registered.vat_number == REGISTRATION[1]


async def test_a_registration_code_registers_no_other_answers(core: Core) -> None:
    await make_town(core, citizens=1)
    shop = Chat(core, "+393471112233")
    held = await reach_the_registration_code(shop)
    await change_what_the_request_holds(
        shop, name="Forno Finto", iban="IT02L1234512345123456789012"
    )
    replies = await shop.expect(held, OTHER_ANSWERS, REGISTER_CODE)
    assert param(replies, "shop") == "Forno Finto"  # the new code names what it would send
    assert await shops_named(core, "Forno Nuovo") == []
    assert await shops_named(core, "Forno Finto") == []


# A new cashier code (CASSIERE), and joining with one (INVITO) ------------------------------


async def test_a_cashier_code_is_made_for_the_shop_its_code_names(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    replies = await owner.expect("CASSIERE", CASHIER_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    said_in_both(replies, "Alimentari Test")
    await owner.expect(await confirmation_code(owner), INVITE)
    assert await count(core, m.ShopInvite) == 1


async def test_a_cashier_code_for_one_shop_makes_none_for_another(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, other, town.shop_phone, "owner")  # the owner of both
    owner = Chat(core, town.shop_phone)
    await act_for(owner, town.shop_id)
    replies = await owner.expect("CASSIERE", CASHIER_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    held = await confirmation_code(owner)
    await change_what_the_request_holds(owner, shop_id=other)
    replies = await owner.expect(held, OTHER_ANSWERS, CASHIER_CODE)
    assert param(replies, "shop") == "Bottega 1"
    assert await count(core, m.ShopInvite) == 0


async def invite_for(core: Core, shop_id: int) -> str:
    async with core.uow() as uow:
        code = await shop_service.create_invite(uow, shop_id, core.now())
        await uow.commit()
        return code


async def test_joining_takes_the_shop_the_code_names(core: Core) -> None:
    town = await make_town(core, citizens=1)
    invite = await invite_for(core, town.shop_id)
    cashier = Chat(core, CASHIER_A)
    replies = await cashier.expect(f"INVITO {invite}", JOIN_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    said_in_both(replies, "Alimentari Test")
    await cashier.expect(await confirmation_code(cashier), JOINED)
    assert CASHIER_A in await members_of(core, town.shop_id)


async def test_a_code_to_join_one_shop_joins_no_other(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    mine, theirs = await invite_for(core, town.shop_id), await invite_for(core, other)
    cashier = Chat(core, CASHIER_A)
    await cashier.expect(f"INVITO {mine}", JOIN_CODE)
    held = await confirmation_code(cashier)
    await change_what_the_request_holds(cashier, code=theirs)
    replies = await cashier.expect(held, OTHER_ANSWERS, JOIN_CODE)
    assert param(replies, "shop") == "Bottega 1"
    assert CASHIER_A not in await members_of(core, town.shop_id)
    assert CASHIER_A not in await members_of(core, other)
    async with core.uow() as uow:
        used = await uow.session.scalars(select(m.ShopInvite.used_at))
        assert list(used.all()) == [None, None]


# Removing a cashier (CASSIERI), leaving (ESCI) -------------------------------------------


async def reach_the_removal_code(owner: Chat, label: str) -> str:
    await owner.send("CASSIERI")
    option = next(o.key for o in owner.last[-1].options if label in render_text(o.label, "it"))
    await owner.expect(None, SURE_REMOVE, option=option)
    replies = await owner.expect("1", REMOVE_CODE)
    assert param(replies, "who") == label
    assert param(replies, "shop") == "Alimentari Test"
    said_in_both(replies, label, "Alimentari Test")
    return await confirmation_code(owner)


async def test_a_removal_code_removes_the_cashier_it_names(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    await add_member(core, town.shop_id, CASHIER_B, "cashier")
    owner = Chat(core, town.shop_phone)
    held = await reach_the_removal_code(owner, "SMS ***051")
    await owner.expect(held, REMOVED)
    assert await members_of(core, town.shop_id) == sorted([town.shop_phone, CASHIER_B])


async def test_a_removal_code_for_cashier_a_removes_no_cashier_b(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    b = await add_member(core, town.shop_id, CASHIER_B, "cashier")
    owner = Chat(core, town.shop_phone)
    held = await reach_the_removal_code(owner, "SMS ***051")
    await change_what_the_request_holds(owner, member_id=b, who="SMS ***052")
    replies = await owner.expect(held, OTHER_ANSWERS, REMOVE_CODE)
    assert param(replies, "who") == "SMS ***052"
    assert await members_of(core, town.shop_id) == sorted([town.shop_phone, CASHIER_A, CASHIER_B])


async def test_at_the_code_limit_a_forged_removal_never_gets_the_owners_code(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    await add_member(core, town.shop_id, CASHIER_B, "cashier")
    await codes_already_sent(core, town, town.shop_phone, "register")  # the shop's people
    owner = Chat(core, town.shop_phone)
    held = await reach_the_removal_code(owner, "SMS ***051")  # the fifth code
    forger = Chat(core, town.shop_phone)
    await forger.send("CASSIERI")
    option = next(o.key for o in forger.last[-1].options if "***052" in render_text(o.label, "it"))
    await forger.expect(None, SURE_REMOVE, option=option)
    await forger.expect("1", OTHER_CONTENT)
    await owner.send(held)
    assert await members_of(core, town.shop_id) == sorted([town.shop_phone, CASHIER_A, CASHIER_B])
    # The owner's own removal, asked again, goes on with the code the phone holds.
    await owner.send("CASSIERI")
    option = next(o.key for o in owner.last[-1].options if "***051" in render_text(o.label, "it"))
    await owner.expect(None, SURE_REMOVE, option=option)
    await owner.expect("1", ALREADY_SENT)
    await owner.expect(held, REMOVED)
    assert await members_of(core, town.shop_id) == sorted([town.shop_phone, CASHIER_B])


async def test_a_code_to_leave_one_shop_leaves_no_other(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    elsewhere = await add_member(core, other, CASHIER_A, "cashier")
    cashier = Chat(core, CASHIER_A)
    await act_for(cashier, town.shop_id)
    await cashier.expect("ESCI", SURE_LEAVE)
    replies = await cashier.expect("1", LEAVE_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    held = await confirmation_code(cashier)
    await change_what_the_request_holds(
        cashier, shop_id=other, member_id=elsewhere, who="Bottega 1"
    )
    replies = await cashier.expect(held, OTHER_ANSWERS, LEAVE_CODE)
    assert param(replies, "shop") == "Bottega 1"
    assert CASHIER_A in await members_of(core, town.shop_id)
    assert CASHIER_A in await members_of(core, other)


async def test_a_code_to_leave_leaves_the_shop_it_names(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    cashier = Chat(core, CASHIER_A)
    await cashier.expect("ESCI", SURE_LEAVE)
    replies = await cashier.expect("1", LEAVE_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    said_in_both(replies, "Alimentari Test")
    await cashier.expect(await confirmation_code(cashier), LEFT)
    assert CASHIER_A not in await members_of(core, town.shop_id)


# Opening a till by SMS (PAGA) ------------------------------------------------------------


async def test_a_till_code_opens_the_till_of_the_shop_it_names(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = Chat(core, town.shop_phone)
    replies = await till.expect("PAGA", TILL_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    said_in_both(replies, "Alimentari Test")
    await till.expect(await confirmation_code(till), WHO_PAYS)
    _flow, _step, data = await till.state()
    assert data["till"]["shop_id"] == town.shop_id


async def test_a_till_code_for_one_shop_opens_no_other(core: Core) -> None:
    town = await make_town(core, citizens=1)
    other = await another_shop(core, town, 1)
    await add_member(core, town.shop_id, CASHIER_A, "cashier")
    await add_member(core, other, CASHIER_A, "cashier")
    till = Chat(core, CASHIER_A)
    await act_for(till, town.shop_id)
    replies = await till.expect("PAGA", TILL_CODE)
    assert param(replies, "shop") == "Alimentari Test"
    held = await confirmation_code(till)
    await change_what_the_request_holds(till, shop_id=other)
    replies = await till.expect(held, OTHER_ANSWERS, TILL_CODE)
    assert param(replies, "shop") == "Bottega 1"
    _flow, _step, data = await till.state()
    assert data.get("till") is None  # no till was opened, for either shop
    # The honest till that starts again opens with a fresh code.
    await till.send("ANNULLA")
    await open_till(till)
    _flow, _step, data = await till.state()
    assert data["till"]["shop_id"] == town.shop_id

"""A code that confirms a shop's operation never goes to that shop's own staff (SQLite and
PostgreSQL): a payment's, a cashier's refund's, a community voucher's.

The services, and the database behind them, refuse a shop member's phone or Telegram chat
as a citizen's or a delegate's, but rows written before that rule covered the terminal
chat may still pair them, and nothing keeps a voucher's holder apart from the shop. The
till refuses to send the code there: the request is refused with a sentence, no code is
sent, nothing waits and no money moves; another shop still charges the person."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text, update

from core.bootstrap import Core
from core.dialogue.errors import error_text
from core.domain.community import Purchase, Purpose
from core.domain.errors import NotAllowed, Refusal
from core.domain.ledger import AccountKind
from core.services import community, ledger, refund_codes, voucher_charges
from core.services.outbox import reply_of
from core.storage import models as m
from core.storage.uow import UnitOfWork
from tests.factories import (
    Town,
    assert_ledger_ok,
    make_town,
    pay,
    refund,
    request,
    row_counts,
    shared_phone,
)
from tests.integration.test_payments import another_shop

CASHIER = "+393339990002"
CASHIER_CHAT = "880040"


async def past_the_guards(core: Core, write: object, *triggers: str) -> None:
    """Write as before the rule: the triggers named are off for this one transaction
    (PostgreSQL disables them, SQLite drops and recreates them: both undo it on commit)."""
    async with core.uow() as uow:
        postgresql = uow.session.get_bind().dialect.name == "postgresql"
        again: list[str] = []
        for trigger in triggers:
            if postgresql:
                table = trigger.split("_", 1)[0]  # citizens_… or delegates_…
                await uow.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
                again.append(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
                continue
            rows = await uow.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :n"),
                {"n": f"{trigger}%"},
            )
            for name, sql in rows.all():
                await uow.session.execute(text(f"DROP TRIGGER {name}"))
                again.append(sql)
        await write_one(uow, write)
        for statement in again:
            await uow.session.execute(text(statement))
        await uow.commit()


async def write_one(uow: UnitOfWork, write: object) -> None:
    if isinstance(write, m.Base):
        uow.add(write)
        await uow.flush()
    else:
        await uow.session.execute(write)  # type: ignore[call-overload]


async def pair(core: Core, town: Town, case: str) -> str:
    """Make the pair `case` as old data holds it; the address the code would go to."""
    now = core.now()
    citizen = update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0])
    if case == "delegate_at_terminal":
        # The trial's order: the cashier joined at the terminal, then became a delegate.
        await past_the_guards(core, _member(town, "terminal", CASHIER, now))
        delegate = m.Delegate(
            municipality_id=town.municipality_id,
            citizen_id=town.citizen_ids[0],
            phone=CASHIER,
            created_at=now,
        )
        await past_the_guards(core, delegate, "delegates_phone_not_shop")
        return CASHIER
    if case == "delegate_of_telegram_cashier":
        # A cashier on Telegram with the phone they shared (migration 0040), whom older data
        # also makes the customer's delegate: the codes would reach the cashier's phone.
        member = _member(town, "telegram", CASHIER_CHAT, now)
        member.phone = CASHIER
        await past_the_guards(core, member)
        delegate = m.Delegate(
            municipality_id=town.municipality_id,
            citizen_id=town.citizen_ids[0],
            phone=CASHIER,
            created_at=now,
        )
        await past_the_guards(core, delegate, "delegates_phone_not_shop")
        return CASHIER
    if case == "own_phone_at_terminal":
        await past_the_guards(core, _member(town, "terminal", CASHIER, now))
        await past_the_guards(core, citizen.values(phone=CASHIER), "citizens_phone_not_shop")
        return CASHIER
    assert case == "linked_telegram"
    await past_the_guards(core, _member(town, "telegram", CASHIER_CHAT, now))
    await past_the_guards(
        core, citizen.values(telegram_chat_id=CASHIER_CHAT), "citizens_telegram_not_shop"
    )
    return CASHIER_CHAT


def _member(town: Town, channel: str, address: str, now: datetime) -> m.ShopMember:
    return m.ShopMember(
        shop_id=town.shop_id,
        channel=channel,
        address=address,
        role="cashier",
        created_at=now,
        phone=shared_phone(channel, address),
    )


async def counts(core: Core) -> tuple[int, int]:
    async with core.uow() as uow:
        charges = await uow.session.scalar(select(func.count()).select_from(m.Charge))
        outbox = await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage))
        return int(charges or 0), int(outbox or 0)


@pytest.mark.parametrize(
    "case",
    [
        "delegate_at_terminal",
        "own_phone_at_terminal",
        "linked_telegram",
        "delegate_of_telegram_cashier",
    ],
)
async def test_the_till_never_sends_the_code_to_its_own_staff(core: Core, case: str) -> None:
    town = await make_town(core, citizens=1)
    address = await pair(core, town, case)
    before = await counts(core)
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 40_00)
    assert refused.value.code == Refusal.PAYMENT_CODE_TO_SHOP
    assert error_text(refused.value).msgid.startswith("The payment code of this person would go")
    # Nothing sent, nothing waiting.
    assert await counts(core) == before
    # Another shop of the town charges the same person: the code goes where it always did.
    other = await another_shop(core, town, 1)
    requested = await request(core, other, town.citizen_cfs[0], 40_00)
    async with core.uow() as uow:
        [row] = await uow.session.scalars(
            select(m.OutboxMessage).where(m.OutboxMessage.charge_id == requested.charge_id)
        )
        assert row.address == address


# The same rule for every code that confirms a shop's operation -------------------------------

CASES = [
    "delegate_at_terminal",
    "own_phone_at_terminal",
    "linked_telegram",
    "delegate_of_telegram_cashier",
]


def cashier_chat(case: str) -> tuple[str, str]:
    """The chat of the cashier `pair` made: the one who would read the code."""
    if case in ("linked_telegram", "delegate_of_telegram_cashier"):
        return ("telegram", CASHIER_CHAT)
    return ("terminal", CASHIER)


async def everything(core: Core) -> dict[str, int]:
    """Every row a refused request could have written."""
    return await row_counts(
        core,
        charges=m.Charge,
        outbox=m.OutboxMessage,
        postings=m.Posting,
        security=m.SecurityEvent,
        voucher_charges=m.VoucherCharge,
    )


async def money_of(core: Core, town: Town) -> tuple[int, int]:
    async with core.uow() as uow:
        citizen = await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0])
        shop = await uow.ledger.balance_of_owner(
            town.municipality_id, AccountKind.SHOP, town.shop_id
        )
        return citizen, shop


async def sent_to(core: Core, address: str) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.OutboxMessage)
            .where(m.OutboxMessage.address == address)
            .order_by(m.OutboxMessage.id)
        )
        return [reply_of(uow.keys, row).texts[0].msgid for row in rows]


@pytest.mark.parametrize("case", CASES)
async def test_a_cashiers_refund_never_sends_the_customers_code_to_its_own_staff(
    core: Core, case: str
) -> None:
    """Trial finding: a cashier who is (in older data) the customer's delegate, phone or
    chat asked a STORNO, received the customer's refund code and read it back to their own
    till: the shop's money went back to a balance the cashier spends. The customer's code
    of a cashier's refund now follows the rule of the payment code."""
    town = await make_town(core, citizens=1)
    charge_id = await pay(core, town, 30_00)
    address = await pair(core, town, case)
    before, money = await everything(core), await money_of(core, town)
    told = await sent_to(core, address)
    async with core.uow() as uow:
        with pytest.raises(NotAllowed) as refused:
            await refund_codes.send_refund_code(
                uow,
                charge_id=charge_id,
                shop_id=town.shop_id,
                now=core.now(),
                by=cashier_chat(case),
                content="refund",
            )
        await uow.commit()  # as the chat does: its turn commits after the refusal
    assert refused.value.code == Refusal.PAYMENT_CODE_TO_SHOP
    assert error_text(refused.value).msgid.startswith("The payment code of this person would go")
    # No code sent nor kept, no money moved, the payment still the shop's.
    assert await everything(core) == before
    assert await sent_to(core, address) == told
    assert await money_of(core, town) == money == (120_00, 30_00)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None and charge.status == "confirmed"


@pytest.mark.parametrize("case", CASES)
async def test_the_owners_refund_needs_no_code_and_still_gives_the_money_back(
    core: Core, case: str
) -> None:
    """The decision for a refund without a code: the owner moves the shop's own money back
    to the customer, which nobody is asked to consent to; its message is the customer's
    receipt, sent where the customer's messages go, and confirms nothing. Refusing it would
    keep the customer's money with the shop."""
    town = await make_town(core, citizens=1)
    charge_id = await pay(core, town, 30_00)
    address = await pair(core, town, case)
    await refund(core, town.shop_id, charge_id)
    assert await money_of(core, town) == (150_00, 0)
    assert (await sent_to(core, address))[-1] == "{shop} refunded {amount}. Balance: {balance}."
    await assert_ledger_ok(core, town.municipality_id)


# Community vouchers: the holder's chat, or the phone the voucher was given to -----------------

BUYER_CHAT = "880041"


async def voucher_held_by(core: Core, town: Town, holder: str) -> m.Voucher:
    """A voucher of the town's shop, bought in BUYER_CHAT, whose codes go to one of the
    shop's members: `telegram`, the buyer's chat is a cashier's; `sms`, it was given to
    the owner's phone; `terminal`, to the phone of a cashier at the terminal chat;
    `telegram_phone`, to the phone a cashier on Telegram shared."""
    async with core.uow() as uow:
        await community.set_town_enabled(uow, town.code, True)
        await community.set_shop_vouchers(uow, town.shop_id, enabled=True)
        purchase = Purchase(Purpose.VOUCHER, town.municipality_id, 30_00, shop_id=town.shop_id)
        recorded = await community.record_payment(
            uow,
            community.PaymentReport(
                purchase.payload(), "EUR", 30_00, "tg-1", "provider-1", "telegram", BUYER_CHAT, "it"
            ),
            core.now(),
        )
        assert recorded.voucher is not None
        now = core.now()
        if holder == "telegram":
            uow.add(_member(town, "telegram", BUYER_CHAT, now))
        elif holder == "terminal":
            uow.add(_member(town, "terminal", CASHIER, now))
        elif holder == "telegram_phone":
            # A cashier on Telegram, with the phone they shared (migration 0040).
            cashier = _member(town, "telegram", CASHIER_CHAT, now)
            cashier.phone = CASHIER
            uow.add(cashier)
        if holder != "telegram":
            phone = town.shop_phone if holder == "sms" else CASHIER
            await community.give_voucher(
                uow,
                municipality_id=town.municipality_id,
                code=recorded.voucher.code,
                channel="telegram",
                address=BUYER_CHAT,
                phone=phone,
                now=now,
            )
        await uow.commit()
        return recorded.voucher


async def charge_voucher(core: Core, town: Town, code: str) -> int:
    async with core.uow() as uow:
        requested = await voucher_charges.request_voucher_charge(
            uow,
            shop_id=town.shop_id,
            voucher_reference=code,
            amount_cents=10_00,
            requested_by="test",
            now=core.now(),
        )
        await uow.commit()
        return requested.charge_id


async def left_on(core: Core, voucher: m.Voucher) -> int:
    async with core.uow() as uow:
        return await uow.ledger.balance_of_owner(
            voucher.municipality_id, AccountKind.VOUCHER, voucher.id
        )


@pytest.mark.parametrize("holder", ["telegram", "sms", "terminal", "telegram_phone"])
async def test_a_voucher_code_never_goes_to_the_shops_own_staff(core: Core, holder: str) -> None:
    """A community voucher's payment is confirmed by a code to its holder, as a buono
    spesa's: the till refuses to send it to one of the shop's own members (the voucher is
    spent only at its shop, so its holder gives it to someone else, or the shop refunds
    it), with a sentence, and nothing is sent, waits or moves."""
    town = await make_town(core, citizens=0)
    voucher = await voucher_held_by(core, town, holder)
    async with core.uow() as uow:
        found = await uow.community.voucher_by_code(voucher.code)
        assert found is not None
        address = found.holder_address
    before, told = await everything(core), await sent_to(core, address)
    with pytest.raises(NotAllowed) as refused:
        await charge_voucher(core, town, voucher.code)
    assert refused.value.code == Refusal.VOUCHER_CODE_TO_SHOP
    assert error_text(refused.value).msgid.startswith("The code of this voucher would go")
    assert await everything(core) == before
    assert await sent_to(core, address) == told
    assert await left_on(core, voucher) == 30_00


async def test_a_voucher_given_away_by_the_shops_cashier_is_charged_again(core: Core) -> None:
    """The refusal is about where the code goes, not about the voucher: given to a phone
    that is not the shop's, it is charged as before and its code goes there."""
    town = await make_town(core, citizens=0)
    voucher = await voucher_held_by(core, town, "telegram")
    with pytest.raises(NotAllowed):
        await charge_voucher(core, town, voucher.code)
    async with core.uow() as uow:
        await community.give_voucher(
            uow,
            municipality_id=town.municipality_id,
            code=voucher.code,
            channel="telegram",
            address=BUYER_CHAT,
            phone="+393331112223",
            now=core.now(),
        )
        await uow.commit()
    await charge_voucher(core, town, voucher.code)
    assert (await sent_to(core, "+393331112223"))[-1].startswith("{shop} asks {amount} from")

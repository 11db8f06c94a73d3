"""A cashier's refund waits for the customer's code, and the chat the code went to stops
being the customer's: the Telegram chat unlinked (it proved a delegate's number, or the
office gave a new phone), the office's new phone, the delegate removed, the customer
erased. The request is void in the same transaction, the till that types the code
refunds nothing, and a code not sent yet never reaches that chat: its message is closed
unsent and scrubbed, as a cancelled payment's is
(core.services.refund_codes.void_refund_codes_gone_elsewhere).
On PostgreSQL a STORNO that read the old phone just before the change committed writes
no code for it: the database refuses the row (migration 0038_code_destination_guard) and
the turn runs again, its code going to the new phone. On SQLite and PostgreSQL (the
`core` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from core.bootstrap import Core
from core.services import delegates, identity, privacy
from core.services import refund_codes as refund_code_service
from core.services.outbox import Payer, payer_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.engine import make_engine
from tests.conftest import FakeClock
from tests.dialogue.harness import outbox_of
from tests.dialogue.test_refund_void import STOPPED_BY_OFFICE, VOID_NOTICE
from tests.dialogue.test_shop_codes import (
    CUSTOMER_ASKED,
    REFUNDED,
    citizen_balance,
    receipt,
    refunded,
)
from tests.dialogue.test_shop_guards import REFUND_ASKED, ask_refund, cashier_of, refund_codes
from tests.factories import Town, approved_request, make_town, pay
from tests.integration.test_outbox_worker import ScriptedSender, worker

CHAT = "990221"
DELEGATE = "+393339998821"
NEW_PHONE = "+393339998822"
NOT_SENT = "not sent: refund cancelled"


async def link_chat(core: Core, town: Town) -> None:
    """Citizen 0, who has their own phone, now also has CHAT linked: their codes go there."""
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=CHAT)
        )
        await uow.commit()


async def chat_codes(core: Core) -> list[tuple[str, m.OutboxMessage]]:
    """The refund codes queued for CHAT, with their rows."""
    return [
        (str(reply.texts[0].params["code"]), row)
        for row, reply in await outbox_of(core, "telegram", CHAT)
        if reply.texts and reply.texts[0].msgid == REFUND_ASKED
    ]


async def code_rows(core: Core, channel: str, address: str) -> list[m.OutboxMessage]:
    """The refund codes' rows queued for that chat (sent, scrubbed or not), the oldest
    first: a scrubbed row keeps its msgid."""
    return [
        row
        for row in (x for x, _ in await outbox_of(core, channel, address))
        if row.payload.get("sensitive") and row.payload["texts"][0]["msgid"] == REFUND_ASKED
    ]


async def voided(core: Core) -> list[str | None]:
    """Why each customer's refund code was voided, the oldest first."""
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.SecurityEvent.voided)
            .where(m.SecurityEvent.detail == refund_code_service.REFUND_CODE)
            .order_by(m.SecurityEvent.id)
        )
        return list(rows.all())


async def told_at(core: Core, channel: str, address: str) -> list[str]:
    """The void notices queued for that chat."""
    return [
        reply.texts[0].msgid
        for _row, reply in await outbox_of(core, channel, address)
        if reply.texts and reply.texts[0].msgid == VOID_NOTICE
    ]


def assert_closed_unsent(row: m.OutboxMessage) -> None:
    assert (row.status, row.last_error, row.sent_at) == ("failed", NOT_SENT, None)
    assert row.payload.get("scrubbed") and "sealed" not in row.payload


async def rebind(core: Core, town: Town, phone: str) -> None:
    """The office gives citizen 0 a new phone (approved: they have money at stake)."""
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[0]
        approved = await approved_request(uow, municipality, cf, "phone", phone)
        await identity.rebind_phone(
            uow, municipality, cf, phone, operator="office", now=core.now(), approved=approved
        )
        await uow.commit()


async def register_delegate(core: Core, town: Town, phone: str) -> None:
    """DELEGATE becomes citizen 0's registered delegate (a row, as the office's tests do)."""
    async with core.uow() as uow:
        uow.session.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=town.citizen_ids[0],
                phone=phone,
                created_at=core.now(),
            )
        )
        await uow.commit()


# 1. The Telegram chat unlinked -----------------------------------------------------------


async def test_a_chat_unlinked_for_proving_a_delegates_number_voids_its_refund_code(
    core: Core,
) -> None:
    """The customer's code went to their linked chat; the chat then shares its contact and
    Telegram says it is their delegate's number: the chat is unlinked (it acts as the
    delegate, never as the holder), and the code sent there consents to nothing."""
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    await link_chat(core, town)
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [(code, row)] = await chat_codes(core)
    assert row.status == "pending"  # the outbox has not run yet
    await register_delegate(core, town, DELEGATE)
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        await uow.commit()

    assert await voided(core) == [refund_code_service.REFUND_CODE_ELSEWHERE]
    [row] = await code_rows(core, "telegram", CHAT)
    assert_closed_unsent(row)
    # Told where they are reached now: the delegate's phone, as every payment message.
    assert await told_at(core, "sms", DELEGATE) == [VOID_NOTICE]
    assert await told_at(core, "telegram", CHAT) == []
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before


async def test_a_chat_unlinked_by_the_offices_new_phone_voids_its_refund_code(
    core: Core,
) -> None:
    """The office gives the citizen a new phone, which unlinks the chat of the old one:
    the refund code sent to that chat is void and never leaves; the new phone hears it."""
    town = await make_town(core, citizens=1)
    charge = await pay(core, town, 5_00)
    await link_chat(core, town)
    before = await citizen_balance(core, town)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [(code, _)] = await chat_codes(core)
    await rebind(core, town, NEW_PHONE)

    assert await voided(core) == [refund_code_service.REFUND_CODE_ELSEWHERE]
    [row] = await code_rows(core, "telegram", CHAT)
    assert_closed_unsent(row)
    assert await told_at(core, "sms", NEW_PHONE) == [VOID_NOTICE]
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == before
    # A new STORNO sends its code to the new phone, and that one refunds.
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [new_code] = await refund_codes(core, NEW_PHONE)
    await cashier.expect(new_code, REFUNDED)
    assert await refunded(core) == [charge]


# 2. A code queued, the phone changed before the outbox sends ----------------------------


async def sent_by_the_outbox(core: Core) -> list[tuple[str, str]]:
    """Run the SMS outbox once: (address, msgid) of what it handed to the provider."""
    sender = ScriptedSender()
    await worker(core, sender).run_once()
    return [(x.address, x.payload["texts"][0]["msgid"]) for x in sender.sent]


async def test_a_refund_code_queued_for_the_old_phone_is_never_sent_there(core: Core) -> None:
    town = await make_town(core, citizens=1)
    old = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    await sent_by_the_outbox(core)  # the payment's own messages are gone
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, old)
    await rebind(core, town, NEW_PHONE)

    sent = await sent_by_the_outbox(core)
    assert (old, REFUND_ASKED) not in sent
    assert (NEW_PHONE, VOID_NOTICE) in sent
    [row] = await code_rows(core, "sms", old)
    assert_closed_unsent(row)
    assert code not in str(row.payload)
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []


async def test_a_refund_code_queued_for_a_removed_delegate_is_never_sent_there(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    own = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    await sent_by_the_outbox(core)
    await register_delegate(core, town, DELEGATE)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, DELEGATE)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await delegates.remove_delegate(uow, municipality, town.citizen_cfs[0], core.now())
        await uow.commit()

    sent = await sent_by_the_outbox(core)
    assert not [x for x in sent if x[0] == DELEGATE and x[1] == REFUND_ASKED]
    assert (own, VOID_NOTICE) in sent
    [row] = await code_rows(core, "sms", DELEGATE)
    assert_closed_unsent(row)
    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []


async def test_a_code_still_queued_for_the_customers_own_phone_is_sent(core: Core) -> None:
    """Only codes gone elsewhere are closed: a change that leaves the code's phone the
    customer's (a delegate removed) closes nothing queued for it."""
    town = await make_town(core, citizens=1)
    own = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    await sent_by_the_outbox(core)
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, own)
    await register_delegate(core, town, DELEGATE)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await delegates.remove_delegate(uow, municipality, town.citizen_cfs[0], core.now())
        await uow.commit()
    assert (own, REFUND_ASKED) in await sent_by_the_outbox(core)
    await cashier.expect(code, REFUNDED)
    assert await refunded(core) == [charge]


# 3. PostgreSQL: a STORNO that read the old phone as the change commits ------------------


@pytest.fixture
async def office(core: Core, database_url: str) -> AsyncIterator[Core]:
    """The office's process: another core on the same database."""
    other = Core(engine=make_engine(database_url), clock=core.clock)
    yield other
    await other.close()


async def test_a_storno_that_read_the_old_phone_sends_its_code_to_the_new_one(
    core: Core, database_url: str, office: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no race to test")
    town = await make_town(core, citizens=1)
    old = town.citizen_phones[0]
    charge = await pay(core, town, 5_00)
    cashier = await cashier_of(core, town)
    number = await receipt(core, charge)
    read, released = asyncio.Event(), asyncio.Event()
    reads: list[str | None] = []

    async def held(uow: UnitOfWork, citizen: m.Citizen) -> Payer | None:
        # The first STORNO's read of where the code goes is held, its transaction open.
        payer = await payer_of(uow, citizen)
        reads.append(payer.address if payer else None)
        if len(reads) == 1:
            read.set()
            await released.wait()
        return payer

    monkeypatch.setattr(refund_code_service, "payer_of", held)
    await cashier.send(f"STORNO {number}")
    storno = asyncio.ensure_future(cashier.send("yes"))
    await asyncio.wait_for(read.wait(), timeout=10)
    await asyncio.wait_for(rebind(office, town, NEW_PHONE), timeout=10)
    released.set()
    await asyncio.wait_for(storno, timeout=10)

    # The database refused the code for the old phone; the turn ran again and sent it to
    # the new one, the one that refunds.
    assert reads[:2] == [old, NEW_PHONE]
    assert await refund_codes(core, old) == []
    [code] = await refund_codes(core, NEW_PHONE)
    await cashier.expect(code, REFUNDED)
    assert await refunded(core) == [charge]


# 4. The customer erased -------------------------------------------------------------------


async def test_a_refund_code_of_a_customer_erased_since_refunds_nothing(core: Core) -> None:
    """The office erases the customer (zero balance: they had spent it all today) while a
    cashier's refund waits for the code sent to their phone: that phone and chat are
    nobody's now, and the erasure forgot the code's row. Typed at the till, the code
    refunds nothing: an erased person's balance stays zero, as erasure requires."""
    town = await make_town(core, citizens=1)
    clock = core.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=40)  # past the decision's appeal period: erasure is possible
    charge = await pay(core, town, await citizen_balance(core, town))
    cashier = await cashier_of(core, town)
    await ask_refund(cashier, await receipt(core, charge), CUSTOMER_ASKED)
    [code] = await refund_codes(core, town.citizen_phones[0])
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await privacy.erase_citizen(uow, municipality, town.citizen_cfs[0], core.now(), by="t")
        await uow.commit()

    await cashier.expect(code, STOPPED_BY_OFFICE)
    assert await refunded(core) == []
    assert await citizen_balance(core, town) == 0

"""Export and erasure of one citizen's personal data, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from core.bootstrap import Core
from core.domain.errors import InvalidIdentifier, NotFound
from core.domain.ledger import PostingKind
from core.services import allocation, charges, ledger, municipalities
from core.services.applications import ApplicationInput
from core.services.audit import revoke
from core.services.privacy import (
    ERASED_ADDRESS,
    ERASED_PAYLOAD,
    Erasure,
    ErasureRefused,
    erase_citizen,
    export_citizen,
)
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import (
    Office,
    apply,
    ask,
    assert_ledger_ok,
    close_approve_credit,
    confirm,
    open_round,
    pay,
    person,
)


async def credited_town(
    core: Core, clock: FakeClock, *people: ApplicationInput
) -> tuple[Office, list[str]]:
    """Applications for these people, approved and credited: 150 € each (one member)."""
    office = await open_round(core, clock)
    protocols = await apply(office, *people)
    await close_approve_credit(office, 10_000_00)
    return office, protocols


async def export(office: Office, cf: str) -> dict[str, object]:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        return await export_citizen(uow, town, cf)


async def erase(office: Office, cf: str) -> Erasure:
    async with office.core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        result = await erase_citizen(uow, town, cf, office.clock(), by="cli:test")
        await uow.commit()
        return result


async def add_conversation(office: Office, address: str, data: dict[str, object]) -> None:
    """Where the chat with this phone stands (written by the dialogue engine in real life)."""
    async with office.core.uow() as uow:
        uow.session.add(
            m.Conversation(
                municipality_id=office.municipality_id,
                channel="sms",
                address=address,
                language="it",
                flow="status",
                step="start",
                data=data,
                stopped=False,
                updated_at=office.clock(),
            )
        )
        await uow.commit()


async def deliver_all(office: Office) -> None:
    """What the outbox worker does: every pending message is sent."""
    async with office.core.uow() as uow:
        await uow.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.status == "pending")
            .values(status="sent", sent_at=office.clock())
        )
        await uow.commit()


async def test_export_holds_everything_about_the_person(core: Core, clock: FakeClock) -> None:
    someone, neighbour = person(1), person(2)
    office, protocols = await credited_town(core, clock, someone, neighbour)
    shop = office.shop_ids[0]
    await pay(office, shop, someone, 12_50)
    waiting = await ask(office, shop, someone.codice_fiscale, 5_00)
    assert someone.phone is not None
    await add_conversation(office, someone.phone, {"note": "draft"})

    data = await export(office, someone.codice_fiscale)

    json.dumps(data)  # serialisable as it is
    citizen = data["citizen"]
    assert isinstance(citizen, dict)
    assert citizen["codice_fiscale"] == someone.codice_fiscale
    assert citizen["phone"] == someone.phone
    assert citizen["phone_proven_by"] == "office"  # a paper application
    assert isinstance(citizen["card_code"], str)
    # The identity log about them: how the phone was bound, masked, by whom.
    events = data["identity_events"]
    assert isinstance(events, list)
    assert [(e["kind"], e["phone"], e["actor"]) for e in events] == [
        ("phone_bound", "***" + someone.phone[-3:], "office")
    ]
    applications = data["applications"]
    assert isinstance(applications, list) and len(applications) == 1
    assert applications[0]["protocol"] == protocols[0]
    assert applications[0]["household_size"] == 1
    lines = data["allocation_lines"]
    assert isinstance(lines, list)
    assert [(x["tranche"], x["list"], x["amount_cents"]) for x in lines] == [(1, "1", 150_00)]
    account = data["account"]
    assert isinstance(account, dict)
    assert account["balance_cents"] == 137_50
    assert [(p["kind"], p["direction"], p["amount_cents"]) for p in account["postings"]] == [
        ("allocation", "in", 150_00),
        ("payment", "out", 12_50),
    ]
    assert account["postings"][1]["counterparty"] == "shop: Alimentari Nò0"
    charges_out = data["charges"]
    assert isinstance(charges_out, list)
    assert [(c["amount_cents"], c["status"]) for c in charges_out] == [
        (12_50, "confirmed"),
        (5_00, "pending"),
    ]
    assert charges_out[1]["id"] == waiting
    assert all("code_hash" not in c and "code_salt" not in c for c in charges_out)
    assert data["conversations"] == [
        {
            "channel": "sms",
            "address": someone.phone,
            "language": "it",
            "flow": "status",
            "step": "start",
            "data": {"note": "draft"},
            "stopped": False,
            "updated_at": clock().isoformat(),
        }
    ]
    messages = data["messages"]
    assert isinstance(messages, list)
    # Credit notice, payment code, receipt, second payment code: all to this phone only.
    assert len(messages) == 4
    assert {msg["address"] for msg in messages} == {someone.phone}
    # Nothing about the neighbour.
    assert neighbour.codice_fiscale not in json.dumps(data)
    assert protocols[1] not in json.dumps(data)


async def test_export_of_an_unknown_or_invalid_code(core: Core, clock: FakeClock) -> None:
    office, _ = await credited_town(core, clock, person(1))
    with pytest.raises(NotFound):
        await export(office, person(2).codice_fiscale)
    with pytest.raises(InvalidIdentifier):
        await export(office, "RSSMRA80A01H501X")


async def test_erasure_pseudonymises_and_keeps_the_ledger(core: Core, clock: FakeClock) -> None:
    someone, neighbour = person(1), person(2)
    office, protocols = await credited_town(core, clock, someone, neighbour)
    shop = office.shop_ids[0]
    assert someone.phone is not None and neighbour.phone is not None
    await pay(office, shop, someone, 150_00)  # spends everything
    await pay(office, shop, neighbour, 10_00)
    await add_conversation(office, someone.phone, {"codice_fiscale": someone.codice_fiscale})
    await deliver_all(office)
    async with core.uow() as uow:
        before = await uow.citizens.by_codice_fiscale(
            office.municipality_id, someone.codice_fiscale
        )
        assert before is not None
        citizen_id, old_card = before.id, before.card_code
        postings_before = (await uow.session.execute(
            select(func.count(), func.sum(m.Posting.amount_cents))
        )).one()  # fmt: skip

    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    result = await erase(office, someone.codice_fiscale)

    assert result.pseudonym.startswith("ERASED-") and someone.codice_fiscale not in result.pseudonym
    assert result.conversations_deleted == 1
    assert result.messages_blanked == 3  # credit notice, payment code, receipt
    assert result.messages_withdrawn == 0
    async with core.uow() as uow:
        assert (
            await uow.citizens.by_codice_fiscale(office.municipality_id, someone.codice_fiscale)
            is None
        )
        assert await uow.citizens.by_phone(office.municipality_id, someone.phone) is None
        erased = await uow.citizens.by_id(citizen_id)
        assert erased is not None
        assert erased.codice_fiscale == result.pseudonym
        assert erased.phone is None and erased.telegram_chat_id is None
        assert erased.card_code != old_card
        assert erased.erased_at == clock()
        assert list(await uow.outbox.for_address("sms", someone.phone)) == []
        blanked = list(await uow.outbox.for_address("sms", ERASED_ADDRESS))
        assert len(blanked) == 3 and all(x.payload == ERASED_PAYLOAD for x in blanked)
        assert await uow.conversations.find(office.municipality_id, "sms", someone.phone) is None
        # The public-spending record is intact.
        postings_after = (await uow.session.execute(
            select(func.count(), func.sum(m.Posting.amount_cents))
        )).one()  # fmt: skip
        assert tuple(postings_after) == tuple(postings_before)
        application = await uow.applications.by_protocol(protocols[0])
        assert application is not None and application.citizen_id == citizen_id
        assert await ledger.citizen_balance(uow, office.municipality_id, citizen_id) == 0
        # The neighbour is untouched.
        other = await uow.citizens.by_codice_fiscale(
            office.municipality_id, neighbour.codice_fiscale
        )
        assert other is not None and other.phone == neighbour.phone
        assert len(await uow.outbox.for_address("sms", neighbour.phone)) == 3
    # Nobody can find or charge the person any more, nor export or erase them again.
    with pytest.raises(NotFound):
        await ask(office, shop, someone.codice_fiscale, 1_00)
    with pytest.raises(NotFound):
        await ask(office, shop, old_card, 1_00)
    with pytest.raises(NotFound):
        await export(office, someone.codice_fiscale)
    with pytest.raises(NotFound):
        await erase(office, someone.codice_fiscale)
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_while_money_is_on_the_card(core: Core, clock: FakeClock) -> None:
    someone = person(1)
    office, _ = await credited_town(core, clock, someone)
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, someone.codice_fiscale)
    assert caught.value.reason == "balance_not_zero"
    assert caught.value.code == "privacy.balance_not_zero"
    assert caught.value.params == {"balance_cents": 150_00}
    assert (await export(office, someone.codice_fiscale))["citizen"]  # still there
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_while_a_charge_waits_for_the_code(core: Core, clock: FakeClock) -> None:
    someone = person(1)
    office, _ = await credited_town(core, clock, someone)
    shop = office.shop_ids[0]
    assert someone.phone is not None
    first = await ask(office, shop, someone.codice_fiscale, 150_00)
    assert await confirm(office, shop, first, someone.phone) is charges.ConfirmOutcome.CONFIRMED
    # Asked after the first is paid (a new charge of the shop would replace a pending one).
    second = await ask(office, shop, someone.codice_fiscale, 150_00)
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, someone.codice_fiscale)
    assert caught.value.reason == "charge_pending"

    # Once the code has expired the charge can never be paid, and once the decision can no
    # longer be appealed (30 days), erasure goes ahead.
    clock.advance(days=31)
    result = await erase(office, someone.codice_fiscale)
    assert result.messages_withdrawn == 4  # never delivered: they will not be now
    async with core.uow() as uow:
        charge = await uow.charges.by_id(second)
        assert charge is not None and charge.status == "expired"
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_while_a_sum_is_to_be_recovered(core: Core, clock: FakeClock) -> None:
    liar, careful = person(1), person(2)
    office, protocols = await credited_town(core, clock, liar, careful)
    await pay(office, office.shop_ids[0], liar, 30_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await revoke(uow, town, protocols[0], clock())
        await revoke(uow, town, protocols[1], clock())
        await uow.commit()
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, liar.codice_fiscale)
    assert caught.value.reason == "recovery_pending"
    # Revoked before spending anything: nothing to recover, nothing on the card; the
    # revocation can no longer be appealed after 30 days.
    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    await erase(office, careful.codice_fiscale)
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_while_the_application_is_being_processed(
    core: Core, clock: FakeClock
) -> None:
    someone = person(1)
    office = await open_round(core, clock)
    await apply(office, someone)
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, someone.codice_fiscale)
    assert caught.value.reason == "application_in_progress"

    async with core.uow() as uow:
        town = await municipalities.require(uow, office.code)
        await municipalities.close_window(uow, town, clock())
        await allocation.approve(uow, town, 1_000_00, clock() + timedelta(minutes=1))
        await uow.commit()
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, someone.codice_fiscale)
    assert caught.value.reason == "credit_pending"


async def test_a_shared_phone_keeps_the_other_persons_messages(
    core: Core, clock: FakeClock
) -> None:
    # One phone is one citizen's (docs/identity-and-consent.md), and no longer a shop's
    # too, but a database from before that rule (migration 0015_shop_phone_guard) may
    # still hold one: the family grocery's owner is the mother.
    family_phone = "+393335550001"
    mother = person(1, phone=family_phone)
    office, _ = await credited_town(core, clock, mother)
    await pay(office, office.shop_ids[0], mother, 150_00)
    await add_conversation(office, family_phone, {"codice_fiscale": mother.codice_fiscale})
    async with core.uow() as uow:
        # Written as before the rule: its trigger set aside for this transaction only.
        if uow.dialect == "postgresql":
            await uow.session.execute(
                text("ALTER TABLE shop_members DISABLE TRIGGER shop_members_not_holder")
            )
        else:
            guard = await uow.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'shop_members_not_holder_insert'")
            )
            await uow.session.execute(text("DROP TRIGGER shop_members_not_holder_insert"))
        uow.session.add(
            m.ShopMember(
                shop_id=office.shop_ids[0],
                channel="sms",
                address=family_phone,
                role="owner",
                created_at=core.now(),
            )
        )
        await uow.flush()
        if uow.dialect == "postgresql":
            await uow.session.execute(
                text("ALTER TABLE shop_members ENABLE TRIGGER shop_members_not_holder")
            )
        else:
            await uow.session.execute(text(guard))
        await uow.commit()
    async with core.uow() as uow:
        before = len(list(await uow.outbox.for_address("sms", family_phone)))

    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    result = await erase(office, mother.codice_fiscale)

    # Pending messages to the shared phone may be the shop's: none is touched.
    assert result.messages_withdrawn == 0 and result.messages_blanked == 0
    assert result.conversations_deleted == 0 and result.conversations_reset == 1
    async with core.uow() as uow:
        still = list(await uow.outbox.for_address("sms", family_phone))
        assert len(still) == before and all(x.status == "pending" for x in still)
        conversation = await uow.conversations.find(office.municipality_id, "sms", family_phone)
        assert conversation is not None and conversation.data == {}
        assert await uow.citizens.by_phone(office.municipality_id, family_phone) is None
        revocations = await uow.session.scalar(
            select(func.count())
            .select_from(m.Posting)
            .where(m.Posting.kind == PostingKind.REVOCATION.value)
        )
        assert revocations == 0
    await assert_ledger_ok(core, office.municipality_id)


async def test_refused_while_the_decision_may_still_be_appealed(
    core: Core, clock: FakeClock
) -> None:
    """An appeal needs to know who filed it: the erasure waits for the last day to appeal
    the latest decision, and says from which day it is possible."""
    someone = person(1)
    office, protocols = await credited_town(core, clock, someone)
    await pay(office, office.shop_ids[0], someone, 150_00)  # nothing left on the card
    with pytest.raises(ErasureRefused) as caught:
        await erase(office, someone.codice_fiscale)
    assert caught.value.code == "privacy.appeal_period"
    params = caught.value.params
    assert params["protocol"] == protocols[0]
    last_day = (clock() + timedelta(days=30)).date()  # the credit notice: 30 days to appeal
    assert (params["last_day"], params["from_day"]) == (
        last_day.isoformat(),
        (last_day + timedelta(days=1)).isoformat(),
    )
    assert (await export(office, someone.codice_fiscale))["citizen"]  # still there

    clock.advance(days=31)
    result = await erase(office, someone.codice_fiscale)
    assert result.pseudonym.startswith("ERASED-")


async def test_the_erasure_is_in_the_activity_log_without_the_erased_data(
    core: Core, clock: FakeClock
) -> None:
    """Who erased whom and when: the pseudonym and the protocols, never the codice fiscale
    or the phone."""
    someone = person(1)
    office, protocols = await credited_town(core, clock, someone)
    await pay(office, office.shop_ids[0], someone, 150_00)
    clock.advance(days=31)
    result = await erase(office, someone.codice_fiscale)
    async with core.uow() as uow:
        entries = [
            e
            for e in await uow.activity.newest_first(office.municipality_id, None, 0)
            if e.action == "privacy.erase"
        ]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.subject, entry.created_at) == ("cli:test", result.pseudonym, clock())
    assert entry.after is not None
    assert entry.after["pseudonym"] == result.pseudonym
    assert entry.after["protocols"] == protocols
    stored = json.dumps([entry.before, entry.after, entry.subject])
    assert someone.codice_fiscale not in stored
    assert someone.phone is not None and someone.phone not in stored


async def test_erasure_forgets_which_telegram_chat_asked_a_phone(
    core: Core, clock: FakeClock
) -> None:
    """A first number the person's Telegram chat proved waited for the office (asked by the
    chat, docs/identity-and-consent.md §5) and was decided: erased, the request keeps that a
    chat asked it, not which (the Telegram user is personal data)."""
    from core.services import identity

    someone = person(1)
    office, _ = await credited_town(core, clock, someone)
    assert someone.phone is not None
    chat = "990099"
    where = m.Citizen.codice_fiscale == someone.codice_fiscale
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen).where(where).values(phone=None, telegram_chat_id=chat)
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice) as refused:
            await identity.link_telegram(
                uow, office.municipality_id, chat, "+393471230099", clock()
            )
        await uow.commit()
    change = refused.value.change
    assert change is not None
    async with core.uow() as uow:  # the office withdrew it; the person's phone is back
        assert await uow.phone_changes.mark_decided(
            change.id, decided_at=clock(), phone=None, status="withdrawn", reason="x"
        )
        await uow.session.execute(
            update(m.Citizen).where(where).values(phone=someone.phone, telegram_chat_id=None)
        )
        await uow.commit()
    await pay(office, office.shop_ids[0], someone, 150_00)
    clock.advance(days=31)
    await erase(office, someone.codice_fiscale)
    async with core.uow() as uow:
        row = await uow.phone_changes.by_id(change.id)
        assert row is not None and row.requested_by_chat == m.ERASED_CHAT

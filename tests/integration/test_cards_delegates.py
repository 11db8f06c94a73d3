"""Citizens without a phone: a card with a PIN, and delegates (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.cards import MAX_PIN_FAILURES
from core.domain.errors import Conflict, NotAllowed, NotFound
from core.domain.messages import reply_from_json
from core.services import cards, charges, delegates, ledger
from core.storage import models as m
from tests.conftest import FakeClock
from tests.factories import (
    Town,
    assert_ledger_ok,
    confirm,
    last_code_for,
    make_town,
    outbox_to,
    request,
)

DELEGATE = "+393471234567"
PAID = "Paid {amount} at {shop}. Remaining balance: {balance}."


async def without_phone(core: Core, town: Town, index: int = 0) -> None:
    """Citizen `index` applied on paper without a phone (about one in ten do)."""
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[index])
        assert citizen is not None
        citizen.phone = None
        await uow.commit()


async def issue(core: Core, town: Town, index: int = 0, reissue: bool = False) -> cards.CardData:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        card = await cards.issue_card(
            uow, municipality, town.citizen_cfs[index], core.now(), reissue=reissue
        )
        await uow.commit()
        return card


async def balance(core: Core, town: Town, index: int = 0) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[index])


async def all_outbox(core: Core) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.OutboxMessage)))


async def wrong_pins(core: Core, town: Town, card: cards.CardData, count: int) -> list[str]:
    """`count` wrong PINs on charges of 1 euro, two per charge (a charge allows three)."""
    outcomes: list[str] = []
    charge_id = None
    for attempt in range(count):
        if attempt % 2 == 0:
            if charge_id is not None:
                async with core.uow() as uow:
                    await charges.cancel_charge(
                        uow, charge_id=charge_id, shop_id=town.shop_id, now=core.now()
                    )
                    await uow.commit()
            charge_id = (await request(core, town.shop_id, card.card_code, 100)).charge_id
        assert charge_id is not None
        wrong = "000000" if card.pin != "000000" else "111111"
        outcomes.append((await confirm(core, town.shop_id, charge_id, wrong)).outcome.value)
    return outcomes


async def unlock_shop(core: Core, town: Town) -> None:
    """Wrong PINs are wrong codes of the shop too: the office lifts its lock between rounds."""
    async with core.uow() as uow:
        await charges.unlock_shop(
            uow, town.municipality_id, town.shop_id, by="office", now=core.now()
        )
        await uow.commit()


async def test_a_citizen_without_phone_pays_with_card_and_pin(core: Core) -> None:
    town = await make_town(core, citizens=2)
    await without_phone(core, town)
    card = await issue(core, town)
    assert card.pin is not None and len(card.pin) == 6 and card.with_pin
    before = await balance(core, town)
    sent_before = len(await all_outbox(core))

    requested = await request(core, town.shop_id, card.card_code.lower(), 12_50)
    assert requested.channel == "card" and requested.sent_to.replace(" ", "") == card.card_code
    assert len(await all_outbox(core)) == sent_before  # no code is sent anywhere
    result = await confirm(core, town.shop_id, requested.charge_id, card.pin)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    assert await balance(core, town) == before - 12_50
    await assert_ledger_ok(core, town.municipality_id)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert charge is not None and charge.consent == "card_pin"
    assert citizen is not None and card.pin not in (citizen.card_pin_hash or "")


async def test_the_pin_is_stored_hashed_and_the_card_number_is_needed(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert citizen is not None and citizen.card_pin_hash and citizen.card_pin_salt
    assert card.pin is not None and card.pin not in citizen.card_pin_hash
    # By codice fiscale the shop cannot ask for the PIN: it must have the card.
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 100)
    assert refused.value.code == "citizen.pays_by_card"


async def test_a_card_is_issued_once_unless_reissued(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await issue(core, town)
    with pytest.raises(Conflict) as refused:
        await issue(core, town)
    assert refused.value.code == "card.already_issued"


async def test_five_wrong_pins_across_charges_block_the_card(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    before = await balance(core, town)
    outcomes = await wrong_pins(core, town, card, MAX_PIN_FAILURES)
    assert outcomes == ["wrong_code"] * (MAX_PIN_FAILURES - 1) + ["card_blocked"]
    await unlock_shop(core, town)
    async with core.uow() as uow:
        listed = await cards.card_statuses(uow, town.municipality_id, blocked_only=True)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert [item.card_code for item in listed] == [card.card_code]
    assert citizen is not None and citizen.card_blocked_at == clock()
    # Blocked: the right PIN no longer helps, and a new charge is refused.
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, card.card_code, 100)
    assert refused.value.code == "card.blocked"
    assert await balance(core, town) == before


async def test_a_correct_pin_starts_the_count_again(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    assert card.pin is not None
    await wrong_pins(core, town, card, MAX_PIN_FAILURES - 1)
    paid = await request(core, town.shop_id, card.card_code, 100)
    result = await confirm(core, town.shop_id, paid.charge_id, card.pin)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    await unlock_shop(core, town)
    outcomes = await wrong_pins(core, town, card, MAX_PIN_FAILURES - 1)
    assert "card_blocked" not in outcomes


async def test_reissue_unblocks_with_a_new_number_and_pin(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    old = await issue(core, town)
    await wrong_pins(core, town, old, MAX_PIN_FAILURES)
    await unlock_shop(core, town)
    new = await issue(core, town, reissue=True)
    assert new.card_code != old.card_code and new.pin is not None
    # The old card number finds nobody any more.
    with pytest.raises(NotFound):
        await request(core, town.shop_id, old.card_code, 100)
    requested = await request(core, town.shop_id, new.card_code, 5_00)
    if old.pin != new.pin:
        wrong = await confirm(core, town.shop_id, requested.charge_id, old.pin or "")
        assert wrong.outcome is charges.ConfirmOutcome.WRONG_CODE
    result = await confirm(core, town.shop_id, requested.charge_id, new.pin)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    async with core.uow() as uow:
        assert await cards.card_statuses(uow, town.municipality_id, blocked_only=True) == []


async def test_reissue_cancels_a_payment_waiting_for_the_old_pin(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    old = await issue(core, town)
    pending = await request(core, town.shop_id, old.card_code, 5_00)
    new = await issue(core, town, reissue=True)
    assert new.pin is not None
    result = await confirm(core, town.shop_id, pending.charge_id, new.pin)
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING


# Delegates ---------------------------------------------------------------------------------


async def add(core: Core, town: Town, index: int, phone: str) -> None:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await delegates.add_delegate(uow, municipality, town.citizen_cfs[index], phone, core.now())
        await uow.commit()


async def test_the_delegate_receives_the_code_and_the_receipt(core: Core) -> None:
    town = await make_town(core, citizens=2)
    await add(core, town, 0, DELEGATE)
    told = [
        reply_from_json(row.payload).texts[0].msgid
        for row in await outbox_to(core, town.citizen_phones[0])
    ]
    assert any("registered {phone} as your delegate" in msgid for msgid in told)
    welcomed = await outbox_to(core, DELEGATE)
    assert len(welcomed) == 1 and welcomed[0].language == "it"

    requested = await request(core, town.shop_id, town.citizen_cfs[0], 10_00)
    assert requested.sent_to.endswith("567")
    code = await last_code_for(core, DELEGATE, requested.charge_id)
    citizen_rows = [r for r in await outbox_to(core, town.citizen_phones[0]) if r.charge_id]
    assert citizen_rows == []  # the code went to the delegate only
    result = await confirm(core, town.shop_id, requested.charge_id, code)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    for phone in (DELEGATE, town.citizen_phones[0]):
        receipts = [
            reply_from_json(row.payload).texts[0].msgid
            for row in await outbox_to(core, phone)
            if row.charge_id == requested.charge_id
        ]
        assert PAID in receipts, phone


async def test_a_delegate_for_a_citizen_without_phone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    with pytest.raises(NotAllowed):
        await request(core, town.shop_id, town.citizen_cfs[0], 100)
    await add(core, town, 0, DELEGATE)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 3_00)
    code = await last_code_for(core, DELEGATE, requested.charge_id)
    assert (await confirm(core, town.shop_id, requested.charge_id, code)).outcome.value == (
        "confirmed"
    )


async def test_removing_the_delegate_sends_codes_to_the_citizen_again(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        assert (
            await delegates.remove_delegate(uow, municipality, town.citizen_cfs[0], core.now())
            == DELEGATE
        )
        await uow.commit()
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 100)
    assert await last_code_for(core, town.citizen_phones[0], requested.charge_id)


@pytest.mark.parametrize(
    ("phone_of", "code"),
    [
        ("own", "delegate.own_phone"),
        ("other_citizen", "delegate.phone_is_citizen"),
        ("shop", "delegate.phone_is_shop"),
        ("other_delegate", "delegate.phone_taken"),
    ],
)
async def test_a_phone_speaks_for_one_person(core: Core, phone_of: str, code: str) -> None:
    town = await make_town(core, citizens=3)
    await add(core, town, 2, DELEGATE)
    phone = {
        "own": town.citizen_phones[0],
        "other_citizen": town.citizen_phones[1],
        "shop": town.shop_phone,
        "other_delegate": DELEGATE,
    }[phone_of]
    with pytest.raises(Conflict) as refused:
        await add(core, town, 0, phone)
    assert refused.value.code == code


async def test_one_delegate_per_citizen(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    with pytest.raises(Conflict) as refused:
        await add(core, town, 0, "+393470000001")
    assert refused.value.code == "delegate.already"


async def test_the_schema_keeps_a_phone_to_one_citizen(core: Core) -> None:
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        for citizen_id in town.citizen_ids:
            uow.session.add(
                m.Delegate(
                    municipality_id=town.municipality_id,
                    citizen_id=citizen_id,
                    phone=DELEGATE,
                    created_at=core.now(),
                )
            )
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_erasure_removes_the_delegate_and_blanks_its_messages(core: Core) -> None:
    from core.services.privacy import ERASED_PAYLOAD, erase_citizen, export_citizen

    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        exported = await export_citizen(uow, municipality, town.citizen_cfs[0])
    assert exported["citizen"]["delegate_phone"] == DELEGATE
    requested = await request(core, town.shop_id, town.citizen_cfs[0], await balance(core, town))
    code = await last_code_for(core, DELEGATE, requested.charge_id)
    await confirm(core, town.shop_id, requested.charge_id, code)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await erase_citizen(uow, municipality, town.citizen_cfs[0], core.now())
        await uow.commit()
    async with core.uow() as uow:
        assert await uow.delegates.of_citizen(town.citizen_ids[0]) is None
        assert await delegates.represented_by(uow, town.municipality_id, DELEGATE) is None
    assert await outbox_to(core, DELEGATE) == []
    erased = [row for row in await all_outbox(core) if row.payload == ERASED_PAYLOAD]
    assert len(erased) >= 3  # the delegate's welcome, the code and the receipt at least


async def test_a_cancelled_card_payment_does_not_speak_of_a_code(core: Core) -> None:
    """A card payment's consent is the PIN: its holder was never sent a code."""
    town = await make_town(core, citizens=1)
    card = await issue(core, town)
    requested = await request(core, town.shop_id, card.card_code, 9_00)
    async with core.uow() as uow:
        assert await charges.cancel_charge(
            uow, charge_id=requested.charge_id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    notices = [
        reply_from_json(row.payload).texts[0].msgid
        for row in await outbox_to(core, town.citizen_phones[0])
        if row.charge_id == requested.charge_id
    ]
    assert notices == [
        "{shop} cancelled the card payment of {amount}: nothing was taken from your vouchers."
    ]

"""Citizens without a phone: a card with a PIN, and delegates (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.domain.charges import ShopLock
from core.domain.errors import Conflict, NotAllowed, NotFound
from core.domain.messages import reply_from_json
from core.i18n import render_text
from core.services import cards, charges, delegates, ledger, security
from core.services.outbox import reply_of
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import add_member, assert_one_segment
from tests.factories import (
    Town,
    approved_request,
    assert_ledger_ok,
    confirm,
    last_code_for,
    make_cf,
    make_town,
    outbox_to,
    pin_only,
    request,
    slip_code,
)
from tests.integration.test_payments import another_shop

DELEGATE = "+393471234567"
TERMINAL_CASHIER = "+393339990002"
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
        cf = town.citizen_cfs[index]
        card = await cards.issue_card(
            uow,
            municipality,
            cf,
            core.now(),
            reissue=reissue,
            approved=await approved_request(uow, municipality, cf, "card"),
        )
        await uow.commit()
    later(core)  # the holder leaves the office with the card
    return card


def later(core: Core) -> None:
    """A minute passes (PINs are typed after the card exists, wrong ones after a payment)."""
    clock = core.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=1)


async def balance(core: Core, town: Town, index: int = 0) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[index])


async def all_outbox(core: Core) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        return list(await uow.session.scalars(select(m.OutboxMessage)))


async def wrong_pins(
    core: Core, town: Town, card: cards.CardData, count: int, shop_id: int | None = None
) -> list[str]:
    """`count` wrong PINs at a shop on charges of 1 euro, two per charge (a charge allows
    three), a minute apart; the outcome of each, or of the request the shop was refused."""
    shop = town.shop_id if shop_id is None else shop_id
    outcomes: list[str] = []
    charge_id = None
    for attempt in range(count):
        if attempt % 2 == 0:
            if charge_id is not None:
                async with core.uow() as uow:
                    await charges.cancel_charge(
                        uow, charge_id=charge_id, shop_id=shop, now=core.now()
                    )
                    await uow.commit()
            try:
                charge_id = (await request(core, shop, card.card_code, 100)).charge_id
            except NotAllowed as refused:
                outcomes.append(refused.code)
                charge_id = None
                continue
        if charge_id is None:
            continue
        wrong = "000000" if card.pin != "000000" else "111111"
        outcomes.append((await confirm(core, shop, charge_id, wrong)).outcome.value)
        later(core)
    return outcomes


async def pays(core: Core, shop_id: int, card: cards.CardData, cents: int = 100) -> str:
    """The holder pays at a shop with the right code of the slip: the outcome."""
    requested = await request(core, shop_id, card.card_code, cents)
    code = slip_code(card, requested)
    outcome = (await confirm(core, shop_id, requested.charge_id, code)).outcome.value
    later(core)
    return outcome


async def refusal(core: Core, shop_id: int, card: cards.CardData) -> NotAllowed:
    with pytest.raises(NotAllowed) as refused:
        await request(core, shop_id, card.card_code, 100)
    return refused.value


async def blocked_at(core: Core, town: Town) -> datetime | None:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert citizen is not None
    return citizen.card_blocked_at


async def notices_to(core: Core, phone: str) -> list[str]:
    return [reply_from_json(row.payload).texts[0].msgid for row in await outbox_to(core, phone)]


async def test_a_citizen_without_phone_pays_with_card_and_pin(core: Core) -> None:
    town = await make_town(core, citizens=2)
    await without_phone(core, town)
    card = await issue(core, town)
    assert card.pin is None and len(card.codes) == 30 and card.with_pin and card.grid
    before = await balance(core, town)
    sent_before = len(await all_outbox(core))

    requested = await request(core, town.shop_id, card.card_code.lower(), 12_50)
    assert requested.channel == "card" and requested.sent_to.replace(" ", "") == card.card_code
    assert len(await all_outbox(core)) == sent_before  # no code is sent anywhere
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(card, requested))
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    assert await balance(core, town) == before - 12_50
    await assert_ledger_ok(core, town.municipality_id)
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert charge is not None and charge.consent == "card_pin"
    assert citizen is not None and charge.card_code_position == requested.card_position


async def test_the_pin_is_stored_hashed_and_the_card_number_is_needed(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
    assert citizen is not None and citizen.card_pin_hash and citizen.card_pin_salt
    async with core.uow() as uow:
        grid = await uow.citizens.card_grid(citizen.id, citizen.card_code)
    assert [x.position for x in grid] == list(range(1, 31))
    assert all(
        code not in x.code_hash + x.code_salt for x, code in zip(grid, card.codes, strict=True)
    )
    # By codice fiscale the shop cannot ask for the PIN: it must have the card. It is told
    # what it is told of nobody (the holder, who gets no code, would never see the lookup).
    with pytest.raises(NotFound) as refused:
        await request(core, town.shop_id, town.citizen_cfs[0], 100)
    assert refused.value.code == "citizen.not_found"


async def test_a_holder_no_code_reaches_is_nobody_to_the_shop(core: Core) -> None:
    """A card holder without a phone named by codice fiscale, and a holder with no phone,
    chat nor card: the refusal of an unknown codice fiscale, a miss for the office, and
    nothing sent to anyone."""
    town = await make_town(core, citizens=2)
    await without_phone(core, town, 0)
    await without_phone(core, town, 1)
    await issue(core, town, 0)
    sent = len(await all_outbox(core))
    refusals = []
    for cf in (town.citizen_cfs[0], town.citizen_cfs[1], make_cf(99)):
        # As the till does: what the refusal leaves is committed with its conversation.
        async with core.uow() as uow:
            with pytest.raises(NotFound) as refused:
                await charges.request_charge(
                    uow,
                    shop_id=town.shop_id,
                    citizen_reference=cf,
                    amount_cents=100,
                    requested_by="sms:+393339999999",
                    now=core.now(),
                )
            await uow.commit()
        refusals.append((type(refused.value), refused.value.code, refused.value.params))
    assert refusals == [refusals[2]] * 3
    assert len(await all_outbox(core)) == sent
    async with core.uow() as uow:
        since = core.now() - timedelta(hours=1)
        assert await security.count(uow, security.LOOKUP, since) == 3
        assert await security.count(uow, security.LOOKUP_MISS, since) == 3
        assert await uow.session.scalar(select(func.count()).select_from(m.Charge)) == 0


ISSUED = (
    "{town}: the office issued a voucher card for you, with a slip of codes to pay. Not you? "
    "Call the office."
)


@pytest.mark.parametrize(("language", "codes"), [("it", "codici"), ("en", "codes")])
async def test_the_holder_hears_of_a_new_card_with_its_codes(
    core: Core, language: str, codes: str
) -> None:
    """A new card pays with the codes of its slip: the notice names them, never a PIN."""
    town = await make_town(core, citizens=1)
    await issue(core, town)
    [notice] = [
        text
        for row in await outbox_to(core, town.citizen_phones[0])
        for text in reply_from_json(row.payload).texts
        if text.msgid == ISSUED
    ]
    said = render_text(notice, language, sms=True)
    assert codes in said and "PIN" not in said and "Testville" in said, said


async def test_a_card_is_issued_once_unless_reissued(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await issue(core, town)
    with pytest.raises(Conflict) as refused:
        await issue(core, town)
    assert refused.value.code == "card.already_issued"


# A card holder has a slip of codes, not a code sent to them: the warning says so (chat
# trial finding 14; an old card's says PIN).
WARNED = (
    "Warning: {shop} typed a wrong code of your card too many times. The payment of {amount} "
    "was cancelled. Never show your code slip: give only the code asked."
)
WARNED_PIN = (
    "Warning: {shop} typed a wrong PIN for your card too many times. The payment of {amount} "
    "was cancelled. Never tell your PIN to anyone but the cashier."
)
BLOCKED_NOTICE = (
    "Your voucher card was blocked after too many wrong codes at several shops, the last at "
    "{shop}. Ask the office for a new card."
)
BLOCKED_NOTICE_PIN = (
    "Your voucher card was blocked after too many wrong PINs at several shops, the last at "
    "{shop}. Ask the office for a new card."
)


@pytest.mark.parametrize(("language", "code"), [("it", "codice"), ("en", "code")])
def test_the_card_holders_warning_names_the_pin(language: str, code: str) -> None:
    warning = charges.wrong_codes_warning("Alimentari Da Rita", 4_00, pin=True)
    said = render_text(warning, language, sms=True)
    assert "PIN" in said and code not in said.lower(), said
    said = render_text(charges.wrong_codes_warning("Alimentari Da Rita", 4_00), language, sms=True)
    assert code in said.lower() and "PIN" not in said, said
    grid = charges.wrong_codes_warning("Alimentari Da Rita", 4_00, pin=True, grid=True)
    said = render_text(grid, language, sms=True)
    assert code in said.lower() and "PIN" not in said, said


GIVEN_UP = (
    "Warning: {shop} cancelled the card payment of {amount} after {count} wrong code. Never "
    "show your code slip."
)
GIVEN_UP_PIN = (
    "Warning: {shop} cancelled the card payment of {amount} after {count} wrong PIN. Tell "
    "your PIN only to the cashier."
)


@pytest.mark.parametrize("kind", ["grid", "pin"])
async def test_a_card_payment_given_up_after_wrong_codes_warns_the_holder(
    core: Core, kind: str
) -> None:
    """The cashier typed 2 wrong codes of the card (or PINs), then ANNULLA: the holder reads
    a warning in the card's words with how many, not that the shop simply cancelled."""
    town = await make_town(core, citizens=1)
    card = await issue(core, town)
    if kind == "pin":
        card = await pin_only(core, card)
    assert await wrong_pins(core, town, card, 2) == ["wrong_code", "wrong_code"]
    async with core.uow() as uow:
        [pending] = await uow.charges.pending_for_citizen(town.citizen_ids[0])
        assert await charges.cancel_charge(
            uow, charge_id=pending.id, shop_id=town.shop_id, now=core.now()
        )
        await uow.commit()
    [row] = (await outbox_to(core, town.citizen_phones[0]))[-1:]
    told = reply_from_json(row.payload).texts[0]
    assert (told.msgid, told.params["count"]) == (GIVEN_UP if kind == "grid" else GIVEN_UP_PIN, 2)


@pytest.mark.parametrize("again", ["card", "codice_fiscale"])
@pytest.mark.parametrize("kind", ["grid", "pin"])
async def test_a_card_payment_asked_again_after_wrong_codes_warns_the_holder(
    core: Core, kind: str, again: str
) -> None:
    """The cashier typed 2 wrong codes of the card (or PINs), then PAGA again, with the card
    or the codice fiscale: the payment it replaces was given up after wrong codes, and the
    holder reads the same warning as after ANNULLA (before, nothing at all: the card sent
    no code to void)."""
    town = await make_town(core, citizens=1)
    card = await issue(core, town)
    if kind == "pin":
        card = await pin_only(core, card)
    assert await wrong_pins(core, town, card, 2) == ["wrong_code", "wrong_code"]
    reference = card.card_code if again == "card" else town.citizen_cfs[0]
    await request(core, town.shop_id, reference, 200)
    told = [
        reply_of(core.keys, row).texts[0] for row in await outbox_to(core, town.citizen_phones[0])
    ]
    warned = [(x.msgid, x.params["count"]) for x in told if x.msgid in (GIVEN_UP, GIVEN_UP_PIN)]
    assert warned == [(GIVEN_UP if kind == "grid" else GIVEN_UP_PIN, 2)]


async def test_a_dishonest_shop_cannot_lock_the_card_out_of_other_shops(
    core: Core, clock: FakeClock
) -> None:
    """A shop that has seen a card number types wrong PINs: after 3 that shop cannot charge
    the card until the next day, and the card still pays at an honest shop."""
    town = await make_town(core, citizens=1)  # the holder also has a phone: notices reach it
    card = await issue(core, town)
    honest = await another_shop(core, town, 1)
    first = clock()
    outcomes = await wrong_pins(core, town, card, 3)
    assert outcomes == ["wrong_code", "wrong_code", "card_locked_at_shop"]
    assert await blocked_at(core, town) is None
    refused = await refusal(core, town.shop_id, card)
    assert refused.code == "card.locked_at_shop"
    assert refused.params["until"] == (first + timedelta(hours=24)).isoformat()
    assert await wrong_pins(core, town, card, 2) == ["card.locked_at_shop"]  # nothing typed
    # The right PIN still works at an honest shop.
    before = await balance(core, town)
    assert await pays(core, honest, card, 4_00) == "confirmed"
    assert await balance(core, town) == before - 4_00
    # Wrong PINs are wrong codes of the shop too (its own lock counts them)...
    async with core.uow() as uow:
        assert await security.wrong_codes_of_shop(uow, town.shop_id, clock()) == 3
        assert await security.wrong_codes_of_shop(uow, honest, clock()) == 0
    # ...and the holder was warned as for any payment cancelled for wrong codes, of the
    # card's codes (not of a code sent to them).
    told = await notices_to(core, town.citizen_phones[0])
    assert WARNED in told and not any("wrong code too many" in msgid for msgid in told), told
    # The next day the shop charges the card again.
    clock.current = first + timedelta(hours=24, seconds=1)
    assert await pays(core, town.shop_id, card) == "confirmed"


@pytest.mark.parametrize("kind", ["grid", "pin"])
async def test_wrong_pins_at_several_shops_block_the_card(
    core: Core, clock: FakeClock, kind: str
) -> None:
    """A thief trying shop after shop: 8 wrong codes (or an old card's PINs) in 24 hours at
    all shops together block the card; up to then the right code still pays at an honest
    shop. The holder and the till are told in the card's words: codes, or PIN."""
    town = await make_town(core, citizens=1)
    card = await issue(core, town)
    if kind == "pin":
        card = await pin_only(core, card)
    shops = [town.shop_id] + [await another_shop(core, town, k) for k in (1, 2, 3)]
    honest = shops[3]
    before = await balance(core, town)
    assert await wrong_pins(core, town, card, 3, shops[0]) == [
        "wrong_code",
        "wrong_code",
        "card_locked_at_shop",
    ]
    assert (await wrong_pins(core, town, card, 3, shops[1]))[-1] == "card_locked_at_shop"
    assert await wrong_pins(core, town, card, 1, shops[2]) == ["wrong_code"]  # 7 in all
    assert await blocked_at(core, town) is None
    async with core.uow() as uow:
        [status] = await cards.card_statuses(uow, town.municipality_id, clock())
    assert (status.failures, status.blocked_at) == (7, None)
    assert await pays(core, honest, card) == "confirmed"
    # A payment with the right PIN starts the card's count again: 7 more are not 8.
    assert await wrong_pins(core, town, card, 1, shops[2]) == ["wrong_code"]
    assert await blocked_at(core, town) is None
    # Past the honest payment, the thief's round again: 3 + 3 + 2 = 8 block the card.
    clock.advance(hours=24)
    assert (await wrong_pins(core, town, card, 3, shops[0]))[-1] == "card_locked_at_shop"
    assert (await wrong_pins(core, town, card, 3, shops[1]))[-1] == "card_locked_at_shop"
    assert await wrong_pins(core, town, card, 2, shops[2]) == ["wrong_code", "card_blocked"]
    assert await blocked_at(core, town) is not None
    async with core.uow() as uow:
        listed = await cards.card_statuses(uow, town.municipality_id, clock(), blocked_only=True)
    assert [item.card_code for item in listed] == [card.card_code]
    # Blocked: every shop is refused, the honest one too, and nothing more was taken.
    refused = await refusal(core, honest, card)
    assert refused.code == "card.blocked" and refused.params["slip"] == kind
    assert await balance(core, town) == before - 100
    notices = await notices_to(core, town.citizen_phones[0])
    assert (BLOCKED_NOTICE if kind == "grid" else BLOCKED_NOTICE_PIN) in notices
    assert (WARNED if kind == "grid" else WARNED_PIN) in notices
    # Rendered, in both languages: a grid card's notices never say PIN, an old card's do.
    warnings = [
        reply_from_json(row.payload).texts[0]
        for row in await outbox_to(core, town.citizen_phones[0])
        if reply_from_json(row.payload).texts[0].msgid
        in (WARNED, WARNED_PIN, BLOCKED_NOTICE, BLOCKED_NOTICE_PIN)
    ]
    for language in ("it", "en"):
        said = [render_text(text, language, sms=True) for text in warnings]
        assert said and all(("PIN" in x) is (kind == "pin") for x in said), said


async def test_old_wrong_pins_expire_and_one_shop_never_blocks_the_card(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    # One shop, day after day: never more than 3 a day, and never the card blocked.
    for _ in range(4):
        outcomes = await wrong_pins(core, town, card, 3)
        assert outcomes == ["wrong_code", "wrong_code", "card_locked_at_shop"]
        assert (await refusal(core, town.shop_id, card)).code == "card.locked_at_shop"
        clock.advance(hours=24)
    assert await blocked_at(core, town) is None
    # 6 wrong PINs at two shops, then a day: those no longer count.
    other = await another_shop(core, town, 1)
    await wrong_pins(core, town, card, 3)
    await wrong_pins(core, town, card, 3, other)
    clock.advance(hours=25)
    third = await another_shop(core, town, 2)
    assert await wrong_pins(core, town, card, 2, third) == ["wrong_code", "wrong_code"]
    assert await blocked_at(core, town) is None
    assert await pays(core, town.shop_id, card) == "confirmed"


async def test_a_right_pin_at_the_shop_starts_its_count_again(core: Core) -> None:
    """The holder who mistypes twice and then pays is not refused at the next slip."""
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    assert await wrong_pins(core, town, card, 2) == ["wrong_code", "wrong_code"]
    assert await pays(core, town.shop_id, card) == "confirmed"
    assert await wrong_pins(core, town, card, 2) == ["wrong_code", "wrong_code"]
    assert await pays(core, town.shop_id, card) == "confirmed"


async def test_wrong_pins_on_two_cards_lock_the_shop_as_wrong_codes(core: Core) -> None:
    """Every wrong PIN counts against the shop's own lock (5 wrong codes in 24 hours),
    whichever card it was typed for."""
    town = await make_town(core, citizens=2)
    first = await issue(core, town, 0)
    second = await issue(core, town, 1)
    assert (await wrong_pins(core, town, first, 3))[-1] == "card_locked_at_shop"
    assert await wrong_pins(core, town, second, 1) == ["wrong_code"]
    requested = await request(core, town.shop_id, second.card_code, 100)
    result = await confirm(
        core, town.shop_id, requested.charge_id, "000000" if second.pin != "000000" else "111111"
    )
    assert result.shop_lock is ShopLock.TIMED
    assert result.outcome is not charges.ConfirmOutcome.CONFIRMED
    with pytest.raises(NotAllowed) as refused:
        await request(core, town.shop_id, second.card_code, 100)
    assert refused.value.code == "shop.locked"


async def test_reissue_unblocks_with_a_new_number_and_pin(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    old = await issue(core, town)
    shops = [town.shop_id] + [await another_shop(core, town, k) for k in (1, 2)]
    for shop, count in zip(shops, (3, 3, 2), strict=True):
        await wrong_pins(core, town, old, count, shop)
    assert await blocked_at(core, town) is not None
    new = await issue(core, town, reissue=True)
    assert new.card_code != old.card_code and new.codes != old.codes
    # The old card number finds nobody any more.
    with pytest.raises(NotFound):
        await request(core, town.shop_id, old.card_code, 100)
    # The new card starts afresh, at the shops that typed the old one's wrong PINs too.
    requested = await request(core, town.shop_id, new.card_code, 5_00)
    old_code = slip_code(old, requested)
    if old_code != slip_code(new, requested):
        wrong = await confirm(core, town.shop_id, requested.charge_id, old_code)
        assert wrong.outcome is charges.ConfirmOutcome.WRONG_CODE
    result = await confirm(core, town.shop_id, requested.charge_id, slip_code(new, requested))
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    async with core.uow() as uow:
        assert (
            await cards.card_statuses(uow, town.municipality_id, core.now(), blocked_only=True)
            == []
        )


async def test_reissue_cancels_a_payment_waiting_for_the_old_pin(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    old = await issue(core, town)
    pending = await request(core, town.shop_id, old.card_code, 5_00)
    new = await issue(core, town, reissue=True)
    result = await confirm(core, town.shop_id, pending.charge_id, slip_code(new, pending))
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING


# Delegates ---------------------------------------------------------------------------------


async def add(core: Core, town: Town, index: int, phone: str) -> None:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[index]
        yes = await approved_request(uow, municipality, cf, "delegate", phone)
        await delegates.add_delegate(uow, municipality, cf, phone, core.now(), approved=yes)
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
    # The shop is shown the citizen's own digits, as without a delegate: that the code
    # went to a delegate's phone is not the shop's to learn.
    assert requested.sent_to == "***" + town.citizen_phones[0][-3:]
    assert not requested.sent_to.endswith(DELEGATE[-3:])
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
    # No code can reach them: the shop is told what it is told of nobody.
    with pytest.raises(NotFound):
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


async def _remove(core: Core, town: Town, index: int = 0) -> None:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await delegates.remove_delegate(uow, municipality, town.citizen_cfs[index], core.now())
        await uow.commit()


async def _charge_row(core: Core, charge_id: int) -> m.Charge:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
    assert charge is not None
    return charge


async def _code_rows(core: Core, charge_id: int) -> list[m.OutboxMessage]:
    async with core.uow() as uow:
        rows = await uow.outbox.for_charge(charge_id)
    return [row for row in rows if row.payload.get("sensitive")]


OFFICE_CANCELLED = (
    "The office cancelled the payment of {amount} at {shop}. The code is no longer valid."
)
SHOP_TOLD = (
    "The office cancelled the payment of {amount}: it cannot be completed, do not wait for "
    "the code."
)


async def test_removing_the_delegate_cancels_the_payments_whose_code_it_received(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    # Asked before the delegate: its code went to the citizen's own phone, still theirs.
    own = await request(core, town.shop_id, town.citizen_cfs[0], 2_00)
    own_code = await last_code_for(core, town.citizen_phones[0], own.charge_id)
    await add(core, town, 0, DELEGATE)
    other = await another_shop(core, town, 1)
    delegated = await request(core, other, town.citizen_cfs[0], 10_00)
    code = await last_code_for(core, DELEGATE, delegated.charge_id)

    await _remove(core, town)

    charge = await _charge_row(core, delegated.charge_id)
    assert (charge.status, charge.closed_reason) == ("cancelled", "code_elsewhere")
    # The code's SMS, not sent yet, never leaves, and no longer holds the code.
    [row] = await _code_rows(core, delegated.charge_id)
    assert (row.address, row.status) == (DELEGATE, "failed")
    assert "sealed" not in row.payload
    result = await confirm(core, other, delegated.charge_id, code)
    assert result.outcome is charges.ConfirmOutcome.NOT_PENDING
    # The shop stops waiting, the citizen hears the payment is void, the former delegate
    # that its codes no longer work.
    async with core.uow() as uow:
        told = {
            (row.address, reply_from_json(row.payload).texts[0].msgid)
            for row in await uow.outbox.for_charge(delegated.charge_id)
            if not row.payload.get("sensitive")
        }
    assert (town.citizen_phones[0], OFFICE_CANCELLED) in told
    assert any(msgid == SHOP_TOLD and address != DELEGATE for address, msgid in told)
    assert (await notices_to(core, DELEGATE))[-1].endswith("codes you received no longer work.")
    # The payment whose code went to the citizen's own phone is untouched.
    result = await confirm(core, town.shop_id, own.charge_id, own_code)
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED
    await assert_ledger_ok(core, town.municipality_id)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_notices_of_a_removal_with_codes_pending_fit_one_sms(
    core: Core, language: str
) -> None:
    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 123_45)
    await _remove(core, town)
    rows = [
        row
        for row in await all_outbox(core)
        if row.created_at == core.now() and not row.payload.get("sensitive")
    ]
    assert {row.address for row in rows} >= {DELEGATE, town.citizen_phones[0], town.shop_phone}
    for row in rows:
        assert_one_segment(reply_of(core.keys, row), language)
    assert any(row.charge_id == requested.charge_id for row in rows)


async def test_removing_a_delegate_without_codes_pending_says_only_that(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add(core, town, 0, DELEGATE)
    paid = await request(core, town.shop_id, town.citizen_cfs[0], 1_00)
    code = await last_code_for(core, DELEGATE, paid.charge_id)
    assert (await confirm(core, town.shop_id, paid.charge_id, code)).outcome.value == "confirmed"
    await _remove(core, town)
    assert (await _charge_row(core, paid.charge_id)).status == "confirmed"
    assert (await notices_to(core, DELEGATE))[-1] == (
        "You are no longer the delegate of {holder} for the vouchers."
    )


async def test_a_card_payment_stays_when_the_delegate_goes(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await without_phone(core, town)
    card = await issue(core, town)
    await add(core, town, 0, DELEGATE)
    pending = await request(core, town.shop_id, card.card_code, 3_00)
    await _remove(core, town)
    result = await confirm(core, town.shop_id, pending.charge_id, slip_code(card, pending))
    assert result.outcome is charges.ConfirmOutcome.CONFIRMED


@pytest.mark.parametrize(
    ("phone_of", "code"),
    [
        ("own", "delegate.own_phone"),
        ("other_citizen", "delegate.phone_is_citizen"),
        ("shop", "delegate.phone_is_shop"),
        ("terminal_cashier", "delegate.phone_is_shop"),
        ("other_delegate", "delegate.phone_taken"),
    ],
)
async def test_a_phone_speaks_for_one_person(core: Core, phone_of: str, code: str) -> None:
    town = await make_town(core, citizens=3)
    await add(core, town, 2, DELEGATE)
    # A cashier of the shop at the terminal chat, which is addressed by a phone as SMS is.
    await add_member(core, town.shop_id, TERMINAL_CASHIER, "cashier", channel="terminal")
    phone = {
        "own": town.citizen_phones[0],
        "other_citizen": town.citizen_phones[1],
        "shop": town.shop_phone,
        "terminal_cashier": TERMINAL_CASHIER,
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


async def test_erasure_removes_the_delegate_and_blanks_its_messages(
    core: Core, clock: FakeClock
) -> None:
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
    clock.advance(days=31)  # the decision can no longer be appealed (30 days)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await erase_citizen(uow, municipality, town.citizen_cfs[0], core.now(), by="cli:test")
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

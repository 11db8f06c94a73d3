"""'PERCHE NON POSSO PAGARE', 'perché non mi fa pagare', 'il negozio dice che non ho soldi',
'mi hanno rifiutato il buono' by SMS: the general help before; now why, from her own state
(a payment waiting for her code, her application not decided or nothing credited, the card
blocked, the last payment refused short of balance or its code late, no balance left, or
the shops of the list), naming UFFICIO for a person; a payment refused because the shop
was locked, or her card locked at that shop, says so and where else to pay. A number
with no vouchers learns nothing of anyone's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.bootstrap import Core
from core.dialogue.questions import question_of
from core.domain.cards import mask_codice_fiscale_gsm
from core.domain.messages import Money
from core.services import delegates
from core.services.applications import ApplicationInput, submit_application
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, open_till, param, town_with_open_window
from tests.dialogue.test_payment_refused_in_words import WAITS
from tests.dialogue.test_shop import CONFIRMED, WIDE_CEILING, citizen_code
from tests.factories import (
    Town,
    approved_request,
    confirm,
    last_code_for,
    make_cf,
    make_town,
    request,
)
from tests.integration.test_cards_delegates import issue, wrong_pins

ONLY_THE_LIST = (
    "Your balance is {balance}. Only the shops NEGOZI lists take the vouchers, up to your "
    "balance. If one of them refused them, write UFFICIO."
)
NOTHING_LEFT = (
    "Your balance is {balance}: the vouchers are spent, so no shop can take them. SALDO "
    "shows your payments; for a person, write UFFICIO."
)
SHORT = (
    "Payment of {amount} at {shop} refused: your balance is {balance}. Ask to pay less, or "
    "write UFFICIO."
)
CODE_TOO_LATE = (
    "Your last payment was not made: its code was told too late or wrong. Ask the cashier "
    "to write PAGA again: a new code comes to you."
)
NOT_YET_ASSESSED = (
    "You cannot pay yet: your application is still being assessed, and the vouchers work "
    "once they are credited. For a person, write UFFICIO."
)
CARD_BLOCKED = (
    "Your voucher card is blocked: too many wrong PINs. The office gives you a new one: "
    "write UFFICIO. Your phone still pays: give the cashier your codice fiscale."
)
NO_VOUCHERS = "We have no vouchers for this number."
HELP = "I did not understand."
ASKED = (
    "PERCHE NON POSSO PAGARE",
    "perché non mi fa pagare",
    "il negozio dice che non ho soldi",
    "mi hanno rifiutato il buono",
    "why can't I pay?",
    "MI HANNO RIFIUTATO LA SPESA",
    "IL BUONO NON PASSA",
)


@pytest.mark.parametrize("said", ASKED)
def test_she_asks_why_her_vouchers_did_not_pay(said: str) -> None:
    assert question_of(said) == ("why_refused", "")


@pytest.mark.parametrize(
    "said",
    ["non riesco a pagare l'affitto", "il negozio mi fa pagare troppo", "domanda rifiutata",
     "la carta non funziona", "il codice non funziona", "il negozio non accetta i buoni"],
)  # fmt: skip
def test_other_worries_keep_their_answers(said: str) -> None:
    assert question_of(said) != ("why_refused", "")


async def test_with_money_left_the_balance_and_the_shops_of_the_list(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for said in ASKED:
        replies = await chat.expect(said, ONLY_THE_LIST)
        assert HELP not in msgids(replies)
        assert param(replies, "balance") == Money(150_00)


async def test_a_payment_refused_short_of_balance_then_none_left(core: Core) -> None:
    town = await make_town(core, policy_toml=WIDE_CEILING)
    phone = town.citizen_phones[0]
    chat = Chat(core, phone)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 200")
    code = await citizen_code(core, phone, above_balance=True)
    await till.send(code)
    replies = await chat.expect("il negozio dice che non ho soldi", SHORT)
    assert param(replies, "shop") == "Alimentari Test"
    # Everything spent: no balance left.
    await till.send(f"PAGA {town.citizen_cfs[0]} 150")
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    await chat.expect("mi hanno rifiutato il buono", NOTHING_LEFT)


async def test_a_payment_waiting_for_her_code_then_its_code_too_late(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    await chat.expect("perché non mi fa pagare", WAITS)
    clock.advance(minutes=30)
    await chat.expect("PERCHE NON POSSO PAGARE", CODE_TOO_LATE)


async def test_the_card_blocked(core: Core) -> None:
    town = await make_town(core)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.card_blocked_at = core.now()
        await uow.commit()
    await Chat(core, town.citizen_phones[0]).expect("PERCHE NON POSSO PAGARE", CARD_BLOCKED)


async def test_an_application_not_yet_decided(core: Core) -> None:
    town = await town_with_open_window(core)
    phone = "+393471230190"
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(190), phone, 1, False, False, 0, 0, 0),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
    await Chat(core, phone).expect("PERCHE NON POSSO PAGARE", NOT_YET_ASSESSED)


async def test_a_number_with_no_vouchers_learns_nothing_of_anyone(core: Core) -> None:
    await make_town(core)
    stranger = Chat(core, "+393471230191")
    await stranger.send("SALDO")
    replies = await stranger.send("PERCHE NON POSSO PAGARE")
    [said] = msgids(replies)
    assert said.startswith(NO_VOUCHERS), said
    assert not any(text.params for reply in replies for text in reply.texts)


SHOP_LOCKED = (
    "Your last payment was not made: that shop cannot take vouchers right now. Pay at "
    "another shop of the list: write NEGOZI."
)
CARD_LOCKED_AT_SHOP = (
    "Your card cannot pay at that shop until {until}: too many wrong PINs there. It pays at "
    "the other shops; for a person, write UFFICIO."
)


async def test_a_payment_refused_because_the_shop_was_locked(core: Core, clock: FakeClock) -> None:
    # Was the general answer ("only the shops NEGOZI lists..."), as if the shop were not one.
    town = await make_town(core)
    phone = town.citizen_phones[0]
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 15_00)
    code = await last_code_for(core, phone, requested.charge_id)
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
        assert shop is not None
        shop.locked_until = core.now() + timedelta(minutes=30)
        await uow.commit()
    await confirm(core, town.shop_id, requested.charge_id, code)
    replies = await Chat(core, phone).expect("PERCHE NON POSSO PAGARE", SHOP_LOCKED)
    # Nothing of the shop: not its name, nor why, nor until when.
    assert not any(text.params for reply in replies for text in reply.texts)
    # Once the lock is over, the general answer again.
    clock.advance(minutes=31)
    await Chat(core, phone).expect("perché non mi fa pagare", ONLY_THE_LIST)


async def test_a_payment_refused_because_her_card_was_locked_at_that_shop(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    card = await issue(core, town)
    assert (await wrong_pins(core, town, card, 3))[-1] == "card_locked_at_shop"
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.expect("il buono non passa", CARD_LOCKED_AT_SHOP)
    # Until the shop may charge the card again (the next day), when she may try there again.
    until = param(replies, "until").value
    assert clock() + timedelta(hours=23) < until <= clock() + timedelta(hours=24, minutes=1)
    # The next day the shop may charge the card again: nothing locked to tell.
    clock.advance(hours=25)
    await chat.expect("PERCHE NON POSSO PAGARE", ONLY_THE_LIST)


DELEGATE = "+393471230192"
HOLDERS_CARD_BLOCKED = (
    "The card of {holder} is blocked: too many wrong PINs. A new one: write UFFICIO. "
    "You can still pay for them: give the cashier their codice fiscale."
)
HOLDERS_CARD_LOCKED_AT_SHOP = (
    "Card of {holder}: no payments at that shop until {until}, too many wrong PINs there. "
    "Other shops take it; for a person, write UFFICIO."
)


async def _with_delegate(core: Core, town: Town) -> Chat:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[0]
        yes = await approved_request(uow, municipality, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, municipality, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    return Chat(core, DELEGATE)


async def test_the_delegate_hears_the_holders_card_blocked(core: Core) -> None:
    # Her delegate was told "Your balance is 150 €. Only the shops NEGOZI lists…": nothing
    # of the card blocked, the reason every payment with it failed.
    town = await make_town(core)
    delegate = await _with_delegate(core, town)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.card_blocked_at = core.now()
        await uow.commit()
    replies = await delegate.expect("PERCHE NON POSSO PAGARE", HOLDERS_CARD_BLOCKED)
    # The holder named as SALDO names her there, masked; nothing else of hers.
    assert param(replies, "holder") == mask_codice_fiscale_gsm(town.citizen_cfs[0])
    assert [name for reply in replies for text in reply.texts for name in text.params] == ["holder"]
    # The holder herself hears her own words.
    await Chat(core, town.citizen_phones[0]).expect("PERCHE NON POSSO PAGARE", CARD_BLOCKED)


async def test_the_delegate_hears_the_holders_card_locked_at_that_shop(
    core: Core, clock: FakeClock
) -> None:
    # Was "Your card cannot pay at that shop": "your" to the delegate, who has no card.
    town = await make_town(core, citizens=1)
    delegate = await _with_delegate(core, town)
    card = await issue(core, town)
    assert (await wrong_pins(core, town, card, 3))[-1] == "card_locked_at_shop"
    replies = await delegate.expect("il buono non passa", HOLDERS_CARD_LOCKED_AT_SHOP)
    assert param(replies, "holder") == mask_codice_fiscale_gsm(town.citizen_cfs[0])
    await Chat(core, town.citizen_phones[0]).expect("PERCHE NON POSSO PAGARE", CARD_LOCKED_AT_SHOP)
    clock.advance(hours=25)
    replies = await delegate.expect("PERCHE NON POSSO PAGARE", HOLDERS_BALANCE_AND_THE_LIST)
    assert param(replies, "holder") == mask_codice_fiscale_gsm(town.citizen_cfs[0])


HOLDERS_BALANCE_AND_THE_LIST = (
    "The balance of {holder} is {balance}. Only the shops NEGOZI lists take the vouchers, up "
    "to the balance. If one of them refused them, write UFFICIO."
)


async def test_the_delegate_hears_whose_balance_it_is(core: Core) -> None:
    # Her delegate was told "Your balance is 150,00 €": the delegate's own, as it read.
    town = await make_town(core)
    delegate = await _with_delegate(core, town)
    replies = await delegate.expect("perché non mi fa pagare", HOLDERS_BALANCE_AND_THE_LIST)
    assert param(replies, "balance") == Money(150_00)
    assert param(replies, "holder") == mask_codice_fiscale_gsm(town.citizen_cfs[0])


HOLDERS_SHORT = (
    "Payment of {amount} at {shop} refused: the balance of {holder} is {balance}. Pay less, or "
    "write UFFICIO."
)
HOLDERS_NOTHING_LEFT = (
    "The balance of {holder} is {balance}: the vouchers are spent. SALDO shows the payments; "
    "for a person, write UFFICIO."
)
HOLDERS_NOT_CREDITED = (
    "You cannot pay for {holder} yet: no vouchers have been credited to them. For a person, "
    "write UFFICIO."
)


async def test_the_delegate_hears_the_holders_balance_short_then_spent(core: Core) -> None:
    # Her delegate read "Payment … refused: your balance is 0,00 €", then "Your balance is
    # 0,00 €: the vouchers are spent": the delegate's own balance, as it read.
    town = await make_town(core, policy_toml=WIDE_CEILING)
    delegate = await _with_delegate(core, town)
    holder = mask_codice_fiscale_gsm(town.citizen_cfs[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 200")
    # The delegate receives the holder's payment codes.
    await till.send(await citizen_code(core, DELEGATE, above_balance=True))
    replies = await delegate.expect("il negozio dice che non ho soldi", HOLDERS_SHORT)
    assert param(replies, "holder") == holder
    assert param(replies, "balance") == Money(150_00)
    assert SHORT not in msgids(replies)
    await till.send(f"PAGA {town.citizen_cfs[0]} 150")
    await till.expect(await citizen_code(core, DELEGATE), CONFIRMED)
    replies = await delegate.expect("mi hanno rifiutato il buono", HOLDERS_NOTHING_LEFT)
    assert param(replies, "holder") == holder
    assert param(replies, "balance") == Money(0)
    # The holder herself still hears her own words.
    await Chat(core, town.citizen_phones[0]).expect("mi hanno rifiutato il buono", NOTHING_LEFT)


async def test_the_delegate_of_someone_not_yet_credited_hears_whose(core: Core) -> None:
    # Was "You cannot pay yet: no vouchers have been credited to you": the delegate's own.
    town = await town_with_open_window(core)
    cf = make_cf(193)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await submit_application(
            uow,
            municipality,
            ApplicationInput(cf, "+393471230193", 1, False, False, 0, 0, 0),
            source="paper",
            now=core.now(),
        )
        await delegates.add_delegate(uow, municipality, cf, DELEGATE, core.now())
        await uow.commit()
    replies = await Chat(core, DELEGATE).expect("PERCHE NON POSSO PAGARE", HOLDERS_NOT_CREDITED)
    assert param(replies, "holder") == mask_codice_fiscale_gsm(cf)
    # Nothing of the holder's application: STATO is hers alone.
    assert [name for reply in replies for text in reply.texts for name in text.params] == ["holder"]

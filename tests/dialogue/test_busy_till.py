"""A shopkeeper or a cashier at a busy till types in a hurry: a keyword one slip nearer to
one command than to another ("casiere"), the period of a statement with its preposition
("RESOCONTO di oggi"), charging said with another word of it ("incasso …", "pagamento
…"), a customer about to pay said in words ("devo far pagare una signora"), the next
customer with no PAGA ("RSSMRA85T10A562S 20"), a new cashier code asked in words. Each is
what it plainly means."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.words import (
    after_paga_slip,
    customer_to_charge,
    payer_and_amount,
    plain_words,
)
from tests.dialogue.harness import INVITED, Chat, add_member, msgids, open_till, param
from tests.dialogue.test_shop import citizen_code
from tests.factories import make_town

ASK_CODE = (
    "Code sent to the customer ({where}) for {amount}. Ask them for it and write it here. "
    "ANNULLA to stop."
)
DID_YOU_MEAN = "Did you mean {keyword}?"
TODAY = "Today: {count} payment, {amount}."
THIS_MONTH = "This month: {count} payment, {amount}."
OWED = "To be reimbursed by the municipality: {amount}."
WHICH_PERIOD = "Statement of which period?"


async def _owner(core: Core) -> tuple[Chat, str]:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "7101", "owner", channel="telegram")
    return Chat(core, "7101", channel=Channel.TELEGRAM), town.citizen_cfs[0]


async def test_a_slip_nearer_one_keyword_than_another_suggests_it(core: Core) -> None:
    owner, _ = await _owner(core)
    # One slip from CASSIERE, two from CASSIERI: CASSIERE was "not understood".
    replies = await owner.expect("casiere", DID_YOU_MEAN)
    assert param(replies, "keyword") == "CASSIERE"
    replies = await owner.expect("Casieri", DID_YOU_MEAN)
    assert param(replies, "keyword") == "CASSIERI"


async def test_the_period_of_a_statement_with_the_words_around_it(core: Core) -> None:
    owner, _ = await _owner(core)
    await owner.expect("Resoconto di oggi", TODAY, OWED)
    await owner.expect("RESOCONTO del mese", THIS_MONTH, OWED)
    await owner.expect("resoconto di questo mese", THIS_MONTH, OWED)
    await owner.expect("RESOCONTO", WHICH_PERIOD)
    await owner.expect("di oggi", TODAY, OWED)


async def test_charging_said_with_another_word_of_it_is_paga(core: Core) -> None:
    owner, cf = await _owner(core)
    for typed in (f"incasso {cf} 5", f"Pagamento {cf} 6", f"addebita {cf} 7,50"):
        await owner.expect(typed, ASK_CODE)
        assert "Payment of {amount} ({where}) cancelled" in " ".join(
            msgids(await owner.send("ANNULLA"))
        )


def test_only_words_for_charging_before_who_pays_are_read_as_paga() -> None:
    assert after_paga_slip("incasso RSSMRA85T10A562S 5") == "RSSMRA85T10A562S 5"
    assert after_paga_slip("pagamento 3331000002 12") == "3331000002 12"
    assert after_paga_slip("pag 3331000002 12") == "3331000002 12"
    assert after_paga_slip("incasso oggi") is None  # no one who pays, no amount
    assert after_paga_slip("pagamento") is None
    assert after_paga_slip("paga RSSMRA85T10A562S 5") is None  # PAGA itself is the keyword
    assert after_paga_slip("ciao RSSMRA85T10A562S 5") is None


async def test_taking_a_cashier_away_in_words_is_cassieri(core: Core) -> None:
    owner, _ = await _owner(core)
    await owner.expect("togli cassiere", "{shop} has no cashiers. To add one, write CASSIERE.")
    async with core.uow() as uow:
        [(_, shop)] = await uow.shops.membership("telegram", "7101")
    await add_member(core, shop.id, "7102", "cashier", channel="telegram")
    for typed in ("Rimuovi il cassiere", "elimina una cassiera", "togli i cassieri"):
        await owner.expect(
            typed, "Cashiers of {shop}. Reply with the number of the one to remove, or ANNULLA."
        )
        await owner.send("ANNULLA")


async def test_storno_with_words_and_no_receipt_number_lists_todays_payments(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "7103", "owner", channel="telegram")
    owner = Chat(core, "7103", channel=Channel.TELEGRAM)
    # It asked for a number from a list never shown, and stayed open with nothing to refund.
    await owner.expect("storno ultimo", "There is no payment of today to refund.")
    assert (await owner.state())[:2] == (None, None)
    await owner.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    await owner.expect(
        await citizen_code(core, town.citizen_phones[0]),
        "Payment confirmed: {amount}. Receipt no. {receipt}.",
    )
    await owner.expect("Storna l'ultimo pagamento", "Which payment of today do you want to refund?")
    await owner.expect("ANNULLA", "Cancelled.")


WHO_PAYS = "Who pays? Write the codice fiscale, the phone number or the card code."
HOW_TO_PAY = (
    "At the till, give your codice fiscale or phone number: a code comes to you; tell it to "
    "the cashier and the vouchers pay. NEGOZI says where."
)
CHARGE_SAID = (
    "Buongiorno, devo far pagare una signora",
    "devo incassare",
    "una cliente deve pagare con i buoni",
    "c'è una signora che paga col buono",
)


async def test_a_customer_about_to_pay_said_in_words_starts_the_charge(core: Core) -> None:
    owner, cf = await _owner(core)
    async with core.uow() as uow:
        [(_, shop)] = await uow.shops.membership("telegram", "7101")
    await add_member(core, shop.id, "7104", "cashier", channel="telegram")
    cashier = Chat(core, "7104", channel=Channel.TELEGRAM)
    for chat in (owner, cashier):
        for typed in CHARGE_SAID:
            # It was "I did not understand" (or the welcome, for the "Buongiorno").
            await chat.expect(typed, WHO_PAYS)
            assert (await chat.state())[:2] == ("charge", "who")
            await chat.expect("ANNULLA", "Cancelled.")
    # The charge goes on as after PAGA: who pays, the amount, the customer's code.
    await owner.expect("devo far pagare una signora", WHO_PAYS)
    await owner.expect(f"{cf} 5", ASK_CODE)


async def test_said_at_the_tills_own_question_it_asks_who_pays_again(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))  # at "who pays?"
    # It answered "this is not a card number … not the name".
    await till.expect("Buongiorno, devo far pagare una signora", WHO_PAYS)
    assert (await till.state())[:2] == ("charge", "who")
    await till.expect("ANNULLA", "Cancelled.")
    await till.expect("una cliente deve pagare con i buoni", WHO_PAYS)


async def test_a_citizen_saying_it_hears_how_paying_works(core: Core) -> None:
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    for typed in CHARGE_SAID:
        said = msgids(await citizen.send(typed))
        assert HOW_TO_PAY in said and WHO_PAYS not in said, typed
        assert (await citizen.state())[:2] == (None, None)


def test_only_a_customer_about_to_pay_is_a_charge_in_words() -> None:
    for typed in CHARGE_SAID:
        assert customer_to_charge(plain_words(typed)), typed
    for typed in (
        "la signora non può pagare",  # why a payment is refused
        "quando paga il comune",  # the reimbursement
        "come faccio a pagare",  # a citizen asking
        "devo pagare la luce",
        "c'è un cliente",
    ):
        assert not customer_to_charge(plain_words(typed)), typed


async def test_the_next_customer_written_without_paga_is_charged(core: Core) -> None:
    town = await make_town(core, citizens=3)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"{town.citizen_cfs[0]} 5", ASK_CODE)
    await till.expect(
        await citizen_code(core, town.citizen_phones[0]),
        "Payment confirmed: {amount}. Receipt no. {receipt}.",
    )
    # It was "I did not understand": who pays and the amount, with no PAGA before them.
    for typed in (f"{town.citizen_cfs[1]} 20", f"{town.citizen_phones[2]} 12,50"):
        await till.expect(typed, ASK_CODE)
        await till.expect(
            "ANNULLA",
            "Payment of {amount} ({where}) cancelled: the customer's code no longer works.",
        )
    # Still only at a shop's chat: a citizen writing it starts nothing.
    citizen = Chat(core, town.citizen_phones[1])
    said = msgids(await citizen.send(f"{town.citizen_cfs[1]} 20"))
    assert ASK_CODE not in said and WHO_PAYS not in said


def test_only_who_pays_and_an_amount_are_a_charge_without_paga() -> None:
    assert payer_and_amount("RSSMRA85T10A562S 20") == "RSSMRA85T10A562S 20"
    assert payer_and_amount("3331000002 12,50") == "3331000002 12,50"
    assert payer_and_amount("12,50 € RSSMRA85T10A562S") == "12,50 € RSSMRA85T10A562S"
    for typed in ("RSSMRA85T10A562S", "3331000002", "ciao 20", "145185 12", "5 3331000002"):
        assert payer_and_amount(typed) is None, typed


async def test_a_new_cashier_code_asked_in_words_is_made_for_the_owner(core: Core) -> None:
    owner, _ = await _owner(core)
    # It asked the owner to write the cashier code the shop's owner gave them.
    for typed in ("nuovo codice cassiere", "mi crei un codice cassiere?"):
        await owner.expect(typed, INVITED)
    # One given to a cashier is still theirs to write.
    cashier = Chat(core, "+393478888820")
    await cashier.expect(
        "ho un nuovo codice cassiere",
        "Write the cashier code the shop owner gave you (12 letters and digits).",
    )

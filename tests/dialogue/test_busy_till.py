"""A shopkeeper or a cashier at a busy till types in a hurry: a keyword one slip nearer to
one command than to another ("casiere"), the period of a statement with its preposition
("RESOCONTO di oggi"), charging said with another word of it ("incasso …", "pagamento
…"). Each is what it plainly means."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.words import after_paga_slip
from tests.dialogue.harness import Chat, add_member, msgids, param
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

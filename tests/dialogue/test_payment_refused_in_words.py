"""A payment refused in plain words from the chat its code came to ("no non voglio pagare",
"no, annulla", "non sono io", "non ho comprato niente") is refused as ANNULLA refuses it:
the shop is told, no money moves, the code no longer pays. Who says the purchase was not
hers is also told that someone used her details. A bare "no", any "pagare" without its
negation, and the same words at a question keep their old meaning: nothing is refused."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.charges import ChargeStatus
from core.services import security
from tests.dialogue.harness import Chat, assert_one_segment, msgids, open_till, outbox_of
from tests.dialogue.test_payment_code_at_a_question import at_liquidity, payment_asked
from tests.dialogue.test_payment_code_sent_here import REFUSED, SHOP_TOLD, charge_status
from tests.dialogue.test_shop import CONFIRMED, balance, citizen_code
from tests.factories import make_town

# By SMS the reply asks the challenge that confirms the "not me" (test_not_me_confirmed).
NOT_ME = (
    "Payment of {amount} to {shop} refused: the code no longer works. To report it to the "
    "office, reply NOT ME {challenge}"
)
WAITS = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if "
    "not, write ANNULLA."
)
REFUSALS = {
    "no non voglio pagare": REFUSED,
    "Non voglio pagare.": REFUSED,
    "non pago": REFUSED,
    "no, annulla": REFUSED,
    "non sono io": NOT_ME,
    "Non ho comprato niente!": NOT_ME,
    "questo pagamento non l'ho fatto io": NOT_ME,
    "I didn't make this payment": NOT_ME,
}
NOTHING_WAITS_NOT_ME = (
    "No payment is waiting for a code from this number: nothing was refused. A payment you "
    "did not make, or messages meant for someone else? Write UFFICIO."
)


async def _charge_of_code(core: Core, phone: str) -> int:
    [row] = [
        row
        for row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and "{code}" in reply.texts[0].msgid
    ][-1:]
    assert row.charge_id is not None
    return row.charge_id


async def test_words_that_refuse_a_payment_refuse_it_as_annulla_does(core: Core) -> None:
    town = await make_town(core, citizens=len(REFUSALS))
    till = await open_till(Chat(core, town.shop_phone))
    for index, (words, said) in enumerate(REFUSALS.items()):
        phone = town.citizen_phones[index]
        await till.send(f"PAGA {town.citizen_cfs[index]} 15")
        code = await citizen_code(core, phone)
        charge_id = await _charge_of_code(core, phone)
        await Chat(core, phone).expect(words, said)
        assert await charge_status(core, charge_id) == ChargeStatus.CANCELLED, words
        assert any(
            row.charge_id == charge_id and reply.texts[0].msgid == SHOP_TOLD
            for row, reply in await outbox_of(core, "sms", town.shop_phone)
        ), words
        await till.send(code)
        assert CONFIRMED not in msgids(till.last), words
        assert await balance(core, town, index) == 150_00, words


async def test_a_bare_no_and_words_of_paying_refuse_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    charge_id = await _charge_of_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("no", WAITS)
    for words in ("voglio pagare", "pagare", "si pago", "ok pago", "no grazie", "non posso"):
        replies = await citizen.send(words)
        assert REFUSED not in msgids(replies) and NOT_ME not in msgids(replies), words
        assert await charge_status(core, charge_id) == ChargeStatus.PENDING, words
    # Only the cashier's code pays.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 15_00


async def test_the_same_words_at_a_question_refuse_nothing(core: Core) -> None:
    town, citizen = await at_liquidity(core)
    _till, _code = await payment_asked(core, town)
    charge_id = await _charge_of_code(core, town.citizen_phones[0])
    for words in ("non voglio pagare", "non sono io", "no"):
        replies = await citizen.send(words)
        assert REFUSED not in msgids(replies) and NOT_ME not in msgids(replies), words
        assert await charge_status(core, charge_id) == ChargeStatus.PENDING, words
        assert (await citizen.state())[0] == "apply", words


async def test_with_no_payment_waiting_the_words_refuse_nothing(core: Core) -> None:
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("no, annulla", "There is nothing to cancel.")
    assert "I did not understand." in msgids(await citizen.send("non voglio pagare"))


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize(
    "words", ["non sono io", "non ho fatto io quel pagamento", "I didn't make this payment"]
)
async def test_not_me_with_no_payment_waiting_says_so_and_whom_to_tell(
    core: Core, language: str, words: str
) -> None:
    """She reads a payment in her movements she did not make, or a number's new owner reads
    messages meant for the old one: the help's "I did not understand" would leave her with
    nothing. She is told nothing was refused and to write to the office, in her words."""
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    if language == "en":
        await citizen.send("LANGUAGE EN")
    replies = await citizen.expect(words, NOTHING_WAITS_NOT_ME)
    body = assert_one_segment(replies[0], language)
    assert body.endswith("Write OFFICE." if language == "en" else "Scrivi UFFICIO."), body
    async with core.uow() as uow:
        assert await security.not_me_refusals(uow, town.municipality_id) == {}


async def test_not_me_by_sms_is_kept_for_the_office_and_no_is_not(core: Core) -> None:
    """ "non sono io" keeps the refusal with the shop and the till that asked; "no,
    annulla" refuses as well but keeps nothing."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    for index, words in enumerate(("non sono io", "no, annulla")):
        await till.send(f"PAGA {town.citizen_cfs[index]} 15")
        await citizen_code(core, town.citizen_phones[index])
        await Chat(core, town.citizen_phones[index]).send(words)
    async with core.uow() as uow:
        kept = await security.not_me_refusals(uow, town.municipality_id)
    assert kept == {
        town.shop_id: [
            security.NotMeRefusal(core.now(), 15_00, f"sms:{town.shop_phone}", "sms", False)
        ]
    }

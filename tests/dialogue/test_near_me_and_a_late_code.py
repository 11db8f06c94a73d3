"""Words23: a citizen's words at the shops and at the till. "C'è un negozio vicino a me?",
"dove posso fare la spesa vicino a casa", "shops near me" got the generic help or the
town's list alone: now the shops (as NEGOZI gives them to her) and how to narrow them to
her street or CAP; on Telegram, how to share her position. "Non mi è arrivato il codice",
"non arriva l'sms", "the code did not arrive" got the sentence about a refused or expired
code: now whether a payment waits for her code (the shop, the amount, where the code
went), or that no shop has asked her for one, never the code itself."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.messages import Money
from core.domain.shops import ShopCategory
from tests.dialogue.harness import Chat, msgids, open_till, outbox_of, param
from tests.dialogue.test_cards_delegates import DELEGATE, code_sent_to_delegate, delegated_town
from tests.dialogue.test_places_after_the_shop_list import _shop_in, _shops_named
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE
from tests.dialogue.test_till_trial import waiting_payment
from tests.factories import make_town

FOUND = "{count} shop found:"
NARROW = "Those near you: NEGOZI and your street or CAP, e.g. NEGOZI {street}."
NEAR_SMS = "To see the shops near you, write NEGOZI and your CAP or town, e.g. NEGOZI 62020."
NEAR_TELEGRAM = "To see the shops near you, share your position with the button below."
MORE = "ALTRI for more."

NEAR_ME = [
    "c'è un negozio vicino a me?",
    "c e un negozio vicino",
    "negozi vicini",
    "dove posso fare la spesa vicino a casa",
    "shops near me",
]


@pytest.mark.parametrize("said", NEAR_ME)
@pytest.mark.parametrize("language", ["it", "en"])
async def test_shops_near_her_by_sms_are_the_towns_with_how_to_narrow(
    core: Core, said: str, language: str
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    if language == "en":
        await chat.send("LINGUA EN")
    replies = await chat.expect(said, FOUND, NARROW)
    assert _shops_named(replies) == ["Alimentari Test"]
    assert param(replies, "street") == "Via Roma"
    body = render_plain(replies[0], language, sms=True)
    assert ("SHOPS Via Roma" if language == "en" else "NEGOZI Via Roma") in body
    # The way she is told narrows the list: her street's shops.
    assert _shops_named(await chat.expect("NEGOZI via roma", FOUND)) == ["Alimentari Test"]


async def test_a_longer_list_pages_with_the_way_to_narrow_in_the_same_sms(core: Core) -> None:
    town = await make_town(core)
    for name, address in (
        ("Forno Chienti", "Piazza Umberto I 3"),
        ("Macelleria Paoletti", "Via Garibaldi 40"),
        ("Farmacia Comunale", "Via Vittorio Veneto 5"),
    ):
        await _shop_in(core, town.municipality_id, name, address, "Testville")
    chat = Chat(core, town.citizen_phones[0])
    [reply] = await chat.expect("c'è un negozio vicino a me?", FOUND, MORE, NARROW)
    assert param([reply], "count") == 4
    assert 1 <= len(_shops_named([reply])) < 4  # one SMS (the harness counts it)
    # ALTRI goes on through the town's shops.
    await chat.expect("ALTRI", "Shops from no. {first} of {count}:")


@pytest.mark.parametrize("said", NEAR_ME)
async def test_on_telegram_the_position_is_asked_with_its_button(core: Core, said: str) -> None:
    await make_town(core)
    chat = Chat(core, "7772301", channel=Channel.TELEGRAM)
    await chat.send("/start")
    [reply] = await chat.expect(said, NEAR_TELEGRAM)
    assert reply.request == "location"
    # The position shared: the shops near it.
    await chat.expect(None, "Shops near you:", location=(43.16, 13.24))


async def test_a_number_of_no_citizen_is_told_to_write_its_cap_or_town(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393472300001")
    await chat.send("MENU")
    replies = await chat.expect("c'è un negozio vicino a me?", NEAR_SMS)
    assert FOUND not in msgids(replies)


# The code that did not come ---------------------------------------------------------------

CODE_LATE = (
    "{shop} asks you {amount}: code sent to this number, see your SMS. Missing? The shop "
    "writes PAGA again for a new one."
)
NO_PAYMENT_ASKED = (
    "No shop has asked you for a payment right now: the cashier must start it, writing PAGA "
    "and your codice fiscale or card number."
)
CODE_TROUBLE = (
    "A payment code works once, for a few minutes, for the payment it came with. Refused or "
    "late? Ask the cashier to write PAGA again: a new code comes to you."
)
LATE = [
    "il cassiere mi chiede il codice ma non è arrivato",
    "non mi è arrivato il codice",
    "the code did not arrive",
    "non arriva l'sms",
]


@pytest.mark.parametrize("said", LATE)
@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_payment_waiting_is_named_and_where_its_code_went(
    core: Core, said: str, language: str
) -> None:
    _town, _till, phone, code = await waiting_payment(core, "12,50")
    chat = Chat(core, phone)
    if language == "en":
        await chat.send("LINGUA EN")
    before = len(await outbox_of(core, "sms", phone))
    [reply] = await chat.expect(said, CODE_LATE)
    assert param([reply], "shop") == "Alimentari Test"
    assert param([reply], "amount") == Money(12_50)
    body = render_plain(reply, language, sms=True)
    assert ("€12.50:" if language == "en" else "12,50 €") in body
    assert ("PAY" if language == "en" else "PAGA") in body
    # The code is neither told again nor sent anew: only the reply went out.
    assert code not in body
    assert len(await outbox_of(core, "sms", phone)) == before + 1


@pytest.mark.parametrize("said", LATE)
@pytest.mark.parametrize("language", ["it", "en"])
async def test_with_no_payment_asked_she_hears_how_the_cashier_starts_one(
    core: Core, said: str, language: str
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    if language == "en":
        await chat.send("LINGUA EN")
    replies = await chat.expect(said, NO_PAYMENT_ASKED)
    assert CODE_TROUBLE not in msgids(replies)


async def test_a_code_refused_keeps_its_own_answer(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("il codice non funziona", CODE_TROUBLE)
    assert NO_PAYMENT_ASKED not in msgids(await chat.send("il codice fiscale non mi arriva"))


async def test_a_shops_chat_keeps_its_help(core: Core) -> None:
    town = await make_town(core)
    replies = await Chat(core, town.shop_phone).send("non mi è arrivato il codice")
    assert NO_PAYMENT_ASKED not in msgids(replies)
    assert CODE_LATE not in msgids(replies)


async def test_a_category_near_her_is_still_that_search(core: Core) -> None:
    town = await make_town(core)
    await _shop_in(
        core, town.municipality_id, "Farmacia Rossi", "Piazza Garibaldi 2", "Testville",
        ShopCategory.PHARMACY,
    )  # fmt: skip
    replies = await Chat(core, town.citizen_phones[0]).send("dov'è la farmacia?")
    assert NARROW not in msgids(replies)


CODE_ELSEWHERE = (
    "{shop} asks you {amount}: code sent where your codes go, not here. Missing? The shop "
    "writes PAGA again for a new one."
)


async def test_a_code_sent_to_her_delegate_is_not_said_to_have_come_here(core: Core) -> None:
    cf = await delegated_town(core)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"PAGA {cf} 20")
    code = await code_sent_to_delegate(core)
    # She herself: a payment waits, its code went where her codes go (her delegate's
    # phone, not named), not "no shop has asked you".
    [reply] = await Chat(core, CITIZEN_PHONE).expect("non mi è arrivato il codice", CODE_ELSEWHERE)
    assert param([reply], "amount") == Money(20_00)
    assert code not in render_plain(reply, "it", sms=True)
    # Her delegate, whose phone the code went to: this number.
    await Chat(core, DELEGATE).expect("non mi è arrivato il codice", CODE_LATE)

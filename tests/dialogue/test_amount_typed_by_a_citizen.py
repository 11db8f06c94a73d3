"""SMS trial (oldphone22): a citizen at the till typed "50 euro" and got the list of every
word. A citizen who types an amount with nothing asked is told how paying works: the shop
starts the payment and a code comes to her to tell the cashier, and SALDO for how much she
has. A payment waiting for her code is named instead, as before; a shop's chat keeps its
help, which says how to charge (PAGA)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import AMOUNT_TYPED
from core.dialogue.menus import CITIZEN_HELP, SHOP_HELP
from tests.dialogue.harness import Chat, msgids, open_till
from tests.dialogue.test_lost_phone import WAITS
from tests.dialogue.test_worried_questions import WELCOME
from tests.factories import make_town

AMOUNTS = ["50 euro", "50", "€ 50", "50,00", "12,50€", "EUR 20"]


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_citizen_typing_an_amount_is_told_how_paying_works(
    core: Core, language: str
) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("LINGUA EN" if language == "en" else "LINGUA IT")
    for amount in AMOUNTS:
        replies = await chat.send(amount)
        assert msgids(replies) == [AMOUNT_TYPED.msgid], amount
        assert CITIZEN_HELP.msgid not in msgids(replies)
    assert (await chat.state())[:2] == (None, None)


async def test_a_new_numbers_first_amount_comes_after_the_welcome(core: Core) -> None:
    """SMS trial (oldphone24): a brand-new number's first "50 euro" got the amount's answer
    alone, where every other first message of an unknown number says whose number this is
    (AIUTO, "ciao"). The welcome first now, in its own SMS when both do not fit one."""
    town = await make_town(core, citizens=1)
    for index, amount in enumerate(AMOUNTS):
        chat = Chat(core, f"+39347123{9200 + index}")
        assert msgids(await chat.send(amount)) == [WELCOME, AMOUNT_TYPED.msgid], amount
        # Afterwards, and from a holder's own number, the amount's answer alone, as before.
        assert msgids(await chat.send(amount)) == [AMOUNT_TYPED.msgid], amount
    holder = Chat(core, town.citizen_phones[0])
    assert msgids(await holder.send("50 euro")) == [AMOUNT_TYPED.msgid]


async def test_a_menus_number_is_no_amount(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("grazie")
    assert AMOUNT_TYPED.msgid not in msgids(await chat.send("5"))


async def test_a_payment_waiting_for_her_code_is_named_instead(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    said = msgids(await chat.send("15 euro"))
    assert WAITS in said and AMOUNT_TYPED.msgid not in said


async def test_a_shopkeeper_typing_an_amount_gets_the_shops_help(core: Core) -> None:
    town = await make_town(core, citizens=1)
    shop = Chat(core, town.shop_phone)
    await shop.send("MENU")  # (a chat's first message is answered with the welcome)
    for amount in ("50", "50 euro"):
        said = msgids(await shop.send(amount))
        assert SHOP_HELP.msgid in said and AMOUNT_TYPED.msgid not in said, said

"""PAGA abbreviated or mistyped at the till ("pag RSSMRA85T10A562S 4", "PAG 3331000002 4"):
the shopkeeper got the help and typed the whole line again. Read as PAGA at a shop's
chat, with nothing open and at "Who pays?": safe, since the payment still needs the
customer's own code, which names the amount. From a citizen's phone the same words are
no payment."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.words import after_paga_slip
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, open_till, param
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, WHO, balance, citizen_code
from tests.dialogue.test_till_slips import terminal_till
from tests.factories import make_town


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TERMINAL])
async def test_paga_abbreviated_or_mistyped_is_paga_at_the_till(
    core: Core, channel: Channel
) -> None:
    town = await make_town(core, citizens=2)
    if channel == Channel.SMS:
        till = await open_till(Chat(core, town.shop_phone))
        await till.expect("ANNULLA")
    else:
        till = await terminal_till(core, town)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    await till.expect(f"pag {cf} 4", ASK_CODE)
    assert param(till.last, "amount") == Money(4_00)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    other = town.citizen_phones[1]
    await till.expect(f"PAG {other[3:]} 4", ASK_CODE)
    await till.expect(await citizen_code(core, other), CONFIRMED)
    # At "Who pays?" too: PAGA written again there, one letter out.
    await till.expect("PAGA", WHO)
    await till.expect(f"pgaa {cf} 2,50", ASK_CODE)
    assert param(till.last, "amount") == Money(2_50)
    await till.expect(await citizen_code(core, phone), CONFIRMED)
    assert await balance(core, town) == 150_00 - 4_00 - 2_50  # the first customer's


async def test_the_same_words_from_a_citizen_are_no_payment(core: Core) -> None:
    town = await make_town(core, citizens=2)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    replies = await chat.send(f"pag {town.citizen_phones[1][3:]} 4")
    assert ASK_CODE not in msgids(replies)
    assert "I did not understand." in msgids(replies)
    assert (await chat.state())[0] is None


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("pag RSSMRA85T10A562S 4", "RSSMRA85T10A562S 4"),
        ("PAG 3331000002 4", "3331000002 4"),
        ("Pgaa 3331000002", "3331000002"),
        ("paag RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("PAGA 3331000002 4", None),  # PAGA itself is the keyword
        ("pag", None),
        ("pago l'affitto", None),  # no one who pays, no amount
        ("pa 3331000002 4", None),  # two letters out
    ],
)
def test_what_follows_paga_mistyped(text: str, rest: str | None) -> None:
    assert after_paga_slip(text) == rest

"""Questions elderly citizens wrote by SMS that got the help (trial of December 2026):
what to do with a code that came, when the vouchers expire, a card that does not work
at the till. Each gets a short, true answer of its own, in one SMS."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import (
    CARD_TROUBLE,
    CODE_NOTHING_WAITS,
    CODE_OF_A_DRAFT,
    LOST_CARD,
    VOUCHERS_DO_NOT_EXPIRE,
)
from tests.dialogue.harness import Chat, msgids
from tests.dialogue.test_apply import SENT, _last_code
from tests.dialogue.test_left_halfway import TO_COMPLETE, at_the_code
from tests.dialogue.test_shop import ASK_CODE
from tests.dialogue.test_till_slips import terminal_till
from tests.factories import make_town

PAYMENT_WAITS = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if "
    "not, write ANNULLA."
)


@pytest.mark.parametrize(
    "said",
    ["mi è arrivato un codice cosa devo fare", "mi e arrivato un codice", "ho ricevuto un codice"],
)
async def test_a_code_that_came_with_nothing_waiting(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send(said)) == [CODE_NOTHING_WAITS.msgid]


async def test_a_code_that_came_for_a_payment_waiting_names_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.send("mi è arrivato un codice cosa devo fare")
    assert msgids(replies) == [PAYMENT_WAITS]


async def test_a_code_that_came_for_the_application_left_at_its_code(core: Core) -> None:
    chat = await at_the_code(core, "+393471234690")
    code = await _last_code(chat)
    await chat.expect("MENU", TO_COMPLETE)
    assert msgids(await chat.send("mi è arrivato un codice, cosa devo fare?")) == [
        CODE_OF_A_DRAFT.msgid
    ]
    await chat.expect(code, SENT)


@pytest.mark.parametrize(
    "said",
    [
        "quando scadono i buoni",
        "I buoni scadono?",
        "il credito scade?",
        "entro quando devo spendere i buoni?",
        "when do the vouchers expire?",
    ],
)
async def test_when_the_vouchers_expire(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert VOUCHERS_DO_NOT_EXPIRE.msgid in msgids(await chat.send(said))


@pytest.mark.parametrize(
    "said",
    [
        "la tessera nn funziona",
        "la carta non passa",
        "mi hanno rifiutato la tessera",
        "my card doesn't work",
    ],
)
async def test_a_card_that_does_not_work(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert CARD_TROUBLE.msgid in msgids(await chat.send(said))


async def test_other_questions_keep_their_answers(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send("ho perso la tessera"))[0] == LOST_CARD.msgid
    # Another card, a code that did not come, a payment code's life: not these answers.
    for said in ("la carta di credito non funziona", "non mi è arrivato il codice"):
        said_ids = msgids(await chat.send(said))
        assert not {CARD_TROUBLE.msgid, CODE_NOTHING_WAITS.msgid} & set(said_ids), said
    assert VOUCHERS_DO_NOT_EXPIRE.msgid not in msgids(await chat.send("quando scade il codice"))

"""Twenty messages as an elderly citizen writes them, two of which left her stuck:
"quando mi danno i buoni?", "quando arriva la ricarica?" got "Non ho capito" and the list
of words, though "quando arrivano i soldi?" told her how her application stands (STATO);
and "non funziona niente" right after the shop list was searched as a place ('No shop for
"non funziona niente"'). Now the first are STATO (a shop's chat: its reimbursements, as
"quando arrivano i soldi?"), and a "non" names no place after the list."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.questions import question_of
from tests.dialogue.harness import Chat, msgids
from tests.factories import make_town

STATUS = "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance."
NOT_UNDERSTOOD = "I did not understand."
NO_SHOP_THERE = (
    'No shop for "{query}": the vouchers are spent only in the shops of the list. To see it '
    "again, write NEGOZI."
)
WHEN_COMES = [
    "quando mi danno i buoni",
    "QUANDO ARRIVANO I BUONI?",
    "quando arriva la ricarica",
    "quando danno i buoni spesa",
    "when do the vouchers come?",
]


@pytest.mark.parametrize("said", WHEN_COMES)
def test_when_the_vouchers_come_is_asked(said: str) -> None:
    # The same request as "quando arrivano i soldi?": a citizen's STATO, a shop's RIMBORSO.
    assert question_of(said) == question_of("quando arrivano i soldi?") == ("reimbursement", "")


@pytest.mark.parametrize(
    "said", ["quando arriva il codice?", "quando scadono i buoni", "quando posso usare i buoni"]
)
def test_other_when_questions_keep_their_answers(said: str) -> None:
    assert question_of(said) != ("reimbursement", "")


async def test_she_hears_how_her_application_stands(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    for said in WHEN_COMES[:4]:
        replies = await chat.expect(said, STATUS)
        assert NOT_UNDERSTOOD not in msgids(replies), said


@pytest.mark.parametrize("said", ["non funziona niente", "NN FUNZIONA", "non ho soldi"])
async def test_a_no_after_the_shop_list_is_no_place(core: Core, said: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("NEGOZI")
    replies = await chat.send(said)
    assert NO_SHOP_THERE not in msgids(replies), msgids(replies)
    # A place still is one.
    await chat.send("NEGOZI")
    assert NO_SHOP_THERE in msgids(await chat.send("MACERATA"))

""" "Quando scade la domanda?", "fino a quando posso fare domanda?": the person asks when
the application window closes, and is told it (or that none is open) in one SMS, never
started on an application (a user trial: the privacy question came instead)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.citizen import APPLICATION_TO_COMPLETE
from core.services import municipalities
from core.services.applications import ApplicationInput, submit_application
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_apply import CF, PRIVACY
from tests.factories import make_cf, make_town

OPEN_UNTIL = "Applications are open until {when}."
OPEN_UNTIL_TO_APPLY = "Applications are open until {when}. To apply, write DOMANDA."
APPLIED_OPEN_UNTIL = (
    "Applications are open until {when}. You have already applied: STATO says how it is going."
)
APPLICATIONS_CLOSED = (
    "Applications closed on {when}. For help, ask the municipality's office; if you applied, "
    "write STATO."
)

ASKED = [
    "quando scade la domanda",
    "Quando scade la domanda?",
    "fino a quando posso fare domanda",
    "fino a quando posso fare la domanda?",
    "entro quando devo fare la domanda?",
    "quando chiudono le domande",
    "qual è la scadenza per la domanda",
    "c'è una scadenza per fare domanda?",
    "quando si puo fare domanda",
    "buongiorno, fino a quando si può presentare la richiesta?",
    "until when can I apply?",
    "when is the application deadline?",
]


@pytest.mark.parametrize("said", ASKED)
async def test_while_applications_are_open_the_closing_is_said(core: Core, said: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471234700")
    replies = await chat.send(said)
    assert msgids(replies) == [OPEN_UNTIL_TO_APPLY], said
    # Nothing was started: the next word is read afresh.
    assert (await chat.state())[:2] == (None, None)


async def test_asking_to_apply_still_applies(core: Core) -> None:
    await town_with_open_window(core)
    for said in ("vorrei fare la domanda", "come faccio a fare domanda?", "DOMANDA"):
        chat = Chat(core, "+393471234701")
        assert PRIVACY in msgids(await chat.send(said)), said
        await chat.send("ANNULLA")


async def test_with_applications_closed_it_says_so(core: Core) -> None:
    town = await make_town(core, citizens=1)
    for phone in ("+393471234702", town.citizen_phones[0]):
        replies = await Chat(core, phone).send("quando scade la domanda?")
        assert msgids(replies) == [APPLICATIONS_CLOSED], phone


async def test_with_an_application_to_complete_or_made(core: Core) -> None:
    town = await town_with_open_window(core)
    chat = Chat(core, "+393471234703")
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    await chat.expect("MENU")
    replies = await chat.send("fino a quando posso fare domanda?")
    assert msgids(replies) == [OPEN_UNTIL, APPLICATION_TO_COMPLETE.msgid]
    assert len(replies) == 1
    # Somebody who applied in this window (the factories' citizens applied in the first).
    phone = "+393471234704"
    async with core.uow() as uow:
        municipality = await municipalities.require(uow, town.code)
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(704), phone, 2, False, False, 0, 0, 0),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
    assert msgids(await Chat(core, phone).send("quando scade la domanda")) == [APPLIED_OPEN_UNTIL]

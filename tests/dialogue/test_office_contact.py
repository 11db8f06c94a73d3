"""UFFICIO: how to reach the social-services office, as the office wrote it. Many answers
send a person to the office; the first help names UFFICIO, and asking for a person in
words ("voglio parlare con qualcuno") is the same word."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.errors import Conflict, Refusal
from core.services import municipalities
from tests.dialogue.harness import Chat, town_with_open_window
from tests.dialogue.test_apply import APPLICANT
from tests.dialogue.test_left_halfway import RESUME, TO_COMPLETE
from tests.factories import make_town

CONTACT = "Social services of {town}: {contact}"
NO_CONTACT = (
    "Social services of {town}: ask at the town hall, they will tell you how to reach them."
)
WRITTEN = "0733 905 111, lun-ven 9-12, Piazza Umberto I 14"


async def set_contact(core: Core, code: str, text: str) -> str | None:
    async with core.uow() as uow:
        town = await municipalities.update_municipality(uow, code, office_contact=text)
        await uow.commit()
        return town.office_contact


async def test_the_office_s_contact_as_written_and_the_town_hall_without_it(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    [reply] = await chat.expect("UFFICIO", NO_CONTACT)
    assert render_plain(reply, "it", sms=True).startswith("Servizi sociali di Testville: chiedi")
    assert await set_contact(core, town.code, f"  {WRITTEN}\n") == WRITTEN
    [reply] = await chat.expect("UFFICIO", CONTACT)
    assert render_plain(reply, "it", sms=True) == f"Servizi sociali di Testville: {WRITTEN}"
    # Removed: the town hall again.
    assert await set_contact(core, town.code, "") is None
    await chat.expect("ufficio", NO_CONTACT)


@pytest.mark.parametrize(
    "text",
    [
        "Voglio parlare con qualcuno",
        "come contatto l'ufficio?",
        "Buongiorno, numero del comune per favore",
        "assistente sociale",
        "CONTATTI",
        "ufficoi",  # one slip: read-only, so it runs
        "/ufficio",
    ],
)
async def test_asking_for_a_person_in_words_is_ufficio(core: Core, text: str) -> None:
    town = await make_town(core)
    await set_contact(core, town.code, WRITTEN)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect(text, CONTACT)


@pytest.mark.parametrize(
    "text",
    ["dove si trova l'ufficio", "DOVE SI TROVA L UFFICIO", "dov'è l'ufficio?",
     "dove sono i servizi sociali", "indirizzo dell'ufficio", "where is the office?"],
)  # fmt: skip
async def test_asking_where_the_office_is_is_ufficio(core: Core, text: str) -> None:
    # "dove si trova l'ufficio" was read as a shop search ("trova"): she was asked which
    # town or kind of shop to look for.
    town = await make_town(core)
    await set_contact(core, town.code, WRITTEN)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect(text, CONTACT)
    assert (await chat.state())[:2] == (None, None)


async def test_in_english(core: Core) -> None:
    town = await make_town(core)
    await set_contact(core, town.code, WRITTEN)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("LANGUAGE EN")
    for text in ("OFFICE", "I want to talk to someone", "who can I call?"):
        [reply] = await chat.expect(text, CONTACT)
        assert render_plain(reply, "en", sms=True) == f"Social services of Testville: {WRITTEN}"


async def test_in_the_middle_of_an_application_it_waits_as_after_saldo(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471234777")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    assert (await chat.state())[1] == "members"
    # The answer, then where the application stands, as after SALDO at a question.
    await chat.expect("UFFICIO", NO_CONTACT, TO_COMPLETE)
    await chat.expect("DOMANDA", RESUME)


@pytest.mark.parametrize(
    "text",
    [
        "0733 905 111 📞",  # an emoji would make every answer naming it two or three SMS
        "x" * (municipalities.MAX_OFFICE_CONTACT + 1),
    ],
)
async def test_a_contact_an_sms_cannot_carry_is_refused_and_changes_nothing(
    core: Core, text: str
) -> None:
    town = await make_town(core)
    await set_contact(core, town.code, WRITTEN)
    with pytest.raises(Conflict) as refused:
        await set_contact(core, town.code, text)
    assert refused.value.code is Refusal.MUNICIPALITY_BAD_OFFICE_CONTACT
    async with core.uow() as uow:
        assert (await municipalities.require(uow, town.code)).office_contact == WRITTEN

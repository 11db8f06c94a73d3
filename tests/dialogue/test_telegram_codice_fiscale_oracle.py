"""A Telegram chat that is nobody's, with its own number shared, asking about other
people's codici fiscali.

By SMS the refusal of a codice fiscale that is already a citizen's comes only after the
code proves the number, at the end of a whole application: refusing at the codice
fiscale would tell anyone with a spare SIM which codes applied for vouchers (a flag of
hardship). On Telegram it came at once: three messages per code (DOMANDA, 1, the codice
fiscale), then ANNULLA, with no limit, told apart a holder ("We cannot do this from the
chat…") from anybody else (the next question). Now such a chat is answered the same for
both until the application is submitted, where a refused claim is refused as before (and
a free code is filed, binding that chat and number: the next code it tries is refused
whatever it is). The holder is still told at once, once a day; a chat linked to a citizen
is still refused at once."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from tests.dialogue.harness import msgids, town_with_open_window
from tests.dialogue.test_identity import (
    ANSWERS,
    MEMBERS,
    NOTICE,
    REFUSED,
    counts,
    notices_to,
    telegram_applicant,
)
from tests.factories import make_cf

SUMMARY_SEND = "declare"


@pytest.mark.parametrize("holder", [0, 1])
async def test_a_holders_code_and_a_free_one_read_alike_until_the_application_is_sent(
    core: Core, holder: int
) -> None:
    town = await town_with_open_window(core)
    before = await counts(core)
    chat = await telegram_applicant(core, "880101", "+393471110101")
    said_for_holder = msgids(await chat.send(town.citizen_cfs[holder]))
    await chat.send("ANNULLA")
    await chat.send("DOMANDA")
    await chat.send("1")
    said_for_nobody = msgids(await chat.send(make_cf(731)))
    assert said_for_holder == said_for_nobody == [MEMBERS]
    # The holder was told of the attempt at once, as before.
    [(_row, notice)] = await notices_to(core, town.citizen_phones[holder])
    assert notice.texts[0].msgid == NOTICE
    # Sent under the holder's code, the application is refused and nothing is created.
    await chat.send("ANNULLA")
    await chat.send("DOMANDA")
    await chat.send("1")
    await chat.send(town.citizen_cfs[holder])
    for answer in ANSWERS[:-1]:
        await chat.send(answer)
    await chat.expect(ANSWERS[-1])
    await chat.expect(None, REFUSED, option=SUMMARY_SEND)
    assert await counts(core) == before

"""SMS trial (oldphone22): an elderly applicant wrote "basta" at the codice fiscale question
and was told a codice fiscale has 16 characters, again and again. Words that give up
("basta", "basta così", "non voglio più", "lascia stare") stop the application at any of
its questions as ANNULLA does, and say that nothing was sent and how to start again. Only
there: at a till's amount "basta" stops no payment."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from tests.dialogue.harness import Chat, msgids, open_till, options, param, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, CF, CF_LENGTH, PRIVACY, SUMMARY
from tests.dialogue.test_shop import AMOUNT
from tests.factories import make_town

STOPPED = "Application stopped: nothing was sent. To start again, write DOMANDA."
# What the applicant types to reach each question, and the step she then stands at.
TO_EACH_QUESTION = (
    ("DOMANDA", "privacy"),
    ("1", "cf"),
    (APPLICANT, "members"),
    ("2", "work"),
    ("2", "pension"),
    ("2", "liquidity"),
    ("100", "support"),
    ("0", "rent"),
    ("0", "summary"),
    ("1", "verify"),
)
GIVING_UP = ("basta", "BASTA", "Basta!", "basta così", "non voglio più", "lascia stare")


async def _stopped(chat: Chat, words: str) -> None:
    replies = await chat.expect(words, STOPPED)
    assert CF_LENGTH not in msgids(replies)
    assert (await chat.state())[:2] == (None, None)


async def test_giving_up_at_the_codice_fiscale_stops_the_application(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239001")
    for words in GIVING_UP:
        await chat.expect("DOMANDA", PRIVACY)
        await chat.expect("1", CF)
        await _stopped(chat, words)
        # By SMS the sentence alone, one SMS (it says how to start again).
        assert len(chat.last) == 1 and not options(chat.last)
    # Nothing was kept: DOMANDA starts afresh, no unfinished request offered.
    await chat.expect("DOMANDA", PRIVACY)
    async with core.uow() as uow:
        municipality = (await uow.municipalities.all())[0]
        assert await uow.citizens.by_codice_fiscale(municipality.id, APPLICANT) is None


async def test_the_same_words_stop_at_every_question(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239002")
    await chat.send("MENU")
    await chat.expect("3", "Choose your language.")
    await _stopped(chat, "lascia stare")
    for depth in range(1, len(TO_EACH_QUESTION) + 1):
        for words, _step in TO_EACH_QUESTION[:depth]:
            await chat.send(words)
        assert (await chat.state())[:2] == ("apply", TO_EACH_QUESTION[depth - 1][1])
        await _stopped(chat, "basta")


async def test_elsewhere_than_sms_the_menu_follows(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239003", channel=Channel.TERMINAL)
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    await _stopped(chat, "non voglio più")
    assert "apply" in options(chat.last)


async def test_a_change_given_up_leaves_the_application_as_it_was(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239004")
    for text in ("APPLY", "1", APPLICANT, "2", "2", "2", "100", "0", "0", "1"):
        await chat.send(text)
    await chat.send(str(param(chat.last, "code")))
    await chat.expect(
        "DOMANDA", "You have already applied: protocol {protocol}. You can change it until {when}."
    )
    # There nothing is under way: "basta" is no answer, and no stop either.
    await chat.expect("basta", "Reply 1 to change your application, or MENU.")
    assert (await chat.state())[:2] == ("apply", "existing")
    await chat.expect("1", SUMMARY)
    await chat.expect("2", "What do you want to change?")
    await chat.expect("1", "How many people live in your household, you included? Write a number.")
    replies = await chat.expect("basta così", "Cancelled: your application is unchanged.")
    assert STOPPED not in msgids(replies)
    assert (await chat.state())[:2] == (None, None)


async def test_basta_at_a_tills_amount_stops_no_payment(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT)
    for words in ("basta", "lascia stare"):
        said = msgids(await till.send(words))
        assert STOPPED not in said and "Cancelled." not in said, said
        assert (await till.state())[:2] == ("charge", "amount")

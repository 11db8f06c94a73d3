"""A newcomer's first words: how much she could get, and a first AIUTO or "grazie".

"How much money can I get?", "quanto posso avere?", "a quanto ho diritto?" ask what the
town gives, as "quanto mi spetta?" does: the amounts by household size and how to apply
("how much money can I get?" was the balance, "no vouchers for this number"; the others
the welcome as if not understood, or who may apply). A citizen the town knows hears the
word for her own balance after the amounts. "How much do I have?", "quanto ho?", SALDO
stay the balance. AIUTO, HELP, "?", "grazie", "thanks" as the first message of a number
the town does not know say whose number this is (the welcome) before the words; later,
and from a known citizen, as before."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands.reading import parse
from core.dialogue.inbound import Channel
from core.dialogue.questions import question_of
from tests.dialogue.harness import Chat, msgids, options, town_with_open_window
from tests.dialogue.test_asking_for_a_language import said

HOW_MUCH = (
    "The vouchers are a one-off sum by household size: {smallest} for 1 person, up to "
    "{largest} for {size} or more; less if the fund is short."
)
TO_APPLY = "To apply, write DOMANDA."
SALDO_FOR_HERS = "To see what you have left, write SALDO."
NO_VOUCHERS = "We have no vouchers for this number. To apply, write DOMANDA."
BALANCE = "Your balance: {balance}."
WELCOME = "Welcome to the grocery vouchers of {town}."
FIRST_HELP = (
    "SALDO: what you have left. NEGOZI: where to spend. DOMANDA: to get vouchers. To talk to "
    "someone: UFFICIO. More words: AIUTO."
)
YOU_ARE_WELCOME = "You're welcome! Write SALDO, NEGOZI or AIUTO when you need."

ENGLISH = ("how much money can I get?", "how much can I get", "how much am I entitled to")
ITALIAN = ("quanto posso avere?", "quanti soldi mi danno?", "a quanto ho diritto?")


def test_how_much_one_can_get_is_the_towns_amounts_not_the_balance() -> None:
    for text in (*ENGLISH, *ITALIAN, "quanto mi spetta?", "How much am I eligible for?"):
        assert question_of(text) == ("how_much_given", ""), text
        assert parse(text) is None, text
    # The balance stays the balance, and who may apply stays who.
    for text in ("how much do I have?", "quanto ho?", "SALDO", "how much money do I have?"):
        assert parse(text) == ("balance", ""), text
    for text in ("how much did I get?", "quanto posso ancora avere?"):
        assert question_of(text) != ("how_much_given", ""), text
    assert question_of("chi ha diritto ai buoni?") == ("who_can_apply", "")


async def test_an_unknown_number_asking_how_much_hears_the_amounts_and_how_to_apply(
    core: Core,
) -> None:
    await town_with_open_window(core)
    for index, text in enumerate((*ENGLISH, *ITALIAN)):
        replies = await Chat(core, f"+39347199{2100 + index:04d}").send(text)
        assert msgids(replies) == [HOW_MUCH, TO_APPLY], text
        assert NO_VOUCHERS not in msgids(replies)
    # On Telegram too, in one message, in English when asked in English: no request for
    # the phone number, which a balance would have been.
    chat = Chat(core, "7992101", channel=Channel.TELEGRAM, language_hint="en")
    replies = await chat.send("how much money can I get?")
    assert msgids(replies) == [HOW_MUCH, TO_APPLY] and len(replies) == 1
    assert "To apply, write APPLY." in said(replies, "en", sms=False)
    chat = Chat(core, "7992102", channel=Channel.TELEGRAM, language_hint="it")
    replies = await chat.send("a quanto ho diritto?")
    assert "Per fare domanda scrivi DOMANDA." in said(replies, "it", sms=False)


async def test_a_citizen_asking_how_much_hears_the_amounts_and_her_balance_word(
    core: Core,
) -> None:
    town = await town_with_open_window(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    for text in ("quanto posso avere?", "a quanto ho diritto?", "quanto mi spetta?"):
        replies = await chat.send(text)
        assert msgids(replies) == [HOW_MUCH, SALDO_FOR_HERS], text
        assert "Per vedere quanto ti resta scrivi SALDO." in said(replies, "it")
    replies = await chat.send("how much money can I get?")
    assert msgids(replies)[:2] == [HOW_MUCH, SALDO_FOR_HERS]
    assert BALANCE not in msgids(replies)
    # Her balance asked is her balance, as before.
    for text in ("how much do I have?", "quanto ho?", "SALDO"):
        assert BALANCE in msgids(await chat.send(text)), text


@pytest.mark.parametrize("first", ["AIUTO", "HELP", "grazie", "thanks"])
async def test_a_first_help_or_thanks_by_sms_says_what_this_number_is(
    core: Core, first: str
) -> None:
    """Before, the words alone (or "You're welcome!"): nothing said whose number this is."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471992201")
    replies = await chat.send(first)
    assert msgids(replies) == [WELCOME, FIRST_HELP]
    italian = first in ("AIUTO", "grazie")
    text = said(replies, "it" if italian else "en")
    if italian:
        assert text.startswith("Ti diamo il benvenuto nel servizio buoni spesa del Comune di")
        assert "DOMANDA" in text
    else:
        assert text.startswith("Welcome to the grocery vouchers of")
        assert "APPLY" in text
    # Thanked later (in the chat's language): the short answer, never the welcome again.
    replies = await chat.send("grazie" if italian else "thanks")
    assert msgids(replies) == [YOU_ARE_WELCOME]


async def test_a_first_question_mark_says_what_this_number_is(core: Core) -> None:
    await town_with_open_window(core)
    replies = await Chat(core, "+393471992202").send("?")
    assert msgids(replies)[0] == WELCOME
    assert "apply" in options(replies)


@pytest.mark.parametrize("first", ["AIUTO", "grazie", "thanks"])
async def test_a_first_help_or_thanks_on_telegram_has_the_welcome_and_the_menu(
    core: Core, first: str
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "7992203", channel=Channel.TELEGRAM, language_hint="en")
    replies = await chat.send(first)
    assert msgids(replies)[0] == WELCOME
    assert "apply" in options(replies)
    assert WELCOME not in msgids(await chat.send("thanks"))


async def test_a_citizens_first_help_or_thanks_is_as_before(core: Core) -> None:
    town = await town_with_open_window(core, citizens=2)
    assert msgids(await Chat(core, town.citizen_phones[0]).send("grazie")) == [YOU_ARE_WELCOME]
    assert msgids(await Chat(core, town.citizen_phones[1]).send("AIUTO")) == [FIRST_HELP]

"""What a confused person by SMS hears (the user trial of December 2026): a short first
help with a person to turn to, the question again when a message answers nothing, plain
balance questions, English in an Italian chat, and what to do when the balance is short."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import (
    DELEGATE_FOR_YOU,
    DELEGATION,
    LANGUAGE_DONE,
    VOUCHERS_ARE_FREE,
)
from core.dialogue.inbound import Channel
from core.dialogue.menus import CITIZEN_HELP, FIRST_HELP, IN_ENGLISH, NOT_UNDERSTOOD, SHOP_HELP
from core.dialogue.render import render_plain
from core.domain.messages import Money, t
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    CASHIER_CODE,
    Chat,
    assert_one_segment,
    msgids,
    open_till,
    outbox_of,
    town_with_open_window,
)
from tests.dialogue.test_apply import (
    APPLICANT,
    LIQUIDITY,
    MEMBERS,
    NOT_AN_AMOUNT,
    PENSION,
    SUPPORT,
    WORK,
)
from tests.dialogue.test_shop import (
    ASK_CODE,
    CITIZEN_CODE_ABOVE_BALANCE,
    CITIZEN_CODE_REPLACED_ABOVE_BALANCE,
)
from tests.factories import make_town

BALANCE = "Your balance: {balance}."
NO_CONTACT = t(
    "Social services of {town}: ask at the town hall, they will tell you how to reach them."
)
WAITING = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if "
    "not, write ANNULLA."
)
FIRST_HELP_IT = (
    "SALDO: quanto ti resta. NEGOZI: dove spendere. DOMANDA: avere i buoni. Per parlare con "
    "qualcuno: UFFICIO. Altre parole: AIUTO."
)
FIRST_HELP_EN = (
    "BALANCE: what you have left. SHOPS: where to spend. APPLY: get vouchers. To talk to "
    "someone: OFFICE. More words: HELP."
)


async def test_the_first_help_is_short_and_every_word_is_one_step_away(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    [reply] = await chat.send("aiuto")
    assert msgids([reply]) == [FIRST_HELP.msgid]  # asked for: no "I did not understand"
    assert render_plain(reply, "it", sms=True) == FIRST_HELP_IT
    [reply] = await chat.send("AIUTO")  # asked again: every word
    assert msgids([reply]) == [CITIZEN_HELP.msgid]
    # (A greeting alone, "buongiorno", "chi siete?", gets the welcome: test_own_words.py.)
    for text in ("boh",):
        [reply] = await chat.send(text)
        assert msgids([reply]) == [NOT_UNDERSTOOD.msgid, FIRST_HELP.msgid], text
        assert render_plain(reply, "it", sms=True) == f"Non ho capito.\n{FIRST_HELP_IT}"
    # "Non capisco" asks for help in words: the help, not "I did not understand".
    assert msgids(await chat.send("non capisco")) == [FIRST_HELP.msgid]
    await chat.expect("1", BALANCE)  # the first help's first word
    await chat.send("aiuto")
    assert msgids(await chat.send("4")) == [NO_CONTACT.msgid]  # its fourth: the office
    assert msgids(await chat.send("5")) == [CITIZEN_HELP.msgid]  # its fifth: every word


async def test_the_first_help_in_english(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("LANGUAGE en")
    [reply] = await chat.send("HELP")
    assert render_plain(reply, "en", sms=True) == FIRST_HELP_EN
    [reply] = await chat.send("blah")
    assert render_plain(reply, "en", sms=True) == f"I did not understand.\n{FIRST_HELP_EN}"


async def test_english_in_an_italian_chat_hears_how_to_switch(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")  # an Italian chat
    # HELP alone is a keyword of both languages: the help, as an Italian writing it wants,
    # and the way to English, which fits the same SMS beside the first help.
    assert msgids(await chat.send("HELP")) == [FIRST_HELP.msgid, IN_ENGLISH.msgid]
    for text in ("I don't understand",):
        [reply] = await chat.send(text)
        # The Italian first help and the hint fit one SMS ("I did not understand" does not).
        assert msgids([reply]) == [FIRST_HELP.msgid, IN_ENGLISH.msgid], text
        assert render_plain(reply, "it", sms=True) == f"{FIRST_HELP_IT}\nEnglish: write LANGUAGE EN"
    await chat.expect("LANGUAGE EN", LANGUAGE_DONE.msgid)
    # A shop's help is too long for the hint: one SMS without it.
    shop = Chat(core, town.shop_phone)
    await shop.send("MENU")
    assert msgids(await shop.send("HELP")) == [SHOP_HELP.msgid]


async def test_the_help_names_a_payment_waiting_for_the_code_first(core: Core) -> None:
    town = await make_town(core, citizens=1)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.send("SALDO")
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    replies = await citizen.send("aiuto")
    assert msgids(replies) == [WAITING, FIRST_HELP.msgid]
    assert replies[0].texts[0].params["amount"] == Money(12_50)
    # The terminal chat, which stands in for that phone, hears it first too.
    terminal = Chat(core, town.citizen_phones[0], channel=Channel.TERMINAL)
    await terminal.send("MENU")
    assert msgids(await terminal.send("AIUTO")) == [WAITING, CITIZEN_HELP.msgid]


async def test_a_message_that_answers_nothing_hears_the_question_again(
    core: Core, clock: FakeClock
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239901")
    for text in ("DOMANDA", "1", APPLICANT, "2", "no", "no"):
        await chat.send(text)
    assert LIQUIDITY in msgids(chat.last)
    # Words where an amount is asked: the error and the question, in one SMS if they fit.
    # ("Non lo so" is told a rough figure will do: test_her_words_at_the_questions.)
    replies = await chat.send("devo chiedere a mio figlio")
    assert msgids(replies) == [NOT_AN_AMOUNT, LIQUIDITY]
    # A wrong number is an attempt at the answer: only the error.
    assert msgids(await chat.send("12,345")) != [] and LIQUIDITY not in msgids(chat.last)
    # Back after three hours: what was in progress, the error and the question.
    clock.advance(hours=3)
    replies = await chat.send("buonasera sono tornato")
    assert msgids(replies) == [
        "You were making your application.",
        NOT_AN_AMOUNT,
        LIQUIDITY,
    ]
    rendered = "\n".join(render_plain(reply, "it", sms=True) for reply in replies)
    assert rendered.startswith("Stavi facendo la domanda.\nQuesto non è un importo.")
    assert (await chat.state())[:2] == ("apply", "liquidity")
    await chat.expect("0", SUPPORT)


async def test_a_yes_or_no_question_comes_again_after_words(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239902")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    await chat.expect("2", WORK)
    replies = await chat.send("boh")
    assert msgids(replies)[-1] == WORK and len(replies) == 1
    await chat.expect("no", PENSION)
    assert MEMBERS not in msgids(chat.last)


async def test_everyday_balance_questions(core: Core) -> None:
    town = await make_town(core, citizens=2)
    # As the first message of a known citizen: the balance, not the welcome.
    first = Chat(core, town.citizen_phones[1])
    await first.expect("ho ancora soldi?", BALANCE)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in (
        "quanto c'è rimasto sul buono",
        "quanto ho speso",
        "c'ho ancora li sordi?",
        "do I still have money?",
    ):
        await chat.expect(text, BALANCE)
    # Not the balance: still waiting for the card, or no money yet.
    await chat.expect(
        "non ho ancora la tessera", "Your card code is {code}. Show it at the till to pay."
    )
    assert BALANCE not in msgids(await chat.send("non ho ancora ricevuto i soldi"))


@pytest.mark.parametrize(
    ("language", "first", "again"),
    [
        (
            "it",
            "Hai solo 150,00 €: chiedi al cassiere di farti pagare al massimo questo.",
            "Hai solo 150,00 €: chiedi di pagare meno.",
        ),
        (
            "en",
            "You only have €150.00: ask the cashier to charge you at most that.",
            "You only have €150.00: ask to pay less.",
        ),
    ],
)
async def test_a_code_above_the_balance_says_how_much_can_be_paid(
    core: Core, language: str, first: str, again: str
) -> None:
    """The code's message above the balance ended "…puoi pagare al massimo questo, dillo al
    cassiere", which read as "tell the cashier the code": it is the amount to ask for that the
    customer tells the cashier. So too when a new PAGA replaced the code (one SMS each)."""
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.language = language
        await uow.commit()
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 200", ASK_CODE)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 180", ASK_CODE)
    sent = (await outbox_of(core, "sms", town.citizen_phones[0]))[-2:]
    bodies = [render_plain(reply, row.language, sms=True) for row, reply in sent]
    assert [reply.texts[0].msgid for _row, reply in sent] == [
        CITIZEN_CODE_ABOVE_BALANCE,
        CITIZEN_CODE_REPLACED_ABOVE_BALANCE,
    ]
    assert bodies[0].endswith(first) and bodies[1].endswith(again), bodies
    for _row, reply in sent:
        assert_one_segment(reply, language)


async def test_how_to_shop_for_someone_else_is_explained(core: Core) -> None:
    """User trial: a neighbour asking to check an elderly woman's balance was told to apply
    for himself, and "delega" was not understood."""
    town = await make_town(core)
    for phone, text in (
        (
            "+393335550002",
            "buonasera sono il vicino della signora maria, posso controllare il suo saldo?",
        ),
        ("+393335550003", "come faccio a fare la spesa per conto di una vicina anziana"),
        ("+393335550004", "delega"),
    ):
        replies = await Chat(core, phone).send(text)
        assert msgids(replies) == [DELEGATION.msgid], text
    # The holder asking whether her neighbour may shop for her is told from her side.
    replies = await Chat(core, town.citizen_phones[0]).send(
        "il mio vicino puo fare la spesa per me con i buoni?"
    )
    assert msgids(replies) == [DELEGATE_FOR_YOU.msgid]
    # Shops near: not a neighbour.
    replies = await Chat(core, town.citizen_phones[0]).send("negozi vicino a me")
    assert DELEGATION.msgid not in msgids(replies)


async def test_what_the_vouchers_cost_is_nothing_and_nobody_may_ask_for_money(
    core: Core,
) -> None:
    """ "Quanto costano i buoni?" was answered with the balance (a "how much" and "buoni"),
    by SMS as on Telegram; someone asked for a fee hears that nobody may ask one."""
    town = await make_town(core)
    for chat, text in (
        (Chat(core, town.citizen_phones[0]), "quanto costano i buoni?"),
        (Chat(core, "+393335550009"), "devo pagare per la domanda?"),
        (Chat(core, "7001", channel=Channel.TELEGRAM), "quanto costano i buoni spesa"),
    ):
        replies = await chat.send(text)
        assert msgids(replies) == [VOUCHERS_ARE_FREE.msgid], text
        assert BALANCE not in msgids(replies)
        if chat.channel is Channel.SMS:
            assert_one_segment(replies[0], "it")
    replies = await Chat(core, "+447700900123").send("how much do the vouchers cost?")
    assert VOUCHERS_ARE_FREE.msgid in msgids(replies)


async def test_no_more_messages_in_a_sentence_says_how(core: Core) -> None:
    """User trial: "stop non mandatemi più messaggi" got "Non ho capito." and the help,
    which does not say STOP must be written alone."""
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    hint = (
        "To receive no more messages, write STOP on its own. Payment codes and receipts still "
        "arrive."
    )
    for text in ("stop non mandatemi piu messaggi", "non voglio più messaggi"):
        assert msgids(await chat.send(text)) == [hint], text
    await chat.send("STOP")
    async with core.uow() as uow:
        conversation = await uow.conversations.find(town.municipality_id, "sms", chat.address)
        assert conversation is not None and conversation.stopped


async def test_an_option_picked_in_words(core: Core) -> None:
    """User trial: after the menu "la terza" and "tre" were not understood."""
    town = await make_town(core)
    by_number = Chat(core, town.citizen_phones[0])
    await by_number.send("MENU")
    expected = msgids(await by_number.send("3"))
    for phone, words in ((town.citizen_phones[1], "la terza"), (town.citizen_phones[2], "tre")):
        chat = Chat(core, phone)
        await chat.send("MENU")
        assert msgids(await chat.send(words)) == expected, words


async def test_a_shopkeepers_questions_in_words(core: Core) -> None:
    """Shops' trial: "quando mi paga il comune?", "quanto ho incassato oggi?" and "vorrei un
    nuovo cassiere" got "Non ho capito." and the list of words."""
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await owner.send("MENU")
    for text in ("quando mi paga il comune?", "quando arrivano i soldi?", "il rimborso per favore"):
        said = msgids(await owner.send(text))
        assert said[0] == "To be reimbursed by the municipality: {amount}.", text
    assert (
        msgids(await owner.send("quanto ho incassato oggi?"))[0]
        == "Today: {count} payment, {amount}."
    )
    await owner.expect("vorrei un nuovo cassiere", CASHIER_CODE)
    await owner.send("ANNULLA")
    # A citizen's "when does the money come" asks after their own application, and a
    # customer's word about the cashier is no request for a cashier code.
    citizen = Chat(core, town.citizen_phones[0])
    said = msgids(await citizen.send("il cassiere mi chiede un nuovo codice"))
    assert "Only the owner of a shop can add cashiers." not in said
    status = msgids(await citizen.send("STATO"))
    assert msgids(await citizen.send("quando arrivano i soldi?")) == status


async def test_a_polite_first_message_that_introduces_herself_applies(core: Core) -> None:
    """User trial: with her name first the question was too long to be read."""
    await town_with_open_window(core)
    chat = Chat(core, "+393335550031")
    text = "buongiorno sono la signora maria vorrei sapere come si fa per avere i buoni spesa"
    replies = await chat.send(text)
    assert (await chat.state())[0] == "apply", msgids(replies)

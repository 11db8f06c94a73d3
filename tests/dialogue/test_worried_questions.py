"""Questions an elderly citizen writes by SMS that got the list of words (the help): "è
una truffa?", "come faccio a pagare?", "a chi devo dare il codice?", and texting shorthand
("ki siete", "ke devo fare", "ciao sn Maria", "quanto c ho"). Each gets its own short
answer, in one SMS (the harness renders each in its language)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import CODE_NOTHING_WAITS, HOW_TO_PAY, NOT_A_SCAM, WHAT_TO_BUY
from core.dialogue.menus import FIRST_HELP
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_shop import ASK_CODE
from tests.dialogue.test_till_slips import terminal_till
from tests.dialogue.test_what_to_do_with import PAYMENT_WAITS
from tests.factories import make_town

WELCOME = "Welcome to the grocery vouchers of {town}."
THANKS = "You're welcome! Write SALDO, NEGOZI or AIUTO when you need."
BALANCE = "Your balance: {balance}."
SHOPS_FOUND = "{count} shop found:"


@pytest.mark.parametrize(
    "said",
    ["è una truffa?", "e una truffa", "E' UNA TRUFFA??", "siete dei truffatori?",
     "questo messaggio è una truffa o è vero?", "is this a scam?"],
)  # fmt: skip
async def test_is_it_a_scam(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    for phone in (town.citizen_phones[0], "+393471234800"):
        chat = Chat(core, phone)
        await chat.send("MENU")
        assert msgids(await chat.send(said)) == [NOT_A_SCAM.msgid], (phone, said)


@pytest.mark.parametrize(
    "said",
    ["come faccio a pagare", "come si paga?", "come pago al negozio", "come si usano i buoni",
     "come faccio a pagare con i buoni?", "come funziona il pagamento", "how do I pay?"],
)  # fmt: skip
async def test_how_to_pay(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send(said)) == [HOW_TO_PAY.msgid], said
    assert (await chat.state())[:2] == (None, None)


async def test_how_to_pay_at_a_shops_till_is_the_help(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    assert HOW_TO_PAY.msgid not in msgids(await till.send("come si paga?"))


async def test_who_to_give_the_code_to(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for said in ("a chi devo dare il codice?", "il codice a chi lo do", "a chi dico il codice"):
        assert msgids(await chat.send(said)) == [CODE_NOTHING_WAITS.msgid], said


async def test_texting_shorthand(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send("ki siete?"))[0] == WELCOME
    assert msgids(await chat.send("ciao sn maria"))[0] == WELCOME
    assert FIRST_HELP.msgid in msgids(await chat.send("ke devo fare"))
    assert BALANCE in msgids(await chat.send("quanto c ho"))


@pytest.mark.parametrize(
    "said",
    ["Buongiorno. Sono Giuseppe. Vorrei sapere il saldo. Grazie",
     "vorrei sapere il saldo. grazie", "Buonasera.Mi dite il saldo?Grazie"],
)  # fmt: skip
async def test_several_sentences_in_one_sms(core: Core, said: str) -> None:
    """The full stops between sentences do not hide the one keyword of the message."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert BALANCE in msgids(await chat.send(said)), said


@pytest.mark.parametrize(
    "said",
    ["cosa posso comprare con i buoni", "che cosa si può comprare?", "posso comprare il vino?",
     "posso comprare le sigarette con la tessera", "what can I buy with the vouchers?"],
)  # fmt: skip
async def test_what_the_vouchers_buy(core: Core, said: str) -> None:
    """A credited citizen asking what she may buy: not an application started (the
    vouchers with "posso" read as wanting them)."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send(said)) == [WHAT_TO_BUY.msgid], said
    assert (await chat.state())[:2] == (None, None)


async def test_spoken_forms_of_the_centre_and_south(core: Core) -> None:
    """ "'Ndo sta er forno?", "nun ho capito gnente", "aiutatemi": the shops, the first help."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert SHOPS_FOUND in msgids(await chat.send("'ndo sta l'alimentari"))
    assert SHOPS_FOUND in msgids(await chat.send("n'do posso fa la spesa?"))
    for said in ("nun ho capito gnente", "aiutatemi", "ho bisogno di aiuto"):
        await chat.send("MENU")
        assert FIRST_HELP.msgid in msgids(await chat.send(said)), said


async def test_her_age_or_children_told_with_the_question(core: Core) -> None:
    """ "Mi chiamo Rosa, ho 82 anni e vorrei i buoni spesa": a number of years or of people
    is no code nor amount; the question around it is read. Other numbers still are not."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471234801")
    for said in ("buongiorno mi chiamo Rosa ho 82 anni e vorrei i buoni spesa",
                 "ho 3 figli, come faccio a chiedere i buoni?"):  # fmt: skip
        await chat.send(said)
        # The application begins (its language asked: a message with a digit names none).
        assert (await chat.state())[0] == "apply", said
        await chat.send("ANNULLA")
    await chat.send("ho 500 euro vorrei i buoni")
    assert (await chat.state())[0] is None


async def test_with_a_payment_waiting_the_payment_is_named(core: Core) -> None:
    """A code just came ("Alimentari … chiede 5,00 €") and she asks "è una truffa?" or "come
    faccio a pagare?": which shop asks how much, and how to agree or refuse (ANNULLA)."""
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    chat = Chat(core, town.citizen_phones[0])
    for said in ("è una truffa?", "come faccio a pagare?"):
        assert msgids(await chat.send(said)) == [PAYMENT_WAITS], said


@pytest.mark.parametrize("said", ["buona sera", "Buon giorno", "buonanotte", "Buona sera!"])
async def test_a_greeting_written_in_two_words(core: Core, said: str) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    assert msgids(await chat.send(said))[0] == WELCOME, said


async def test_all_set_thanks(core: Core) -> None:
    """ "A posto grazie", "tutto a posto, grazie": thanks, not the list of words."""
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for said in ("a posto grazie", "tutto a posto, grazie", "apposto grazie"):
        assert msgids(await chat.send(said)) == [THANKS], said

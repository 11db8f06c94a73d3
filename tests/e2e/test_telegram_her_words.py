"""An elderly citizen and a tired shopkeeper on Telegram (trial of 7 December 2026), through
the fake Bot API: what each one reads, buttons included, for the bills and household
answers first tried by SMS, and for what was answered badly on Telegram before."""

from __future__ import annotations

from functools import partial

import pytest

from buonispesa.demo import DEMO_CITIZENS
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_citizen import buttons
from tests.e2e.test_telegram_day_trial import (
    CASHIER_MENU,
    CITIZEN_MENU,
    registered_shop,
    text_of,
)

BILLS = (
    "I buoni sono per cibo e beni essenziali nei negozi del comune, non per bollette o "
    "affitto. Per chiederli: DOMANDA. Altri aiuti dai servizi sociali: UFFICIO."
)
NOT_UNDERSTOOD = "Non ho capito."
HELP = "Scrivi: SALDO, NEGOZI (+ comune, CAP o tipo), DOMANDA, STATO"
TAP_A_BUTTON = "Tocca uno dei pulsanti qui sopra."
PRIVACY = "Privacy: Belforte del Chienti usa i tuoi dati solo per i buoni spesa"
FREE = (
    "I buoni sono gratuiti: il Comune li dà alle famiglie in difficoltà. Nessuno può "
    "chiederti soldi per averli: se qualcuno lo fa, avvisa l'ufficio."
)


async def newcomer(server: TelegramServer, user_id: int) -> FakeUser:
    """Someone who opened the bot (/start) and has no vouchers yet."""
    nonna = server.user(user_id, name="Giuseppina")
    [welcome] = await server.exchange(nonna, nonna.start)
    assert buttons(welcome)[:4] == CITIZEN_MENU
    return nonna


async def holder(server: TelegramServer, user_id: int) -> FakeUser:
    """A citizen with vouchers (the demo's first), her chat linked by her shared contact."""
    rosa = server.user(user_id, name="Rosa")
    await server.exchange(rosa, partial(rosa.say, "saldo"))
    await server.exchange(rosa, partial(rosa.share_contact, DEMO_CITIZENS[0].phone.lstrip("+")))
    return rosa


@pytest.mark.parametrize(
    "said",
    ["mi hanno tagliato la luce", "non riesco a pagare le bollette", "ho l'affitto da pagare"],
)
async def test_bills_on_telegram(telegram_server: TelegramServer, said: str) -> None:
    server = telegram_server
    nonna = await newcomer(server, 9101)
    [told] = await server.exchange(nonna, partial(nonna.say, said))
    # One message, no keyboard: what the vouchers are for, how to apply, where to turn.
    assert text_of(told) == BILLS
    assert buttons(told) == []
    # She applied already (the demo's holder): no DOMANDA, her application as STATO says it.
    rosa = await holder(server, 9102)
    [status] = await server.exchange(rosa, partial(rosa.say, "stato"))
    replies = await server.exchange(rosa, partial(rosa.say, said))
    assert [text_of(message) for message in replies] == [
        "I buoni sono per cibo e beni essenziali nei negozi del comune, non per bollette o "
        "affitto. Altri aiuti dai servizi sociali: scrivi UFFICIO.",
        text_of(status),
    ]
    assert buttons(replies[-1]) == buttons(status)
    # At a question with buttons (the privacy consent) the same words are no answer but
    # her worry: answered as above, then the question again with its buttons (no "tap a
    # button"); nothing was consented to.
    await server.exchange(nonna, lambda: nonna.tap("Domanda"))  # Italian: no language question
    [again] = await server.exchange(nonna, partial(nonna.say, said))
    assert text_of(again).startswith(f"{BILLS}\n{PRIVACY}")
    assert TAP_A_BUTTON not in text_of(again)
    assert buttons(again) == ["Acconsento", "Non acconsento"]


async def test_household_sizes_on_telegram(telegram_server: TelegramServer) -> None:
    server = telegram_server
    nonna = await newcomer(server, 9103)
    [large] = await server.exchange(nonna, partial(nonna.say, "quanto danno a una famiglia di 25?"))
    assert text_of(large) == (
        "Per una famiglia di 25 persone decide l'ufficio: scrivi UFFICIO. Da 7 persone in su "
        "le regole danno 500,00 €, una volta; meno se il fondo non basta."
    )
    assert buttons(large) == []
    [nobody] = await server.exchange(nonna, partial(nonna.say, "quanto danno a una famiglia di 0"))
    assert text_of(nobody) == (
        "Quante persone vivono in casa, contando anche te? Chiedi, per esempio: quanto danno "
        "a una famiglia di 3?"
    )
    # An amount or a phone is no household size: the help, with the menu's buttons.
    for said in ("quanto danno a una famiglia di 5 euro", "siamo in 3331000002"):
        [told] = await server.exchange(nonna, partial(nonna.say, said))
        lines = text_of(told).split("\n")
        assert lines[0] == NOT_UNDERSTOOD and lines[1].startswith(HELP), said
        assert buttons(told)[:4] == CITIZEN_MENU, said
    [four] = await server.exchange(nonna, partial(nonna.say, "SIAMO IN 4 QUANTO CI DANNO"))
    # Someone with no vouchers yet, while applications are open: how to apply after it.
    assert text_of(four) == (
        "Per le regole del Comune una famiglia di 4 persone riceve 300,00 €, una volta; meno "
        "se il fondo non basta.\nPer fare domanda scrivi DOMANDA."
    )


# What was answered badly on Telegram, now answered ------------------------------------


async def test_a_thumb_or_joined_hands_alone(telegram_server: TelegramServer) -> None:
    """Telegram offers the emoji at one tap: "👍" to the balance was "I did not
    understand" and the list of keywords; now it is "ok", and "🙏" is "grazie"."""
    server = telegram_server
    rosa = await holder(server, 9104)
    for sign in ("👍", "👍🏻", "👌"):
        [told] = await server.exchange(rosa, partial(rosa.say, sign))
        assert text_of(told) == "Va bene.", sign
        assert buttons(told)[:4] == CITIZEN_MENU
    [thanked] = await server.exchange(rosa, partial(rosa.say, "🙏"))
    assert text_of(thanked) == "Prego!"
    assert buttons(thanked)[:4] == CITIZEN_MENU
    # Other emoji say nothing the bot can read: said so, with the menu.
    [told] = await server.exchange(rosa, partial(rosa.say, "😀"))
    assert text_of(told).startswith(NOT_UNDERSTOOD)
    # "💶" or "?" alone asks what to do, as "non capisco": the help, not "Non ho capito".
    for sign in ("💶", "?"):
        [told] = await server.exchange(rosa, partial(rosa.say, sign))
        assert text_of(told).startswith(HELP), sign
    # A till's chat alike, with the shop's menu.
    _owner, cashier = await registered_shop(server)
    [told] = await server.exchange(cashier, partial(cashier.say, "👍"))
    assert text_of(told).startswith("Va bene.")
    assert buttons(told)[:4] == CASHIER_MENU


CODE_TROUBLE = (
    "Ogni codice vale una volta, per pochi minuti, solo per il suo pagamento. Rifiutato o "
    "scaduto? Chiedi al cassiere di riscrivere PAGA: ti arriva un codice nuovo."
)


NO_PAYMENT_ASKED = (
    "Nessun negozio ti ha chiesto un pagamento in questo momento: deve avviarlo il cassiere, "
    "scrivendo PAGA e il tuo codice fiscale o il numero della carta."
)


@pytest.mark.parametrize(
    "said", ["il codice non mi arriva", "nn mi è arrivato il codice", "I didn't get the code"]
)
async def test_a_code_that_did_not_come(telegram_server: TelegramServer, said: str) -> None:
    """Her payment code late at the till: "I did not understand" before, then how a code
    comes (words23: what she asked instead: no shop has asked her for a payment, and how
    the cashier starts one)."""
    server = telegram_server
    rosa = await holder(server, 9105)
    [told] = await server.exchange(rosa, partial(rosa.say, said))
    assert text_of(told).startswith(NO_PAYMENT_ASKED)
    # Not the codice fiscale.
    [other] = await server.exchange(rosa, partial(rosa.say, "il codice fiscale non mi arriva"))
    assert not text_of(other).startswith((CODE_TROUBLE, NO_PAYMENT_ASKED))


@pytest.mark.parametrize(
    ("line", "amount"), [("paga 5 euri", "5,00 €"), ("PAGA DIECI EURO", "10,00 €")]
)
async def test_the_total_in_her_words_after_paga(
    telegram_server: TelegramServer, line: str, amount: str
) -> None:
    """A tired shopkeeper's total: "euri" and an amount in words were taken for who pays,
    and refused as a card number or a name; now the total is kept and who pays asked."""
    server = telegram_server
    _owner, cashier = await registered_shop(server)
    rosa = await holder(server, 9106)
    [who] = await server.exchange(cashier, partial(cashier.say, line))
    assert text_of(who) == (
        f"Chi paga {amount}? Scrivi il codice fiscale, il numero di telefono o il codice "
        "della carta."
    )
    before = len(rosa.messages())
    [waiting] = await server.exchange(cashier, partial(cashier.say, DEMO_CITIZENS[0].phone))
    assert text_of(waiting).startswith(f"Codice inviato al cliente (Telegram) per {amount}.")
    [request] = rosa.messages()[before:]
    assert text_of(request).startswith(f"Bottega Giulia chiede {amount}.")


async def test_a_household_size_said_alone_on_telegram(telegram_server: TelegramServer) -> None:
    """ "Siamo in 4", "famiglia di 3" with nothing asked were "Non ho capito."; now what
    "quanto danno a una famiglia di 4?" answers (25: the office; 0: how many)."""
    server = telegram_server
    nonna = await newcomer(server, 9107)
    [four] = await server.exchange(nonna, partial(nonna.say, "siamo in 4"))
    assert text_of(four) == (
        "Per le regole del Comune una famiglia di 4 persone riceve 300,00 €, una volta; meno "
        "se il fondo non basta.\nPer fare domanda scrivi DOMANDA."
    )
    [three] = await server.exchange(nonna, partial(nonna.say, "famiglia di 3"))
    assert text_of(three).startswith("Per le regole del Comune una famiglia di 3 persone")
    [large] = await server.exchange(nonna, partial(nonna.say, "siamo in 25"))
    assert text_of(large).startswith("Per una famiglia di 25 persone decide l'ufficio")
    [nobody] = await server.exchange(nonna, partial(nonna.say, "famiglia di 0"))
    assert text_of(nobody).startswith("Quante persone vivono in casa, contando anche te?")


UNDO_A_PAYMENT = (
    "Pagamento in attesa del codice: scrivi ANNULLA. Già confermato oggi: scrivi STORNO e "
    "sceglilo, i soldi tornano al cliente. Poi, se serve, di nuovo PAGA."
)


async def test_a_cashier_asking_how_to_undo_a_payment(telegram_server: TelegramServer) -> None:
    """A tired shopkeeper's "ho sbagliato l'importo" was "Non ho capito." and the shop's
    help; now the two ways back (ANNULLA, STORNO) in one short message."""
    server = telegram_server
    _owner, cashier = await registered_shop(server)
    for said in (
        "come si fa a annullare un pagamento",
        "ho sbagliato l'importo",
        "devo rimborsare la signora",
        "come faccio uno storno",
    ):
        [told] = await server.exchange(cashier, partial(cashier.say, said))
        assert text_of(told) == UNDO_A_PAYMENT, said


async def test_sorry_alone_on_telegram(telegram_server: TelegramServer) -> None:
    """ "Scusi ho sbagliato" with nothing asked: no harm done, and the menu."""
    server = telegram_server
    rosa = await holder(server, 9108)
    [told] = await server.exchange(rosa, partial(rosa.say, "scusi ho sbagliato"))
    assert text_of(told) == "Nessun problema."
    assert buttons(told)[:4] == CITIZEN_MENU


async def test_her_italian_first_words_from_an_app_in_english(
    telegram_server: TelegramServer,
) -> None:
    """Her grandson set her phone in English: Telegram says "en", but her first message is
    plain Italian. She is answered in Italian, the application asks no language; worried at
    its consent, she hears that the vouchers are free and the question again."""
    server = telegram_server
    nonna = server.user(9107, language="en", name="Giuseppina")
    [privacy] = await server.exchange(nonna, partial(nonna.say, "buongiorno vorrei i buoni spesa"))
    assert text_of(privacy).startswith(PRIVACY)
    assert buttons(privacy) == ["Acconsento", "Non acconsento"]
    [again] = await server.exchange(nonna, partial(nonna.say, "ma è gratis?"))
    assert text_of(again).startswith(f"{FREE}\n{PRIVACY}")
    assert buttons(again) == ["Acconsento", "Non acconsento"]
    # Typed in English from an app in Italian: English.
    john = server.user(9108, language="it", name="John")
    [agree] = await server.exchange(john, partial(john.say, "hello I need food vouchers"))
    assert text_of(agree).startswith("Privacy: Belforte del Chienti uses your data")

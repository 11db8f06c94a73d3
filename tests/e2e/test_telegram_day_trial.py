"""A day of real users on Telegram (trial of 5 Dec 2026), through the fake Bot API: a
shopkeeper who registers her shop, adds a cashier and charges at a busy till, and a
75-year-old citizen who taps, writes in her own words and comes back the next day. What
each one reads, buttons included."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from buonispesa.demo import DEMO_CITIZENS
from core.services import shops as shop_service
from core.storage import models as m
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_citizen import buttons, request_button
from tests.factories import make_cf, make_partita_iva

IBAN = "IT60X0542811101000000123456"
OWNER_CHAT, CASHIER_CHAT, CUSTOMER_CHAT = 7101, 7102, 7103
# A cashier's: their till's last payment where the owner's has the reimbursements.
CASHIER_MENU = ["Incassa", "Storno", "Resoconto", "Ultimo pagamento"]
CITIZEN_MENU = ["Saldo", "Negozi", "Domanda", "Stato"]


def text_of(message: dict[str, Any]) -> str:
    """The text as read: Babel puts a no-break space before the euro sign."""
    return str(message["text"]).replace("\u00a0", " ")


def code_in(message: dict[str, Any]) -> str:
    found = re.search(r"Codice: (\d{6})", message["text"])
    assert found is not None, message["text"]
    return found.group(1)


async def registered_shop(server: TelegramServer) -> tuple[FakeUser, FakeUser]:
    """The owner registers Bottega Giulia with the buttons, the office approves it, and a
    cashier joins with the owner's code: (owner, cashier), at their shop's menu."""
    owner = await server.started(OWNER_CHAT, name="Giulia")
    answers = [
        ("say", "registra"),
        ("say", "Bottega Giulia"),
        ("say", make_partita_iva(77)),
        ("tap", "Alimentari"),
        ("say", "Via Roma 30"),
        ("tap", "Belforte"),
        ("say", "62020"),
        ("tap", "Salta"),
        ("say", IBAN),
    ]
    for how, value in answers:
        await server.exchange(owner, partial(getattr(owner, how), value))
    [summary] = await server.exchange(owner, lambda: owner.tap("Invia"))
    assert request_button(summary)["request_contact"] is True
    [sent] = await server.exchange(owner, lambda: owner.share_contact("393471117101"))
    assert sent["text"].startswith("Registrazione di Bottega Giulia inviata.")
    async with server.core.uow() as uow:
        shop = await uow.session.scalar(select(m.Shop).where(m.Shop.name == "Bottega Giulia"))
        assert shop is not None
        await shop_service.approve_shop(uow, shop.municipality_id, shop.id, server.core.now())
        await uow.commit()
    await server.settle()
    assert owner.messages()[-1]["text"].startswith("Il Comune ha approvato Bottega Giulia")

    [invite] = await server.exchange(owner, lambda: owner.say("cassiere"))
    found = re.search(r"Codice cassiere: ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", invite["text"])
    assert found is not None, invite["text"]
    cashier = server.user(CASHIER_CHAT, name="Marco")
    await server.exchange(cashier, lambda: cashier.say(f"INVITO {found.group(1)}"))
    joined = await server.exchange(cashier, lambda: cashier.share_contact("393471117102"))
    assert joined[-1]["text"].startswith("Ora lavori per Bottega Giulia")
    assert buttons(joined[-1])[:4] == CASHIER_MENU
    return owner, cashier


async def linked_customer(server: TelegramServer) -> FakeUser:
    holder = DEMO_CITIZENS[0]
    customer = server.user(CUSTOMER_CHAT, name="Rosa")
    await server.exchange(customer, lambda: customer.say("saldo"))
    await server.exchange(customer, lambda: customer.share_contact(holder.phone.lstrip("+")))
    return customer


async def test_the_register_total_typed_before_who_pays(
    telegram_server: TelegramServer,
) -> None:
    """The cashier types the total first ("PAGA 4,30"), then the customer's phone. The
    amount was taken for who pays and asked again; the phone typed next was refused as an
    amount above 500 €. Now who pays is asked for that amount, and the phone charges it."""
    server = telegram_server
    _owner, cashier = await registered_shop(server)
    customer = await linked_customer(server)
    [who] = await server.exchange(cashier, lambda: cashier.say("PAGA 4,30"))
    assert text_of(who) == (
        "Chi paga 4,30 €? Scrivi il codice fiscale, il numero di telefono o il codice della carta."
    )
    before = len(customer.messages())
    [waiting] = await server.exchange(cashier, lambda: cashier.say("3331000001"))
    assert text_of(waiting).startswith("Codice inviato al cliente (Telegram) per 4,30 €.")
    [request] = customer.messages()[before:]
    assert text_of(request).startswith("Bottega Giulia chiede 4,30 €.")
    [receipt] = await server.exchange(cashier, lambda: cashier.say(code_in(request)))
    assert text_of(receipt).startswith("Pagamento confermato: 4,30 €.")
    # With the menu's button too: "Incassa", then the total, then who pays.
    await server.exchange(cashier, lambda: cashier.tap("Nuovo incasso"))
    [who] = await server.exchange(cashier, lambda: cashier.say("12,50 €"))
    assert text_of(who).startswith("Chi paga 12,50 €?")
    [waiting] = await server.exchange(cashier, lambda: cashier.say(DEMO_CITIZENS[0].codice_fiscale))
    assert text_of(waiting).startswith("Codice inviato al cliente (Telegram) per 12,50 €.")


NOT_UNDERSTOOD = "Non ho capito."


async def test_words_not_understood_are_said_so_with_the_menus_buttons(
    telegram_server: TelegramServer,
) -> None:
    """A 75-year-old writes what the bot does not read ("ho sbagliato bottone"): she
    got the list of every keyword, nothing saying she was not understood and no button to
    tap. Now she is told, the words follow, and the menu's buttons under them do what she
    wanted. (Her "quanto posso spendere ancora?" and "voglio parlare con una persona" of
    the same trial are now read: tests/dialogue/test_her_own_words.py.)"""
    server = telegram_server
    holder = DEMO_CITIZENS[2]
    nonna = server.user(8101, name="Giuseppina")
    await server.exchange(nonna, lambda: nonna.say("saldo"))
    await server.exchange(nonna, lambda: nonna.share_contact(holder.phone.lstrip("+")))
    for words in ("ho sbagliato bottone", "e adesso cosa faccio"):
        [told] = await server.exchange(nonna, partial(nonna.say, words))
        lines = text_of(told).split("\n")
        assert lines[0] == NOT_UNDERSTOOD, text_of(told)
        assert lines[1].startswith("Scrivi: SALDO, NEGOZI"), text_of(told)
        assert buttons(told)[:4] == CITIZEN_MENU, words
    # Her "ok" to the balance acknowledges it (trial 11): "Va bene." and the same buttons.
    [told] = await server.exchange(nonna, partial(nonna.say, "ok"))
    assert text_of(told).startswith("Va bene."), text_of(told)
    assert buttons(told)[:4] == CITIZEN_MENU
    [balance] = await server.exchange(nonna, lambda: nonna.tap("Saldo"))
    assert text_of(balance).startswith("Il tuo saldo: 250,00 €.")
    # Help asked for is the help, as before: nothing misunderstood.
    [help_] = await server.exchange(nonna, lambda: nonna.say("aiuto"))
    assert text_of(help_).startswith("Scrivi: SALDO, NEGOZI")

    # English tapped by mistake: Italian words not understood hear the way back, in Italian.
    await server.exchange(nonna, lambda: nonna.say("lingua"))
    await server.exchange(nonna, lambda: nonna.tap("English"))
    [told] = await server.exchange(nonna, lambda: nonna.say("ho sbagliato bottone"))
    lines = text_of(told).split("\n")
    assert (lines[0], lines[-1]) == ("I did not understand.", "In italiano: scrivi LINGUA IT")
    assert "Language" in buttons(told)

    # A till's chat hears it too, with the shop's menu.
    _owner, cashier = await registered_shop(server)
    [told] = await server.exchange(cashier, lambda: cashier.say("ehi come funziona"))
    assert text_of(told).startswith(NOT_UNDERSTOOD + "\nNegozi: PAGA")
    assert buttons(told)[:4] == CASHIER_MENU


async def test_an_application_left_half_way_and_taken_up_the_next_day(
    telegram_server: TelegramServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """She taps her way in, shares her contact twice, sends a voice note, writes her codice
    fiscale and her household in her own words, does not know her savings and gives up.
    The next day her "buongiorno" was answered "This is not an amount": now she reads what
    she was doing and the question, and finishes with the buttons."""
    server = telegram_server
    nonna = await server.started(8102, name="Giuseppina")
    await server.exchange(nonna, lambda: nonna.tap("Domanda"))  # Italian: no language question
    [ask] = await server.exchange(nonna, lambda: nonna.tap("Acconsento"))
    assert request_button(ask)["request_contact"] is True
    for _ in range(2):
        *_thanks, cf_question = await server.exchange(
            nonna, lambda: nonna.share_contact("393479998102")
        )
        assert "codice fiscale" in cf_question["text"]
    [again] = await server.exchange(nonna, nonna.send_voice)
    assert "codice fiscale" in again["text"]
    answers = (f"il mio codice fiscale è {make_cf(8102)}", "io e mio marito", "no")
    for words in answers:
        await server.exchange(nonna, partial(nonna.say, words))
    [savings] = await server.exchange(nonna, lambda: nonna.say("si la pensione di mio marito"))
    assert "conti bancari e postali" in savings["text"]
    # Not knowing is no wrong amount: a rough figure will do, or 0.
    [wrong] = await server.exchange(nonna, lambda: nonna.say("boh non lo so"))
    assert text_of(wrong).startswith("Basta una cifra approssimativa:")

    later = server.core.clock() + timedelta(hours=20)
    monkeypatch.setattr(server.core, "clock", lambda: later)
    [back] = await server.exchange(nonna, lambda: nonna.say("buongiorno"))
    assert text_of(back) == f"Stavi facendo la domanda.\n{savings['text']}"
    for words in ("1500", "niente", "300"):
        [summary] = await server.exchange(nonna, partial(nonna.say, words))
    assert "\nComponenti: 2\n" in summary["text"] and "\nPensione: sì\n" in summary["text"]
    [done] = await server.exchange(nonna, lambda: nonna.tap("Dichiaro e invio"))
    assert done["text"].startswith("Domanda inviata per ")


async def test_the_owner_asks_in_words_and_a_second_cashier_joins_with_words_after_the_code(
    telegram_server: TelegramServer,
) -> None:
    """A Saturday's second cashier: the owner asks for the code in words ("vorrei un codice
    cassiere" was read as the owner joining), the cashier writes it in its groups with "va
    bene" after it (read as a card's last group: the welcome), then the owner's words for
    the cashiers and the last payment, and a cashier's closing the till."""
    server = telegram_server
    owner, _cashier = await registered_shop(server)
    [invite] = await server.exchange(owner, lambda: owner.say("vorrei un codice cassiere"))
    found = re.search(r"Codice cassiere: ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", invite["text"])
    assert found is not None, invite["text"]
    second = server.user(7104, name="Sara")
    typed = found.group(1).replace("-", " ")
    [asked] = await server.exchange(second, lambda: second.say(f"{typed} va bene"))
    assert request_button(asked)["request_contact"] is True
    joined = await server.exchange(second, lambda: second.share_contact("393471117104"))
    assert joined[-1]["text"].startswith("Ora lavori per Bottega Giulia")
    [listed] = await server.exchange(owner, lambda: owner.say("quanti cassieri ho"))
    assert listed["text"].startswith("Alla cassa di Bottega Giulia.")
    assert len(buttons(listed)) >= 2
    await server.exchange(owner, lambda: owner.say("annulla"))
    [none_yet] = await server.exchange(second, lambda: second.say("ultimo pagamento"))
    # A cashier's is their own till's, which has taken nothing yet.
    assert text_of(none_yet) == "Alla tua cassa non c'è ancora nessun pagamento."
    [closed] = await server.exchange(second, lambda: second.say("ho finito"))
    assert text_of(closed).startswith("Cassa chiusa")

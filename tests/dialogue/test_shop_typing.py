"""A busy shopkeeper's own way of typing: a P.IVA with dots or its label, an IBAN after
the word IBAN, the kind of shop in a sentence, an address without its number, the
statement of a month she names and "quanto mi dovete?" (user trial, 7 Dec 2026)."""

from __future__ import annotations

import pytest

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.i18n import render_text
from tests.dialogue.harness import Chat, msgids, param
from tests.factories import make_partita_iva, make_town

VAT = "Write the partita IVA of the shop (11 digits)."
KIND = "What kind of shop is it?"
ADDRESS = "Write the address of the shop: street and number, e.g. Via Roma 12."
TOWN = "In which town is the shop?"
IBAN = "Write the IBAN where the municipality will reimburse the vouchers."
SEND = "Send the registration to the municipality?"
NUMBER_TOO = "Write the number too, e.g. Via Roma 12 (or s.n.c. if the shop has none)."
MONTH = "From {since} to {until}: {count} payment, {amount}."
OWED = "To be reimbursed by the municipality: {amount}."
# A past month's statement: what is owed is today's, every month together.
OWED_TODAY = "Today the municipality owes you {amount} in all."


def dotted(vat: str) -> str:
    """A P.IVA as printed on a receipt: "P.IVA 0123.456.789 0"."""
    return f"P.IVA {vat[:4]}.{vat[4:7]}.{vat[7:10]} {vat[10]}"


async def test_a_partita_iva_with_dots_and_its_label_is_read(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990061")
    for text in ("REGISTRA", "Frutta da Anna"):
        await chat.send(text)
    vat = make_partita_iva(61)
    await chat.expect(f"{vat[:4]}.{vat[4:7]}.{vat[7:]}", KIND)
    await chat.expect("ANNULLA")
    for text in ("REGISTRA", "Frutta da Anna"):
        await chat.send(text)
    await chat.expect(dotted(vat), KIND)
    for text in ("1", "Via Roma 3", "1", "62020"):
        await chat.send(text)
    replies = await chat.expect(f"iban: {shop_iban(61)}", SEND)
    assert (param(replies, "vat"), param(replies, "iban")) == (vat, shop_iban(61))


async def test_a_wrong_check_digit_with_dots_is_still_a_wrong_check_digit(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990062")
    for text in ("REGISTRA", "Frutta da Anna"):
        await chat.send(text)
    vat = make_partita_iva(62)
    wrong = vat[:-1] + str((int(vat[-1]) + 1) % 10)
    await chat.expect(
        dotted(wrong),
        "This partita IVA does not add up: its last digit does not match. "
        "Check it and write it again.",
    )


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("negozio di alimentari", "Type: grocery"),
        ("è una farmacia", "Type: pharmacy"),
        ("frutta e verdura", "Type: greengrocer"),
        ("verdura", "Type: greengrocer"),
        ("minimarket", "Type: grocery"),
    ],
)
async def test_the_kind_of_shop_in_her_own_words(core: Core, words: str, kind: str) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990063")
    for text in ("REGISTRA", "Bottega di Anna", make_partita_iva(63)):
        await chat.send(text)
    await chat.expect(words, ADDRESS)
    for text in ("Via Roma 3", "1", "62020"):
        await chat.send(text)
    replies = await chat.expect(shop_iban(63), SEND)
    assert kind in msgids(replies)


async def test_two_kinds_or_none_are_still_asked_again(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990064")
    for text in ("REGISTRA", "Bottega di Anna", make_partita_iva(64)):
        await chat.send(text)
    await chat.expect("alimentari e farmacia", "Reply with the number of the kind of shop.")
    await chat.expect("gelateria", "Reply with the number of the kind of shop.")


async def test_an_address_without_its_number_is_asked_again(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393339990065")
    for text in ("REGISTRA", "Bottega di Anna", make_partita_iva(65), "1"):
        await chat.send(text)
    replies = await chat.expect("via roma", NUMBER_TOO, ADDRESS)
    assert render_text(replies[0].texts[0], "it") == (
        "Scrivi anche il numero civico, per esempio Via Roma 12 (oppure s.n.c. se non c'è)."
    )
    assert (await chat.state())[:2] == ("register", "address")
    await chat.expect("Località Colle s.n.c.", TOWN)
    # Corrected later from the summary: the same rule, then back to the summary.
    for text in ("1", "62020", shop_iban(65)):
        await chat.send(text)
    await chat.expect("2", "What do you want to change?")
    await chat.expect("4", ADDRESS)
    await chat.expect("Piazza Garibaldi", NUMBER_TOO)
    replies = await chat.expect("Piazza Garibaldi 7", SEND)
    assert param(replies, "address") == "Piazza Garibaldi 7"


@pytest.mark.parametrize(
    ("words", "language"),
    [
        ("il rendiconto di ottobre", "it"),
        ("RESOCONTO ottobre", "it"),
        ("rendiconto ottobre", "it"),
        ("STATEMENT october", "en"),
    ],
)
async def test_the_statement_of_a_month_she_names(core: Core, words: str, language: str) -> None:
    # The clock's day is in April 2026: October is last year's, a month with no sales.
    town = await make_town(core)
    chat = Chat(core, town.shop_phone)
    replies = await chat.expect(words, MONTH, OWED_TODAY)
    assert param(replies, "count") == 0
    expected = {
        "it": "Dal 01/10/2025 al 31/10/2025: 0 pagamenti, 0,00\xa0€.",
        "en": "From 01/10/2025 to 31/10/2025: 0 payments, €0.00.",
    }[language]
    assert render_text(replies[-1].texts[0], language) == expected


async def test_this_month_named_is_this_months_statement(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.shop_phone)
    await chat.expect("RESOCONTO aprile", "This month: {count} payment, {amount}.")
    replies = await chat.expect("RESOCONTO marzo", MONTH)
    assert render_text(replies[-1].texts[0], "it").startswith("Dal 01/03/2026 al 31/03/2026:")


@pytest.mark.parametrize("words", ["quanto mi dovete?", "quando mi pagate?"])
async def test_what_the_town_owes_her_in_her_words(core: Core, words: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.shop_phone)
    await chat.expect(words, OWED, "No reimbursement yet.")


async def test_a_yes_at_the_iban_question_is_told_what_an_iban_looks_like(core: Core) -> None:
    """ "si" at the IBAN question was told "This IBAN does not add up: check its digits" (no
    digit typed): now what an IBAN looks like, and the IBAN after it is taken."""
    await make_town(core)
    chat = Chat(core, "+393339990069")
    for text in ("REGISTRA", "Frutta da Anna", make_partita_iva(69), "1", "Via Roma 3", "1"):
        await chat.send(text)
    await chat.expect("62020", IBAN)
    for typed in ("si", "ok va bene"):
        await chat.expect(
            typed, "This is not an IBAN: it looks like IT60X0542811101000000123456. Write it again."
        )
    replies = await chat.expect(shop_iban(69), SEND)
    assert param(replies, "iban") == shop_iban(69)

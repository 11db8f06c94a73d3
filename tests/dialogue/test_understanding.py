"""What people write in their own words: numbers, amounts, keywords inside a sentence, help
numbers, identifiers whose error names the real problem."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.menus import CITIZEN_HELP, FIRST_HELP, SHOP_HELP
from core.domain.messages import Money
from tests.dialogue.harness import TILL_CODE, Chat, open_till, param, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, CF, MEMBERS, SUMMARY, WORK
from tests.factories import make_partita_iva, make_town

BALANCE = "Your balance: {balance}."
MENU = "What do you want to do? Reply with the number."
NEGATIVE = "The amount cannot be negative. Write it again, e.g. 12,50."
DECIMALS = "An amount has at most two decimals (cents), e.g. 12,50."
OFFICE = (
    "This partita IVA does not exist: digits 8 to 10 (the tax office code) are not valid. "
    "Check it and write it again."
)


async def test_household_and_amounts_in_words(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230001")
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.expect(APPLICANT, MEMBERS)
    await chat.expect("siamo in tre", WORK)
    for text in ("no", "no", "200 euro", "niente", "nessuno"):
        await chat.send(text)
    assert SUMMARY in [x.msgid for reply in chat.last for x in reply.texts]
    _, _, data = await chat.state()
    state = data["state"]
    assert (state["members"], state["liquidity"], state["support"], state["rent"]) == (
        3,
        200_00,
        0,
        0,
    )


async def test_household_refuses_what_is_not_one_number(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471230002")
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    for text in ("due o tre", "qualche persona"):
        await chat.expect(text, "Write the number of people with a number from 1 to {max}, e.g. 3.")
    await chat.expect("Siamo in 3", WORK)


async def test_a_keyword_inside_a_sentence(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for text in ("saldo per favore", "Buongiorno, vorrei sapere il mio saldo"):
        replies = await chat.expect(text, BALANCE)
        assert param(replies, "balance") == Money(150_00)
    # Two different keywords, or none: the help.
    await chat.expect("Buongiorno, vorrei sapere saldo e stato", FIRST_HELP.msgid)
    await chat.expect("Buongiorno a tutti", FIRST_HELP.msgid)


async def test_after_the_help_a_number_picks_what_the_help_named(core: Core) -> None:
    town = await make_town(core)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("AIUTO", FIRST_HELP.msgid)
    await citizen.expect("1", BALANCE)  # SALDO, the first word of the help
    await citizen.expect("qualcosa", FIRST_HELP.msgid)
    await citizen.expect("AIUTO", CITIZEN_HELP.msgid)  # every word
    await citizen.expect(
        "4", "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance."
    )
    shop = Chat(core, town.shop_phone)
    await shop.expect("AIUTO", SHOP_HELP.msgid)
    await shop.expect("1", TILL_CODE)  # PAGA: a till on SMS first confirms its number


async def test_a_partita_iva_with_a_wrong_office_code_says_so(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393471230003")
    for text in ("REGISTRA", "Bottega Bio"):
        await chat.send(text)
    await chat.expect("12345678903", OFFICE)
    await chat.expect("00000000000", OFFICE)
    await chat.expect(
        "12345670018",
        "This partita IVA does not add up: its last digit does not match. Check it and write "
        "it again.",
    )
    await chat.expect(make_partita_iva(3), "What kind of shop is it?")


async def test_a_wrong_amount_after_paga_is_an_amount_error(core: Core) -> None:
    town = await make_town(core)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} -5", NEGATIVE)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 0,001", DECIMALS)
    await till.expect("niente", "The amount must be more than zero.")
    await till.expect(
        "3 euro",
        "Code sent to the customer ({where}) for {amount}. Ask them for it and write it here. "
        "ANNULLA to stop.",
    )


async def test_cancelling_a_change_says_the_application_is_unchanged(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "777002", channel=Channel.TELEGRAM)
    for text in ("/domanda", "1"):
        await chat.send(text)
    await chat.send(None, contact=("+393471230008", True))
    for text in (APPLICANT, "1", "2", "2", "0", "0", "0"):
        await chat.send(text)
    await chat.send(None, option="declare")
    await chat.expect(
        "DOMANDA", "You have already applied: protocol {protocol}. You can change it until {when}."
    )
    await chat.expect("1", SUMMARY)
    await chat.expect("ANNULLA", "Cancelled: your application is unchanged.")


async def test_a_contact_shared_in_the_middle_of_the_application_does_not_derail_it(
    core: Core,
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "71234", channel=Channel.TELEGRAM)
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    assert (await chat.state())[:2] == ("apply", "contact")
    await chat.expect(None, CF, contact=("+393471230009", True))
    assert (await chat.state())[:2] == ("apply", "cf")
    await chat.expect(
        None, "Thank you: we have your phone number.", CF, contact=("+393471230009", True)
    )
    assert (await chat.state())[:2] == ("apply", "cf")
    await chat.expect(APPLICANT, MEMBERS)

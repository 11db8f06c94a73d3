"""Citizens' own words in the December trial: the household named rather than counted ("io e
mio marito"), savings without the euro ("ho circa 1200 in banca") or given as a monthly sum
("1200 al mese"), and the balance asked as it is said ("quanto c'ho?", "sui bbuoni")."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.flows.apply import NOT_MONTHLY, NOT_YEARLY
from core.dialogue.render import render_plain
from core.domain import gsm7
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_apply import (
    APPLICANT,
    LIQUIDITY,
    MEMBERS,
    RENT,
    SUMMARY,
    SUPPORT,
    WORK,
)
from tests.dialogue.test_shop_phones import SHOP_NUMBER
from tests.factories import make_town

ASK_PEOPLE_AGAIN = "Write the number of people with a number from 1 to {max}, e.g. 3."
BALANCE = "Your balance: {balance}."


async def _at_members(chat: Chat) -> None:
    for text in ("DOMANDA", "1"):
        await chat.send(text)
    await chat.expect(APPLICANT, MEMBERS)


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("io e mio marito", 2),
        ("Io e mia moglie.", 2),
        ("io e i miei due figli", 3),
        ("siamo in 3", 3),
        ("me and my wife", 2),
        ("io, mio marito e i nostri 2 bambini", 4),
        ("vivo con mia figlia", 2),
    ],
)
async def test_the_household_named_is_counted(core: Core, text: str, people: int) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471260001")
    await _at_members(chat)
    await chat.expect(text, WORK)
    assert (await chat.state())[2]["state"]["members"] == people


@pytest.mark.parametrize(
    "text", ["io e la mia famiglia", "io e i miei figli", "mio marito e mia figlia", "2 figli"]
)
async def test_a_household_that_does_not_say_how_many_is_asked_again(core: Core, text: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471260002")
    await _at_members(chat)
    await chat.expect(text, ASK_PEOPLE_AGAIN)
    assert (await chat.state())[:2] == ("apply", "members")


async def _at_savings(chat: Chat) -> None:
    await _at_members(chat)
    for text in ("2", "no"):
        await chat.send(text)
    await chat.expect("no", LIQUIDITY)


async def test_savings_in_the_bank_without_the_euro_are_read(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471260003")
    await _at_savings(chat)
    await chat.expect("ho circa 1200 in banca", SUPPORT)
    assert (await chat.state())[2]["state"]["liquidity"] == 1200_00
    # The summary before the declaration shows it.
    for text in ("0", "0"):
        replies = await chat.send(text)
    assert SUMMARY in msgids(replies)
    assert "Liquidità: 1.200,00 €" in "\n".join(render_plain(r, "it", sms=True) for r in replies)


@pytest.mark.parametrize("text", ["1200 al mese", "1200 euro al mese", "prendo 900 ogni mese"])
async def test_a_monthly_sum_is_no_savings(core: Core, text: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471260004")
    await _at_savings(chat)
    replies = await chat.expect(text, NOT_MONTHLY.msgid)
    assert (await chat.state())[:2] == ("apply", "liquidity")
    said = render_plain(replies[-1], "it", sms=True)
    assert "banca" in said and "mese" in said and gsm7.count(said).single, said
    # Where a monthly sum is asked, it is read as before.
    await chat.expect("1500", SUPPORT)
    await chat.expect("300 al mese", RENT)
    assert (await chat.state())[2]["state"]["support"] == 300_00


@pytest.mark.parametrize("text", ["5000 euro all'anno", "ho 4000 euro l'anno"])
async def test_a_yearly_sum_is_no_savings(core: Core, text: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471260005")
    await _at_savings(chat)
    await chat.expect(text, NOT_MONTHLY.msgid)
    assert (await chat.state())[:2] == ("apply", "liquidity")
    assert "liquidity" not in (await chat.state())[2]["state"] or (
        (await chat.state())[2]["state"]["liquidity"] is None
    )


@pytest.mark.parametrize(
    "text", ["6000 euro all'anno", "prendo 3600 € annui di naspi", "4800 euro a year"]
)
async def test_a_yearly_sum_where_a_month_is_asked_is_asked_again(core: Core, text: str) -> None:
    """Read as it was written, "6000 euro all'anno" at the monthly support question counted
    6000 € a month, twelve times the support, in the allocation."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471260006")
    await _at_savings(chat)
    await chat.expect("1500", SUPPORT)
    replies = await chat.expect(text, NOT_YEARLY.msgid)
    assert (await chat.state())[:2] == ("apply", "support")
    said = render_plain(replies[-1], "it", sms=True)
    assert "mese" in said and gsm7.count(said).single, said
    await chat.expect("500 al mese", RENT)
    assert (await chat.state())[2]["state"]["support"] == 500_00
    # The rent the same way.
    await chat.expect(text, NOT_YEARLY.msgid)
    assert (await chat.state())[:2] == ("apply", "rent")
    await chat.expect("350", SUMMARY)
    assert (await chat.state())[2]["state"]["rent"] == 350_00


SAID = ("quant'è che c'ho sui bbuoni?", "quanto mi resta?", "quanti soldi ho sulla carta",
        "quanto c'ho", "Quanto c’ho?", "c'ho ancora li ssordi?")  # fmt: skip


async def test_the_balance_asked_as_it_is_said(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in SAID:
        await chat.expect(text, BALANCE)
    # The same words from a shop's number: the shop's words, no citizen's balance.
    shop = Chat(core, town.shop_phone)
    for text in SAID:
        assert msgids(await shop.send(text)) == [SHOP_NUMBER], text


async def test_other_words_with_c_ho_are_no_balance(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in ("c'ho fame", "quanto c'ho messo", "quant'è il pane?"):
        assert BALANCE not in msgids(await chat.send(text)), text

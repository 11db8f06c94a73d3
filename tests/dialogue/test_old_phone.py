"""An elderly citizen on an old keypad phone: a zero typed for the letter O in a keyword
("SALD0", "NEG0ZI"), thousands written with a figure ("circa 2 mila euro"), and her rent
written one question early, at the savings question; a pension at the support question."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import typo_of
from core.dialogue.words import (
    RENT_WORDS,
    names_a_pension_not_support,
    names_other_than_rent,
    says_there_is_none,
)
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.dialogue.test_apply import APPLICANT, NOT_AN_AMOUNT, SUPPORT
from tests.dialogue.test_typos import BALANCE
from tests.factories import make_town

SHOPS = "{count} shop found:"
IN_ITALIAN = "In Italian: write LINGUA IT"


def test_a_zero_for_the_letter_o_is_that_keyword() -> None:
    # On a keypad the O and the 0 share a key: "sald0" was "not understood".
    assert typo_of("sald0") == typo_of("SALD0") == typo_of("Sald0!") == "balance"
    assert typo_of("NEG0ZI") == typo_of("neg0zl") == "shops"
    assert typo_of("stat0") == "status" and typo_of("d0manda") == "apply"
    # STOP still acts only when exact; a code or a number is no keyword.
    for text in ("st0p", "5t0p", "0000", "12345", "a1b2", "s0"):
        assert typo_of(text) is None, text


async def test_sald0_by_sms_is_the_balance(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    for text in ("sald0", "SALD0"):
        replies = await chat.expect(text, BALANCE)
        assert param(replies, "balance") == Money(150_00)
    await chat.expect("NEG0ZI", SHOPS)


async def _at_liquidity(core: Core, phone: str) -> Chat:
    await town_with_open_window(core)
    chat = Chat(core, phone, language_hint="en")
    await chat.send("APPLY")
    for text in ("1", "1", APPLICANT, "1", "no"):
        await chat.send(text)
    if (await chat.state())[1] == "pension":
        await chat.send("yes")
    assert (await chat.state())[1] == "liquidity"
    return chat


@pytest.mark.parametrize(
    ("said", "cents"),
    [
        ("circa 2 mila euro", 200_000),
        ("2mila", 200_000),
        ("2 MILA", 200_000),
        ("1,5 mila", 150_000),
        ("ho 3 mila euro in banca", 300_000),
        ("about 2 thousand euros", 200_000),
    ],
)
async def test_thousands_written_with_a_figure_are_read(core: Core, said: str, cents: int) -> None:
    # "circa 2 mila euro" was "This is not an amount", the question asked again and again.
    chat = await _at_liquidity(core, "+393471230177")
    # A doubt is still no amount: asked again, as before.
    await chat.expect("2 o 3 mila", NOT_AN_AMOUNT)
    assert (await chat.state())[1] == "liquidity"
    await chat.expect(said, SUPPORT)
    _flow, step, data = await chat.state()
    assert step == "support"
    assert data["state"]["liquidity"] == cents


NOT_RENT_NOR_SUPPORT = (
    "This question is about savings: the money the household had in the bank or at the post "
    "office. Rent and support are asked next. Write how much, e.g. {example}."
)


@pytest.mark.parametrize(
    "said", ["PAGO 250 EURO DI AFFITTO", "l'affitto è 300 euro", "prendo 500 euro di naspi"]
)
async def test_rent_or_support_at_the_savings_question_is_not_savings(
    core: Core, said: str
) -> None:
    # Her rent written one question early was taken for 250 € of savings, shown as such on
    # the summary with nothing said.
    chat = await _at_liquidity(core, "+393471230179")
    await chat.expect(said, NOT_RENT_NOR_SUPPORT)
    _flow, step, data = await chat.state()
    assert step == "liquidity" and "liquidity" not in data["state"]
    # A savings bank is savings.
    await chat.expect("2000 euro alla cassa di risparmio", SUPPORT)
    assert (await chat.state())[2]["state"]["liquidity"] == 200_000


@pytest.mark.parametrize("keyword", ["SALDO", "STATO", "NEGOZI"])
async def test_a_zero_for_the_o_at_a_question_is_the_keyword_written_there(
    core: Core, keyword: str
) -> None:
    # "SALD0" where a question waits was read as its answer ("This is not an amount"); it
    # is now what SALDO written there is (the request's answers kept for later).
    chat = await _at_liquidity(core, "+393471230178")
    with_zero = await chat.send(keyword.replace("O", "0"))
    at_with_zero = await chat.state()
    await chat.send("DOMANDA")
    await chat.send("1")  # the request left half-way, continued
    assert (await chat.state())[1] == "liquidity"
    exact = await chat.send(keyword)
    # (An Italian keyword to this English chat also says the way to Italian.)
    assert msgids(with_zero) == [said for said in msgids(exact) if said != IN_ITALIAN]
    assert msgids(with_zero) and NOT_AN_AMOUNT not in msgids(with_zero)
    assert at_with_zero[:2] == (await chat.state())[:2]


async def test_an_answer_with_a_zero_at_a_question_is_still_the_answer(core: Core) -> None:
    chat = await _at_liquidity(core, "+393471230176")
    # No keyword once the zero is an O ("2000", "st0p"): the question's own reading.
    await chat.expect("st0p", NOT_AN_AMOUNT)
    await chat.expect("2000", SUPPORT)
    assert (await chat.state())[2]["state"]["liquidity"] == 200_000


NOT_THE_RENT = (
    "This question is about the rent the household pays per month for the house, not a "
    "pension or support. Write how much, e.g. {example}, or 0 if none."
)


@pytest.mark.parametrize("said", ["PENSIONE 600 EURO", "prendo 500 di naspi"])
async def test_a_pension_at_the_rent_question_is_not_rent(core: Core, said: str) -> None:
    # "PENSIONE 600 EURO" at the rent question was stored as 600 € of rent, shown so on
    # the summary with nothing said.
    chat = await _at_liquidity(core, "+393471230175")
    await chat.send("0")
    await chat.send("0")
    assert (await chat.state())[1] == "rent"
    await chat.expect(said, NOT_THE_RENT)
    _flow, step, data = await chat.state()
    assert step == "rent" and "rent" not in data["state"]
    # The rent's own words beside a pension keep it the rent's; then the rent is taken.
    assert not names_other_than_rent("affitto 400 e la pensione")
    await chat.send("400 euro di affitto")
    _flow, step, data = await chat.state()
    assert step == "summary" and data["state"]["rent"] == 400_00


NOT_SUPPORT_BUT_PENSION = (
    "Here I ask about public support per month (NASpI, cassa integrazione...), not pensions. "
    "Write how much, e.g. {example}, or 0 if none."
)


@pytest.mark.parametrize(
    "said", ["PENSIONE 600", "prendo la pensione di 600 euro", "pensione seicento euro"]
)
async def test_a_pension_at_the_support_question_is_not_support(core: Core, said: str) -> None:
    # "PENSIONE 600" where public support is asked was stored as 600 € of support, shown
    # so on the summary with nothing said.
    chat = await _at_liquidity(core, "+393471230174")
    await chat.send("0")
    assert (await chat.state())[1] == "support"
    await chat.expect(said, NOT_SUPPORT_BUT_PENSION)
    _flow, step, data = await chat.state()
    assert step == "support" and "support" not in data["state"]
    # A support's own words beside a pension keep it support: "pensione di cittadinanza" is one.
    assert not names_a_pension_not_support("naspi 500 e la pensione")
    assert not names_a_pension_not_support("pensione di cittadinanza 300")
    await chat.send("300")
    _flow, step, data = await chat.state()
    assert step == "rent" and data["state"]["support"] == 300_00


@pytest.mark.parametrize(
    ("said", "cents"),
    [
        ("pensione di cittadinanza 300", 300_00),
        ("REDDITO DI CITTADINANZA 300", 300_00),
        ("assegno di inclusione 250", 250_00),
        ("prendo l'assegno di inclusione 250 euro", 250_00),
        ("cassa integrazione 500", 500_00),
        ("ADI 250", 250_00),
    ],
)
async def test_a_support_named_beside_its_amount_is_that_support(
    core: Core, said: str, cents: int
) -> None:
    # "pensione di cittadinanza 300" at the support question was "This is not an amount":
    # the number stood next to the support's name, not next to "reddito" or "naspi".
    chat = await _at_liquidity(core, "+393471230173")
    await chat.send("0")
    assert (await chat.state())[1] == "support"
    await chat.send(said)
    _flow, step, data = await chat.state()
    assert step == "rent" and data["state"]["support"] == cents


@pytest.mark.parametrize(
    "said",
    [
        "NON PAGO AFFITTO CASA MIA",
        "non pago l'affitto, la casa è mia",
        "non pago niente, casa nostra",
    ],
)
async def test_no_rent_with_her_own_home_is_no_rent(core: Core, said: str) -> None:
    # "NON PAGO AFFITTO CASA MIA" was "This is not an amount"; her next "1" (a menu's
    # number, she thought) went on the summary as 1,00 € of rent a month.
    chat = await _at_liquidity(core, "+393471230172")
    await chat.send("0")
    await chat.send("0")
    assert (await chat.state())[1] == "rent"
    await chat.send(said)
    _flow, step, data = await chat.state()
    assert step == "summary" and data["state"]["rent"] == 0
    # A home that is not hers says nothing of the rent: asked again.
    assert not says_there_is_none("non è casa mia", RENT_WORDS)

"""A lone small number after "This is not an amount" at an amount question: an elderly
citizen who did not follow the error answers "1" as she would a menu or a yes, and was
taken at her word, 1,00 € of rent on the summary. Now it is asked back ("Do you mean
1,00 € of rent a month? Reply YES or write the amount.") and taken only on her yes or
the same number again; a real amount ("350") still goes through at once, and a "1"
with no error before it is an amount as before."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Money
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.dialogue.test_apply import (
    APPLICANT,
    NOT_AN_AMOUNT,
    RENT,
    SUMMARY,
    SUPPORT,
)

DOUBT_RENT = "Do you mean {amount} of rent a month? Reply YES or write the amount."
DOUBT_SUPPORT = "Do you mean {amount} of support a month? Reply YES or write the amount."
DOUBT_SAVINGS = "Do you mean {amount} in the accounts? Reply YES or write the amount."


async def _at_liquidity(core: Core, channel: Channel) -> Chat:
    await town_with_open_window(core)
    if channel == Channel.SMS:
        chat = Chat(core, "+393471230301")
        await chat.send("DOMANDA")
        await chat.send("1")  # privacy: agreed
    else:
        chat = Chat(core, "7770301", channel=channel, language_hint="it")
        await chat.send("/domanda")
        await chat.send("1")
        await chat.send("1")
        await chat.send(None, contact=("+393471230301", True))
    for text in (APPLICANT, "1", "no", "no"):
        await chat.send(text)
    assert (await chat.state())[1] == "liquidity", msgids(chat.last)
    return chat


async def _at_rent(core: Core, channel: Channel) -> Chat:
    chat = await _at_liquidity(core, channel)
    await chat.expect("1500", SUPPORT)
    await chat.expect("0", RENT)
    return chat


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
async def test_a_one_after_not_an_amount_is_asked_back(core: Core, channel: Channel) -> None:
    chat = await _at_rent(core, channel)
    await chat.expect("boh quello che pago", NOT_AN_AMOUNT)
    replies = await chat.expect("1", DOUBT_RENT)
    assert param(replies, "amount") == Money(1_00)
    _flow, step, data = await chat.state()
    assert step == "rent" and data["state"].get("rent") is None  # nothing taken
    # "no": the question again, still nothing taken.
    await chat.expect("no", RENT)
    assert (await chat.state())[2]["state"].get("rent") is None
    # A real amount goes through at once.
    await chat.expect("350", SUMMARY)
    _flow, step, data = await chat.state()
    assert step == "summary" and data["state"]["rent"] == 350_00


async def test_her_yes_takes_it(core: Core) -> None:
    chat = await _at_rent(core, Channel.SMS)
    await chat.expect("affitto??", NOT_AN_AMOUNT)
    await chat.expect("1", DOUBT_RENT)
    await chat.expect("SI", SUMMARY)
    assert (await chat.state())[2]["state"]["rent"] == 1_00


async def test_the_same_number_again_takes_it(core: Core) -> None:
    chat = await _at_rent(core, Channel.SMS)
    await chat.expect("boh", NOT_AN_AMOUNT)
    await chat.expect("2", DOUBT_RENT)
    await chat.expect("2", SUMMARY)
    assert (await chat.state())[2]["state"]["rent"] == 2_00


async def test_an_amount_after_the_error_goes_through_at_once(core: Core) -> None:
    chat = await _at_rent(core, Channel.SMS)
    await chat.expect("boh", NOT_AN_AMOUNT)
    for said, cents in (("350", 350_00),):
        replies = await chat.expect(said, SUMMARY)
        assert DOUBT_RENT not in msgids(replies)
        assert (await chat.state())[2]["state"]["rent"] == cents


async def test_a_one_with_no_error_before_is_an_amount(core: Core) -> None:
    # Only after a wrong answer: a "1" written first is her answer, as before.
    chat = await _at_rent(core, Channel.SMS)
    await chat.expect("1", SUMMARY)
    assert (await chat.state())[2]["state"]["rent"] == 1_00


async def test_at_the_support_and_the_savings_questions_too(core: Core) -> None:
    chat = await _at_liquidity(core, Channel.SMS)
    await chat.expect("un po", NOT_AN_AMOUNT)
    await chat.expect("1", DOUBT_SAVINGS)
    await chat.expect("1500 euro", SUPPORT)
    assert (await chat.state())[2]["state"]["liquidity"] == 1500_00
    await chat.expect("boh", NOT_AN_AMOUNT)
    await chat.expect("3", DOUBT_SUPPORT)
    await chat.expect("si", RENT)
    assert (await chat.state())[2]["state"]["support"] == 3_00

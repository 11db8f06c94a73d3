"""A card number typed at the till with a character too many or too few ("FEVY 57ED N"):
refused for its own words, like a mistyped codice fiscale, before anybody is looked up.
While a payment waits for the customer's code it changes nothing: the cashier hears the
refusal and that the payment still waits, the customer is told nothing, and the code they
read out still pays. Every card number ever made has 10 characters (new_card_code), so
such a number can only be a slip. By SMS, on Telegram and at the terminal (one engine)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain import cards as card_domain
from core.domain import gsm7
from core.domain.errors import InvalidIdentifier
from core.domain.messages import Money, Reply, t
from tests.dialogue.harness import Chat, add_member, msgids, open_till, outbox_of, param
from tests.dialogue.test_cards_delegates import ASK_PIN, cards_grouped, no_phone_card, slip
from tests.dialogue.test_shop import (
    AMOUNT,
    ASK_CODE,
    CANCELLED_NAMED,
    CITIZEN_CODE,
    CONFIRMED,
    NOBODY,
    WAITS,
    WHO,
    balance,
    citizen_code,
    lookups,
)
from tests.dialogue.test_sms_lengths import SHOP_PHONE, long_town
from tests.dialogue.test_till_slips import NOT_AN_AMOUNT, codes_sent, terminal_till
from tests.factories import Town, make_town

CARD_LENGTH = (
    "A card number has 10 letters and digits, like ABCD EFGH JK. Check it on the card and "
    "write it again."
)
CARD_FORMAT = (
    "This is not a card number (10 letters and digits, never 0, O, 1 or I, like ABCD EFGH "
    "JK). Write the card number, the codice fiscale or the phone, not the name."
)
# A card number with a character missing, one too many, and one too many in the printed
# groups, which has the shape of a codice fiscale (11 characters) but is none.
MISTYPED = ("FEVY 57ED N", "FEVY-57ED-NPQ", "FEVY 57ED NPQ")


async def till_on(core: Core, town: Town, channel: Channel) -> Chat:
    if channel is Channel.SMS:
        return await open_till(Chat(core, town.shop_phone))
    if channel is Channel.TELEGRAM:
        await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
        return Chat(core, "7002", channel=Channel.TELEGRAM)
    return await terminal_till(core, town)


def rendered(reply: Reply, language: str, *, sms: bool = True) -> str:
    """The reply as its reader sees it; by SMS it must fit one message."""
    body = render_plain(reply, language, sms=sms)
    assert not sms or gsm7.count(body).single, (language, body)
    return body


async def said_at_two_tills(core: Core, typed: str) -> list[tuple[str, str]]:
    """An Italian till by SMS and an English one on Telegram, each with a payment of 5 euro
    waiting for the customer's code, write `PAGA {typed}`: what each is told, rendered in
    its language, as (language, text)."""
    town = await make_town(core, citizens=1)
    cf = town.citizen_cfs[0]
    sms = await till_on(core, town, Channel.SMS)
    await add_member(core, town.shop_id, "7003", "cashier", channel="telegram")
    telegram = Chat(core, "7003", channel=Channel.TELEGRAM, language_hint="en")
    said = []
    for till, language in ((sms, "it"), (telegram, "en")):
        await till.expect(f"PAGA {cf} 5", ASK_CODE)
        replies = await till.send(f"PAGA {typed}")
        text = "\n".join(rendered(reply, language, sms=till is sms) for reply in replies)
        said.append((language, text))
    return said


async def assert_told_in_two_languages(
    core: Core,
    typed: str,
    italian: Sequence[str],
    english: Sequence[str],
    refusals: Sequence[str],
) -> None:
    """`PAGA {typed}` at the two tills of said_at_two_tills: each is told its language's
    words and the 5 euro still waiting; each of `refusals` (msgids) alone fits one SMS in
    either language."""
    for language, said in await said_at_two_tills(core, typed):
        for part in italian if language == "it" else english:
            assert part in said, (language, said)
        assert "5,00" in said if language == "it" else "5.00" in said, said
    for msgid in refusals:
        for language in ("it", "en"):
            assert rendered(Reply(texts=(t(msgid),)), language)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_a_card_number_of_another_length_keeps_the_payment_waiting(
    core: Core, channel: Channel
) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await till_on(core, town, channel)
    await till.expect(f"PAGA {cf} 5", ASK_CODE)
    code = await citizen_code(core, phone)
    # The last: a symbol missing from a number whose middle group is digits (one card in
    # 256), read as a card number, not as "FEVY" and 5732,9 typed with a space.
    # "FEVY 57ED N 5": a symbol missing and an amount of one digit, which made ten
    # characters and was refused as no card number at all.
    for typed in (*MISTYPED, "FEVY 57ED N 7,50", "FEVY 57ED N 5", "FEVY 5732 9"):
        await till.expect(f"PAGA {typed}", CARD_LENGTH, WAITS)
        assert param(till.last, "amount") == Money(5_00)
        assert (await till.state())[:2] == (None, None)
    # A card number and an amount both mistyped: each said, and still nothing changes.
    await till.expect("PAGA FEVY 57ED N 7,5O", NOT_AN_AMOUNT, CARD_LENGTH, WAITS)
    # Nobody was looked up, and the customer was told nothing: the code they hold pays.
    assert await lookups(core) == (1, 0)
    assert await codes_sent(core, phone) == 1
    assert (await outbox_of(core, "sms", phone))[-1][1].texts[0].msgid == CITIZEN_CODE
    await till.expect(code, CONFIRMED)
    assert param(till.last, "amount") == Money(5_00)
    assert await balance(core, town) == 145_00


async def test_a_card_payment_keeps_the_code_of_the_card_it_asked(core: Core) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, "en")
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.expect(f"PAGA {cards_grouped(card.card_code)} 7,50", ASK_PIN)
    code = slip(card, till)
    await till.expect(f"PAGA {card.card_code[:-1]}", CARD_LENGTH, WAITS)
    assert param(till.last, "amount") == Money(7_50)
    # No other cell was drawn: the code of the one asked still pays the payment.
    await till.expect(code, CONFIRMED)
    assert param(till.last, "amount") == Money(7_50)


async def test_with_nothing_waiting_the_same_refusal_and_the_right_card_pays(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    for typed in MISTYPED:
        await till.expect(f"PAGA {typed}", CARD_LENGTH)
        # Refused like a mistyped codice fiscale: the till stays at who pays.
        assert (await till.state())[:2] == ("charge", "who")
    await till.expect("FEVY 57ED N", CARD_LENGTH)
    assert (await till.state())[:2] == ("charge", "who")
    assert await lookups(core) == (0, 0)
    # A card number of the right length is looked up as ever: nobody's, then the holder's.
    await till.expect("ABCD EFGH JK 5", NOBODY)
    # Nor is a number whose middle group is digits read as "ABCD" and 2345,23 in two words.
    # The amount is asked, then the number looked up, as for any card number alone.
    await till.expect("ABCD 2345 23", AMOUNT)
    await till.expect("5", NOBODY)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        number = cards_grouped(citizen.card_code)
    await till.expect(f"PAGA {number} 5", ASK_CODE)
    assert await lookups(core) == (3, 2)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM, Channel.TERMINAL])
async def test_a_symbol_missing_then_the_amount_is_the_length_refusal(
    core: Core, channel: Channel
) -> None:
    """ "PAGA EUCJ DRQR W 5": a card number with its last symbol missing, then 5 euro. It
    was "not a card number ... not the name" (the 5 read as the card's tenth symbol, its
    last group cut in two); now the length refusal, as without the amount, and the amount
    is kept: the number written again alone asks the holder for 5 euro."""
    town = await make_town(core, citizens=1)
    till = await till_on(core, town, channel)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.card_code is not None
        number = cards_grouped(citizen.card_code)
    await till.expect(f"PAGA {number[:-1]} 5", CARD_LENGTH)
    assert CARD_FORMAT not in msgids(till.last)
    assert (await till.state())[:2] == ("charge", "who")
    assert await lookups(core) == (0, 0)
    await till.expect(number, ASK_CODE)
    assert param(till.last, "amount") == Money(5_00)


async def test_paga_alone_still_gives_up_the_payment_waiting(core: Core) -> None:
    # PAGA with nothing after it is a new payment on purpose: the one waiting is given up,
    # named, and the question asked, as before.
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    await till.expect("PAGA", CANCELLED_NAMED, WHO)
    await till.expect("FEVY 57ED N", CARD_LENGTH)
    await till.expect(town.citizen_cfs[0], AMOUNT)


@pytest.mark.parametrize(
    "typed",
    ["FEVY 57ED N", "fevy-57ed-npq", "XYZ", "ABCDEFGHJKLMN"],
)
def test_a_card_number_of_another_length_is_refused(typed: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        card_domain.check_card_number(typed)
    assert refused.value.code == "card.length"


@pytest.mark.parametrize(
    "typed",
    # A card's number as printed or typed; an amount or a phone number, even with an O for
    # a zero; words with other signs, which are looked up as before.
    ["ABCD EFGH JK", "abcd-efgh-jk", "ABCDEFGHJK", "12", "5OO", "333 1OO 5", "12,5O"],
)
def test_what_is_no_card_number_of_another_length(typed: str) -> None:
    card_domain.check_card_number(typed)

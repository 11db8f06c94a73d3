"""Slips at the till (chat trial 2, findings 3 to 5): a code typed where the amount goes, an
absurd amount, who and the amount on one line, MENU while the customer reads the code.

Written as the people act: an honest cashier, a hurried one who types by habit, and a
dishonest one who would like the till to tell them something about a customer."""

from __future__ import annotations

from datetime import timedelta

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Money
from core.services import delegates, security
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, add_member, open_till, outbox_of, param, wrong_guesses
from tests.dialogue.test_cards_delegates import DELEGATE
from tests.dialogue.test_shop import (
    AMOUNT,
    ASK_CODE,
    CITIZEN_CODE,
    CITIZEN_CODE_REPLACED,
    CONFIRMED,
    NOTHING_WAITING,
    WHO,
    balance,
    citizen_code,
    lookups,
    text_of,
)
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE, long_town
from tests.dialogue.test_till_session import ENDED, WRONG
from tests.factories import Town, approved_request, make_cf, make_town

NOT_AN_AMOUNT = "This is not an amount. Write it in euro, e.g. 12,50."
A_CODE = (
    "Did you write a code? Six digits are not taken as an amount: write the amount in euro, "
    "e.g. 12,50."
)
ABOVE_CEILING = (
    "A single payment can be at most {ceiling}: check the amount. Nothing was sent to the customer."
)
LEFT_OPEN = "A payment of {amount} waits for the customer's code: write it here, or ANNULLA."
CANCELLED_AT_TILL = "Payment of {amount} ({where}) cancelled: the customer's code no longer works."
TERMINAL = "+393330009999"
VOID = "{shop} cancelled the payment of {amount}. The code is no longer valid."
WARNING = (
    "Warning: {shop} typed a wrong code too many times. The payment of {amount} was "
    "cancelled. Never give your code to anyone but the cashier."
)


async def terminal_till(core: Core, town: Town) -> Chat:
    """A cashier at the shop's computer (`buonispesa chat --as shop`): no till code to
    confirm, as the terminal cannot be forged."""
    await add_member(core, town.shop_id, TERMINAL, "cashier", channel=Channel.TERMINAL.value)
    return Chat(core, TERMINAL, channel=Channel.TERMINAL)


async def codes_sent(core: Core, phone: str) -> int:
    """Payment codes the customer's phone received."""
    return sum(
        1
        for _row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and reply.texts[0].msgid in (CITIZEN_CODE, CITIZEN_CODE_REPLACED)
    )


async def wrong_codes(core: Core) -> int:
    async with core.uow() as uow:
        return await security.count(
            uow, security.WRONG_PAYMENT_CODE, core.now() - timedelta(hours=1)
        )


# Finding 3: the customer's code typed where the amount goes ------------------------------


async def test_a_hurried_cashier_types_the_code_after_a_mistyped_amount(core: Core) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {phone[3:]} 5", ASK_CODE)
    code = await citizen_code(core, phone)
    # PAGA again with the letter O for zero: refused for its own words, it changes nothing.
    # The payment waiting keeps its code (the customer is told nothing), and is named.
    await till.expect(f"PAGA {cf.lower()} 5OO", NOT_AN_AMOUNT, LEFT_OPEN)
    assert param(till.last, "amount") == Money(5_00)
    assert (await till.state())[:2] == (None, None)
    assert (await outbox_of(core, "sms", phone))[-1][1].texts[0].msgid == CITIZEN_CODE
    # The code the customer reads out pays the payment waiting; no new SMS was sent.
    await till.expect(code, CONFIRMED)
    assert await codes_sent(core, phone) == 1
    assert await balance(core, town) == 145_00
    assert await wrong_codes(core) == 0


async def test_a_new_paga_with_nobody_found_or_above_the_ceiling_changes_nothing(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {cf} 5", ASK_CODE)
    code = await citizen_code(core, phone)
    await till.expect(f"PAGA {cf} 600", ABOVE_CEILING, LEFT_OPEN)
    await till.expect(f"PAGA {make_cf(77)} 6", LEFT_OPEN)
    await till.expect(f"PAGA {cf} 113616", A_CODE, LEFT_OPEN)
    assert (await till.state())[:2] == (None, None)
    assert await codes_sent(core, phone) == 1
    await till.expect(code, CONFIRMED)
    assert param(till.last, "amount") == Money(5_00)
    # With nothing waiting, a wrong amount is asked again for the same customer, as ever.
    await till.expect(f"PAGA {cf} 5OO", NOT_AN_AMOUNT, AMOUNT)
    assert (await till.state())[:2] == ("charge", "amount")


async def test_six_digits_at_the_amount_are_never_an_amount(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT)
    for typed in ("113616", "113 616", "113.616"):
        await till.expect(typed, A_CODE)
        assert (await till.state())[:2] == ("charge", "amount")
    # On one line with PAGA too, and nobody is looked up for it.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 113616", A_CODE, AMOUNT)
    assert await codes_sent(core, town.citizen_phones[0]) == 0
    assert await lookups(core) == (0, 0)
    await till.expect("12,50", ASK_CODE)


async def test_an_absurd_amount_is_refused_before_any_code(core: Core) -> None:
    # The default policy gives a household at most 500 €: one payment cannot be more.
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 600", ABOVE_CEILING)
    assert param(till.last, "ceiling") == Money(500_00)
    assert (await till.state())[:2] == ("charge", "amount")
    assert await codes_sent(core, town.citizen_phones[0]) == 0
    assert await lookups(core) == (0, 0)
    # The same customer, the amount meant.
    await till.expect("60", ASK_CODE)
    assert param(till.last, "amount") == Money(60_00)
    # Exactly the ceiling is asked: the balance (150 €) is the customer's to know.
    await till.expect("ANNULLA")
    await till.expect(f"PAGA {town.citizen_cfs[0]} 500", ASK_CODE)


async def test_a_dishonest_cashier_learns_nothing_from_the_ceiling(core: Core) -> None:
    # A holder and nobody at all get the same words, with the same figure, and neither is
    # looked up: the ceiling is the town's, not anybody's balance.
    town = await make_town(core, citizens=1)
    till = await terminal_till(core, town)
    said = []
    for who in (town.citizen_cfs[0], make_cf(77), town.citizen_phones[0][3:]):
        await till.expect(f"PAGA {who} 500,01", ABOVE_CEILING)
        said.append(param(till.last, "ceiling"))
        await till.expect("ANNULLA")
    assert said == [Money(500_00)] * 3
    assert await lookups(core) == (0, 0)


# Finding 4: who and the amount on one line at "Who pays?" ---------------------------------


async def test_who_and_the_amount_on_one_line_are_read_as_paga_reads_them(core: Core) -> None:
    town = await make_town(core, citizens=1)
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    till = await terminal_till(core, town)
    await till.expect("PAGA", WHO)
    # "3332000000 10": the phone and 10 €, never the longer number 333200000010.
    await till.expect(f"{phone[3:]} 10", ASK_CODE)
    assert param(till.last, "amount") == Money(10_00)
    await till.expect("ANNULLA")
    await till.expect("PAGA", WHO)
    await till.expect(f"{cf} 10", ASK_CODE)
    assert param(till.last, "amount") == Money(10_00)
    await till.expect("ANNULLA")
    # A phone written in pieces is one phone, and the amount is asked.
    await till.expect("PAGA", WHO)
    national = phone[3:]
    await till.expect(f"{national[:3]} {national[3:6]} {national[6:]}", AMOUNT)
    await till.expect("7", ASK_CODE)
    assert param(till.last, "amount") == Money(7_00)
    # A wrong amount after who is said as such, and asked again for the same person.
    await till.expect("ANNULLA")
    await till.expect("PAGA", WHO)
    await till.expect(f"{cf} 5OO", NOT_AN_AMOUNT, AMOUNT)
    await till.expect("5", ASK_CODE)
    # Every lookup found the holder: none counted as a miss.
    assert await lookups(core) == (4, 0)


# Finding 5: MENU while the customer reads the code ----------------------------------------


async def test_menu_at_the_code_step_keeps_the_payment_and_its_code_confirms_it(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    await till.expect("MENU", LEFT_OPEN)
    assert param(till.last, "amount") == Money(5_00)
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 145_00


async def test_menu_after_the_code_expired_says_no_payment_waits(
    core: Core, clock: FakeClock
) -> None:
    """A trial, 5 Dec 2026: MENU more than ten minutes after the code was sent still said a
    payment waited for the customer's code."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    clock.advance(minutes=11)
    replies = await till.send("MENU")
    assert LEFT_OPEN not in [text.msgid for reply in replies for text in reply.texts]


async def test_menu_then_annulla_cancels_the_payment_and_tells_the_customer(core: Core) -> None:
    town = await make_town(core, citizens=1)
    phone = town.citizen_phones[0]
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    code = await citizen_code(core, phone)
    await till.expect("MENU", LEFT_OPEN)
    await till.expect("ANNULLA", CANCELLED_AT_TILL)
    assert (await outbox_of(core, "sms", phone))[-1][1].texts[0].msgid == VOID
    await till.expect(code, NOTHING_WAITING)
    assert await balance(core, town) == 150_00


async def test_a_second_customer_gives_the_first_payment_up_and_says_so(core: Core) -> None:
    # A hurried cashier starts a second payment before the first customer read the code:
    # the first is cancelled, named, and its customer told; only the second pays.
    town = await make_town(core, citizens=2)
    till = await terminal_till(core, town)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    first = await citizen_code(core, town.citizen_phones[0])
    await till.expect("MENU", LEFT_OPEN)
    await till.expect(f"PAGA {town.citizen_cfs[1]} 7", CANCELLED_AT_TILL, ASK_CODE)
    named = text_of(till.last, CANCELLED_AT_TILL)
    assert named.params["amount"] == Money(5_00)
    assert named.params["where"] == f"SMS ***{town.citizen_phones[0][-3:]}"
    assert (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1].texts[0].msgid == VOID
    second = await citizen_code(core, town.citizen_phones[1])
    await till.expect(second, CONFIRMED)
    assert param(till.last, "amount") == Money(7_00)
    await till.expect(first, NOTHING_WAITING)
    assert await wrong_codes(core) == 0
    assert (await balance(core, town, 0), await balance(core, town, 1)) == (150_00, 143_00)


async def test_a_code_after_the_sms_till_was_closed_is_not_judged(core: Core) -> None:
    # Two wrong codes end an SMS till's session (a forged sender must not go on typing
    # codes): the payment is cancelled, its customer warned of the wrong codes, and no code
    # typed from that number counts.
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    first, second, third = wrong_guesses(await citizen_code(core, town.citizen_phones[0]), 3)
    await till.expect(first, WRONG)
    await till.expect(second, ENDED)
    assert (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1].texts[0].msgid == WARNING
    await till.expect(third, NOTHING_WAITING)
    assert await wrong_codes(core) == 2
    assert await balance(core, town) == 150_00


# A delegate is not revealed by where the code went -------------------------------------


async def test_the_shop_does_not_learn_that_a_delegate_holds_the_code(core: Core) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        yes = await approved_request(uow, town, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    till = await open_till(Chat(core, SHOP_PHONE))
    # Typed by the citizen's own phone or by the codice fiscale: the digits shown are the
    # citizen's, as without a delegate, though the code went to the delegate's phone.
    for who in (CITIZEN_PHONE[3:], cf):
        await till.expect(f"PAGA {who} 7,30", ASK_CODE)
        assert param(till.last, "where") == f"SMS ***{CITIZEN_PHONE[-3:]}"
        assert DELEGATE[-3:] not in str(param(till.last, "where"))
    assert await codes_sent(core, DELEGATE) == 2
    assert await codes_sent(core, CITIZEN_PHONE) == 0

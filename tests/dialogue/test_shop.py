"""The till by chat, scripted: charge, the citizen's code, receipts, refunds, statements, staff."""

from __future__ import annotations

from datetime import timedelta

from core.bootstrap import Core
from core.dialogue.flows.member_phone import SHARE_TO_JOIN
from core.dialogue.inbound import Channel
from core.dialogue.menus import SHOP_HELP
from core.domain.ledger import PostingKind
from core.domain.messages import Moment, Money, Reply, Text
from core.i18n import render_text
from core.services import charges, ledger, municipalities, security
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    CASHIER_CODE,
    INVITED,
    JOIN_CODE,
    REFUND_CODE,
    Chat,
    add_member,
    open_till,
    outbox_of,
    param,
    wrong_guesses,
)
from tests.factories import (
    Town,
    confirm,
    last_code_for,
    make_cf,
    make_partita_iva,
    make_town,
    request,
)
from tests.integration.test_payments import another_shop

WHO = "Who pays? Write the codice fiscale, the phone number or the card code."
AMOUNT = "Amount to charge, in euro (e.g. 12,50)?"
ASK_CODE = (
    "Code sent to the customer ({where}) for {amount}. Ask them for it and write it here. "
    "ANNULLA to stop."
)
CONFIRMED = "Payment confirmed: {amount}. Receipt no. {receipt}."
CITIZEN_CODE = (
    "{shop} asks {amount}. Code: {code}. Tell it to the cashier only if you agree. Valid "
    "{minutes} min."
)
CITIZEN_CODE_ABOVE_BALANCE = (
    "{shop} asks {amount}. Code: {code}. You only have {balance}: ask the cashier to charge "
    "you at most that."
)
SPLIT = "Write the amount like 12,50: a comma before the cents, no space."
# A new PAGA of the same shop for the same person: the code of the one it replaces is void.
CITIZEN_CODE_REPLACED = (
    "{shop} asks {amount}. New code: {code} (the previous one is no longer valid). Tell it to "
    "the cashier only if you agree. Valid {minutes} min."
)
CITIZEN_CODE_REPLACED_ABOVE_BALANCE = (
    "{shop} asks {amount}. New code: {code}, the previous one no longer works. You only have "
    "{balance}: ask to pay less."
)
# The same after wrong codes typed for the one it replaces: the customer is warned of them.
CITIZEN_CODE_REPLACED_AFTER_WRONG = (
    "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong code. "
    "Give it only to the cashier."
)
CITIZEN_CODE_REPLACED_AFTER_WRONG_ABOVE_BALANCE = (
    "{shop} asks {amount}. New code: {code}; the old one is void after {count} wrong code. "
    "You only have {balance}."
)
ALREADY_REFUNDED = "This payment has already been refunded: it cannot be refunded twice."
# The default policy, with a town's own ceiling for one payment.
WIDE_CEILING = municipalities.default_policy_text() + "\nmax_payment_eur = 10000\n"
NOTHING_WAITING = "No payment is waiting for a code at this till. To charge, write PAGA."
TOO_MANY_CODES = (
    "Too many payment requests for this person: nothing was sent. Try again from {when}."
)
CANCELLED_NAMED = "Payment of {amount} ({where}) cancelled: the customer's code no longer works."
WAITS = "A payment of {amount} waits for the customer's code: write it here, or ANNULLA."
RECEIPT = "Paid {amount} at {shop}. Remaining balance: {balance}."
VERIFY_REFUND = REFUND_CODE
VERIFY_CASHIER = CASHIER_CODE
VERIFY_JOIN = JOIN_CODE


async def citizen_code(core: Core, phone: str, *, above_balance: bool = False) -> str:
    for _row, reply in reversed(await outbox_of(core, "sms", phone)):
        if reply.texts and reply.texts[0].msgid in (
            (
                CITIZEN_CODE_ABOVE_BALANCE,
                CITIZEN_CODE_REPLACED_ABOVE_BALANCE,
                CITIZEN_CODE_REPLACED_AFTER_WRONG_ABOVE_BALANCE,
            )
            if above_balance
            else (CITIZEN_CODE, CITIZEN_CODE_REPLACED, CITIZEN_CODE_REPLACED_AFTER_WRONG)
        ):
            return str(reply.texts[0].params["code"])
    raise AssertionError(f"no payment code sent to {phone}")


async def own_code(chat: Chat) -> str:
    for _row, reply in reversed(await outbox_of(chat.core, chat.channel.value, chat.address)):
        if reply.texts and reply.texts[0].msgid.startswith("Code {code} confirms "):
            return str(reply.texts[0].params["code"])
    raise AssertionError("no confirmation code sent")


PAYER_MISSING = (
    "Who pays is missing: write PAGA, then the codice fiscale, phone or card number, then the "
    "amount. E.g. PAGA RSSMRA85T10A562S 12,50"
)
PHONE_FORMAT = "This is not a phone number. Write it again, e.g. 3331234567."
NOBODY = (
    "No voucher holder found. Check the codice fiscale, phone number or card code and write "
    "it again."
)


async def balance(core: Core, town: Town, index: int = 0) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[index])


async def test_charge_confirm_and_receipt(core: Core) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    script = [
        ("PAGA", (WHO,), "who"),
        ("", ("Write the codice fiscale, the phone number or the card code.",), "who"),
        (
            "RSSMRA85T10A562X",
            (
                "This codice fiscale does not add up: its last letter (the check "
                "character) does not match the others. Check it on your health card "
                "and write it again.",
            ),
            "who",
        ),
        (town.citizen_cfs[0], (AMOUNT,), "amount"),
        ("dodici pere", ("This is not an amount. Write it in euro, e.g. 12,50.",), "amount"),
        ("0", ("The amount must be more than zero.",), "amount"),
        ("12,50", (ASK_CODE,), "code"),
        ("abc", ("Write the code the customer reads to you (6 digits), or ANNULLA.",), "code"),
        ("000000", ("Wrong code: {count} attempt left.",), "code"),
    ]
    for text, expected, step in script:
        await till.expect(text, *expected)
        assert (await till.state())[:2] == ("charge", step), text
    # By SMS the session's second wrong code is the last: the till is told one try is left.
    assert param(till.last, "count") == 1
    code = await citizen_code(core, town.citizen_phones[0])
    assert code not in str([t.params for r in till.last for t in r.texts])
    replies = await till.expect(f"{code[:3]} {code[3:]}", CONFIRMED)
    assert param(replies, "amount") == Money(12_50)
    assert [o.key for o in replies[-1].options] == ["charge", "menu"]
    assert await balance(core, town) == 150_00 - 12_50
    receipt = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert receipt.texts[0].msgid == RECEIPT
    assert receipt.texts[0].params["balance"] == Money(137_50)
    # The same code again pays nothing more: the charge is closed, and the till says that
    # no payment waits for a code here.
    await till.expect(code, NOTHING_WAITING)
    assert await balance(core, town) == 137_50


async def test_one_line_pay_by_phone_and_card(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    replies = await till.expect(f"PAGA {town.citizen_phones[0]} 10", ASK_CODE)
    assert param(replies, "where") == f"SMS ***{town.citizen_phones[0][-3:]}"
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        card = citizen.card_code
    await till.expect(f"pay {card.lower()} 5,5", ASK_CODE)
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    await till.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT)
    # An amount alone is kept, and who pays asked for it (tests/dialogue/test_amount_first.py).
    await till.expect(
        "PAGA 12", "Who pays {amount}? Write the codice fiscale, the phone number or the card code."
    )
    await till.expect("ABCD EFGH JK", NOBODY)
    assert await balance(core, town) == 150_00 - 10_00 - 5_50


async def test_an_amount_that_is_not_an_amount_is_said_before_anybody_is_looked_up(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    for line, said in (
        ("PAGA +393479999999 -5", "The amount cannot be negative. Write it again, e.g. 12,50."),
        (
            f"PAGA {town.citizen_cfs[0]} 0,001",
            "An amount has at most two decimals (cents), e.g. 12,50.",
        ),
        (f"PAGA {town.citizen_cfs[0]} abc", "This is not an amount. Write it in euro, e.g. 12,50."),
        ("PAGA RSSMRA85T10A562S abc", "This is not an amount. Write it in euro, e.g. 12,50."),
        # Euro and cents with a space: the amount error, not "nobody found" for "<cf> 12".
        (f"PAGA {town.citizen_cfs[0]} 12 50", SPLIT),
        (f"PAGA {town.citizen_phones[0]} 12 50", SPLIT),
        ("PAGA RSSMRA85T10A562S 12 50 euro", SPLIT),
        # A quarter of a euro written with three decimals: never 250 euro (a dot before three
        # digits groups thousands only after a first group that is not 0).
        (
            f"PAGA {town.citizen_cfs[0]} 0.250",
            "An amount has at most two decimals (cents), e.g. 12,50.",
        ),
        (f"PAGA {town.citizen_phones[0]} 0 250", SPLIT),
        # A leading 0: a till's 2,50 typed without its comma, never 250 euro.
        (
            f"PAGA {town.citizen_cfs[0]} 0250",
            "This is not an amount. Write it in euro, e.g. 12,50.",
        ),
    ):
        await till.expect(line, said)
        assert (await till.state())[:2] == ("charge", "amount")
    # Asked for the amount, "12 50" is the same error, never 1250 euro; then 12,50 goes on.
    await till.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT)
    await till.expect("12 50", SPLIT)
    replies = await till.expect("12,50", ASK_CODE)
    assert param(replies, "amount") == Money(12_50)
    async with core.uow() as uow:
        assert await security.count(uow, security.LOOKUP_MISS, core.now() - timedelta(hours=1)) == 0
    # Somebody unknown and an applicant without vouchers: the same answer, counted.
    await till.expect("PAGA RSSMRA85T10A562S 5", NOBODY)
    async with core.uow() as uow:
        assert await security.count(uow, security.LOOKUP_MISS, core.now() - timedelta(hours=1)) == 1


async def lookups(core: Core) -> tuple[int, int]:
    """(lookups counted against the shop's hourly limit, lookups that found nobody)."""
    since = core.now() - timedelta(hours=1)
    async with core.uow() as uow:
        return (
            await security.count(uow, security.LOOKUP, since),
            await security.count(uow, security.LOOKUP_MISS, since),
        )


async def test_an_amount_with_the_currency_or_in_words_is_read_as_the_amount(
    core: Core, clock: FakeClock
) -> None:
    # Chat trial finding 2: "€ 3" or "3 euro e 50" were taken as part of who pays, answered
    # "nobody found" and counted among the shop's lookups that found nobody. (The town
    # lets a payment be as large as 10.000 €, to show how 1.500 is read.)
    town = await make_town(core, citizens=1, policy_toml=WIDE_CEILING)
    till = await open_till(Chat(core, town.shop_phone))
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    for written, cents in (
        (f"{cf} € 3", 3_00),
        (f"{cf} 3 euro e 50", 3_50),
        (f"{cf} 12,50 €", 12_50),
        (f"{phone} 3 €", 3_00),
        (f"{cf} EUR 3", 3_00),
    ):
        replies = await till.expect(f"PAGA {written}", ASK_CODE)
        assert param(replies, "amount") == Money(cents), written
    assert await lookups(core) == (5, 0)
    # Asked for the amount alone, euro and cents in words are read too.
    await till.expect(f"PAGA {cf}", AMOUNT)
    replies = await till.expect("3 euro e 5 centesimi", ASK_CODE)
    assert param(replies, "amount") == Money(3_05)
    assert await lookups(core) == (6, 0)
    # An amount that cannot be read is said so, and nobody is looked up or counted (with
    # nothing waiting for a code: else the refused PAGA leaves the till as it was).
    await till.expect("ANNULLA")
    # (Words that say an amount one way only are read: test_what_they_type.py.)
    for written in (f"{cf} 3 euro e rotti", f"{cf} tre pere", f"{cf} € boh"):
        await till.expect(f"PAGA {written}", "This is not an amount. Write it in euro, e.g. 12,50.")
        assert (await till.state())[:2] == ("charge", "amount")
    assert await lookups(core) == (6, 0)
    # Unchanged: a dot before three digits groups thousands, before two it is the decimals.
    await till.expect("MENU")
    clock.advance(hours=1, minutes=1)  # past the hour's cap of payment codes for one person
    for written, cents in ((f"{cf} 1.50", 1_50), (f"{cf} 1.500", 1_500_00)):
        replies = await till.expect(f"PAGA {written}", ASK_CODE)
        assert param(replies, "amount") == Money(cents), written


async def test_the_amount_written_before_who_pays_is_the_amount(core: Core) -> None:
    """Trial finding: "PAGA 12,50 <codice fiscale>" asked the amount again and then said
    "nobody found": the amount written first was taken as part of who pays."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    cf, phone = town.citizen_cfs[0], town.citizen_phones[0]
    for written, cents in (
        (f"12,50 {cf}", 12_50),
        (f"3 {cf.lower()}", 3_00),
        (f"4,5 {phone}", 4_50),
    ):
        replies = await till.expect(f"PAGA {written}", ASK_CODE)
        assert param(replies, "amount") == Money(cents), written
    assert await lookups(core) == (3, 0)
    # Plain digits before a phone number stay as they were: no amount is guessed, and the
    # whole is no phone number (said before anybody is looked up).
    await till.expect("MENU")
    await till.expect(f"PAGA 3 {phone}", PHONE_FORMAT)
    assert await lookups(core) == (3, 0)


def text_of(replies: list[Reply], msgid: str) -> Text:
    """The one text of the replies with this msgid."""
    [found] = [text for reply in replies for text in reply.texts if text.msgid == msgid]
    return found


def second_code(reply: Reply) -> str:
    return str(reply.texts[0].params["code"])


async def test_a_new_pay_replaces_the_pending_one_and_codes_are_capped(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    phone = town.citizen_phones[0]
    first_sent = core.now()
    await till.expect(f"PAGA {town.citizen_cfs[0]} 13", ASK_CODE)
    first = await citizen_code(core, phone)
    [(_row, initial)] = (await outbox_of(core, "sms", phone))[-1:]
    # The till names the payment it gave up; the customer gets one SMS, the new code.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 12", CANCELLED_NAMED, ASK_CODE)
    assert text_of(till.last, CANCELLED_NAMED).params["amount"] == Money(13_00)
    [(_row, latest)] = (await outbox_of(core, "sms", phone))[-1:]
    assert latest.texts[0].msgid == CITIZEN_CODE_REPLACED
    # The new code's message says how long it is valid, as the first code's did.
    minutes = initial.texts[0].params["minutes"]
    assert latest.texts[0].params["minutes"] == minutes
    for language, valid in (("it", f"per {minutes} min"), ("en", f"Valid {minutes} min")):
        said = render_text(latest.texts[0], language, sms=True)
        assert valid in said and str(second_code(latest)) in said, said
    second = second_code(latest)
    if first != second:  # the first code is void: only the new one pays
        await till.expect(first, "Wrong code: {count} attempt left.")
    replies = await till.expect(second, CONFIRMED)
    assert param(replies, "amount") == Money(12_00)
    assert await balance(core, town) == 150_00 - 12_00
    # Six payment codes in the hour so far is the cap: the seventh PAGA sends nothing.
    for _index in range(4):
        await till.expect(f"PAGA {town.citizen_cfs[0]} 1", ASK_CODE)
    sent = len(await outbox_of(core, "sms", phone))
    # Refused: nothing new started, so the payment waiting keeps its code, and is said.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 1", TOO_MANY_CODES, WAITS)
    assert len(await outbox_of(core, "sms", phone)) == sent
    # From when: the minute after the oldest of the hour's codes leaves the hour.
    hour_after = (first_sent + timedelta(hours=1)).replace(second=0, microsecond=0)
    assert param(till.last, "when") == Moment(hour_after + timedelta(minutes=1))
    assert (await till.state())[:2] == (None, None)
    clock.advance(minutes=61)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 1", ASK_CODE)


async def test_a_shop_fishing_for_applicants_is_told_to_try_later(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    for index in range(charges.LOOKUPS_PER_HOUR):
        await till.expect(f"PAGA {make_cf(900 + index)} 1", NOBODY)
    await till.expect(
        f"PAGA {town.citizen_cfs[0]} 1", "Too many searches this hour. Try again later."
    )


async def test_insufficient_balance_wrong_codes_and_expiry(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    # Above the balance: the shop sees the usual request; only the citizen's code message
    # says the balance is not enough, and the shop's answer after the code is neutral.
    await till.expect(f"PAGA {town.citizen_cfs[0]} 150,01", ASK_CODE)
    [code_message] = [
        reply
        for _, reply in await outbox_of(core, "sms", town.citizen_phones[0])
        if reply.texts[0].msgid.startswith("{shop} asks {amount}. Code: {code}. You only have")
    ]
    assert code_message.texts[0].params["balance"] == Money(150_00)
    await till.expect(
        str(code_message.texts[0].params["code"]),
        "Payment not confirmed: the payment of {amount} was refused. Ask the customer: they "
        "have been told why.",
    )
    assert (await till.state())[:2] == (None, None)
    # The citizen, who gave the code, hears why, with the balance; the cashier does not.
    refused = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert refused.texts[0].msgid == (
        "The payment of {amount} at {shop} was refused: your balance is {balance}."
    )
    assert refused.texts[0].params["balance"] == Money(150_00)
    assert Money(150_00) not in [v for r in till.last for x in r.texts for v in x.params.values()]
    # A charge's own limit, 3 wrong codes, from a Telegram till (by SMS the second wrong
    # code already ends the till session: tests/dialogue/test_till_session.py).
    await add_member(core, town.shop_id, "4440002", "cashier", channel="telegram")
    cashier = Chat(core, "4440002", channel=Channel.TELEGRAM)
    await cashier.send(f"PAGA {town.citizen_cfs[0]} 20")
    first, second, third = wrong_guesses(await citizen_code(core, town.citizen_phones[0]), 3)
    await cashier.expect(first, "Wrong code: {count} attempt left.")
    await cashier.expect(second, "Wrong code: {count} attempt left.")
    await cashier.expect(third, "Too many wrong codes: the payment of {amount} was cancelled.")
    warning = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert warning.texts[0].msgid.startswith("Warning: {shop} typed a wrong code")
    await till.send(f"PAGA {town.citizen_cfs[0]} 20")
    code = await citizen_code(core, town.citizen_phones[0])
    clock.advance(minutes=11)
    await till.expect(
        code, "The code has expired: the payment of {amount} was cancelled. Start again."
    )
    assert await balance(core, town) == 150_00


async def test_cancel_while_waiting_for_the_code_tells_the_citizen(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 20")
    code = await citizen_code(core, town.citizen_phones[0])
    await till.expect("ANNULLA", CANCELLED_NAMED)
    assert param(till.last, "where") == f"SMS ***{town.citizen_phones[0][-3:]}"
    notice = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert notice.texts[0].msgid == (
        "{shop} cancelled the payment of {amount}. The code is no longer valid."
    )
    await till.expect(code, NOTHING_WAITING)  # nothing pending: the code is just a number now
    assert await balance(core, town) == 150_00


async def test_help_at_every_charge_step(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    prompts = [("PAGA", WHO), (town.citizen_cfs[0], AMOUNT), ("7", ASK_CODE)]
    for text, prompt in prompts:
        await till.send(text)
        before = await till.state()
        await till.expect("AIUTO", SHOP_HELP.msgid, prompt)
        assert await till.state() == before


async def test_card_qr_at_the_till_starts_a_charge(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "4440001", "cashier", channel="telegram")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        card = citizen.card_code
    till = Chat(core, "4440001", channel=Channel.TELEGRAM)
    await till.expect(None, AMOUNT, start=card)
    await till.expect("3", ASK_CODE)
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)


async def test_refund_of_today_needs_a_code_by_sms(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 30")
    replies = await till.send(await citizen_code(core, town.citizen_phones[0]))
    receipt = str(param(replies, "receipt"))
    await till.expect("STORNO", "Which payment of today do you want to refund?")
    assert [o.key for o in till.last[-1].options] == [f"r{receipt}"]
    await till.expect("9", "No payment of today with receipt no. {receipt}.")
    await till.expect("abc", "Reply with the number of the payment to refund, or ANNULLA.")
    await till.expect("1", "Refund {amount} (receipt no. {receipt}) to the customer?")
    await till.expect("maybe", "Reply 1 to refund or 2 to leave it.")
    await till.expect("1", VERIFY_REFUND)
    assert await balance(core, town) == 120_00  # nothing moves before the code
    await till.expect(
        await own_code(till),
        "Refunded {amount} (receipt no. {receipt}). The customer has been told.",
    )
    assert await balance(core, town) == 150_00
    told = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert told.texts[0].msgid == "{shop} refunded {amount}. Balance: {balance}."
    await till.expect("STORNO", "There is no payment of today to refund.")
    # Chat trial 2: a refunded receipt is said to be refunded, not to be nobody's.
    await till.expect(f"STORNO {receipt}", ALREADY_REFUNDED)
    assert await balance(core, town) == 150_00


async def test_receipts_are_numbered_per_shop_and_storno_takes_that_number(core: Core) -> None:
    town = await make_town(core, citizens=2)
    other = await another_shop(core, town, 1)
    for citizen in (0, 1):  # the other shop's payments: charge ids run ahead of this shop's
        requested = await request(core, other, town.citizen_cfs[citizen], 1_00)
        code = await last_code_for(core, town.citizen_phones[citizen], requested.charge_id)
        await confirm(core, other, requested.charge_id, code)
    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(f"PAGA {town.citizen_cfs[0]} 30", ASK_CODE)
    replies = await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    # This shop's first receipt is no. 1, whatever the town paid elsewhere.
    assert param(replies, "receipt") == "1"
    assert render_text(replies[0].texts[0], "it").endswith("Ricevuta n. 1.")
    await till.expect(f"PAGA {town.citizen_cfs[1]} 5", ASK_CODE)
    replies = await till.expect(await citizen_code(core, town.citizen_phones[1]), CONFIRMED)
    assert param(replies, "receipt") == "2"
    # STORNO lists and takes the shop's own numbers.
    await till.expect("STORNO", "Which payment of today do you want to refund?")
    assert [o.key for o in till.last[-1].options] == ["r2", "r1"]
    await till.expect("ANNULLA")
    await till.expect("STORNO 1", "Refund {amount} (receipt no. {receipt}) to the customer?")
    assert param(till.last, "receipt") == "1" and param(till.last, "amount") == Money(30_00)


async def test_statement_and_reimbursements(core: Core) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    for index, amount in ((0, "10"), (1, "2,50")):
        await till.send(f"PAGA {town.citizen_cfs[index]} {amount}")
        await till.send(await citizen_code(core, town.citizen_phones[index]))
    await till.expect("RESOCONTO", "Statement of which period?")
    replies = await till.expect(
        "1", "Today: {count} payment, {amount}.", "To be reimbursed by the municipality: {amount}."
    )
    assert param(replies, "count") == 2 and replies[0].texts[0].params["amount"] == Money(12_50)
    replies = await till.expect("statement month", "This month: {count} payment, {amount}.")
    await till.expect(
        "RIMBORSO", "To be reimbursed by the municipality: {amount}.", "No reimbursement yet."
    )
    async with core.uow() as uow:
        await ledger.post(
            uow,
            municipality_id=town.municipality_id,
            kind=PostingKind.REIMBURSEMENT,
            from_owner=town.shop_id,
            to_owner=0,
            amount_cents=12_50,
            now=core.now(),
        )
        await uow.commit()
    replies = await till.expect(
        "RIMBORSI",
        "To be reimbursed by the municipality: {amount}.",
        "Last transfer: {amount}, ordered on {ordered}.",
    )
    assert replies[0].texts[0].params["amount"] == Money(0)


async def test_citizens_cannot_use_shop_commands(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect(
        f"PAGA {town.citizen_cfs[0]} 10",
        "Only shops registered with the municipality can charge vouchers.",
    )
    await chat.expect("STORNO", "Only shops registered with the municipality can refund payments.")
    await chat.expect(
        "RESOCONTO",
        "This is for shops registered with the municipality. To register, write REGISTRA.",
    )
    await chat.expect("CASSIERE", "Only the owner of a shop can add cashiers.")


async def test_register_a_shop_by_telegram(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "3330001", channel=Channel.TELEGRAM)
    await chat.send("/start")
    await chat.expect(
        None,
        "For shopkeepers: register your shop with the municipality, or join a "
        "shop with the code its owner gave you.",
        option="shopkeeper",
    )
    script = [
        (
            None,
            "register",
            "Shop registration. Write the name of the shop, as customers know it.",
            "name",
        ),
        ("x" * 41, None, "The name is too long: at most {max} characters.", "name"),
        ("Forno Bianchi", None, "Write the partita IVA of the shop (11 digits).", "vat"),
        (
            make_partita_iva(77)[:-1] + str((int(make_partita_iva(77)[-1]) + 1) % 10),
            None,
            "This partita IVA does not add up: its last digit does not match. "
            "Check it and write it again.",
            "vat",
        ),
        (make_partita_iva(77), None, "What kind of shop is it?", "category"),
        ("gelateria", None, "Reply with the number of the kind of shop.", "category"),
        (
            "2",
            None,
            "Write the address of the shop: street and number, e.g. Via Roma 12.",
            "address",
        ),
        ("Via Roma 3", None, "In which town is the shop?", "town"),
        (None, "here", "Write the postcode (CAP), 5 digits.", "postcode"),
        ("620", None, "A postcode (CAP) has 5 digits, e.g. 62020.", "postcode"),
        (
            "62020",
            None,
            "Share the position of the shop, so that customers find it on the map. Or skip.",
            "position",
        ),
        ("somewhere", None, "Share the position with the button, or reply 1 to skip.", "position"),
        (
            "43.1641, 13.2385",
            None,
            "Write the IBAN where the municipality will reimburse the vouchers.",
            "iban",
        ),
        (
            "IT00X0542811101000000123456",
            None,
            "This IBAN does not add up: check its digits and write it again.",
            "iban",
        ),
        (
            "IT60 X054 2811 1010 0000 0123 456",
            None,
            "Send the registration to the municipality?",
            "summary",
        ),
    ]
    for text, option, expected, step in script:
        await chat.expect(text, expected, option=option)
        assert (await chat.state())[:2] == ("register", step), (text, option)
    # Telegram tells no phone: the owner shares their own contact, never someone else's.
    replies = await chat.expect(None, SHARE_TO_JOIN.msgid, option="send")
    assert replies[-1].request == "contact"
    assert (await chat.state())[:2] == ("register", "contact")
    await chat.expect(
        None, "Please share your own contact, with the button.", contact=("3471230099", False)
    )
    await chat.expect("ok", "Tap the button to share your phone number, or write MENU.")
    async with core.uow() as uow:
        assert await uow.shops.membership("telegram", "3330001") == []
    await chat.expect(
        None,
        "Registration of {shop} sent. The municipality will check it and write to you here.",
        contact=("+39 347 123 0001", True),
    )
    async with core.uow() as uow:
        rows = await uow.shops.membership("telegram", "3330001")
        assert len(rows) == 1
        member, shop = rows[0]
        assert (shop.name, shop.category, shop.status, member.role, member.phone) == (
            "Forno Bianchi",
            "bakery",
            "pending",
            "owner",
            "+393471230001",
        )
        assert shop.town == "Testville" and shop.latitude == 43.1641
    await chat.expect(
        "MENU", "{shop} is waiting for the municipality's approval. We will write to you."
    )
    await chat.expect(
        "PAGA", "Your shop is not approved yet: the municipality will tell you when it is."
    )


async def test_owner_invites_a_cashier_who_joins_by_sms(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await owner.expect("CASSIERE", VERIFY_CASHIER)
    replies = await owner.expect(
        await own_code(owner),
        INVITED,
    )
    assert replies[-1].sensitive
    invite = str(param(replies, "code"))
    cashier = Chat(core, "+393478888888")
    # Twelve letters and digits, told in groups of four.
    assert len(invite) == 14 and not set(invite.replace("-", "")) & set("0O1IL")
    await cashier.expect(
        "INVITO 1234", "A cashier code has 12 letters and digits. Write it again, or ANNULLA."
    )
    # Typed as heard: lower case, with a space.
    await cashier.expect(f"{invite[:5].lower()} {invite[5:]}", VERIFY_JOIN)
    await cashier.expect(
        await own_code(cashier), "You now work for {shop}: you can charge its vouchers."
    )
    # The owner is told, in the owner's language, through the outbox.
    [(_, joined)] = [
        (row, reply)
        for row, reply in await outbox_of(core, "sms", town.shop_phone)
        if reply.texts[0].msgid.startswith("A cashier joined {shop}")
    ]
    assert joined.texts[0].params["who"] == "SMS ***888"
    await open_till(cashier)
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 4", ASK_CODE)
    await cashier.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    await cashier.expect("CASSIERE", "Only the owner of a shop can add cashiers.")
    # The invite was used: a second person cannot join with it.
    other = Chat(core, "+393478888889")
    await other.send(f"INVITO {invite}")
    await other.expect(
        await own_code(other),
        "This cashier code is not valid or has expired. Ask the shop owner for a new one.",
    )


async def test_five_wrong_cashier_codes_a_day_per_chat(core: Core, clock: FakeClock) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, "7001", channel=Channel.TELEGRAM)
    await add_member(core, town.shop_id, "7001", "owner", channel="telegram")
    invite = str(param(await owner.send("CASSIERE"), "code"))
    guesser = Chat(core, "4242", channel=Channel.TELEGRAM)
    for _ in range(5):
        await guesser.expect(
            "INVITO ABCDEFGHJK",
            "This cashier code is not valid or has expired. Ask the shop owner for a new one.",
        )
    # Even the right code is refused now, for a day.
    await guesser.expect(
        f"INVITO {invite}", "Too many wrong cashier codes from this chat today. Try again tomorrow."
    )
    clock.advance(days=1, minutes=1)
    # A right code asks for the cashier's own phone (Telegram tells none), then joins.
    await guesser.expect(f"INVITO {invite}", SHARE_TO_JOIN.msgid)
    await guesser.expect(
        None,
        "You now work for {shop}: you can charge its vouchers.",
        contact=("+393471234242", True),
    )


async def test_a_cashier_refunds_only_with_the_customers_code(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 30")
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    receipt = str(param(till.last, "receipt"))
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    await cashier.send(f"STORNO {receipt}")
    await cashier.expect(
        "yes",
        "Code sent to the customer ({where}). Ask them for it and write it here to refund, "
        "or ANNULLA.",
    )
    [(_, asked)] = [
        (row, reply)
        for row, reply in await outbox_of(core, "sms", town.citizen_phones[0])
        if reply.texts[0].msgid.startswith("{shop} wants to refund you {amount}")
    ]
    code = str(asked.texts[0].params["code"])
    await cashier.expect(
        "000000" if code != "000000" else "111111", "Wrong code: {count} attempt left."
    )
    assert await balance(core, town) == 120_00
    await cashier.expect(
        code, "Refunded {amount} (receipt no. {receipt}). The customer has been told."
    )
    assert await balance(core, town) == 150_00

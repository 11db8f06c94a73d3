"""Conversations by plain SMS, end to end: signed webhooks in, Twilio REST calls out.

`serve`'s application runs on a free local port with the demo town; its outbox
worker sends through the real twilio client to the fake Twilio API.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from buonispesa.demo import DEMO_CITIZENS, DEMO_SHOPS, DEMO_SMS_NUMBER
from core.domain.messages import Moment, Param, t
from core.i18n import render_text
from core.services import ledger, security
from core.storage import models as m
from core.storage.uow import UnitOfWork
from tests.e2e.sms_harness import (
    SmsServer,
    assert_one_gsm7_segment,
)
from tests.factories import codes_other_than, make_cf

pytestmark = pytest.mark.filterwarnings(
    # twilio's asyncio client still uses aiohttp's deprecated BasicAuth.
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]
SHOP_NAME, SHOP_PHONE = DEMO_SHOPS[0][0], DEMO_SHOPS[0][6]
CODE = re.compile(r"\b(\d{6,})\b")


def said(msgid: str, language: str = "it", **params: Param) -> str:
    """A sentence as the service words it in `language` (catalogs change; msgids do not)."""
    return render_text(t(msgid, **params), language, sms=True)


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(1)


async def town_id(uow: UnitOfWork) -> int:
    town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
    assert town is not None
    return town.id


async def balance_of(server: SmsServer, phone: str) -> int:
    async with server.core.uow() as uow:
        town = await uow.municipalities.by_sms_number(DEMO_SMS_NUMBER)
        assert town is not None
        citizen = await uow.citizens.by_phone(town.id, phone)
        assert citizen is not None
        return await ledger.citizen_balance(uow, town.id, citizen.id)


async def test_balance_by_sms(sms_server_any_db: SmsServer) -> None:
    server = sms_server_any_db
    reply = await server.exchange(CITIZEN.phone, "saldo")
    assert "300,00" in reply  # four people: 300 € in the demo tranche
    # BALANCE is the same word; written in English to an Italian chat, the answer ends with
    # the way to English, in the one SMS.
    english = await server.exchange(CITIZEN.phone, "BALANCE")
    assert english.split("\n")[0] == reply.split("\n")[0]
    assert english.endswith("\nEnglish: write LANGUAGE EN")
    request = server.twilio.to(CITIZEN.phone)[0]
    assert request.from_ == DEMO_SMS_NUMBER  # answered from the town's own number
    assert request.status_callback == server.base_url + "/sms/twilio/status"
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_whole_application_by_sms(sms_server: SmsServer) -> None:
    server = sms_server
    phone, cf = "+393339990001", make_cf(4321)
    replies: list[str] = []

    async def step(body: str) -> list[str]:
        got = await server.say(phone, body)
        replies.extend(got)
        return got

    # Asked for in Italian: the application goes on in Italian, no language question.
    assert "Acconsenti?" in (await step("DOMANDA"))[0]
    await step("1")  # privacy: I agree
    await step(cf)
    await step("3")  # three people
    await step("2")  # no work income
    await step("2")  # no pension
    await step("800")  # savings
    await step("0")  # no public support
    summary = await step("0")  # no rent
    assert any(cf in text for text in summary), summary
    [code_sms] = await step("1")  # I declare, send: a code goes to this very number
    async with server.core.uow() as uow:
        assert (
            await uow.citizens.by_codice_fiscale(await town_id(uow), cf) is None
        )  # nothing sent yet
    [done] = await step(code_in(code_sms))

    async with server.core.uow() as uow:
        citizen = await uow.citizens.by_phone(await town_id(uow), phone)
        assert citizen is not None and citizen.codice_fiscale == cf
        application = await uow.applications.latest_for_citizen(citizen.id)
    assert application is not None and application.protocol in done
    assert application.household_size == 3 and application.source == "sms"
    assert application.liquidity_cents == 800_00
    assert_one_gsm7_segment(server.twilio.accepted)
    # The confirmation code does not stay readable in the database once sent.
    rows = await server.outbox_rows(phone)
    assert not any(code_in(code_sms) in json.dumps(row.payload) for row in rows)


async def test_a_shop_charges_by_sms_and_the_citizens_code_confirms(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    citizen = DEMO_CITIZENS[1]
    before = await balance_of(server, citizen.phone)
    confirmations = "buonispesa_payment_confirmations_total"
    confirmed_before = (await server.scrape()).value(confirmations)

    # The till's number is confirmed first: a code to the shop's own phone (once a day).
    till_code = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12,50")
    assert server.twilio.to(citizen.phone) == [] or all(
        "12,50" not in x.body for x in server.twilio.to(citizen.phone)
    )
    waiting = await server.exchange(SHOP_PHONE, code_in(till_code))
    assert "12,50" in waiting and citizen.phone[-3:] in waiting
    [code_sms] = (await server.replies(citizen.phone, 1))[-1:]
    assert SHOP_NAME in code_sms.body and "12,50" in code_sms.body
    code = code_in(code_sms.body)
    assert code not in waiting  # the cashier never sees the code

    confirmed = await server.exchange(SHOP_PHONE, code)
    assert "12,50" in confirmed
    receipt = (await server.replies(citizen.phone, 2))[-1]
    assert "12,50" in receipt.body
    assert await balance_of(server, citizen.phone) == before - 12_50
    assert_one_gsm7_segment(server.twilio.accepted)
    # /metrics counts the payment, from the database (every process sees the same figure).
    assert confirmed_before is not None
    assert (await server.scrape()).value(confirmations) == confirmed_before + 1


async def test_a_spoofed_shop_number_cannot_take_money_nor_lock_the_shop(
    sms_server: SmsServer,
) -> None:
    """Someone forges the shop's number: the till's confirmation code goes to the real shop
    phone, so no charge starts, no payment code can be typed, no wrong code counts."""
    server = sms_server
    citizen = DEMO_CITIZENS[1]
    before = await balance_of(server, citizen.phone)
    sent_to_citizen = len(server.twilio.to(citizen.phone))
    for _ in range(3):
        await server.say(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 100")
        # Guesses at the till's code, sent to the real shop phone: never the one drawn.
        drawn = [
            found.group(1) for r in server.twilio.to(SHOP_PHONE) if (found := CODE.search(r.body))
        ]
        for guess in codes_other_than(*drawn, count=3):
            await server.say(SHOP_PHONE, guess)

    assert await balance_of(server, citizen.phone) == before
    assert len(server.twilio.to(citizen.phone)) == sent_to_citizen  # no payment code at all
    async with server.core.uow() as uow:
        assert (await uow.session.scalars(select(m.Charge))).all() == []
        assert (
            await uow.session.scalars(
                select(m.SecurityEvent).where(m.SecurityEvent.kind == security.WRONG_PAYMENT_CODE)
            )
        ).all() == []
        shop = (await uow.shops.membership("sms", SHOP_PHONE))[0][1]
        assert shop.locked_until is None and shop.blocked_at is None


async def test_four_rounds_of_two_wrong_codes_and_annulla_lock_the_shop_by_sms(
    sms_server: SmsServer,
) -> None:
    server = sms_server
    citizen = DEMO_CITIZENS[1]
    till_code = await server.exchange(SHOP_PHONE, "PAGA")
    await server.exchange(SHOP_PHONE, code_in(till_code))
    answers = []
    for _ in range(4):
        reply = await server.exchange(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 5")
        if reply.startswith("Codice ") and "5,00" not in reply:
            # Two wrong codes ended the till session: the shop's own phone confirms it again.
            reply = await server.exchange(SHOP_PHONE, code_in(reply))
        answers.append([reply])
        if "5,00" not in reply:  # refused: locked
            continue
        code = code_in(server.twilio.to(citizen.phone)[-1].body)
        for guess in ("000000", "999999"):
            answers[-1].append(
                await server.exchange(SHOP_PHONE, guess if guess != code else "111111")
            )
        answers[-1] += await server.say(SHOP_PHONE, "ANNULLA")
    locked = said("The shop cannot charge for {minutes} minutes.", minutes=30)
    assert any(locked in text for text in answers[2]), answers[2]
    async with server.core.uow() as uow:
        shop = (await uow.shops.membership("sms", SHOP_PHONE))[0][1]
        assert shop.locked_until is not None
        assert await security.wrong_codes_of_shop(uow, shop.id, server.core.now()) == 5
    refused = said(
        "Too many wrong codes: your shop can charge again from {until}.",
        until=Moment(shop.locked_until),
    )
    assert len(answers[3]) == 1 and answers[3][0].startswith(refused)
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_spoofed_citizen_number_cannot_change_an_application(sms_server: SmsServer) -> None:
    """An application changed from SMS waits for a code sent to the number; a forger lacks it."""
    server = sms_server
    phone, cf = "+393339990002", make_cf(4322)
    for body in ("DOMANDA", "1", cf, "2", "2", "2", "100", "0", "0"):
        await server.say(phone, body)
    [code_sms] = await server.say(phone, "1")
    await server.say(phone, code_in(code_sms))

    # Now a forger writes from the same number and tries to raise the household size.
    for body in ("DOMANDA", "1", "2", "1"):  # change the answers, change: people
        await server.say(phone, body)
    summary = await server.say(phone, "9")
    assert any(said("People: {count}", count=9) in text for text in summary), summary
    [code_sms] = await server.say(phone, "1")  # declare: a code goes to the real phone
    replies = []
    guesses = [g for g in ("000000", "111111", "222222", "333333") if g != code_in(code_sms)]
    for guess in guesses[:3]:
        replies += await server.say(phone, guess)

    async with server.core.uow() as uow:
        citizen = await uow.citizens.by_phone(await town_id(uow), phone)
        assert citizen is not None
        application = await uow.applications.latest_for_citizen(citizen.id)
    assert application is not None and application.household_size == 2
    cancelled = said("Too many wrong codes: the request was cancelled. Nothing was changed.")
    assert cancelled in replies, replies


async def test_stop_turns_notices_off_but_a_question_still_gets_its_answer(
    sms_server: SmsServer,
) -> None:
    server = sms_server
    [confirmation] = await server.say(CITIZEN.phone, "STOP")
    assert "START" in confirmation

    assert await server.say(CITIZEN.phone, "stop") == []  # confirmed once only
    assert "300,00" in await server.exchange(CITIZEN.phone, "SALDO")
    await server.quiet()
    assert len(server.twilio.to(CITIZEN.phone)) == 2

    [resumed] = await server.say(CITIZEN.phone, "START")  # one SMS for one word
    assert said("Notices are on again. Write MENU to see what you can do.") == resumed


async def test_a_shop_cannot_flood_a_citizen_with_payment_codes_by_sms(
    sms_server: SmsServer,
) -> None:
    """The usertest's 13 PAGA in a minute: each new PAGA replaces the pending one (its code
    void, said in the new code's one SMS), and the seventh code in the hour is not sent."""
    server = sms_server
    citizen = DEMO_CITIZENS[1]
    till_code = await server.exchange(SHOP_PHONE, "PAGA")
    await server.exchange(SHOP_PHONE, code_in(till_code))
    # Euro and cents split by a space: the amount error, not "nobody found", no lookup miss.
    replies = await server.say(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 12 50")
    split = said("Write the amount like 12,50: a comma before the cents, no space.")
    assert split in " ".join(replies), replies
    await server.say(SHOP_PHONE, "ANNULLA")
    sent = len(server.twilio.to(citizen.phone))
    for _ in range(6):
        # From the second on, the till is also told of the payment given up.
        await server.say(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 0,01")
    codes = server.twilio.to(citizen.phone)[sent:]
    assert len(codes) == 6
    assert "il vecchio è annullato" in codes[-1].body  # the replacement says the old code is void
    reply = (await server.say(SHOP_PHONE, f"PAGA {citizen.codice_fiscale} 0,01"))[0]
    # It says from when ("… Riprova dal 04/12/2026 alle 15:21."): the sentence up to the
    # moment, then a day and a time (the day of the town's clock: near midnight the moment
    # an hour on is the next day).
    refusal = "Too many payment requests for this person: nothing was sent. Try again from {when}."
    assert reply.startswith(said(refusal, when=Moment(server.core.now())).rsplit(" ", 3)[0])
    assert re.search(r"dal \d{2}/\d{2}/\d{4} alle \d{2}:\d{2}\.", reply), reply
    assert len(server.twilio.to(citizen.phone)) == sent + 6
    async with server.core.uow() as uow:
        statuses = [x.status for x in (await uow.session.scalars(select(m.Charge))).all()]
        assert (
            await security.count(uow, security.LOOKUP_MISS, server.core.now().replace(year=2000))
            == 0
        )
    assert statuses.count("pending") == 1 and statuses.count("cancelled") == 5
    assert_one_gsm7_segment(server.twilio.accepted)

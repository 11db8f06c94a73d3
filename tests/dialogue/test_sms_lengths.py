"""Whole conversations by SMS with the longest realistic names and amounts, in both languages.

The harness renders every SMS reply in its language and fails when one needs a
second segment or a character outside GSM-7.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.bootstrap import Core
from core.dialogue.errors import error_text
from core.domain.errors import DomainError, Refusal
from core.domain.ledger import PostingKind
from core.domain.messages import Reply
from core.domain.shops import ShopCategory
from core.services import allocation, ledger, municipalities
from core.services.applications import ApplicationInput, submit_application
from core.services.shops import ShopInput, approve_shop, register_shop
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    Chat,
    assert_one_segment,
    confirmation_code,
    open_till,
    outbox_of,
    wrong_guesses,
)
from tests.dialogue.test_shop import citizen_code, own_code
from tests.factories import make_cf, make_partita_iva, record_fund

TOWN = "San Valentino in Abruzzo Citeriore"
SHOP = "Alimentari e Frutta Da Mario e Figli S.n"  # 40, the longest a shop may register
ADDRESS = "Via Vittorio Emanuele II 123, angolo Via Garibaldi"  # 50
SHOP_PHONE = "+393470000001"
CITIZEN_PHONE = "+393470000002"


async def long_town(core: Core) -> str:
    now = core.now()
    async with core.uow() as uow:
        town = await municipalities.add_municipality(uow, code="SVA", name=TOWN, now=now)
        await record_fund(uow, town)
        await municipalities.open_window(uow, town, now - timedelta(days=10), days=4)
        cf = make_cf(7)
        await submit_application(
            uow,
            town,
            ApplicationInput(cf, CITIZEN_PHONE, 9, False, False, 0, 98_765_43, 0),
            source="paper",
            now=now - timedelta(days=9),
        )
        await allocation.approve(uow, town, 100_000_00, now - timedelta(days=5))
        await allocation.credit(uow, town, now - timedelta(days=5))
        for index in range(6):
            shop = await register_shop(
                uow,
                town.id,
                ShopInput(
                    SHOP[:-1] + str(index),
                    make_partita_iva(10 + index),
                    ShopCategory.GROCERY,
                    ADDRESS,
                    TOWN,
                    "65020",
                    42.2 + index / 1000,
                    14.1,
                    "IT60X0542811101000000123456",
                ),
                owner_channel="sms",
                owner_address=SHOP_PHONE if index == 0 else f"+3934700001{index:02d}",
                now=now,
            )
            await approve_shop(uow, town.id, shop.id, now)
        await municipalities.open_window(uow, town, now)
        await uow.commit()
        return cf


@pytest.mark.parametrize("language", ["it", "en"])
async def test_citizen_conversations_fit_one_sms(core: Core, language: str) -> None:
    cf = await long_town(core)
    chat = Chat(core, CITIZEN_PHONE)
    for text in (
        f"LINGUA {language}",
        "AIUTO",
        "MENU",
        "SALDO",
        "STATO",
        "CARTA",
        "NEGOZI",
        "65020",
        f"NEGOZI {TOWN}",
        "NEGOZI farmacia",
        "NEGOZI xyz",
        "DOMANDA",
        "xyz",
        "ANNULLA",
        "LINGUA",
        "1" if language == "it" else "2",
        "bla",
        "ho perso il portafoglio",
    ):
        await chat.send(text)
    # A neighbour's phone, new to the town: the welcome with the longest town's name.
    neighbour = Chat(core, "+393470000005")
    for text in (f"LINGUA {language}", "ho perso la borsa", "ho perso il telefono e la tessera"):
        await neighbour.send(text)
    await Chat(core, "+393470000006").send("50 euro")
    newcomer = Chat(core, "+393470000003")
    script = [
        f"LINGUA {language}",
        "DOMANDA",
        "x",
        "1",
        cf[:-1] + "X",
        make_cf(8),
        "99",
        "12",
        "1",
        "2",
        "zero",
        "123.456,78",
        "9.876,54",
        "1.234,56",
        "AIUTO",
        "2",
        "3",
        "2",
        "1",
        a_wrong_code,
        await_code,
    ]
    for step in script:
        if step is await_code:
            text = await own_code(newcomer)
        elif step is a_wrong_code:
            text = wrong_guesses(await own_code(newcomer), 1)[0]
        else:
            text = str(step)
        await newcomer.send(text)
    assert "Application sent" in newcomer.last[-1].texts[0].msgid
    for text in ("DOMANDA", "1", "2", "7", "ANNULLA", "STOP"):
        await newcomer.send(text)
    assert await outbox_of(core, "sms", "+393470000003")
    # Someone else's codice fiscale: the refusal, and the holder's notice, one SMS each.
    stranger = Chat(core, "+393470000004")
    for text in (f"LINGUA {language}", "DOMANDA", "1", cf, "2", "2", "2", "0", "0", "0", "1"):
        await stranger.send(text)
    await stranger.send(await own_code(stranger))
    assert stranger.last[-1].texts[0].msgid.startswith("We cannot do this from the chat.")
    [notice] = [
        (row, reply)
        for row, reply in await outbox_of(core, "sms", CITIZEN_PHONE)
        if reply.texts and reply.texts[0].msgid.startswith("Someone tried to apply")
    ]
    assert notice[0].language == language
    assert_one_segment(notice[1], language)


async def await_code() -> None:  # a marker in the script: type the code just received
    raise AssertionError("never called")


async def a_wrong_code() -> None:  # a marker in the script: six digits that are not that code
    raise AssertionError("never called")


@pytest.mark.parametrize("language", ["it", "en"])
async def test_shop_conversations_fit_one_sms(core: Core, language: str, clock: FakeClock) -> None:
    cf = await long_town(core)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale((await uow.municipalities.all())[0].id, cf)
        assert citizen is not None
        citizen.language = language
        await uow.commit()
    await till.send(f"PAGA {cf} 12 50")  # the amount split by a space: said as such
    for amount in ("99,99", "123,45", "1,01", "77", "250", "0,50"):
        await till.send(f"PAGA {cf} {amount}")
        # 250 is above what is left: its code message is the above-balance variant.
        await till.send(await citizen_code(core, CITIZEN_PHONE, above_balance=amount == "250"))
    # A new hour (at most 6 payment codes an hour to one person); a new PAGA replaces the
    # pending one, and its code message says the previous code is void (both variants).
    clock.advance(minutes=61)
    for amount in ("5", "500", "5"):
        await till.send(f"PAGA {cf} {amount}")
    await till.send(f"PAGA {cf} 5")
    # The second wrong code ends the till session (said in one SMS); a code typed
    # afterwards has nothing to confirm. None of them is the customer's nor the till's code.
    first, second, third = wrong_guesses(
        await citizen_code(core, CITIZEN_PHONE), 3, await own_code(till)
    )
    for wrong in (first, second):
        await till.send(wrong)
    assert any("Confirm the till again" in x.msgid for r in till.last for x in r.texts)
    await till.send(third)
    # Above the balance: the citizen's code message says so, the shop's answer is neutral.
    # The till confirms its session again first.
    await till.send(f"PAGA {cf} 500")
    await till.send(await confirmation_code(till))
    await till.send(await citizen_code(core, CITIZEN_PHONE, above_balance=True))
    await till.send(f"PAGA {cf} 5")
    for wrong in wrong_guesses(await citizen_code(core, CITIZEN_PHONE), 2, await own_code(till)):
        await till.send(wrong)
    # A fifth wrong code today, in a new session (and a new hour of payment codes): the
    # shop is locked, and told until when.
    clock.advance(minutes=61)
    await till.send(f"PAGA {cf} 5")
    await till.send(await confirmation_code(till))
    await till.send(wrong_guesses(await citizen_code(core, CITIZEN_PHONE), 1)[0])
    await till.send(f"PAGA {cf} 5")
    assert any("Too many wrong codes" in x.msgid for r in till.last for x in r.texts)
    for text in ("AIUTO", "MENU", "STORNO", "1", "1"):
        await till.send(text)
    await till.send(await own_code(till))
    for text in ("RESOCONTO", "1", "RESOCONTO MESE", "RIMBORSO", "CASSIERE"):
        await till.send(text)
    await till.send(await own_code(till))
    async with core.uow() as uow:
        town_id = (await uow.municipalities.all())[0].id
        shop = (await uow.shops.membership("sms", SHOP_PHONE))[0][1]
        await ledger.post(
            uow,
            municipality_id=town_id,
            kind=PostingKind.REIMBURSEMENT,
            from_owner=shop.id,
            to_owner=0,
            amount_cents=100,
            now=core.now(),
        )
        await uow.commit()
    await till.send("RIMBORSO")
    # The customer's side: codes, receipts, warnings, refunds, all by SMS.
    for row, reply in await outbox_of(core, "sms", CITIZEN_PHONE):
        from tests.dialogue.harness import assert_one_segment

        assert_one_segment(reply, row.language)
    newcomer = Chat(core, "+393470000009")
    for text in (
        f"LINGUA {language}",
        "REGISTRA",
        SHOP,
        make_partita_iva(99),
        "6",
        ADDRESS,
        "1",
        "65020",
        "IT60X0542811101000000123456",
        "2",
        "1",
        SHOP[:-2],
        "1",
    ):
        await newcomer.send(text)
    await newcomer.send(await own_code(newcomer))


TYPED = "Bottega “È Buono” – Frutta da Mario e C 🍎"  # 40 in its SMS form


@pytest.mark.parametrize("language", ["it", "en"])
async def test_typed_names_are_kept_and_every_page_of_a_list_fits(
    core: Core, language: str
) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        for index in range(3):
            shop = await register_shop(
                uow,
                town.id,
                ShopInput(
                    TYPED if index == 0 else f"{TYPED[:-3]} {index} ✨",
                    make_partita_iva(40 + index),
                    ShopCategory.GREENGROCER,
                    ADDRESS,
                    "Castel di Sangro",  # another town: the line names it
                    "67031",
                    None,
                    None,
                    "IT60X0542811101000000123456",
                ),
                owner_channel="sms",
                owner_address=f"+3934700002{index:02d}",
                now=core.now(),
            )
            await approve_shop(uow, town.id, shop.id, core.now())
        await uow.commit()
    chat = Chat(core, CITIZEN_PHONE)
    await chat.send(f"LINGUA {language}")
    seen: list[str] = []
    replies = await chat.send("NEGOZI San Valentino")
    pages = 1
    while True:
        seen += [str(x.params["shop"]) for r in replies for x in r.texts if "shop" in x.params]
        if "ALTRI for more." not in [x.msgid for r in replies for x in r.texts]:
            break
        replies = await chat.send("ALTRI" if language == "it" else "MORE")
        pages += 1
    assert len(seen) == len(set(seen)) == 6 and pages > 1  # all six, none twice, in pages
    seen = []
    replies = await chat.send("NEGOZI frutta")
    while True:
        seen += [str(x.params["shop"]) for r in replies for x in r.texts if "shop" in x.params]
        if "ALTRI for more." not in [x.msgid for r in replies for x in r.texts]:
            break
        replies = await chat.send("altri")
    assert TYPED in seen and len(seen) == 3  # stored as typed, shown GSM-7 safe
    await chat.expect("ALTRI", "There is nothing more to show. Write NEGOZI to find shops.")
    # The payment code and the receipt name the shop: still one GSM-7 segment each.
    till = await open_till(Chat(core, "+393470000200"))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 12,50")
    await till.send(await citizen_code(core, CITIZEN_PHONE))
    for row, reply in await outbox_of(core, "sms", CITIZEN_PHONE):
        body = assert_one_segment(reply, row.language)
        assert "🍎" not in body and "“" not in body
    for text in ("MENU", "AIUTO", "1"):
        await chat.send(text)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_refusal_over_the_codes_per_hour_fits_one_sms(language: str) -> None:
    refusal = error_text(DomainError(Refusal.PAYMENT_CODES_TOO_MANY))
    assert_one_segment(Reply.of(refusal), language)

"""A trial at an SMS till, in the demo town: Alimentari Da Rita (+393331000101)
charges Laura (BNCLRA90A41A739A, +393331000002).

1. A cashier who typed an old code of Laura's and then a guess ended the SMS till session,
   and Laura read that the shop had cancelled: a guessing cashier looked like a shop that
   changed its mind. Every code that is not the payment's own is a wrong code, whatever it
   is (a slip, a guess, the code of an earlier payment, another payment's code), and the
   last one the till may type cancels the payment and warns the customer, on every channel.
2. After Laura refused the payment, the till still read the cashier's next message as the
   code of the refused payment ("The code has 6 digits, you wrote 7").

What the till and the customer receive is read as they read it, in Italian."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from buonispesa.demo import seed_demo
from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from core.services import delegates, security
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import TILL_CODE, Chat, msgids, open_till, outbox_of
from tests.dialogue.test_cards_delegates import code_sent_to_delegate, delegated_town
from tests.dialogue.test_shop import ASK_CODE, CONFIRMED, NOTHING_WAITING, citizen_code
from tests.dialogue.test_sms_lengths import SHOP_PHONE as LONG_SHOP_PHONE
from tests.dialogue.test_till_slips import wrong_codes
from tests.factories import shared_phone

SHOP_PHONE = "+393331000101"
BAKERY_PHONE = "+393331000102"  # Forno Chienti
CITIZEN_PHONE = "+393331000002"
CF = "BNCLRA90A41A739A"
DEMO_DAY = datetime(2026, 12, 3, 12, 15, tzinfo=UTC)
CHANNELS = [Channel.SMS, Channel.TERMINAL]

SIX_DIGITS = (
    "The code has {digits} digits, you wrote {count}: ask the customer again and write it "
    "here, or ANNULLA."
)
WARNED = (
    "Attenzione: Alimentari Da Rita ha sbagliato il codice troppe volte. Pagamento di 12,50 € "
    "annullato. Di' il codice solo al cassiere."
)
AFTER = "\n1 Nuovo incasso\n2 Menu"
# After a wrong code the till reads what to do next (tests/dialogue/test_wrong_taps.py).
READ_AGAIN = "\nChiedi al cliente di rileggerti il codice dal telefono e scrivilo, oppure ANNULLA."


def code_sms(code: str, amount: str = "12,50 €") -> str:
    return (
        f"Alimentari Da Rita chiede {amount}. Codice: {code}. Dillo al cassiere solo se sei "
        "d'accordo. Valido 10 min."
    )


def read(replies: list[Reply], channel: Channel = Channel.SMS) -> list[str]:
    """The replies as the chat shows them (off SMS an amount keeps its euro sign on the same
    line with a no-break space, read here as a space)."""
    return [
        render_plain(reply, "it", sms=channel is Channel.SMS).replace("\xa0", " ")
        for reply in replies
    ]


async def demo_till(core: Core, clock: FakeClock, channel: Channel) -> Chat:
    """Rita's till in the demo town: by SMS its session confirmed with the code sent to the
    shop's phone; at the terminal chat, nothing to confirm."""
    clock.current = DEMO_DAY
    assert await seed_demo(core)
    till = Chat(core, SHOP_PHONE, channel=channel)
    if channel is Channel.SMS:
        await open_till(till)
    return till


async def laura_received(core: Core, since: int = 0) -> list[str]:
    rows = await outbox_of(core, "sms", CITIZEN_PHONE)
    return [render_plain(reply, row.language, sms=True) for row, reply in rows[since:]]


async def charges(core: Core) -> list[tuple[int, str, str | None, int]]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(select(m.Charge).order_by(m.Charge.id))
        return [(c.amount_cents, c.status, c.closed_reason, c.attempts) for c in rows]


def wrong_guesses(code: str, count: int) -> list[str]:
    """Guesses that are not `code` (the customer's real one)."""
    return [guess for guess in ("123456", "654321", "111111", "222222") if guess != code][:count]


# 1. Wrong codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("earlier", ["paid", "refused"])
@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_old_code_and_a_guess_warn_the_customer_never_say_the_shop_cancelled(
    core: Core, clock: FakeClock, channel: Channel, earlier: str
) -> None:
    till = await demo_till(core, clock, channel)
    # An earlier payment of Laura's at this till: the cashier heard its code.
    await till.expect(f"PAGA {CF} 3", ASK_CODE)
    old = await citizen_code(core, CITIZEN_PHONE)
    if earlier == "paid":
        await till.expect(old, CONFIRMED)
    else:
        await Chat(core, CITIZEN_PHONE).send("ANNULLA")
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    # The old code is a wrong code like any other: counted, and the till told truly how
    # many it may still type (by SMS the session's second wrong code is the last).
    assert read(await till.send(old), channel) == [
        "Codice sbagliato: resta 1 tentativo." + READ_AGAIN
        if channel is Channel.SMS
        else "Codice sbagliato: restano 2 tentativi." + READ_AGAIN
    ]
    if channel is Channel.SMS:
        [guess] = wrong_guesses(code, 1)
        assert read(await till.send(guess)) == [
            "Due codici sbagliati: pagamento di 12,50 € annullato, il cliente è avvisato. "
            "Conferma di nuovo la cassa con PAGA e richiedilo." + AFTER
        ]
    else:
        first, second = wrong_guesses(code, 2)
        assert read(await till.send(first), channel) == [
            "Codice sbagliato: resta 1 tentativo." + READ_AGAIN
        ]
        assert read(await till.send(second), channel) == [
            "Troppi codici sbagliati: il pagamento di 12,50 € è stato annullato." + AFTER
        ]
    # Laura received her code, then the warning: never that the shop cancelled.
    assert await laura_received(core, seen) == [code_sms(code), WARNED]
    tries = 2 if channel is Channel.SMS else 3
    assert (await charges(core))[-1] == (12_50, "cancelled", "too_many_attempts", tries)
    assert await wrong_codes(core) == tries
    # The right code told afterwards pays nothing.
    await till.expect(code, NOTHING_WAITING)
    assert (await charges(core))[0][1] == ("confirmed" if earlier == "paid" else "cancelled")


@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_code_of_another_shops_payment_is_a_wrong_code_and_leaves_that_one_alone(
    core: Core, clock: FakeClock, channel: Channel
) -> None:
    till = await demo_till(core, clock, channel)
    bakery = Chat(core, BAKERY_PHONE, channel=Channel.TERMINAL)
    await bakery.expect(f"PAGA {CF} 5", ASK_CODE)
    bakery_code = await citizen_code(core, CITIZEN_PHONE)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    # Laura reads out the bakery's code at Rita's till.
    assert read(await till.send(bakery_code), channel) == [
        "Codice sbagliato: resta 1 tentativo." + READ_AGAIN
        if channel is Channel.SMS
        else "Codice sbagliato: restano 2 tentativi." + READ_AGAIN
    ]
    assert await charges(core) == [(5_00, "pending", None, 0), (12_50, "pending", None, 1)]
    assert await laura_received(core, seen) == []
    # Each code still pays its own payment.
    await till.expect(code, CONFIRMED)
    await bakery.expect(bakery_code, CONFIRMED)
    assert [status for _, status, _, _ in await charges(core)] == ["confirmed", "confirmed"]
    assert await wrong_codes(core) == 1


async def test_the_sms_sessions_last_wrong_code_that_locks_the_shop_says_the_lock(
    core: Core, clock: FakeClock
) -> None:
    """The session's second wrong code is also the shop's fifth of the day: the till hears
    that the shop is locked (what matters more), the customer is warned, and the session
    ended all the same."""
    till = await demo_till(core, clock, Channel.SMS)
    async with core.uow() as uow:
        [shop_id] = (
            await uow.session.scalars(
                select(m.ShopMember.shop_id).where(
                    m.ShopMember.channel == "sms", m.ShopMember.address == SHOP_PHONE
                )
            )
        ).all()
        for _ in range(3):  # three wrong codes typed earlier today
            await security.record(uow, security.WRONG_PAYMENT_CODE, core.now(), shop_id=shop_id)
        await uow.commit()
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    first, second = wrong_guesses(code, 2)
    assert read(await till.send(first)) == ["Codice sbagliato: resta 1 tentativo." + READ_AGAIN]
    assert read(await till.send(second)) == [
        "Troppi codici sbagliati: il pagamento di 12,50 € è stato annullato.\nIl negozio non "
        "può incassare per 30 minuti." + AFTER
    ]
    assert await laura_received(core, seen) == [WARNED]
    assert (await charges(core))[-1] == (12_50, "cancelled", "too_many_attempts", 2)
    # The session ended: the next PAGA asks for the till's code again.
    await till.expect(f"PAGA {CF} 4", TILL_CODE)


# 2. The customer refused (or the payment ended elsewhere) --------------------------------


@pytest.mark.parametrize("ended", ["refused", "expired"])
@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_next_message_after_the_payment_ended_is_read_afresh(
    core: Core, clock: FakeClock, channel: Channel, ended: str
) -> None:
    till = await demo_till(core, clock, channel)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    if ended == "refused":
        await Chat(core, CITIZEN_PHONE).send("annulla")
    else:
        clock.advance(minutes=11)
    question = "mi dai il saldo di RSSMRA85T10A739J"
    replies = await till.send(question)
    assert SIX_DIGITS not in msgids(replies)
    assert (await till.state())[:2] == (None, None)
    # The same words with nothing open get the same answer.
    assert read(replies, channel) == read(await till.send(question), channel)
    assert await wrong_codes(core) == 0


@pytest.mark.parametrize("typed", ["the code", "12345"])
@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_code_typed_after_the_customer_refused_is_told_so(
    core: Core, clock: FakeClock, channel: Channel, typed: str
) -> None:
    till = await demo_till(core, clock, channel)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    await Chat(core, CITIZEN_PHONE).send("annulla")
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    replies = await till.send(code if typed == "the code" else typed)
    assert read(replies, channel) == [
        "La persona ha rifiutato il pagamento di 12,50 €: il codice non vale più. Chiedi come "
        "vuole pagare." + AFTER
    ]
    # Nothing counted, nothing sent, nothing paid; an SMS till's session goes on.
    assert await charges(core) == [(12_50, "cancelled", "by_citizen", 0)]
    assert await wrong_codes(core) == 0
    assert await laura_received(core, seen) == []
    await till.expect(f"PAGA {CF} 4", ASK_CODE)
    assert TILL_CODE not in msgids(till.last)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_code_typed_after_it_expired_is_told_so(
    core: Core, clock: FakeClock, channel: Channel
) -> None:
    till = await demo_till(core, clock, channel)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    clock.advance(minutes=11)
    assert read(await till.send(code), channel) == [
        "Il codice è scaduto: il pagamento di 12,50 € è stato annullato. Ricomincia." + AFTER
    ]
    assert await wrong_codes(core) == 0
    assert (await till.state())[:2] == (None, None)


@pytest.mark.parametrize("typed", ["the code", "words"])
async def test_after_the_office_voided_the_code_the_till_no_longer_waits_for_it(
    core: Core, typed: str
) -> None:
    """The office removed the delegate the code went to (code_destinations): the till was
    told then; its next message is not read as that payment's code."""
    cf = await delegated_town(core)
    till = await open_till(Chat(core, LONG_SHOP_PHONE))
    await till.expect(f"PAGA {cf} 10", ASK_CODE)
    code = await code_sent_to_delegate(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await delegates.remove_delegate(uow, town, cf, core.now())
        await uow.commit()
    if typed == "the code":
        assert read(await till.send(code)) == [
            "L'ufficio ha annullato il pagamento di 10,00 €: non può essere completato, non "
            "aspettare il codice." + AFTER
        ]
    else:
        replies = await till.send("scusa, mi ripeti il codice fiscale RSSMRA85T10A739J?")
        assert SIX_DIGITS not in msgids(replies)
        assert (await till.state())[:2] == (None, None)
    async with core.uow() as uow:
        [charge] = (await uow.session.scalars(select(m.Charge))).all()
        assert (charge.status, charge.closed_reason, charge.attempts) == (
            "cancelled",
            "code_elsewhere",
            0,
        )
    assert await wrong_codes(core) == 0


# 3. The cashier gave up after wrong codes -------------------------------------------------

TELEGRAM_CASHIER = "7101"
TILL_CHANNELS = [*CHANNELS, Channel.TELEGRAM]


async def any_till(core: Core, clock: FakeClock, channel: Channel) -> Chat:
    """Rita's till by SMS or at the terminal (demo_till), or a cashier of hers on Telegram."""
    if channel is not Channel.TELEGRAM:
        return await demo_till(core, clock, channel)
    clock.current = DEMO_DAY
    assert await seed_demo(core)
    async with core.uow() as uow:
        [shop_id] = (
            await uow.session.scalars(
                select(m.ShopMember.shop_id).where(
                    m.ShopMember.channel == "sms", m.ShopMember.address == SHOP_PHONE
                )
            )
        ).all()
        uow.add(
            m.ShopMember(
                shop_id=shop_id,
                channel="telegram",
                address=TELEGRAM_CASHIER,
                role="cashier",
                phone=shared_phone("telegram", TELEGRAM_CASHIER),
                created_at=core.now(),
            )
        )
        await uow.commit()
    return Chat(core, TELEGRAM_CASHIER, channel=Channel.TELEGRAM)


@pytest.mark.parametrize("channel", TILL_CHANNELS)
async def test_annulla_after_a_wrong_code_warns_the_customer_of_it(
    core: Core, clock: FakeClock, channel: Channel
) -> None:
    """A cashier typed a wrong code, then wrote ANNULLA: Laura read "the shop cancelled",
    as if the shop had changed its mind, while someone may have been guessing her code.
    Now she reads how many wrong codes were typed, and to give her code only to the
    cashier; a payment given up with no wrong code is told as before."""
    till = await any_till(core, clock, channel)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    [guess] = wrong_guesses(code, 1)
    assert read(await till.send(guess), channel)[0].startswith("Codice sbagliato: rest")
    await till.send("ANNULLA")
    assert await laura_received(core, seen) == [
        "Attenzione: Alimentari Da Rita ha annullato il pagamento di 12,50 € dopo 1 codice "
        "sbagliato. Di' il codice solo al cassiere."
    ]
    assert (await charges(core))[-1] == (12_50, "cancelled", "by_shop", 1)
    # The next payment, given up with no wrong code: the plain notice.
    await till.expect(f"PAGA {CF} 4", ASK_CODE)
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE)) - 1  # its code was sent
    await till.send("ANNULLA")
    assert (await laura_received(core, seen))[1:] == [
        "Alimentari Da Rita ha annullato il pagamento di 4,00 €. Il codice non è più valido."
    ]
    assert (await charges(core))[-1] == (4_00, "cancelled", "by_shop", 0)


# 4. A new PAGA after wrong codes ------------------------------------------------------------


@pytest.mark.parametrize("channel", TILL_CHANNELS)
async def test_a_new_paga_after_a_wrong_code_warns_the_customer_of_it(
    core: Core, clock: FakeClock, channel: Channel
) -> None:
    """A cashier typed a wrong code, then asked the payment again: Laura's new code came
    with "the old one is cancelled", as if the shop had only changed the amount, while
    someone may have been guessing her code. Now the new code's SMS says how many wrong
    codes were typed for the old one, and to give the code only to the cashier, in one SMS;
    a payment asked again with no wrong code is told as before."""
    till = await any_till(core, clock, channel)
    await till.expect(f"PAGA {CF} 12,50", ASK_CODE)
    code = await citizen_code(core, CITIZEN_PHONE)
    [guess] = wrong_guesses(code, 1)
    assert read(await till.send(guess), channel)[0].startswith("Codice sbagliato: rest")
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    await till.send(f"PAGA {CF} 12")
    new = await citizen_code(core, CITIZEN_PHONE)
    assert await laura_received(core, seen) == [
        f"Alimentari Da Rita chiede 12,00 €. Nuovo codice {new}: il vecchio è annullato dopo 1 "
        "codice sbagliato. Dillo solo al cassiere."
    ]
    assert (await charges(core))[-2:] == [
        (12_50, "cancelled", "replaced", 1),
        (12_00, "pending", None, 0),
    ]
    # Asked again with no wrong code typed for it: the plain new code, as before.
    seen = len(await outbox_of(core, "sms", CITIZEN_PHONE))
    await till.send(f"PAGA {CF} 11")
    [said] = await laura_received(core, seen)
    assert "il vecchio è annullato" in said and "sbagliat" not in said, said

"""A delegate's number proven in a Telegram chat by its own contact: every route (the
contact at the question, a contact shared unasked, one shared earlier in an application,
SALDO on the one-trip path and on the general path, STATO, CARTA, a card's link) answers
it as a delegate's phone, and a number that became a voucher holder's own answers for
that holder, as by SMS from it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.flows.citizen import DELEGATE_NO_CARD, DELEGATE_NO_STATUS, DELEGATE_NUMBER
from core.dialogue.inbound import Channel
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, param
from tests.dialogue.test_cards_delegates import DELEGATE, delegated_town
from tests.factories import make_cf

HOLDERS_BALANCE = "Balance of {holder}: {balance}."
OWN_BALANCE = "Your balance: {balance}."
NO_VOUCHERS = "We have no vouchers for this number. To apply, write DOMANDA."
OWN_STATUS = "Application {protocol} received on {when}: it is being assessed."
CARD = "ABCDEFGHJK"  # a card's link: the holder's balance, whoever's card it names


def telegram(core: Core, chat_id: str, *, one_trip: bool) -> Chat:
    engine = DialogueEngine(core, one_trip=one_trip)
    return Chat(core, chat_id, channel=Channel.TELEGRAM, engine=engine, language_hint="en")


def holder_of(cf: str) -> str:
    return cf[:6] + "*" * 9 + cf[-1]


def assert_the_holders_balance(chat: Chat, cf: str) -> None:
    said = msgids(chat.last)
    assert HOLDERS_BALANCE in said and NO_VOUCHERS not in said, said
    assert param(chat.last, "holder") == holder_of(cf)


async def answered_as_the_delegate(chat: Chat, cf: str, *, one_trip: bool) -> None:
    """The chat, once its contact proved the delegate's number, answered as that number is
    from then on: SALDO the holder's balance (on the path `one_trip` says), STATO and CARTA
    a delegate's answers, a card's link the holder's balance."""
    await chat.send("/saldo")
    assert_the_holders_balance(chat, cf)
    assert chat.result is not None and chat.result.one_trip is one_trip
    await chat.expect("/stato", DELEGATE_NO_STATUS.msgid)
    await chat.expect("/carta", DELEGATE_NO_CARD.msgid)
    await chat.send(None, start=CARD)
    assert_the_holders_balance(chat, cf)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_a_delegates_contact_shared_unasked_is_answered_as_a_delegate(
    core: Core, one_trip: bool
) -> None:
    cf = await delegated_town(core)
    chat = telegram(core, "7101", one_trip=one_trip)
    await chat.send("/start")
    # Shared with no question waiting: not "no vouchers for this number" (the number acts
    # for the holder), but the balance it acts for, as the contact question answers it.
    await chat.send(None, contact=(DELEGATE, True))
    assert_the_holders_balance(chat, cf)
    await answered_as_the_delegate(chat, cf, one_trip=one_trip)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_a_delegates_contact_shared_in_an_application_is_answered_as_a_delegate(
    core: Core, one_trip: bool
) -> None:
    cf = await delegated_town(core)
    chat = telegram(core, "7102", one_trip=one_trip)
    await chat.send("/apply")
    await chat.send("1")
    assert chat.last[-1].request == "contact"
    await chat.send(None, contact=(DELEGATE, True))
    await chat.send("/saldo")  # the draft is left aside, and said
    assert_the_holders_balance(chat, cf)
    await answered_as_the_delegate(chat, cf, one_trip=one_trip)


@pytest.mark.parametrize("asked", ["/carta", f"start:{CARD}"])
async def test_the_contact_question_answers_a_delegate_whatever_was_asked(
    core: Core, asked: str
) -> None:
    """SALDO and STATO at the question were answered so already
    (test_cards_delegates.test_a_delegate_on_telegram_shares_the_contact_and_sees_the_balance);
    the card and a card's link are answered alike."""
    cf = await delegated_town(core)
    chat = telegram(core, "7103", one_trip=True)
    await chat.send("/start")
    if asked.startswith("start:"):
        await chat.send(None, start=asked.removeprefix("start:"))
    else:
        await chat.send(asked)
    assert chat.last[-1].request == "contact"
    await chat.send(None, contact=(DELEGATE, True))
    said = msgids(chat.last)
    assert NO_VOUCHERS not in said, said
    if asked == "/carta":
        assert DELEGATE_NO_CARD.msgid in said, said
    else:
        assert_the_holders_balance(chat, cf)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_a_delegate_who_applied_sees_their_own_vouchers_as_by_sms(
    core: Core, one_trip: bool
) -> None:
    """docs/cards-and-delegates.md: a delegate who applies for their own household from
    the same phone sees their own balance with SALDO. A Telegram chat that proved that
    number before the application is answered as the phone is by SMS: the holder's own
    (the chat is linked to them), not the person it acts for."""
    await delegated_town(core)
    chat = telegram(core, "7104", one_trip=one_trip)
    await chat.send("/start")
    await chat.send(None, contact=(DELEGATE, True))
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await submit_application(
            uow,
            town,
            ApplicationInput(make_cf(8), DELEGATE, 2, False, False, 0, 1000_00, 0),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
    by_sms = Chat(core, DELEGATE, engine=DialogueEngine(core, one_trip=one_trip))
    await by_sms.expect("SALDO", OWN_BALANCE)
    await chat.expect("/saldo", OWN_BALANCE)
    assert HOLDERS_BALANCE not in msgids(chat.last)
    await chat.expect("/stato", OWN_STATUS)
    await chat.expect("/saldo", OWN_BALANCE)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        own = await uow.citizens.by_phone(town.id, DELEGATE)
        assert own is not None and own.telegram_chat_id == "7104"


async def holder_linked_without_phone(core: Core, chat_id: str) -> str:
    """delegated_town's citizen known without a phone, their chat `chat_id` linked by an
    application made before phones were required; returns their codice fiscale."""
    cf = await delegated_town(core)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.codice_fiscale == cf)
            .values(
                phone=None, phone_proven_by=None, phone_proven_at=None, telegram_chat_id=chat_id
            )
        )
        await uow.commit()
    return cf


async def holder_row(core: Core, cf: str) -> m.Citizen:
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        holder = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert holder is not None
        return holder


async def becomes_the_delegate(
    core: Core, chat_id: str, cf: str, holders_phone: str | None, *, one_trip: bool
) -> None:
    """The holder's linked chat shares the delegate's number, Telegram saying it is the
    account's own: told it now acts as the delegate, unlinked from the holder (whose own
    phone, `holders_phone`, stays), answered from then on as the delegate's number is."""
    chat = telegram(core, chat_id, one_trip=one_trip)
    await chat.expect("/saldo", OWN_BALANCE)  # linked to the holder, as before
    await chat.send(None, contact=(DELEGATE, True))
    said = msgids(chat.last)
    assert DELEGATE_NUMBER.msgid in said and OWN_BALANCE not in said, said
    assert_the_holders_balance(chat, cf)
    holder = await holder_row(core, cf)
    assert (holder.phone, holder.telegram_chat_id) == (holders_phone, None)
    await chat.send("/saldo")
    assert_the_holders_balance(chat, cf)
    await chat.expect("/stato", DELEGATE_NO_STATUS.msgid)
    await chat.expect("/carta", DELEGATE_NO_CARD.msgid)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_the_holders_chat_proving_the_delegates_number_acts_as_the_delegate(
    core: Core, one_trip: bool
) -> None:
    """The chat linked to the holder (no phone of their own) shares its own contact, and
    Telegram says it is the delegate's number: never bound as the holder's own phone; the
    chat is told, in words that say nothing of whose number it is, that it now acts as the
    delegate, and is answered so from then on."""
    cf = await holder_linked_without_phone(core, "7105")
    await becomes_the_delegate(core, "7105", cf, None, one_trip=one_trip)


async def test_the_holders_chat_applying_with_the_delegates_number_is_told_so(
    core: Core,
) -> None:
    """The same at the application's contact question: nothing bound, the draft dropped,
    the same words; the chat then acts as the delegate."""
    cf = await holder_linked_without_phone(core, "7106")
    chat = telegram(core, "7106", one_trip=False)
    await chat.send("/apply")
    while chat.last[-1].request != "contact":
        await chat.send("1")
    await chat.expect(None, DELEGATE_NUMBER.msgid, contact=(DELEGATE, True))
    holder = await holder_row(core, cf)
    assert (holder.phone, holder.telegram_chat_id) == (None, None)
    await chat.send("/saldo")
    assert_the_holders_balance(chat, cf)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_a_holder_with_a_phone_whose_chat_proves_the_delegates_number(
    core: Core, one_trip: bool
) -> None:
    """The holder has a phone of their own and a linked chat, whose account proves their
    delegate's number with a contact shared unasked: the account is the delegate's, so the
    chat stops acting as the holder (card, status, codes) and is answered as the delegate's
    number is; the holder keeps their own phone."""
    cf = await delegated_town(core)
    own_phone = (await holder_row(core, cf)).phone
    assert own_phone is not None
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.codice_fiscale == cf).values(telegram_chat_id="7107")
        )
        await uow.commit()
    await becomes_the_delegate(core, "7107", cf, own_phone, one_trip=one_trip)


@pytest.mark.parametrize("one_trip", [True, False])
async def test_another_households_chat_proving_a_delegates_number_acts_as_that_delegate(
    core: Core, one_trip: bool
) -> None:
    """Another household (a phone of its own, its chat linked) whose account proves the
    delegate's number of the first: the number cannot become theirs (they have one), and
    it speaks for the delegate. The chat is unlinked from them as from a holder whose own
    delegate's number it proves, and answered as that delegate's number is; their own
    phone stays."""
    cf = await delegated_town(core)
    other_cf, other_phone = make_cf(9), "+393471239108"
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await submit_application(
            uow,
            town,
            ApplicationInput(other_cf, other_phone, 2, False, False, 0, 1000_00, 0),
            source="paper",
            now=core.now(),
        )
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.codice_fiscale == other_cf)
            .values(telegram_chat_id="7108")
        )
        await uow.commit()
    chat = telegram(core, "7108", one_trip=one_trip)
    await chat.expect("/saldo", OWN_BALANCE)  # linked to the other household, as before
    await chat.send(None, contact=(DELEGATE, True))
    said = msgids(chat.last)
    assert DELEGATE_NUMBER.msgid in said and OWN_BALANCE not in said, said
    assert_the_holders_balance(chat, cf)
    other = await holder_row(core, other_cf)
    assert (other.phone, other.telegram_chat_id) == (other_phone, None)
    await chat.send("/saldo")
    assert_the_holders_balance(chat, cf)

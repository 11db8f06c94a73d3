"""At the till with a card and its one-time codes, and a delegate's phone, by chat (every SMS
one segment)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain import cards as card_domain
from core.domain.cards import PIN_FAILURES_PER_SHOP
from core.domain.messages import Money, Reply
from core.services import cards, delegates
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    TILL_CODE,
    Chat,
    assert_one_segment,
    confirmation_code,
    msgids,
    open_till,
    outbox_of,
    param,
)
from tests.dialogue.test_shop import CONFIRMED, NOBODY
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE, TOWN, long_town
from tests.factories import approved_request, pin_only

ASK_PIN = (
    "Card {card}, {amount}: ask the holder for code no. {position} of the card. Write it here. "
    "ANNULLA to stop."
)
WRONG_PIN = "Wrong code: {count} attempt left."
BLOCKED = (
    "Too many wrong codes: card blocked, payment of {amount} cancelled. The holder must ask "
    "the office for a new card."
)
NOT_HERE = (
    "Too many wrong codes for this card: payment of {amount} cancelled. This shop can charge "
    "it again from {until}."
)
NOT_HERE_AT_PAGA = (
    "Too many wrong codes for this card here: this shop can charge it again from {until}. It "
    "still works at other shops."
)
BLOCKED_AT_PAGA = (
    "This card is blocked after too many wrong codes. The holder must ask the office for a "
    "new card."
)
TOO_LATE = (
    "Too late: the payment of {amount} was cancelled, and code no. {position} of the card was "
    "not used. Start again."
)
# An old card, issued before the grids: the till asks for its PIN.
ASK_OLD_PIN = (
    "Card {card}, {amount}: the holder types the card's PIN or tells it to you. Write it here. "
    "ANNULLA to stop."
)
WRITE_OLD_PIN = "Write the PIN of the card (6 digits), or ANNULLA."
WRONG_OLD_PIN = "Wrong PIN: {count} attempt left."
NOT_HERE_PIN = (
    "Too many wrong PINs for this card: payment of {amount} cancelled. This shop can charge "
    "it again from {until}."
)
NOT_HERE_AT_PAGA_PIN = (
    "Too many wrong PINs for this card here: this shop can charge it again from {until}. It "
    "still works at other shops."
)
BLOCKED_AT_PAGA_PIN = (
    "This card is blocked after too many wrong PINs. The holder must ask the office for a new card."
)
TOO_LATE_PIN = "Too late: the payment of {amount} was cancelled. Start again."
# Until a lookup of a holder without a phone was nobody's (test_till_holders_without_phone).
PAYS_BY_CARD = (
    "This person pays with their voucher card: type or scan the card number, and we tell you "
    "which code of the card to ask for."
)
OTHER_SHOP_PHONE = "+393470000103"  # the owner of another shop of the long town
DELEGATE = "+393471234567"


async def no_phone_card(core: Core, cf: str, language: str) -> cards.CardData:
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert citizen is not None
        citizen.phone, citizen.language = None, language
        yes = await approved_request(uow, town, cf, "card")
        card = await cards.issue_card(uow, town, cf, core.now(), approved=yes)
        await uow.commit()
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(minutes=5)  # the holder goes shopping with the card
    return card


@pytest.mark.parametrize("language", ["it", "en"])
async def test_pay_with_the_card_and_its_pin(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    # By codice fiscale the holder without a phone is nobody to the shop: the card pays
    # (tests/dialogue/test_till_holders_without_phone.py).
    seen = await till.expect(f"PAGA {cf} 5", NOBODY)
    seen += await till.expect(f"PAGA {cards_grouped(card.card_code)} 12,50", ASK_PIN)
    assert param(till.last, "card") == cards_grouped(card.card_code)
    code = slip(card, till)
    seen += await till.expect(
        "abc", "Write code no. {position} of the card (6 digits), or ANNULLA."
    )
    seen += await till.expect(wrong(code), WRONG_PIN)
    seen += await till.expect(code, CONFIRMED)
    # The cashier of a card with a grid is never asked for a PIN, in either language.
    assert_no_pin(seen, language)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_wrong_codes_stop_this_shop_not_the_card(core: Core, language: str) -> None:
    """Three wrong codes at one till: this shop is told, in neutral words, that it cannot
    charge the card until the next day; another shop charges it with the right code."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    code = slip(card, till)
    await till.expect(wrong(code), WRONG_PIN)
    await till.send(wrong(code))  # two wrong codes end the SMS till session
    await till.expect(f"PAGA {card.card_code} 1", TILL_CODE)
    await till.expect(await confirmation_code(till), ASK_PIN)
    code = slip(card, till)
    for _ in range(PIN_FAILURES_PER_SHOP - 2):
        replies = await till.expect(wrong(code), NOT_HERE)
    assert BLOCKED not in msgids(replies)
    assert "{until}" not in str(param(replies, "until"))
    # Asked again, the shop hears the same, before any code is typed.
    replies += await till.expect(f"PAGA {card.card_code} 1", NOT_HERE_AT_PAGA)
    assert_no_pin(replies, language)
    # The card works at another shop, with the right PIN.
    other = await open_till(Chat(core, OTHER_SHOP_PHONE))
    await other.send(f"LINGUA {language}")
    await other.expect(f"PAGA {card.card_code} 2", ASK_PIN)
    await other.expect(slip(card, other), CONFIRMED)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        holder = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert holder is not None and holder.card_blocked_at is None


@pytest.mark.parametrize("language", ["it", "en"])
async def test_an_old_pin_card_is_asked_for_its_pin(core: Core, language: str) -> None:
    """A card issued before the grids pays with its PIN: the till asks for the PIN, and
    its wrong PINs and the lock at this shop are said as PINs."""
    cf = await long_town(core)
    card = await pin_only(core, await no_phone_card(core, cf, language), "246810")
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    seen = await till.expect(f"PAGA {card.card_code} 1", ASK_OLD_PIN)
    seen += await till.expect("abc", WRITE_OLD_PIN)
    seen += await till.expect("000000", WRONG_OLD_PIN)
    seen += await till.send("111111")  # two wrong PINs end the SMS till session
    await till.expect(f"PAGA {card.card_code} 1", TILL_CODE)
    seen += await till.expect(await confirmation_code(till), ASK_OLD_PIN)
    seen += await till.expect("000000", NOT_HERE_PIN)
    seen += await till.expect(f"PAGA {card.card_code} 1", NOT_HERE_AT_PAGA_PIN)
    # Rendered as the cashier reads them, in either language, they name the PIN.
    pin_texts = {ASK_OLD_PIN, WRITE_OLD_PIN, WRONG_OLD_PIN, NOT_HERE_PIN, NOT_HERE_AT_PAGA_PIN}
    said = [assert_one_segment(r, language) for r in seen if r.texts[0].msgid in pin_texts]
    assert len(said) >= len(pin_texts) and all("PIN" in x for x in said), said
    other = await open_till(Chat(core, OTHER_SHOP_PHONE))
    await other.send(f"LINGUA {language}")
    await other.expect(f"PAGA {card.card_code} 2", ASK_OLD_PIN)
    await other.expect("246810", CONFIRMED)


@pytest.mark.parametrize("kind", ["grid", "pin"])
@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_blocked_card_is_refused_in_its_own_words(
    core: Core, language: str, kind: str
) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    if kind == "pin":
        card = await pin_only(core, card)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.codice_fiscale == cf)
            .values(card_blocked_at=core.now())
        )
        await uow.commit()
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    refusal = BLOCKED_AT_PAGA if kind == "grid" else BLOCKED_AT_PAGA_PIN
    replies = await till.expect(f"PAGA {card.card_code} 1", refusal)
    [said] = [assert_one_segment(r, language) for r in replies if r.texts[0].msgid == refusal]
    assert ("PIN" in said) is (kind == "pin"), said


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_grid_code_typed_too_late_still_pays_the_next_charge(
    core: Core, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payment expired before the code came: the cashier is told the card's code was
    not used, and the same cell's code pays when the till asks for it again."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 3", ASK_PIN)
    position = param(till.last, "position")
    code = slip(card, till)
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(hours=1)
    replies = await till.expect(code, TOO_LATE)
    assert param(replies, "position") == position
    assert_no_pin(replies, language)
    monkeypatch.setattr(card_domain, "draw_position", lambda unused: position)
    await till.expect(f"PAGA {card.card_code} 3", ASK_PIN)
    assert param(till.last, "position") == position
    await till.expect(code, CONFIRMED)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_an_old_pin_card_typed_too_late_is_told_to_start_again(
    core: Core, language: str
) -> None:
    cf = await long_town(core)
    card = await pin_only(core, await no_phone_card(core, cf, language), "246810")
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 3", ASK_OLD_PIN)
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(hours=1)
    await till.expect("246810", TOO_LATE_PIN)
    await till.expect(f"PAGA {card.card_code} 3", ASK_OLD_PIN)
    await till.expect("246810", CONFIRMED)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_annulla_of_a_card_payment_left_waiting_voids_no_code(
    core: Core, language: str
) -> None:
    """ANNULLA with a card payment left waiting: nothing was paid, and the cashier is not
    told that a customer's code no longer works (the card's code was not used)."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 4", ASK_PIN)
    await till.send("MENU")
    replies = await till.expect(
        "ANNULLA", "Payment of {amount} with card {card} cancelled: nothing was paid."
    )
    assert param(replies, "card") == cards_grouped(card.card_code)
    assert "Payment of {amount} cancelled: the customer's code no longer works." not in msgids(
        replies
    )
    async with core.uow() as uow:
        assert not await uow.session.scalar(
            select(m.CardCode.id).where(m.CardCode.used_at.is_not(None))
        )
    await till.expect(f"PAGA {card.card_code} 4", ASK_PIN)
    await till.expect(slip(card, till), CONFIRMED)


def assert_no_pin(replies: list[Reply], language: str) -> None:
    """Rendered as the till reads them (SMS, one segment), the replies never say PIN."""
    for reply in replies:
        said = assert_one_segment(reply, language)
        assert "PIN" not in said, said


FEW_LEFT = "Only {count} code left on the card: the holder must ask the office for a new card."
NONE_LEFT = (
    "No code left on the card: it pays no more. The holder must ask the office for a new card."
)
USED_UP = (
    "Every code of this card was used: it pays no more. The holder must ask the office of "
    "{town} for a new card."
)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_till_says_when_the_card_runs_out_of_codes(core: Core, language: str) -> None:
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    async with core.uow() as uow:  # the holder has paid 28 times already
        await uow.session.execute(
            update(m.CardCode).where(m.CardCode.position > 2).values(used_at=core.now())
        )
        await uow.commit()
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    replies = await till.expect(slip(card, till), CONFIRMED)
    assert FEW_LEFT in msgids(replies) and param(replies, "count") == 1
    for reply in replies:
        assert_one_segment(reply, language)
    await till.expect(f"PAGA {card.card_code} 1", ASK_PIN)
    replies = await till.expect(slip(card, till), NONE_LEFT)
    for reply in replies:
        assert_one_segment(reply, language)
    replies = await till.expect(f"PAGA {card.card_code} 1", USED_UP)
    assert param(replies, "town") == TOWN
    for reply in replies:
        assert_one_segment(reply, language)


async def delegated_town(core: Core, language: str | None = None) -> str:
    """long_town with DELEGATE as its citizen's delegate (the citizen speaking `language`,
    when given); returns the citizen's codice fiscale."""
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        if language is not None:
            citizen = await uow.citizens.by_codice_fiscale(town.id, cf)
            assert citizen is not None
            citizen.language = language
        yes = await approved_request(uow, town, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, town, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    return cf


async def code_sent_to_delegate(core: Core) -> str:
    """The last payment code sent to DELEGATE's phone."""
    code = None
    for _row, reply in await outbox_of(core, "sms", DELEGATE):
        code = reply.texts[0].params.get("code", code)
    assert isinstance(code, str)
    return code


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_delegate_gets_the_code_and_asks_the_balance(core: Core, language: str) -> None:
    cf = await delegated_town(core, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 123,45")
    code = await code_sent_to_delegate(core)
    await till.expect(code, CONFIRMED)
    helper = Chat(core, DELEGATE)
    await helper.expect("SALDO", "Balance of {holder}: {balance}.")
    assert param(helper.last, "holder") == cf[:6] + "*" * 9 + cf[-1]
    # Everything the citizen and the delegate received fits one SMS.
    for phone in (CITIZEN_PHONE, DELEGATE):
        rows = await outbox_of(core, "sms", phone)
        assert rows
        for row, reply in rows:
            assert_one_segment(reply, row.language)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await delegates.remove_delegate(uow, town, cf, core.now())
        await uow.commit()
    for row, reply in await outbox_of(core, "sms", DELEGATE):
        assert_one_segment(reply, row.language)
    await helper.expect("SALDO", "We have no vouchers for this number. To apply, write DOMANDA.")


async def test_a_delegate_on_telegram_shares_the_contact_and_sees_the_balance(
    core: Core,
) -> None:
    await delegated_town(core)
    chat = Chat(core, "7001", channel=Channel.TELEGRAM)
    await chat.send("/saldo")
    replies = await chat.expect(None, "Balance of {holder}: {balance}.", contact=(DELEGATE, True))
    # The card is the holder's: the delegate's balance offers no "My card" (trial finding:
    # it answered that the card was the other person's).
    assert "card" not in [option.key for reply in replies for option in reply.options]


def slip(card: cards.CardData, till: Chat) -> str:
    """The code the holder reads off the slip at the position the till was just given."""
    position = param(till.last, "position")
    assert isinstance(position, int) and 1 <= position <= len(card.codes)
    return card.codes[position - 1]


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def cards_grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_code_a_removed_delegate_received_confirms_nothing(
    core: Core, language: str
) -> None:
    """The user trial's case: the cashier types the code the delegate received after the
    office removed the delegate; the payment is void and the till was told not to wait."""
    cf = await delegated_town(core, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    await till.send(f"PAGA {cf} 10")
    code = await code_sent_to_delegate(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        await delegates.remove_delegate(uow, town, cf, core.now())
        await uow.commit()
    told = [reply for _row, reply in await outbox_of(core, "sms", SHOP_PHONE)]
    assert (
        "The office cancelled the payment of {amount}: it cannot be completed, do not wait for "
        "the code." in msgids(told)
    )
    for phone in (SHOP_PHONE, CITIZEN_PHONE, DELEGATE):
        for row, reply in await outbox_of(core, "sms", phone):
            if not reply.sensitive:
                assert_one_segment(reply, row.language)
    await till.send(code)
    assert CONFIRMED not in msgids(till.last), msgids(till.last)
    async with core.uow() as uow:
        statuses = set(await uow.session.scalars(select(m.Charge.status)))
    assert "confirmed" not in statuses


REFUSED_ASK_THE_CUSTOMER = (
    "Payment not confirmed: the payment of {amount} was refused. Ask the customer: they have "
    "been told why."
)
REFUSED_SAY_THE_BALANCE = (
    "Payment of {amount} refused: the card has only {balance}. Nothing paid. Tell the holder: "
    "we cannot reach them."
)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_card_refused_for_the_balance_says_it_to_a_holder_nothing_else_reaches(
    core: Core, language: str
) -> None:
    """The holder without a phone typed the card's code at the till (her consent) and
    stands there: "they have been told why" would be untrue, nothing reaches her. The till
    says her balance; nothing is paid."""
    cf = await long_town(core)
    card = await no_phone_card(core, cf, language)
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.send(f"LINGUA {language}")
    grouped = cards_grouped(card.card_code)
    await till.expect(f"PAGA {grouped} 300", ASK_PIN)
    await till.expect(slip(card, till), CONFIRMED)  # 500 € credited: 200 € left
    await till.expect(f"PAGA {grouped} 250", ASK_PIN)
    await till.expect(slip(card, till), REFUSED_SAY_THE_BALANCE)
    assert param(till.last, "balance") == Money(200_00)
    for reply in till.last:
        assert_one_segment(reply, language)
    # Nothing was paid: the whole 200 € still pays.
    await till.expect(f"PAGA {grouped} 200", ASK_PIN)
    await till.expect(slip(card, till), CONFIRMED)


async def test_a_card_holder_with_a_phone_is_told_there_and_the_till_is_not(core: Core) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        yes = await approved_request(uow, town, cf, "card")
        card = await cards.issue_card(uow, town, cf, core.now(), approved=yes)
        await uow.commit()
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(minutes=5)
    till = await open_till(Chat(core, SHOP_PHONE))
    grouped = cards_grouped(card.card_code)
    await till.expect(f"PAGA {grouped} 300", ASK_PIN)
    await till.expect(slip(card, till), CONFIRMED)
    await till.expect(f"PAGA {grouped} 250", ASK_PIN)
    await till.expect(slip(card, till), REFUSED_ASK_THE_CUSTOMER)
    assert "balance" not in {name for reply in till.last for t in reply.texts for name in t.params}
    told = [reply for _row, reply in await outbox_of(core, "sms", CITIZEN_PHONE)]
    assert told[-1].texts[0].msgid == (
        "The payment of {amount} at {shop} was refused: your balance is {balance}."
    )

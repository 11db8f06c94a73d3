"""PAGA with the currency written as a word of its own (user trial, 4 Dec 2026): "PAGA 12,50 €
RSSMRA70A01A462S" asked the amount again, then said "nobody found" for a voucher holder and
counted a failed lookup against the shop, as "12,50 € RSSMRA70A01A462S" was taken for who
pays. The amount, with "€", "EUR", "eur." or "euro" before or after it, and who pays, in
either order, are read as the cashier meant: one lookup that finds the person, no miss."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.domain.messages import Money
from tests.dialogue.harness import Chat, open_till, param
from tests.dialogue.test_shop import AMOUNT, ASK_CODE, NOBODY, lookups
from tests.factories import Town, make_town

# {who} is the codice fiscale (or, below, the phone number or the card code).
AMOUNT_FIRST = (
    ("12,50 € {who}", 12_50),
    ("€ 12,50 {who}", 12_50),
    ("12,50 euro {who}", 12_50),
    ("100 € {who}", 100_00),
    ("12,50 EUR {who}", 12_50),
    ("EUR 12,50 {who}", 12_50),
    ("eur. 12,50 {who}", 12_50),
    ("12,50 Euro {who}", 12_50),
)
WHO_FIRST = (
    ("{who} 12,50 €", 12_50),
    ("{who} € 12,50", 12_50),
    ("{who} 12,50 EUR", 12_50),
    ("{who} EUR 12,50", 12_50),
    ("{who} 12,50 euro", 12_50),
    ("{who} euro 12,50", 12_50),
    ("{who} 12,50 eur.", 12_50),
    ("{who} 100 €", 100_00),
)


async def card_code(core: Core, town: Town, index: int) -> str:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[index])
        assert citizen is not None and citizen.card_code
        return citizen.card_code


@pytest.mark.parametrize("forms", [AMOUNT_FIRST, WHO_FIRST], ids=["amount-first", "who-first"])
async def test_the_currency_beside_the_amount_is_never_part_of_who_pays(
    core: Core, forms: tuple[tuple[str, int], ...]
) -> None:
    # Five people, so that no one reaches the hour's cap of payment codes for a person.
    town = await make_town(core, citizens=5)
    till = await open_till(Chat(core, town.shop_phone))
    for count, (form, cents) in enumerate(forms, start=1):
        cf = town.citizen_cfs[count % 5]
        written = form.format(who=cf)
        replies = await till.expect(f"PAGA {written}", ASK_CODE)
        assert NOBODY not in [text.msgid for reply in replies for text in reply.texts]
        assert param(replies, "amount") == Money(cents), written
        assert param(replies, "where").endswith(town.citizen_phones[count % 5][-3:]), written
        # One lookup, that found the person: nothing counted as a miss against the shop.
        assert await lookups(core) == (count, 0), written


async def test_phone_and_card_code_with_the_currency_in_either_order(core: Core) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    phone, card = town.citizen_phones[0], await card_code(core, town, 1)
    grouped = f"{card[:4]} {card[4:8]} {card[8:]}"
    for count, (written, cents) in enumerate(
        (
            (f"12,50 € {phone}", 12_50),
            (f"{phone} € 3", 3_00),
            (f"3 EUR {phone}", 3_00),
            (f"12,50 € {card}", 12_50),
            (f"{card} euro 12,50", 12_50),
            (f"€ 12,50 {grouped}", 12_50),
            (f"{grouped} 12,50 eur.", 12_50),
        ),
        start=1,
    ):
        replies = await till.expect(f"PAGA {written}", ASK_CODE)
        assert param(replies, "amount") == Money(cents), written
        assert await lookups(core) == (count, 0), written


async def test_asked_the_amount_the_currency_is_read_and_who_pays_stays_clean(
    core: Core,
) -> None:
    """The trial's path: the till asked the amount, and "12,50" then found nobody, as who
    pays still held "12,50 €". A currency word beside no amount is dropped too."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    cf = town.citizen_cfs[0]
    for written, answer in ((f"{cf} euro", "12,50"), (f"€ {cf}", "12,50 €"), (cf, "EUR 12,50")):
        await till.expect(f"PAGA {written}", AMOUNT)
        replies = await till.expect(answer, ASK_CODE)
        assert param(replies, "amount") == Money(12_50), written
    assert await lookups(core) == (3, 0)


async def test_a_wrong_codice_fiscale_is_still_nobody_and_counted(core: Core) -> None:
    """The currency read apart changes nothing for who pays written wrong: nobody found,
    and each such lookup counts against the shop (`admin shops lookups`)."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    for count, written in enumerate(
        (
            "12,50 € RSSMRA85T10A562S",
            "RSSMRA85T10A562S € 12,50",
            "RSSMRA85T10A562S 12,50 euro",
            "EUR 3 RSSMRA85T10A562S",
        ),
        start=1,
    ):
        await till.expect(f"PAGA {written}", NOBODY)
        assert await lookups(core) == (count, count), written
    # An amount that cannot be read, currency or not, is said before anybody is looked up.
    await till.expect(
        f"PAGA {town.citizen_cfs[0]} € boh", "This is not an amount. Write it in euro, e.g. 12,50."
    )
    assert await lookups(core) == (4, 4)

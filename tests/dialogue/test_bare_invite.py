"""A cashier who writes only the code the owner gave them, without INVITO: joining that
shop, checked and counted as INVITO <code> is. Other codes written alone (a card's number,
a payment code, a codice fiscale, a protocol) are never read as a cashier code, nor
counted as a wrong one."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.flows.member_phone import SHARE_TO_JOIN
from core.dialogue.inbound import Channel
from core.domain import otp
from core.services.identity import new_card_code
from tests.dialogue.harness import INVITED, JOIN_CODE, Chat, add_member, msgids, open_till, param
from tests.dialogue.test_shop import own_code
from tests.factories import make_cf, make_town

JOINED = "You now work for {shop}: you can charge its vouchers."
NOT_VALID = "This cashier code is not valid or has expired. Ask the shop owner for a new one."
TOO_MANY = "Too many wrong cashier codes from this chat today. Try again tomorrow."


async def _invite(core: Core, shop_id: int, *, again: bool = False) -> str:
    """A cashier code of the shop, as its owner on Telegram is told it (`again`: the owner
    is the shop's already)."""
    if not again:
        await add_member(core, shop_id, "7001", "owner", channel="telegram")
    replies = await Chat(core, "7001", channel=Channel.TELEGRAM).expect("CASSIERE", INVITED)
    return str(param(replies, "code"))


async def test_the_code_alone_from_a_new_phone_joins_as_invito_does(core: Core) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    # Told in groups of four, twelve letters and digits in all.
    assert len(printed) == 14 and printed[4] == printed[9] == "-"
    cashier = Chat(core, "+393478888801")
    # The first message of the chat: no welcome, the code confirming the number.
    await cashier.expect(printed, JOIN_CODE)
    await cashier.expect(await own_code(cashier), JOINED)
    await open_till(cashier)


async def test_the_code_alone_as_a_hurried_cashier_types_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    for at in range(4):
        printed = await _invite(core, town.shop_id, again=at > 0)
        typed = (
            printed.lower(),
            printed.replace("-", ""),
            printed.replace("-", " ") + ".",
            f"  {printed.lower().replace('-', '')}!",
        )[at]
        cashier = Chat(core, f"+39347888880{at + 2}")
        await cashier.expect(typed, JOIN_CODE)
        await cashier.expect(await own_code(cashier), JOINED)


async def test_on_telegram_the_code_alone_asks_for_the_cashiers_phone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    cashier = Chat(core, "4243", channel=Channel.TELEGRAM)
    await cashier.expect(printed, SHARE_TO_JOIN.msgid)
    await cashier.expect(None, JOINED, contact=("+393471234243", True))


async def test_wrong_codes_alone_count_with_the_wrong_codes_after_invito(core: Core) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    guesser = Chat(core, "4242", channel=Channel.TELEGRAM)
    for guess in ("K7QP-2MXX-9ABC", "k7qp2mxx9abd", "INVITO K7QP2MXX9ABE", "K7QP 2MXX 9ABF"):
        await guesser.expect(guess, NOT_VALID)
    await guesser.expect("INVITO K7QP2MXX9ABG", NOT_VALID)
    # Five wrong today, written alone or after INVITO: even the right code waits a day.
    await guesser.expect(printed, TOO_MANY)
    await guesser.expect(f"INVITO {printed}", TOO_MANY)


async def test_no_other_code_alone_is_a_cashier_code_nor_counted_as_a_wrong_one(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    card = new_card_code()
    other = Chat(core, "4244", channel=Channel.TELEGRAM)
    for code in (
        card,  # a card's number: ten symbols of nearly the same alphabet
        f"{card[:4]} {card[4:8]} {card[8:]}",
        "145185",  # a payment code
        "145 185",
        make_cf(7),
        f"{town.code}-2026-000123",  # a protocol
        "V12345678901",  # a community voucher
        "ABCDEFGHJK",  # a cashier code of the ten symbols before: INVITO with it
        "KKQPZMXXYABC",  # twelve letters, no digit
    ):
        said = msgids(await other.send(code))
        assert NOT_VALID not in said and TOO_MANY not in said and JOIN_CODE not in said, code
        assert SHARE_TO_JOIN.msgid not in said, code
    # None of them was a wrong try: the right code still joins.
    await other.expect(printed, SHARE_TO_JOIN.msgid)
    await other.expect(None, JOINED, contact=("+393471234244", True))


async def test_a_code_of_the_ten_symbols_before_still_joins_after_invito(core: Core) -> None:
    town = await make_town(core, citizens=1)
    guesser = Chat(core, "4245", channel=Channel.TELEGRAM)
    # Its length is still a cashier code's: looked up (and counted), not "12 letters".
    await guesser.expect("INVITO ABCDEFGHJK", NOT_VALID)
    await guesser.expect(
        "INVITO ABCDEFGHJ", "A cashier code has 12 letters and digits. Write it again, or ANNULLA."
    )
    assert town.shop_id


async def test_the_code_written_where_the_shopkeepers_choice_is_asked(core: Core) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    cashier = Chat(core, "+393478888809")
    await cashier.send("NEGOZIANTE")
    await cashier.expect(printed.lower(), JOIN_CODE)
    await cashier.expect(await own_code(cashier), JOINED)


async def test_at_the_till_a_cashier_code_is_no_customer(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send("PAGA")
    said = msgids(await till.send(otp.printed_invite("K7QP2MXX9ABC")))
    assert NOT_VALID not in said and JOIN_CODE not in said
    assert (await till.state())[0] == "charge"


async def test_the_code_in_a_sentence_and_a_cashier_with_no_code_yet(core: Core) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    cashier = Chat(core, "+393478888810")
    # "CASSIERE" from a phone of no shop: the refusal, and how a cashier joins.
    await cashier.expect(
        "Cassiere",
        "Only the owner of a shop can add cashiers.",
        "To work at a shop's till, write here the cashier code its owner gave you.",
    )
    await cashier.expect(
        "ho un codice cassiere",
        "Write the cashier code the shop owner gave you (12 letters and digits).",
    )
    await cashier.expect("ANNULLA", "Cancelled.")
    await cashier.expect(f"Buongiorno, il codice è {printed}.", JOIN_CODE)
    await cashier.expect(await own_code(cashier), JOINED)
    # A member of the shop hears the refusal alone.
    await cashier.expect("CASSIERE", "Only the owner of a shop can add cashiers.")
    assert "To work at a shop's till" not in " ".join(msgids(cashier.last))


async def test_the_code_typed_apart_in_a_sentence_joins_and_a_wrong_one_counts(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    printed = await _invite(core, town.shop_id)
    groups = printed.split("-")
    cashier = Chat(core, "+393478888811")
    # It was "I did not understand": the groups apart were read as words.
    await cashier.expect(f"il codice è {' '.join(groups)}", JOIN_CODE)
    await cashier.expect(await own_code(cashier), JOINED)
    printed = await _invite(core, town.shop_id, again=True)
    groups = printed.lower().split("-")
    await Chat(core, "+393478888812").expect(f"codice {' - '.join(groups)}", JOIN_CODE)
    # Wrong codes typed apart in a sentence are wrong tries, as after INVITO.
    guesser = Chat(core, "4246", channel=Channel.TELEGRAM)
    for guess in ("K7QP 2MXX 9ABC", "XK7Q P2MX X9AB", "K7QP 2MXX 9ABF", "K7QP 2MXX 9ABG"):
        await guesser.expect(f"il codice è {guess}", NOT_VALID)
    await guesser.expect("codice k7qp - 2mxx - 9abh", NOT_VALID)
    await guesser.expect(f"il codice è {printed.replace('-', ' ')}", TOO_MANY)


async def test_the_code_typed_apart_then_a_short_word_joins_and_a_wrong_one_counts(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    # "… va bene", "… ok" after the groups were a card's last group: the welcome, no join.
    for at, said in enumerate(("{} va bene", "il codice è {} ok", "{} grazie")):
        printed = await _invite(core, town.shop_id, again=at > 0)
        typed = printed if "è" in said else printed.replace("-", " ")
        cashier = Chat(core, f"+39347888882{at}")
        await cashier.expect(said.format(typed), JOIN_CODE)
        await cashier.expect(await own_code(cashier), JOINED)
    # The same checks and limits as INVITO: wrong codes so said are wrong tries.
    guesser = Chat(core, "4247", channel=Channel.TELEGRAM)
    for guess in ("K7QP 2MXX 9ABC", "K7QP 2MXX 9ABD", "K7QP 2MXX 9ABE", "K7QP 2MXX 9ABF"):
        await guesser.expect(f"{guess} va bene", NOT_VALID)
    await guesser.expect("K7QP 2MXX 9ABG ok", NOT_VALID)
    printed = await _invite(core, town.shop_id, again=True)
    await guesser.expect(f"{printed.replace('-', ' ')} va bene", TOO_MANY)

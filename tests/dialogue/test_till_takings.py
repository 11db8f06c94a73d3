"""Today's takings by till, asked in the chat ("INCASSO", "incasso di oggi", "quanto ha
incassato Mario?", "RESOCONTO OGGI"): the owner reads the shop's payments and refunds,
then what each till took, named as CASSIERI names her cashiers ("Telegram ***002"), her
own as hers; a cashier reads their own till's only, never the owner's or another
cashier's. Counts and amounts in euro, never who paid."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from core.domain.messages import Money, Reply
from tests.dialogue.harness import Chat, add_member, msgids, open_till
from tests.dialogue.test_refund_refusals import pay
from tests.dialogue.test_shop import CONFIRMED, WAITS, citizen_code, own_code
from tests.factories import Town, make_town

TODAY = "Today: {count} payment, {amount}."
REFUNDED = "Of these, refunded: {count} payment, {amount}."
YOUR_TILL_REFUNDED = "Your till: {count} payment, {amount}, {refunded} refunded."
TILL = "{who}: {count} payment, {amount}."
OWED = "To be reimbursed by the municipality: {amount}."
CASHIERS_OWN = "Your till today: {count} payment, {amount}."
ASKED = ("INCASSO", "incasso di oggi", "quanto ha incassato Mario?", "RESOCONTO OGGI")


def texts(replies: list[Reply], msgid: str) -> list[dict[str, object]]:
    return [dict(x.params) for reply in replies for x in reply.texts if x.msgid == msgid]


def rendered(replies: list[Reply], language: str, sms: bool) -> str:
    return "\n".join(render_plain(reply, language, sms=sms) for reply in replies)


async def busy_saturday(core: Core) -> tuple[Town, Chat, Chat, Chat]:
    """The owner's SMS till takes 30 (refunded) and 12,50; cashier 7002 on Telegram takes 7
    and 3; cashier 7013 takes nothing (a payment of 4 still waits for its code)."""
    town = await make_town(core, citizens=5)
    owner = await open_till(Chat(core, town.shop_phone))
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    await add_member(core, town.shop_id, "7013", "cashier", channel="telegram")
    first = Chat(core, "7002", channel=Channel.TELEGRAM)
    second = Chat(core, "7013", channel=Channel.TELEGRAM, language_hint="en")
    refunded = await pay(owner, town, 0, "30")
    await pay(owner, town, 1, "12,5")
    await pay(first, town, 2, "7")
    await pay(first, town, 3, "3")
    await second.send(f"PAGA {town.citizen_cfs[4]} 4")
    await owner.expect(
        f"STORNO {refunded}", "Refund {amount} (receipt no. {receipt}) to the customer?"
    )
    await owner.send("1")
    await owner.expect(
        await own_code(owner),
        "Refunded {amount} (receipt no. {receipt}). The customer has been told.",
    )
    return town, owner, first, second


async def test_the_owner_reads_what_each_till_took_today(core: Core) -> None:
    town, owner, _, _ = await busy_saturday(core)
    for typed in ASKED:
        replies = await owner.expect(typed, TODAY, REFUNDED, YOUR_TILL_REFUNDED, TILL, OWED)
        [shop] = texts(replies, TODAY)
        assert shop == {"count": 4, "amount": Money(52_50)}
        [mine] = texts(replies, YOUR_TILL_REFUNDED)
        assert mine == {"count": 2, "amount": Money(42_50), "refunded": Money(30_00)}
        # The cashier who took nothing today has no line; the one who did is named as
        # CASSIERI names them.
        assert texts(replies, TILL) == [
            {"count": 2, "who": "Telegram ***002", "amount": Money(10_00)}
        ]
        said = rendered(replies, "it", sms=True)
        assert "La tua cassa: 2 pagamenti, 42,50 €, stornati 30,00 €." in said
        assert "Telegram ***002: 2 pagamenti, 10,00 €." in said
        # Nothing of who paid.
        for cf, phone in zip(town.citizen_cfs, town.citizen_phones, strict=True):
            assert cf not in said and phone[-3:] not in said.replace("***002", "")


async def test_a_cashier_reads_their_own_till_only(core: Core) -> None:
    town, _, first, second = await busy_saturday(core)
    for typed in ("INCASSO", "quanto ho incassato oggi?", "RESOCONTO OGGI"):
        replies = await first.expect(typed, CASHIERS_OWN)
        assert texts(replies, CASHIERS_OWN) == [{"count": 2, "amount": Money(10_00)}]
        assert not {TODAY, REFUNDED, TILL, OWED, YOUR_TILL_REFUNDED} & set(msgids(replies))
        assert "42,50" not in rendered(replies, "it", sms=False)
    # Asked while a payment waits at this till for its code: their own till's, 0, and the
    # payment still waits (the code the customer reads out still pays).
    replies = await second.expect("my takings today", WAITS, CASHIERS_OWN)
    assert "Your till today: 0 payments, €0.00." in rendered(replies, "en", sms=False)
    await second.expect(await citizen_code(core, town.citizen_phones[4]), CONFIRMED)
    replies = await second.expect("INCASSO", CASHIERS_OWN)
    assert texts(replies, CASHIERS_OWN) == [{"count": 1, "amount": Money(4_00)}]


async def test_with_no_other_till_the_statement_is_as_before(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = await open_till(Chat(core, town.shop_phone))
    await pay(owner, town, 0, "5")
    replies = await owner.expect("INCASSO", TODAY, OWED)
    assert msgids(replies) == [TODAY, OWED]


WHO_PAYS = "Who pays? Write the codice fiscale, the phone number or the card code."


async def test_a_new_charge_in_the_tills_own_words_is_no_statement(core: Core) -> None:
    """ "Nuovo incasso" is the option the till offers after a payment; typed later (or "un
    altro incasso") it was the statement (and before, the question of which period): the
    cashier, with the next customer at the till, wanted to charge."""
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "7002", "cashier", channel="telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    for typed in ("nuovo incasso", "Un altro incasso", "new charge"):
        await cashier.expect(typed, WHO_PAYS)
        assert (await cashier.state())[:2] == ("charge", "who")
        await cashier.expect("ANNULLA", "Cancelled.")
    # "Incasso" alone still asks for the takings.
    await cashier.expect("incasso", CASHIERS_OWN)

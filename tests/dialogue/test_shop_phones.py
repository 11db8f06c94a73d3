"""A phone that charges for a shop is nobody's voucher phone, on every channel.

Security trial: a cashier who joined at the terminal chat (`buonispesa chat`, addressed by
a phone number as SMS is) could apply for vouchers by SMS from that number, and be made
a citizen's delegate, then receive the code of the charge asked at their own till. Now
the terminal's number is a shop's phone like an SMS one; and a till never sends a code to
its own staff, even where older data pairs them: not a payment's, not a cashier's refund's,
not a community voucher's."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.flows.citizen import SHARE_CONTACT
from core.dialogue.inbound import Channel
from core.domain import gsm7
from core.domain.ledger import AccountKind
from core.i18n import render_text
from core.services import shops
from core.storage import models as m
from tests.dialogue.harness import Chat, add_member, msgids, outbox_of, town_with_open_window
from tests.dialogue.test_community import enabled_town, paid_voucher
from tests.dialogue.test_shop import VERIFY_JOIN, balance, own_code
from tests.factories import make_cf, make_town, pay
from tests.integration.test_codes_never_to_the_till import CASHIER_CHAT, cashier_chat, pair

CASHIER = "+393339990002"
APPLICANT = make_cf(910)
JOINED = "You now work for {shop}: you can charge its vouchers."
IS_SHOP = (
    "This number charges vouchers for a shop, so it cannot apply for them: apply from "
    "another phone, or at the office."
)
CODE_TO_SHOP = (
    "The payment code of this person would go to a phone or chat of your shop: nothing "
    "was sent. They must ask the office to correct it."
)


async def test_a_cashier_at_the_terminal_cannot_apply_by_sms(core: Core) -> None:
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        invite = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    # An application begun by SMS before the number joined the shop at the terminal.
    phone = Chat(core, CASHIER)
    for text in ("DOMANDA", "1"):
        await phone.send(text)
    terminal = Chat(core, CASHIER, channel=Channel.TERMINAL)
    await terminal.expect(f"INVITO {invite}", VERIFY_JOIN)
    await terminal.expect(await own_code(terminal), JOINED)
    # The same number by SMS, as an SMS cashier's is, is told to apply from another phone.
    await phone.expect(APPLICANT, IS_SHOP)
    # Asked again, it hears so before any question.
    await phone.expect("DOMANDA", SHOP_STAFF_PHONE)
    async with core.uow() as uow:
        assert await uow.citizens.by_codice_fiscale(town.municipality_id, APPLICANT) is None
        assert await uow.citizens.by_phone(town.municipality_id, CASHIER) is None


async def test_the_till_refuses_a_code_that_would_come_to_itself(core: Core) -> None:
    """The trial's data, written before the rule: the terminal cashier is the citizen's
    delegate. PAGA at that till sends no code and leaves no charge waiting."""
    town = await make_town(core, citizens=1)
    await pair(core, town, "delegate_at_terminal")
    till = Chat(core, CASHIER, channel=Channel.TERMINAL)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 40", CODE_TO_SHOP)
    assert (await till.state())[:2] == (None, None)
    assert await outbox_of(core, "sms", CASHIER) == []
    async with core.uow() as uow:
        charges = await uow.session.scalar(select(func.count()).select_from(m.Charge))
        codes = await uow.session.scalar(
            select(func.count())
            .select_from(m.OutboxMessage)
            .where(m.OutboxMessage.charge_id.is_not(None))
        )
        assert (charges, codes) == (0, 0)


SHOP_STAFF_PHONE = (
    "This number is a shop's (owner or cashier): it cannot hold vouchers. A citizen's "
    "vouchers are on their own number: write from it, or ask the office."
)
SHARE = SHARE_CONTACT.msgid


async def test_a_shops_number_shared_on_telegram_is_told_it_holds_no_vouchers(
    core: Core,
) -> None:
    """Trial finding: the owner's number (by SMS), shared as one's own contact on Telegram
    for SALDO, STATO or RICORSO, was told "no vouchers for this number, write DOMANDA",
    which that number would be refused. Now it hears what is true, links nothing, and
    nothing is said of any citizen."""
    town = await town_with_open_window(core)
    for chat_id, asked in (("880101", "/saldo"), ("880102", "/stato"), ("880103", "/ricorso")):
        chat = Chat(core, chat_id, channel=Channel.TELEGRAM)
        await chat.expect(asked, SHARE)
        replies = await chat.expect(None, SHOP_STAFF_PHONE, contact=(town.shop_phone, True))
        assert "DOMANDA" not in " ".join(msgids(replies)), asked
        assert (await chat.state())[:2] == (None, None)
    # Shared with nothing asked, the same.
    chat = Chat(core, "880104", channel=Channel.TELEGRAM)
    await chat.send("MENU")
    assert msgids(await chat.send(None, contact=(town.shop_phone, True))) == [SHOP_STAFF_PHONE]
    # A cashier's number too (a member by SMS), and another number still hears DOMANDA.
    await add_member(core, town.shop_id, CASHIER, "cashier")
    chat = Chat(core, "880105", channel=Channel.TELEGRAM)
    await chat.expect("/saldo", SHARE)
    await chat.expect(None, SHOP_STAFF_PHONE, contact=(CASHIER, True))
    chat = Chat(core, "880106", channel=Channel.TELEGRAM)
    await chat.expect("/saldo", SHARE)
    await chat.expect(
        None,
        "We have no vouchers for this number. To apply, write DOMANDA.",
        contact=("+393471234506", True),
    )
    async with core.uow() as uow:
        linked = await uow.session.scalar(
            select(func.count())
            .select_from(m.Citizen)
            .where(m.Citizen.telegram_chat_id.is_not(None))
        )
        assert linked == 0


SHOP_NUMBER = (
    "This number is a shop's (owner or cashier): it cannot hold vouchers. For the shop: "
    "RESOCONTO, AIUTO. Your own vouchers: write from your own phone."
)
SHOP_NUMBER_IT = (
    "Questo numero è di un negozio (titolare o cassiere): non può avere buoni. Per il "
    "negozio: RESOCONTO, AIUTO. I tuoi buoni: scrivi dal tuo telefono."
)
NO_VOUCHERS = "We have no vouchers for this number. To apply, write DOMANDA."


async def test_saldo_from_a_shops_own_number_points_to_the_shops_words(core: Core) -> None:
    """Trial finding: the owner (or a cashier) writing SALDO by SMS from the shop's phone
    was told "no vouchers for this number, write DOMANDA", which that number would be
    refused. Now it hears that the number is a shop's, and the shop's words; the same
    number at a chat that does not work for the shop hears where a citizen's vouchers are.
    Nothing is said of any citizen, and anybody else still hears DOMANDA."""
    town = await town_with_open_window(core)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    for address in (town.shop_phone, CASHIER):
        phone = Chat(core, address)
        for asked in ("SALDO", "saldo per favore", "quanto mi resta", "CARTA"):
            replies = await phone.send(asked)
            assert msgids(replies) == [SHOP_NUMBER], (address, asked)
            assert (await phone.state())[:2] == (None, None)
        [reply] = replies
        said = render_text(reply.texts[0], "it", sms=True)
        assert said == SHOP_NUMBER_IT and gsm7.count(said).single
    # The owner's number at the terminal chat, which works for no shop.
    terminal = Chat(core, town.shop_phone, channel=Channel.TERMINAL)
    assert msgids(await terminal.send("SALDO")) == [SHOP_STAFF_PHONE]
    assert msgids(await Chat(core, "+393471234506").send("SALDO")) == [NO_VOUCHERS]


async def said_last(core: Core, channel: str, address: str) -> tuple[str, str]:
    """The first sentence of the last message to this chat, in the chat's language."""
    row, reply = (await outbox_of(core, channel, address))[-1]
    return row.language, render_text(reply.texts[0], row.language, sms=channel == "sms")


@pytest.mark.parametrize("case", ["linked_telegram", "delegate_at_terminal"])
async def test_a_cashiers_storno_never_sends_the_customers_code_to_itself(
    core: Core, case: str
) -> None:
    """The trial's data again, for a refund: the customer's code of a cashier's STORNO
    would come to the cashier's own chat (or phone). The cashier is told why, in their
    language; nothing is sent, nothing is refunded."""
    town = await make_town(core, citizens=1)
    charge_id = await pay(core, town, 30_00)
    address = await pair(core, town, case)
    channel, chat_address = cashier_chat(case)
    cashier = Chat(core, chat_address, channel=Channel(channel), language_hint="it")
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None
        receipt = charge.receipt_number
    await cashier.send(f"STORNO {receipt}")
    await cashier.send("yes")
    if cashier.channel is Channel.TERMINAL:
        # The terminal, addressed by a phone, first confirms the refund with its own code.
        await cashier.send(await own_code(cashier))
    assert CODE_TO_SHOP in msgids(cashier.last)
    assert await said_last(core, channel, chat_address) == (
        "it",
        "Il codice di pagamento di questa persona andrebbe a un telefono o a una chat del tuo "
        "negozio: non è stato inviato. Deve chiedere all'ufficio di cambiarlo.",
    )
    assert (await cashier.state())[:2] == (None, None)
    # No customer code anywhere: not at the cashier's chat, not at the customer's phone.
    for where in ((channel, chat_address), ("sms", address), ("sms", town.citizen_phones[0])):
        assert not [
            reply
            for _, reply in await outbox_of(core, *where)
            if reply.texts[0].msgid.startswith("{shop} wants to refund you")
        ]
    assert await balance(core, town) == 120_00
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None and charge.status == "confirmed"


VOUCHER_TO_SHOP = (
    "The code of this voucher would go to a phone or chat of your shop: nothing was sent. "
    "Your shop cannot charge it."
)


async def test_a_cashier_cannot_confirm_a_voucher_of_their_own_chat_at_their_till(
    core: Core,
) -> None:
    """A Telegram cashier buys a voucher of their own shop: its codes would come to the
    chat that charges it. PAGA with its number is refused in the cashier's language, no
    code is sent and nothing is taken from the voucher."""
    town = await enabled_town(core)
    await add_member(core, town.shop_id, CASHIER_CHAT, "cashier", channel="telegram")
    cashier = Chat(
        core,
        CASHIER_CHAT,
        channel=Channel.TELEGRAM,
        engine=DialogueEngine(core, payments=True),
        language_hint="en",
    )
    await cashier.send("MENU")  # the chat begins in English (its Telegram language)
    voucher = await paid_voucher(core, town, cashier, 30_00)
    sent_before = len(await outbox_of(core, "telegram", CASHIER_CHAT))
    await cashier.expect(f"PAGA {voucher} 10", VOUCHER_TO_SHOP)
    assert await said_last(core, "telegram", CASHIER_CHAT) == ("en", VOUCHER_TO_SHOP)
    # In Italian too, and within one SMS (a till on SMS is told the same).
    [refusal] = [reply for reply in cashier.last if reply.texts[0].msgid == VOUCHER_TO_SHOP]
    assert render_text(refusal.texts[0], "it", sms=True) == (
        "Il codice di questo buono andrebbe a un telefono o a una chat del tuo negozio: non è "
        "stato inviato. Il tuo negozio non può incassarlo."
    )
    assert gsm7.count(render_text(refusal.texts[0], "it", sms=True)).single
    assert (await cashier.state())[:2] == (None, None)
    # Only the refusal was said: no code for the voucher reached the chat.
    sent = await outbox_of(core, "telegram", CASHIER_CHAT)
    assert [reply.texts[0].msgid for _, reply in sent[sent_before:]] == msgids(cashier.last)
    async with core.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(m.VoucherCharge)) == 0
        held = await uow.community.voucher_by_code(voucher)
        assert held is not None
        left = await uow.ledger.balance_of_owner(town.municipality_id, AccountKind.VOUCHER, held.id)
        assert left == 30_00


@pytest.mark.parametrize(
    "asked",
    ["RICORSO", "RICORSO non sono d'accordo", "STATO", "a che punto è la mia domanda?",
     "DOMANDA", "vorrei i buoni spesa", "SALDO", "CARTA"],
)  # fmt: skip
async def test_every_citizen_word_from_a_shops_number_says_it_is_a_shops(
    core: Core, asked: str
) -> None:
    """Trial finding: RICORSO from the shop's phone was told "no application of yours,
    write DOMANDA", STATO showed the shop's menu, and DOMANDA asked the privacy question of
    an application refused at the codice fiscale. Every citizen's word from a shop's number
    (its owner's, a cashier's) now hears what SALDO does: the number is a shop's, and the
    shop's words. Nothing is said of any citizen, nothing starts, nothing is stored; the
    number at the terminal, which works for no shop, hears where a citizen's vouchers are;
    and anybody else is answered as a citizen."""
    town = await town_with_open_window(core)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    before = await stored(core)
    for address in (town.shop_phone, CASHIER):
        phone = Chat(core, address)
        replies = await phone.send(asked)
        assert msgids(replies) == [SHOP_NUMBER], address
        assert (await phone.state())[:2] == (None, None)
    terminal = Chat(core, town.shop_phone, channel=Channel.TERMINAL)
    assert msgids(await terminal.send(asked)) == [SHOP_STAFF_PHONE]
    assert (await terminal.state())[:2] == (None, None)
    assert await stored(core) == before
    someone = msgids(await Chat(core, "+393471234506").send(asked))
    assert SHOP_NUMBER not in someone and SHOP_STAFF_PHONE not in someone


async def stored(core: Core) -> list[int]:
    """How many citizens, applications and appeals there are."""
    async with core.uow() as uow:
        return [
            await uow.session.scalar(select(func.count()).select_from(table)) or 0
            for table in (m.Citizen, m.Application, m.Appeal)
        ]

"""Community vouchers in the chat, scripted: where to pay on SMS, giving a voucher, a shop's
limits and refunds, spending by SMS at the till."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine
from core.dialogue.inbound import Channel, Inbound, PaymentDone
from core.dialogue.menus import CITIZEN_HELP, COMMUNITY_HELP, FIRST_HELP
from core.dialogue.render import render_plain
from core.domain import gsm7
from core.domain.community import Purchase, Purpose
from core.domain.messages import Money
from core.services import community
from tests.dialogue.harness import Chat, add_member, msgids, open_till, outbox_of, param
from tests.factories import Town, make_town

ONLY_TELEGRAM = (
    "Shop vouchers and donations are paid in our Telegram chat: look for the grocery "
    "vouchers of {town} on Telegram."
)
NOT_ENABLED = "{town} has not enabled shop vouchers and donations."
BUYER = "8801"


async def enabled_town(core: Core) -> Town:
    town = await make_town(core, citizens=0)
    async with core.uow() as uow:
        await community.set_town_enabled(uow, town.code, True)
        await community.set_shop_vouchers(uow, town.shop_id, enabled=True)
        await uow.commit()
    return town


async def paid_voucher(core: Core, town: Town, chat: Chat, cents: int) -> str:
    """A payment reported by Telegram in the buyer's chat; the voucher's number."""
    purchase = Purchase(Purpose.VOUCHER, town.municipality_id, cents, shop_id=town.shop_id)
    assert chat.engine is not None
    done = PaymentDone(purchase.payload(), "EUR", cents, f"tg-{cents}", f"ch-{cents}")
    result = await chat.engine.handle(
        Inbound(Channel.TELEGRAM, chat.address, payment=done, provider_message_id=f"p{cents}")
    )
    [receipt] = await chat.replies(result.outbox_ids)
    voucher = receipt.texts[0].params["voucher"]
    assert isinstance(voucher, str)
    return voucher


async def test_on_sms_the_words_say_where_to_pay(core: Core) -> None:
    await enabled_town(core)
    sms = Chat(core, "+393330001111")
    for word in ("COMPRA", "dona", "REGALA"):
        replies = await sms.expect(word, ONLY_TELEGRAM)
        assert param(replies, "town") == "Testville"


async def test_without_the_provider_token_telegram_says_not_enabled(core: Core) -> None:
    await enabled_town(core)
    chat = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=DialogueEngine(core))
    await chat.expect("/buy", NOT_ENABLED)
    await chat.expect("/donate", NOT_ENABLED)


async def test_buying_asks_shop_and_amount_within_the_limits(core: Core) -> None:
    town = await enabled_town(core)
    chat = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=DialogueEngine(core, payments=True))
    replies = await chat.expect("/buy", "Which shop's voucher do you want to buy?")
    assert [o.key for o in replies[-1].options] == [f"s{town.shop_id}"]
    await chat.expect("1", "How much do you want to spend at {shop}? From {low} to {high}.")
    await chat.expect("200", "Choose an amount from {low} to {high}.")
    [invoice] = await chat.send("12,50")
    assert invoice.invoice is not None
    assert invoice.invoice.amount_cents == 12_50 and invoice.invoice.currency == "EUR"
    assert invoice.invoice.payload == f"cv:{town.municipality_id}:{town.shop_id}:1250"
    assert (await chat.state())[:2] == (None, None)


async def test_a_voucher_given_by_phone_is_spent_with_a_code_sent_by_sms(core: Core) -> None:
    town = await enabled_town(core)
    engine = DialogueEngine(core, payments=True)
    buyer = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=engine)
    code = await paid_voucher(core, town, buyer, 30_00)

    replies = await buyer.expect(
        "/vouchers", "Your shop vouchers:", "{voucher}: {amount} left at {shop}"
    )
    assert param(replies, "amount") == Money(30_00)
    await buyer.expect("/give", "Which voucher do you want to give?")
    await buyer.expect("1", "The phone number of the person you give it to?")
    await buyer.expect("12", "This phone number does not exist. Write it again, e.g. 3331234567.")
    # The voucher's codes would go there by SMS: a landline is asked again, nothing given.
    await buyer.expect(
        "0733 905000", "This is a landline: the codes arrive by SMS, a mobile number is needed."
    )
    await buyer.expect(
        "333 444 5555", "Done: voucher {voucher} now belongs to {phone}. We sent them an SMS."
    )
    gift = [reply for _, reply in await outbox_of(core, "sms", "+393334445555")]
    assert gift[-1].texts[0].msgid.startswith("A gift for you: voucher {voucher}")

    till = await open_till(Chat(core, town.shop_phone))
    await till.expect(
        f"PAGA {code} 10",
        "Code sent to the customer ({where}) for {amount}. Ask them for it and write it "
        "here. ANNULLA to stop.",
    )
    sent = [reply for _, reply in await outbox_of(core, "sms", "+393334445555")][-1]
    typed = sent.texts[0].params["code"]
    assert isinstance(typed, str)
    await till.expect(typed, "Payment confirmed: {amount}. Receipt no. {receipt}.")
    told = [reply for _, reply in await outbox_of(core, "sms", "+393334445555")][-1]
    assert told.texts[0].params["balance"] == Money(20_00)


async def test_the_owner_sets_limits_switches_off_and_records_a_refund(core: Core) -> None:
    town = await enabled_town(core)
    engine = DialogueEngine(core, payments=True)
    owner_chat = "8802"
    await add_member(core, town.shop_id, owner_chat, "owner", channel="telegram")
    buyer = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=engine)
    code = await paid_voucher(core, town, buyer, 40_00)
    owner = Chat(core, owner_chat, channel=Channel.TELEGRAM, engine=engine)

    await owner.expect("/vouchers", "{shop} sells vouchers from {low} to {high}.")
    await owner.expect("2", "Write the minimum and the maximum in euro, e.g. 10 100.")
    await owner.expect(
        "50 10", "Limits from 1 to 1000 euro, the maximum not below the minimum. E.g. 10 100."
    )
    replies = await owner.expect("10 80", "Done: vouchers of {shop} from {low} to {high}.")
    assert (param(replies, "low"), param(replies, "high")) == (Money(10_00), Money(80_00))

    await owner.expect("/vouchers")
    await owner.expect("3", "The number of the voucher to refund (e.g. V12345678901)?")
    await owner.expect(
        code,
        "First refund the payment at your payment provider. Then write here the refund "
        "reference it gave you.",
    )
    await owner.expect("re_3Kx9", "Refund of voucher {voucher} recorded. Its holder has been told.")
    async with core.uow() as uow:
        voucher = await uow.community.voucher_by_code(code)
        assert voucher is not None
        payment = await uow.community.payment(voucher.payment_id)
    assert payment is not None and payment.refund_reference == "re_3Kx9"

    await owner.expect("/vouchers")
    await owner.expect("1", "Done: {shop} no longer sells vouchers.")
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
    assert shop is not None and not shop.vouchers_enabled


async def test_the_help_and_menu_name_the_community_words_where_they_work(core: Core) -> None:
    await enabled_town(core)
    chat = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=DialogueEngine(core, payments=True))
    await chat.expect("AIUTO", CITIZEN_HELP.msgid, COMMUNITY_HELP.msgid)
    # A first AIUTO from a chat nobody knows ends with the menu (whose number this is, then
    # the words and the menu's buttons); asked again, the help's own numbered words.
    await chat.expect("AIUTO", CITIZEN_HELP.msgid, COMMUNITY_HELP.msgid)
    # The help's ninth word is COMPRA (after RICORSO): a number picks it, as for the others.
    await chat.expect("9", "Which shop's voucher do you want to buy?")
    await chat.send("ANNULLA")
    [menu] = await chat.send("MENU")
    keys = [option.key for option in menu.options]
    assert {"buy", "give", "vouchers", "donate"} <= set(keys)
    assert keys[:4] == ["balance", "shops", "apply", "status"]


async def test_where_they_do_not_work_the_help_and_menu_leave_them_out(core: Core) -> None:
    town = await enabled_town(core)
    sms = Chat(core, "+393330001111")
    await sms.expect("AIUTO", FIRST_HELP.msgid)  # by SMS the first help, then every word
    [help_reply] = await sms.expect("AIUTO", CITIZEN_HELP.msgid)
    assert COMMUNITY_HELP.msgid not in msgids([help_reply])
    for language in ("it", "en"):
        assert gsm7.count(render_plain(help_reply, language, sms=True)).single
    [menu] = await sms.send("MENU")
    assert not {"buy", "give", "vouchers", "donate"} & {o.key for o in menu.options}
    # Telegram without the payment provider, and a town that has not turned them on.
    no_provider = Chat(core, BUYER, channel=Channel.TELEGRAM, engine=DialogueEngine(core))
    said = await no_provider.expect("AIUTO", CITIZEN_HELP.msgid)
    assert COMMUNITY_HELP.msgid not in msgids(said)
    async with core.uow() as uow:
        await community.set_town_enabled(uow, town.code, False)
        await uow.commit()
    engine = DialogueEngine(core, payments=True)
    switched_off = Chat(core, "8802", channel=Channel.TELEGRAM, engine=engine)
    said = await switched_off.expect("AIUTO", CITIZEN_HELP.msgid)
    assert COMMUNITY_HELP.msgid not in msgids(said)

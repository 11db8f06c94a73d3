"""A cashier stops: the owner removes them (CASSIERI), they leave (ESCI), and a removal
half-way through a payment leaves nothing the removed person can complete. On SQLite and
PostgreSQL (the `core` fixture)."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.errors import NotAllowed
from core.domain.messages import Reply
from core.i18n import render_text
from core.services import ledger, shop_members
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    INVITED,
    REMOVE_CODE,
    Chat,
    add_member,
    open_till,
    outbox_of,
    param,
)
from tests.dialogue.test_shop import (
    ASK_CODE,
    CONFIRMED,
    VERIFY_CASHIER,
    VERIFY_JOIN,
    citizen_code,
    own_code,
)
from tests.factories import Town, make_town

CASHIER = "+393339990050"
LIST = "Cashiers of {shop}. Reply with the number of the one to remove, or ANNULLA."
SURE = "Remove cashier {who}? They will no longer be able to charge, refund or see the statement."
VERIFY_REMOVE = REMOVE_CODE
DONE = "Done: {who} no longer works for {shop} and was told."
TOLD_REMOVED = (
    "You no longer work for {shop}: this chat can no longer charge, refund or see its statement."
)
STOPPED = "You no longer work for this shop: the request was stopped."
LEAVE_SURE = (
    "Stop working for {shop}? This chat will no longer charge its vouchers; the owner is told."
)
NO_LONGER = (
    "You are no longer a cashier of {shop}. If you should still work there, ask the owner for "
    "a new cashier code."
)
INVITE = INVITED
VOID = "{shop} cancelled the payment of {amount}. The code is no longer valid."


async def join(core: Core, town: Town, address: str = CASHIER, channel: str = "sms") -> None:
    await add_member(core, town.shop_id, address, "cashier", channel=channel)


async def members(core: Core, town: Town) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        return [(x.address, x.role) for x in await uow.shops.members_of(town.shop_id)]


async def balance(core: Core, town: Town) -> int:
    async with core.uow() as uow:
        return await ledger.citizen_balance(uow, town.municipality_id, town.citizen_ids[0])


async def charge_status(core: Core, town: Town) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.Charge.status).where(m.Charge.shop_id == town.shop_id).order_by(m.Charge.id)
        )
        return list(rows.all())


def texts(replies: list[Reply], language: str) -> str:
    return " ".join(render_text(text, language) for reply in replies for text in reply.texts)


async def test_the_owner_removes_a_cashier_who_was_charging(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await join(core, town)
    cashier = await open_till(Chat(core, CASHIER))
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    # The owner sees the list, masked.
    owner = Chat(core, town.shop_phone)
    replies = await owner.expect("CASSIERI", LIST)
    labels = [render_text(option.label, "it") for option in replies[-1].options]
    assert len(labels) == 1 and labels[0].startswith("SMS ***050, dal ")
    assert CASHIER not in texts(replies, "it") + " ".join(labels)
    await owner.expect("1", SURE)
    assert param(owner.last, "who") == "SMS ***050"
    await owner.expect("1", VERIFY_REMOVE)
    await owner.expect(await own_code(owner), DONE)
    assert await members(core, town) == [(town.shop_phone, "owner")]
    # The charge the cashier left waiting is void, and its customer told so.
    assert await charge_status(core, town) == ["cancelled"]
    last = (await outbox_of(core, "sms", town.citizen_phones[0]))[-1][1]
    assert last.texts[0].msgid == VOID
    # The removed cashier is told, and the customer's right code completes nothing.
    told = (await outbox_of(core, "sms", CASHIER))[-1][1]
    assert told.texts[0].msgid == TOLD_REMOVED
    assert (await cashier.state())[:2] == (None, None)
    await cashier.send(code)
    assert await balance(core, town) == 150_00
    assert await charge_status(core, town) == ["cancelled"]
    # PAGA then says whose cashier the chat no longer is, and whom to ask (not "only
    # registered shops", which a cashier of a registered shop does not understand).
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 5", NO_LONGER)
    assert param(cashier.last, "shop") == "Alimentari Test"
    assert await charge_status(core, town) == ["cancelled"]
    await cashier.expect("STORNO", NO_LONGER)
    # And so does the statement the removed cashier may no longer see.
    await cashier.expect("RESOCONTO", NO_LONGER)
    assert param(cashier.last, "shop") == "Alimentari Test"
    # Logged, with what the removal closed.
    async with core.uow() as uow:
        [entry] = (
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.member_remove")
            )
        ).all()
    assert entry.actor == f"sms:{town.shop_phone}"
    assert entry.before is not None and entry.before["member"] == "SMS ***050"
    assert entry.after == {"cancelled_charges": 1, "till_closed": True}


async def test_a_cashier_removed_between_pay_and_the_code_cannot_complete(core: Core) -> None:
    """Even when the removal skipped the service (a row deleted by hand), the code step
    checks membership when the code is typed."""
    town = await make_town(core, citizens=1)
    await join(core, town, "7002", "telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[0])
    async with core.uow() as uow:
        for member in await uow.shops.members_of(town.shop_id):
            if member.address == "7002":
                await uow.delete(member)
        await uow.commit()
    await cashier.expect(code, STOPPED)
    assert await balance(core, town) == 150_00
    assert (await cashier.state())[:2] == (None, None)
    # A member still in the shop completes as ever.
    owner = await open_till(Chat(core, town.shop_phone))
    await owner.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    await owner.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    assert await balance(core, town) == 137_50


async def test_a_cashier_leaves_in_english_and_the_phone_can_apply(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await join(core, town)
    cashier = Chat(core, CASHIER)
    await cashier.send("LINGUA en")
    replies = await cashier.expect("LEAVE", LEAVE_SURE)
    assert "CANCEL" not in texts(replies, "en") and "Yes, leave" in [
        render_text(o.label, "en") for o in replies[-1].options
    ]
    await cashier.expect("2", "Nothing was changed.")
    assert len(await members(core, town)) == 2
    await cashier.expect("LEAVE", LEAVE_SURE)
    replies = await cashier.send("1")
    code = await own_code(cashier)
    assert "stop working for Alimentari Test" in texts(replies, "en")
    replies = await cashier.expect(code, "You no longer work for {shop}.")
    assert await members(core, town) == [(town.shop_phone, "owner")]
    # The citizen's menu now, and the owner is told in Italian.
    assert "apply" in [o.key for o in replies[-1].options]
    notice = (await outbox_of(core, "sms", town.shop_phone))[-1][1]
    assert notice.texts[0].msgid == "Cashier {who} left {shop}."
    assert render_text(notice.texts[0], "it").startswith("SMS ***050 non lavora più")
    # Who left knows it: PAGA gets the answer of any chat that works for no shop.
    await cashier.expect("PAY", "Only shops registered with the municipality can charge vouchers.")
    # The phone is free: the shop-phone guard lets a citizen have it.
    async with core.uow() as uow:
        assert not await uow.shops.has_member_at("sms", CASHIER)
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        citizen.phone = CASHIER
        await uow.flush()
        await uow.commit()


async def test_esci_still_cancels_and_the_owner_cannot_leave(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await join(core, town, "7002", "telegram")
    cashier = Chat(core, "7002", channel=Channel.TELEGRAM)
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 3", ASK_CODE)
    # With a request open ESCI is ANNULLA, as always: the payment is cancelled, not the job.
    await cashier.send("ESCI")
    assert "Payment of {amount} ({where}) cancelled: the customer's code no longer works." in [
        t.msgid for r in cashier.last for t in r.texts
    ]
    assert len(await members(core, town)) == 2
    assert await charge_status(core, town) == ["cancelled"]
    # A citizen's ESCI cancels nothing.
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("ESCI", "There is nothing to cancel.")
    owner = Chat(core, town.shop_phone)
    await owner.expect(
        "ESCI",
        "The owner of a shop cannot be removed from it: to change the owner, ask the "
        "municipality's office.",
    )
    await cashier.expect("CASSIERI", "Only the owner of a shop can see and remove its cashiers.")
    # No cashiers left: the owner's list says how to add one.
    async with core.uow() as uow:
        [removed] = await shop_members.cashiers_of(uow, town.shop_id)
        owner_row = next(x for x in await uow.shops.members_of(town.shop_id) if x.role == "owner")
        try:
            await shop_members.remove_member(
                uow,
                town.municipality_id,
                town.shop_id,
                owner_row.id,
                by="test",
                now=core.now(),
            )
        except NotAllowed as refused:
            assert refused.code == "shop.owner_not_removable"
        else:
            raise AssertionError("the owner was removed")
        await shop_members.remove_member(
            uow, town.municipality_id, town.shop_id, removed.id, by="test", now=core.now()
        )
        await uow.commit()
    await owner.expect("CASSIERI", "{shop} has no cashiers. To add one, write CASSIERE.")
    english = Chat(core, "7003", channel=Channel.TELEGRAM)
    await add_member(core, town.shop_id, "7003", "owner", channel="telegram")
    await english.send("LINGUA en")
    replies = await english.send("CASHIERS")
    assert render_text(replies[-1].texts[0], "en").endswith("To add one, write CASHIER.")


async def test_an_owner_on_telegram_removes_at_once_and_is_not_told_of_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await join(core, town)
    await add_member(core, town.shop_id, "7001", "owner", channel="telegram")
    owner = Chat(core, "7001", channel=Channel.TELEGRAM)
    replies = await owner.expect("CASSIERI", LIST)
    assert next(o.key for o in replies[-1].options).startswith("m")
    await owner.expect("1", SURE)
    await owner.expect("2", "Nothing was changed.")
    await owner.expect("CASSIERI", LIST)
    await owner.expect("1", SURE)
    # No code on Telegram (its sender cannot be forged): done at once.
    await owner.expect("1", DONE)
    assert {a for a, _ in await members(core, town)} == {town.shop_phone, "7001"}
    # The owner's rows are one person: answered in the chat they acted from, and told
    # nothing on the shop's phone either (docs/payments-and-codes.md).
    assert await notices_to_owner(core, town, "Cashier {who}") == []
    told = (await outbox_of(core, "sms", CASHIER))[-1][1]
    assert told.texts[0].msgid == TOLD_REMOVED


async def notices_to_owner(core: Core, town: Town, prefix: str) -> list[tuple[str, Reply]]:
    """The notices starting with `prefix` to the shop's owner, on each of their chats."""
    return [
        (channel, reply)
        for channel, address in (("sms", town.shop_phone), ("terminal", town.shop_phone))
        for _, reply in await outbox_of(core, channel, address)
        if reply.texts[0].msgid.startswith(prefix)
    ]


async def owner_also_on_the_terminal(core: Core, town: Town) -> Chat:
    """The shop's owner, registered by SMS, also at the terminal chat (as in the demo)."""
    await add_member(core, town.shop_id, town.shop_phone, "owner", channel="terminal")
    return Chat(core, town.shop_phone, channel=Channel.TERMINAL)


TERMINAL_CASHIER = "+393339990001"
JOINED = "A cashier joined {shop} from {who}."


async def test_an_owner_on_two_channels_is_told_once_where_they_last_wrote(
    core: Core, clock: FakeClock
) -> None:
    town = await make_town(core, citizens=1)
    terminal = await owner_also_on_the_terminal(core, town)
    await terminal.expect("CASSIERE", VERIFY_CASHIER)
    replies = await terminal.expect(await own_code(terminal), INVITE)
    # A cashier joins from the terminal chat too.
    cashier = Chat(core, TERMINAL_CASHIER, channel=Channel.TERMINAL)
    await cashier.expect(f"INVITO {param(replies, 'code')}", VERIFY_JOIN)
    await cashier.expect(
        await own_code(cashier), "You now work for {shop}: you can charge its vouchers."
    )
    # One notice, on the terminal the owner last wrote from, naming the cashier's channel.
    [(channel, joined)] = await notices_to_owner(core, town, JOINED)
    assert channel == "terminal"
    assert joined.texts[0].params["who"] == "computer ***001"
    assert render_text(joined.texts[0], "it").startswith(
        "Una persona si è unita alla cassa del negozio Alimentari Test da computer ***001."
    )
    # CASSIERI shows the cashier by that channel too.
    replies = await terminal.expect("CASSIERI", LIST)
    [label] = [render_text(option.label, "it") for option in replies[-1].options]
    assert label.startswith("computer ***001, dal ")
    await terminal.expect("ANNULLA")
    # The owner writes from the shop's phone later: the next notice goes there, once.
    clock.advance(minutes=1)
    await Chat(core, town.shop_phone).send("MENU")
    await cashier.expect("ESCI", LEAVE_SURE)
    await cashier.expect("1")
    await cashier.expect(await own_code(cashier), "You no longer work for {shop}.")
    [(channel, left)] = await notices_to_owner(core, town, "Cashier {who} left")
    assert channel == "sms" and left.texts[0].params["who"] == "computer ***001"


async def test_the_owner_removing_a_cashier_from_one_chat_is_told_nothing_on_another(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    await join(core, town, TERMINAL_CASHIER, channel="terminal")
    terminal = await owner_also_on_the_terminal(core, town)
    await terminal.expect("CASSIERI", LIST)
    await terminal.expect("1", SURE)
    assert param(terminal.last, "who") == "computer ***001"
    await terminal.expect("1", VERIFY_REMOVE)
    await terminal.expect(await own_code(terminal), DONE)
    assert await members(core, town) == [(town.shop_phone, "owner")] * 2
    # Answered in the terminal; no notice of their own act, by SMS or at the terminal.
    assert await notices_to_owner(core, town, "Cashier {who}") == []
    told = (await outbox_of(core, "terminal", TERMINAL_CASHIER))[-1][1]
    assert told.texts[0].msgid == TOLD_REMOVED


async def test_every_cashier_can_be_reached_the_newest_first(core: Core, clock: FakeClock) -> None:
    """User trial: with four cashiers the SMS list showed the two oldest and no word of the
    others, so the newest (of whom the owner had just been warned) could not be removed.
    Now the newest come first, the dates go when they crowd the names out, and those left
    out are counted."""
    town = await make_town(core, citizens=0)
    phones = [f"+39333999{n:04d}" for n in range(1, 9)]
    for phone in phones:
        await join(core, town, phone)
        clock.advance(minutes=1)
    owner = Chat(core, town.shop_phone)
    replies = await owner.expect("CASSIERI", LIST)
    labels = [render_text(option.label, "it") for option in replies[-1].options]
    assert labels[:2] == ["SMS ***008", "SMS ***007"]
    [unlisted] = [text for reply in replies for text in reply.texts if text.count is not None]
    assert unlisted.count == len(phones) - len(labels) > 0
    await owner.expect("1", SURE)
    assert param(owner.last, "who") == "SMS ***008"


async def test_a_customers_refusal_is_told_to_the_till_that_asked(core: Core) -> None:
    """Shops' trial: a customer's ANNULLA reached the owner and every cashier."""
    town = await make_town(core, citizens=1)
    await join(core, town)
    await join(core, town, "+393339990051")
    cashier = await open_till(Chat(core, CASHIER))
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 12", ASK_CODE)
    await Chat(core, town.citizen_phones[0]).send("ANNULLA")
    refused = (
        "The customer refused the payment of {amount}: the code no longer works. Ask how "
        "they want to pay."
    )

    async def told(phone: str) -> list[str]:
        return [reply.texts[0].msgid for _row, reply in await outbox_of(core, "sms", phone)]

    assert refused in await told(CASHIER)
    assert refused not in await told("+393339990051")
    assert refused not in await told(town.shop_phone)


async def test_a_stale_removal_never_removes_the_cashier_who_got_the_id_again(
    core: Core, clock: FakeClock
) -> None:
    """The owner chose cashier 1 and is asked to confirm; meanwhile the office removed that
    cashier and a new one joined with the same id (SQLite gives the highest freed id
    again). The owner's Yes removes nobody: the request named the cashier by when they
    joined, and the new one joined later."""
    town = await make_town(core, citizens=1)
    await join(core, town)
    await add_member(core, town.shop_id, "7001", "owner", channel="telegram")
    owner = Chat(core, "7001", channel=Channel.TELEGRAM)
    await owner.expect("CASSIERI", LIST)
    await owner.expect("1", SURE)
    async with core.uow() as uow:
        [old] = await shop_members.cashiers_of(uow, town.shop_id)
        await shop_members.remove_member(
            uow, town.municipality_id, town.shop_id, old.id, by="test", now=core.now()
        )
        await uow.commit()
    clock.advance(minutes=5)
    async with core.uow() as uow:
        uow.session.add(
            m.ShopMember(
                id=old.id,
                shop_id=town.shop_id,
                channel="sms",
                address="+393339990099",
                role="cashier",
                created_at=core.now(),
            )
        )
        await uow.commit()
    await owner.expect("1", "This person no longer works for the shop.")
    assert ("+393339990099", "cashier") in await members(core, town)

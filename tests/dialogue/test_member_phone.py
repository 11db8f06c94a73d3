"""A shop's member on Telegram shares their own phone (flows/member_phone.py): joining,
and, for one who joined before (migration 0040), before their next charge. Telegram tells
no phone, and without it the rule that keeps a customer's codes from the shop's staff
(shop_rights.refuse_code_to_own_staff) could not see a cashier who is also the customer's
delegate."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.errors import error_text
from core.dialogue.flows.member_phone import SHARE_BEFORE_CODES, SHARE_TO_JOIN
from core.dialogue.inbound import Channel
from core.domain.errors import Conflict, DomainError, Refusal
from core.services import delegates, shops
from core.storage import models as m
from tests.dialogue.harness import Chat, outbox_of
from tests.dialogue.test_shop import ASK_CODE
from tests.factories import Town, make_town, pay

CASHIER_CHAT = "880090"
CASHIER_PHONE = "+393471230090"
JOINED = "You now work for {shop}: you can charge its vouchers."
NOT_OWN = "Please share your own contact, with the button."
IS_HOLDERS = error_text(DomainError(Refusal.SHOP_MEMBER_IS_CITIZEN)).msgid


def cashier(core: Core) -> Chat:
    return Chat(core, CASHIER_CHAT, channel=Channel.TELEGRAM)


async def memberships(core: Core) -> list[tuple[str, str | None]]:
    async with core.uow() as uow:
        rows = await uow.shops.membership("telegram", CASHIER_CHAT)
        return [(member.role, member.phone) for member, _ in rows]


async def charges_made(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(m.Charge)) or 0)


async def test_a_cashier_joins_on_telegram_with_their_own_phone(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        invite = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    chat = cashier(core)
    replies = await chat.expect(f"INVITO {invite}", SHARE_TO_JOIN.msgid)
    assert replies[-1].request == "contact"
    assert (await chat.state())[:2] == ("join", "contact")
    # Someone else's contact (its user is not the sender) hides the cashier's own phone.
    replies = await chat.expect(None, NOT_OWN, contact=(town.citizen_phones[0], False))
    assert replies[-1].request == "contact"
    await chat.expect("ok", "Tap the button to share your phone number, or write MENU.")
    assert await memberships(core) == []
    await chat.expect(None, JOINED, contact=("347 123 0090", True))
    assert await memberships(core) == [("cashier", CASHIER_PHONE)]
    # The office cannot make the cashier's phone a customer's delegate any more.
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        with pytest.raises(Conflict) as refused:
            await delegates.add_delegate(
                uow, municipality, town.citizen_cfs[0], CASHIER_PHONE, core.now()
            )
        assert refused.value.code == Refusal.DELEGATE_PHONE_IS_SHOP


async def test_a_voucher_holders_phone_does_not_join_on_telegram(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        invite = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    chat = cashier(core)
    await chat.expect(f"INVITO {invite}", SHARE_TO_JOIN.msgid)
    await chat.expect(None, IS_HOLDERS, contact=(town.citizen_phones[0], True))
    assert await memberships(core) == []


async def joined_before(core: Core, town: Town) -> None:
    """A Telegram cashier who joined before members shared their phone, and whose phone
    the office then registered as the customer's delegate (nothing could see it)."""
    async with core.uow() as uow:
        uow.add(
            m.ShopMember(
                shop_id=town.shop_id,
                channel="telegram",
                address=CASHIER_CHAT,
                role="cashier",
                created_at=core.now(),
            )
        )
        uow.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=town.citizen_ids[0],
                phone=CASHIER_PHONE,
                created_at=core.now(),
            )
        )
        await uow.commit()


async def test_a_telegram_cashier_who_is_the_customers_delegate_cannot_charge_them(
    core: Core,
) -> None:
    """The till asks the cashier's own phone before charging: it is the delegate's, so
    nothing is charged and no code reaches the cashier's phone."""
    town = await make_town(core, citizens=1)
    await joined_before(core, town)
    chat = cashier(core)
    replies = await chat.expect(f"PAGA {town.citizen_cfs[0]} 12,50", SHARE_BEFORE_CODES.msgid)
    assert replies[-1].request == "contact"
    assert await charges_made(core) == 0
    await chat.expect(None, IS_HOLDERS, contact=(CASHIER_PHONE, True))
    assert (await chat.state())[:2] == (None, None)
    assert await charges_made(core) == 0
    assert await outbox_of(core, "sms", CASHIER_PHONE) == []
    assert await memberships(core) == [("cashier", None)]
    # Asked again at the next PAGA: the shop's rule still cannot see the phone otherwise.
    await chat.expect(f"PAGA {town.citizen_cfs[0]} 12,50", SHARE_BEFORE_CODES.msgid)


async def test_a_member_who_joined_before_shares_their_phone_then_charges(core: Core) -> None:
    town = await make_town(core, citizens=2)
    await joined_before(core, town)
    chat = cashier(core)
    await chat.expect(f"PAGA {town.citizen_cfs[1]} 12,50", SHARE_BEFORE_CODES.msgid)
    await chat.expect(None, NOT_OWN, contact=("+393471230091", False))
    assert await memberships(core) == [("cashier", None)]
    # Their own phone, nobody's: the PAGA they wrote goes on.
    await chat.expect(None, ASK_CODE, contact=("+393471230092", True))
    assert await memberships(core) == [("cashier", "+393471230092")]
    assert await charges_made(core) == 1
    await chat.expect("ANNULLA")
    # Not asked again.
    await chat.expect(f"PAGA {town.citizen_cfs[1]} 10", ASK_CODE)


async def test_a_member_who_joined_before_shares_their_phone_before_a_refund(
    core: Core,
) -> None:
    """A cashier's refund sends the customer a code: STORNO asks the phone first too."""
    town = await make_town(core, citizens=2)
    await joined_before(core, town)
    # Taken at the cashier's own till: a cashier's STORNO lists only those.
    await pay(core, town, 30_00, citizen=1, by=("telegram", CASHIER_CHAT))
    chat = cashier(core)
    await chat.expect("STORNO", SHARE_BEFORE_CODES.msgid)
    await chat.expect(None, IS_HOLDERS, contact=(CASHIER_PHONE, True))
    assert await memberships(core) == [("cashier", None)]
    await chat.expect("STORNO", SHARE_BEFORE_CODES.msgid)
    await chat.expect(
        None,
        "Which payment of today do you want to refund?",
        contact=("+393471230093", True),
    )
    assert await memberships(core) == [("cashier", "+393471230093")]
    assert (await chat.state())[:2] == ("refund", "pick")

"""Who may act for a shop now: checked by the service that makes the change, in its own
transaction, never only when the request began.

A shop's request may wait minutes between its start and its code (the owner's code to
their own number, the customer's code for a cashier's refund). Meanwhile the office or the
owner may remove the chat from the shop, or the shop may be blocked or locked. The code
typed later must not act with the rights the chat had when it began: so each service that
changes something for a shop (a refund and its customer code, a new cashier code, removing
a cashier, leaving, opening an SMS till) first reads the chat's place in the shop as the
database holds it now, its row locked until the commit (a removal committing meanwhile
waits, or is seen), and the shop's state, and refuses otherwise. Nothing is written before.

A code that confirms a shop's operation (a payment, a community voucher's payment, a
cashier's refund) is the consent of someone other than the shop: it never goes to one of
the shop's own members (refuse_code_to_own_staff).
"""

from __future__ import annotations

from datetime import datetime

from core.domain.channels import Channel
from core.domain.charges import shop_is_locked
from core.domain.errors import NotAllowed, Refusal
from core.domain.shops import MemberRole, ShopStatus
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


def check_shop_can_charge(shop: m.Shop | None, now: datetime) -> m.Shop:
    """The shop, when it may charge now: approved, not blocked by the office and not locked
    for wrong codes."""
    if shop is None or shop.status != ShopStatus.APPROVED:
        raise NotAllowed(Refusal.SHOP_NOT_APPROVED)
    if shop.blocked_at is not None:
        raise NotAllowed(Refusal.SHOP_BLOCKED)
    if shop_is_locked(shop.locked_until, now):
        raise NotAllowed(
            Refusal.SHOP_LOCKED, until=shop.locked_until.isoformat() if shop.locked_until else ""
        )
    return shop


async def acting_member(
    uow: UnitOfWork,
    shop_id: int,
    chat: tuple[str, str],
    now: datetime,
    *,
    owner: bool = False,
    shop_may_charge: bool = False,
) -> tuple[m.ShopMember, m.Shop]:
    """The place of `chat` (channel, address) in the shop now, and the shop: refused
    (shop.not_member) when the chat no longer works for it, (shop.not_owner) when `owner`
    is asked and it is not the owner, and with the shop's own refusal when
    `shop_may_charge` is asked and the shop cannot charge now (not approved, blocked by
    the office, locked for wrong codes)."""
    channel, address = chat
    member = await uow.shops.member_at(shop_id, channel, address)
    if member is None:
        raise NotAllowed(Refusal.SHOP_NOT_MEMBER)
    if owner and not is_owner(member):
        raise NotAllowed(Refusal.SHOP_NOT_OWNER)
    shop = await uow.shops.current(shop_id)
    if shop is None:
        raise NotAllowed(Refusal.SHOP_NOT_MEMBER)
    if shop_may_charge:
        check_shop_can_charge(shop, now)
    return member, shop


def is_owner(member: m.ShopMember) -> bool:
    return member.role == MemberRole.OWNER.value


def till_of(member: m.ShopMember) -> str:
    """The member's till as a payment's requested_by names it."""
    return f"{member.channel}:{member.address}"


async def refuse_code_to_own_staff(
    uow: UnitOfWork,
    shop: m.Shop,
    destination: tuple[str, str],
    refusal: Refusal = Refusal.PAYMENT_CODE_TO_SHOP,
) -> None:
    """A code that confirms an operation of `shop` goes nowhere its own staff reads: not to
    a phone that is one of its members' (owner or cashier) on any channel whose address is
    a phone (SMS, the terminal) or that a Telegram member shared as their own, nor to a
    Telegram user who is one of its members. A Telegram member who joined before members
    shared their phone is asked for it first at their next PAGA or STORNO
    (core/dialogue/flows/member_phone.py).
    `destination`: (channel, address) the code would go to (a Telegram chat, else a phone).

    One rule for every such code: a buono spesa's payment (charges.request_charge), a
    cashier's refund (refund_codes.send_refund_code), a community voucher's payment
    (voucher_charges.request_voucher_charge). The services, and the database, keep a
    shop's phones and chats apart from citizens' and delegates' (identity.is_shop_phone);
    this is for the pairs written before that rule covered every channel, and for a
    voucher's holder, whom nothing keeps apart. Refused (`refusal`) before anything is sent
    or changed; other shops are not concerned."""
    channel, address = destination
    if channel == Channel.TELEGRAM:
        reached = await uow.shops.members_reached_at(shop.municipality_id, telegram_user=address)
    else:
        reached = await uow.shops.members_reached_at(shop.municipality_id, phone=address)
    if any(member.shop_id == shop.id for member, _ in reached):
        raise NotAllowed(refusal)

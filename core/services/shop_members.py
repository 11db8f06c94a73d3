"""Who works at a shop, and how a cashier stops: the owner removes them (CASSIERI), the
cashier leaves (ESCI), or the office removes them (the shops page, `admin shops
remove-member`). One rule for all three, in one transaction: the membership row goes, the
pending payments that member started are cancelled (their customers are told the code is
void), the member's SMS till session and any shop request open in their chat end, the
activity log records it, and the people concerned are told through the outbox. The phone is
then free to apply as a citizen (the shop-phone guard of migration 0015 reads current
members only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import chat_label
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.identity import mask_phone
from core.domain.messages import Reply, Text, t
from core.domain.shops import MemberRole
from core.services import activity, refund_codes, voucher_charges
from core.services import charges as charge_service
from core.services.outbox import notify_members
from core.services.shop_rights import acting_member, till_of
from core.services.shops import member_phone, refuse_citizens_phone
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# The dialogue's flows that act for a shop (core/dialogue/flows: their `name`).
SHOP_FLOWS = frozenset({"charge", "refund", "statement", "cashier", "cashiers", "leave"})


def member_label(member: m.ShopMember) -> str:
    """How a member is shown to the owner and the office (see chat_label)."""
    return chat_label(member.channel, member.address)


async def cashiers_of(uow: UnitOfWork, shop_id: int) -> list[m.ShopMember]:
    """The shop's cashiers (not its owner), the earliest first."""
    members = await uow.shops.members_of(shop_id)
    cashiers = [x for x in members if x.role == MemberRole.CASHIER.value]
    return sorted(cashiers, key=lambda x: (x.created_at, x.id))


async def members_of(uow: UnitOfWork, shop_id: int) -> list[m.ShopMember]:
    """Every member, the owner first, then the cashiers by when they joined."""
    members = await uow.shops.members_of(shop_id)
    return sorted(members, key=lambda x: (x.role != MemberRole.OWNER.value, x.created_at, x.id))


class AlreadyRemoved(NotFound):
    """The member is gone because they were removed (or left) before: a removal sent again
    (a double click, an old tab). Said as what was done, by whom and when; nothing is done
    twice. Its code is the member's not being found, as a chat says it."""

    code = Refusal.SHOP_MEMBER_NOT_FOUND


async def member_not_found(uow: UnitOfWork, shop: m.Shop, member_id: int) -> NotFound:
    """Why the shop has no member `member_id`: removed already (the activity log's entry
    names them), or never one of its members."""
    entry = await uow.activity.member_removal(shop.municipality_id, shop.id, member_id)
    if entry is None:
        return NotFound(Refusal.SHOP_MEMBER_NOT_FOUND, member_id=member_id)
    return AlreadyRemoved(
        member_id=member_id,
        who=str((entry.before or {}).get("member", "")),
        shop=shop.name,
        by=entry.actor,
        # Who it was is said from what they did: a cashier who left, or a removal.
        action=entry.action,
        at=entry.created_at.isoformat(),
    )


@dataclass(frozen=True)
class Removed:
    shop: m.Shop
    label: str  # the member as member_label shows them
    cancelled_charges: int  # pending payments the member had started, now void
    till_closed: bool  # an open SMS till session of the member was ended


async def remove_member(
    uow: UnitOfWork,
    municipality_id: int,
    shop_id: int,
    member_id: int,
    *,
    by: activity.Actor,
    now: datetime,
    by_member: m.ShopMember | None = None,
    by_chat: tuple[str, str] | None = None,
    joined_at: datetime | None = None,
) -> Removed:
    """Remove a cashier from a shop. `by_member`: the member acting in a chat (the owner
    removing a cashier, or the cashier leaving: then it is `member_id` itself); None for
    the office. The owner is never removed (a shop without one could not add cashiers,
    and its registration names them): the office changes an owner otherwise. The caller
    commits. `by_chat`: the chat (channel, address) acting, whose place in the shop is read
    now, in this transaction (its row locked until the commit), instead of `by_member`: a
    chat removed, or no longer the owner, since its request began is refused
    (shop.not_member, shop.not_owner) and nothing changes. `joined_at`: when the member
    meant joined (their `created_at`, as the page or the chat showed them): on SQLite a
    removed member's id is given to the next one to join (INTEGER PRIMARY KEY reuses the
    highest freed id), so an old tab or a stale request naming the id alone would remove
    the new cashier; a member who joined at another moment is not the one meant, and the
    removal is refused as for a member gone (AlreadyRemoved when the log has their
    removal), nothing changed."""
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    if by_chat is not None:
        by_member = await uow.shops.member_at(shop.id, *by_chat)
        if by_member is None:
            raise NotAllowed(Refusal.SHOP_NOT_MEMBER)
        if by_member.id != member_id and by_member.role != MemberRole.OWNER.value:
            raise NotAllowed(Refusal.SHOP_NOT_OWNER)
    # Locked: the same removal sent twice (a double click, a form sent again) removes once;
    # the second finds the member gone.
    member = await uow.shops.member_locked(shop.id, member_id)
    if member is None or (joined_at is not None and member.created_at != joined_at):
        raise await member_not_found(uow, shop, member_id)
    if member.role == MemberRole.OWNER.value:
        raise NotAllowed(Refusal.SHOP_OWNER_NOT_REMOVABLE)
    leaving = by_member is not None and by_member.id == member.id
    if by_member is not None and not leaving and by_member.role != MemberRole.OWNER.value:
        # Only the owner removes someone else (the flows ask this too; a stale turn may not).
        raise NotAllowed(Refusal.SHOP_OWNER_NOT_REMOVABLE)
    label = member_label(member)
    cancelled = await _cancel_pending(uow, shop, member, now)
    # The refunds this chat asked wait for their customers' codes no more: they are told,
    # and the customers' code rows stop naming the chat of someone who left.
    asker = till_of(member)
    await refund_codes.void_refund_codes(
        uow, refund_codes.REFUND_CASHIER_GONE, now, shop_id=shop.id, asked_by=asker
    )
    await uow.security.forget_asker(asker)
    till_closed = await _end_chat_session(uow, shop, member, removed=not leaving)
    await uow.delete(member)
    await uow.flush()
    await activity.by_actor(
        uow,
        municipality_id,
        by,
        "shop.member_leave" if leaving else "shop.member_remove",
        subject=f"{shop.id} {shop.name}",
        before={
            "member": label,
            "member_id": member.id,  # a removal sent again finds this entry: AlreadyRemoved
            "role": member.role,
            "since": member.created_at.isoformat(),
        },
        after={"cancelled_charges": cancelled, "till_closed": till_closed},
        now=now,
    )
    if not leaving:
        await notify_members(
            uow,
            shop,
            [member],
            Reply.of(
                t(
                    "You no longer work for {shop}: this chat can no longer charge, refund or "
                    "see its statement.",
                    shop=shop.name,
                )
            ),
            now,
        )
    if by_member is None or leaving:
        # The owner is told of what others did. Removing a cashier themselves, from any
        # of their chats, they are answered in that chat and told nothing more: the owner
        # rows of a shop are one person (its registration's), reached on several channels.
        members = await uow.shops.members_of(shop.id)
        owners = [x for x in members if x.role == MemberRole.OWNER.value]
        await notify_members(
            uow, shop, owners, Reply.of(_owner_notice(shop, label, by_member)), now
        )
    return Removed(shop, label, cancelled, till_closed)


def _owner_notice(shop: m.Shop, label: str, by_member: m.ShopMember | None) -> Text:
    if by_member is None:
        return t(
            "The municipality's office removed cashier {who} from {shop}.",
            who=label,
            shop=shop.name,
        )
    return t("Cashier {who} left {shop}.", who=label, shop=shop.name)


async def share_phone(
    uow: UnitOfWork,
    municipality_id: int,
    chat: tuple[str, str],
    phone: str,
    now: datetime,
) -> list[m.Shop]:
    """A Telegram member who joined before members shared their phone (migration 0040)
    gives it now, from their own contact: stored on every place of the chat in the
    municipality's shops, the shops returned. Refused, nothing stored, when the phone
    receives a voucher holder's codes (SHOP_MEMBER_IS_CITIZEN: the office decides), or
    when the chat works for none of them (SHOP_NOT_MEMBER). The caller commits."""
    channel, address = chat
    rows = [
        (member, shop)
        for member, shop in await uow.shops.membership(channel, address)
        if shop.municipality_id == municipality_id
    ]
    if not rows:
        raise NotAllowed(Refusal.SHOP_NOT_MEMBER)
    await refuse_citizens_phone(uow, municipality_id, channel, address, phone)
    for member, shop in rows:
        member.phone = member_phone(channel, phone)
        await activity.record(
            uow,
            municipality_id,
            chat_label(channel, address),
            "shop.member_phone",
            subject=f"{shop.id} {shop.name}",
            after={"phone": mask_phone(phone)},
            now=now,
        )
    await uow.flush()
    return [shop for _, shop in rows]


async def open_till(uow: UnitOfWork, shop_id: int, chat: tuple[str, str], now: datetime) -> m.Shop:
    """A till on SMS confirmed by the code to its own number: the chat must still work for
    the shop, and the shop be able to charge, when the code comes back."""
    _, shop = await acting_member(uow, shop_id, chat, now, shop_may_charge=True)
    return shop


async def _cancel_pending(
    uow: UnitOfWork, shop: m.Shop, member: m.ShopMember, now: datetime
) -> int:
    """Void the payments this member started that still wait for the customer's code: once
    removed they must not be able to complete one. Each customer is told the code is void.
    A charge confirmed concurrently is not touched (compare-and-set on its status)."""
    requested_by = till_of(member)
    cancelled = 0
    for charge_id in await uow.charges.pending_requested_by(shop.id, requested_by):
        cancelled += await charge_service.cancel_charge(
            uow, charge_id=charge_id, shop_id=shop.id, now=now
        )
    for charge_id in await uow.community.pending_charges_requested_by(shop.id, requested_by):
        cancelled += await voucher_charges.cancel_voucher_charge(
            uow, charge_id=charge_id, shop_id=shop.id, now=now
        )
    return cancelled


async def _end_chat_session(
    uow: UnitOfWork, shop: m.Shop, member: m.ShopMember, *, removed: bool
) -> bool:
    """End what the member's chat holds for this shop: its SMS till session, the shop it
    acts for, a request of this shop open there (a charge at its code step, a refund).
    A cashier `removed` (not leaving) is remembered, so that a PAGA later is told whose
    cashier they no longer are. The keys are those of core/dialogue/state.py ChatMemory and
    its flows' states, whose stored names never change. True when a till session was open."""
    conversation = await uow.conversations.find_for_update(
        shop.municipality_id, member.channel, member.address
    )
    if conversation is None:
        return False
    data = dict(conversation.data or {})
    till = data.get("till")
    closed = isinstance(till, dict) and till.get("shop_id") == shop.id
    if closed:
        data.pop("till")
    if data.get("shop_id") == shop.id:
        data.pop("shop_id")
    if removed:
        data["removed_from"] = shop.id
    elif data.get("removed_from") == shop.id:
        data.pop("removed_from")
    state = data.get("state")
    if (
        conversation.flow in SHOP_FLOWS
        and isinstance(state, dict)
        and state.get("shop_id") == shop.id
    ):
        conversation.flow = None
        conversation.step = None
        data.pop("state", None)
        data.pop("options", None)
    # A new dict: the JSON column notices a replaced value, not one changed in place.
    conversation.data = data
    return closed

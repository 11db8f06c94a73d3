"""Wrong codes against a shop: counted, the shop locked (for a while, or until the office
unlocks it) and its owner told; the office's unlock."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain.channels import chat_label
from core.domain.charges import (
    ShopLock,
    lock_for_wrong_codes,
)
from core.domain.errors import (
    Conflict,
    NotFound,
    Refusal,
)
from core.domain.messages import Moment, Reply, t
from core.domain.policy import Policy
from core.services import activity, security
from core.services.refund_codes import (
    REFUND_SHOP_BLOCKED,
    void_refund_codes,
)
from core.services.shops import notify_owners
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def count_wrong_code(
    uow: UnitOfWork,
    shop: m.Shop,
    policy: Policy,
    now: datetime,
    typed_by: str | None,
    *,
    charge_id: int | None = None,
    detail: str | None = None,
) -> ShopLock:
    """Record a wrong code against the shop and lock it when it has typed too many.

    One rule for every payment the shop takes (buoni spesa, cards, community vouchers):
    what counts is the shop's wrong codes, whatever was being paid."""
    channel, _, address = (typed_by or "").partition(":")
    await security.record(
        uow,
        security.WRONG_PAYMENT_CODE,
        now,
        municipality_id=shop.municipality_id,
        shop_id=shop.id,
        charge_id=charge_id,
        channel=channel or None,
        address=address or None,
        detail=detail,
    )
    wrong = await security.wrong_codes_of_shop(uow, shop.id, now)
    lock = lock_for_wrong_codes(
        wrong, policy.shop_lock_after_wrong_codes, policy.shop_block_after_wrong_codes
    )
    if lock is ShopLock.OFFICE:
        shop.blocked_at = now
        # Until the office unlocks it the shop refunds nothing: its refund requests are void.
        await void_refund_codes(uow, REFUND_SHOP_BLOCKED, now, shop_id=shop.id)
    elif lock is ShopLock.TIMED:
        shop.locked_until = now + timedelta(minutes=policy.shop_lock_minutes)
    if lock is not ShopLock.NONE:
        await _tell_owner_locked(uow, shop, lock, typed_by, now)
    return lock


async def _tell_owner_locked(
    uow: UnitOfWork, shop: m.Shop, lock: ShopLock, typed_by: str | None, now: datetime
) -> None:
    """The owner learns of a lock when it happens, with the till that typed the last wrong
    code: a cashier guessing codes stops the whole shop, and only the owner can remove
    them. The till itself was answered already."""
    channel, _, address = (typed_by or "").partition(":")
    where = chat_label(channel, address) if address else "?"
    if lock is ShopLock.OFFICE:
        text = t(
            "{shop}: too many wrong codes (the last from {where}). It cannot charge until "
            "the office unlocks it.",
            shop=shop.name,
            where=where,
        )
    else:
        text = t(
            "{shop}: too many wrong codes (the last from {where}). It cannot charge until {until}.",
            shop=shop.name,
            where=where,
            until=Moment(shop.locked_until or now),
        )
    await notify_owners(uow, shop, Reply.of(text), now, except_chat=(channel, address))


async def unlock_shop(
    uow: UnitOfWork, municipality_id: int, shop_id: int, *, by: activity.Actor, now: datetime
) -> m.Shop:
    """The office lifts a lock (the command line, or an operator on the shops page); the
    count of wrong codes starts again from now. Recorded twice: as the security event the
    count starts from, and in the office's activity log with the lock it lifted. A shop
    that is not locked is refused (`shop.not_locked`) and nothing changes: its count of
    wrong codes goes on, and nothing is logged."""
    # Under the row's lock: of two unlocks at once the second waits and is refused here.
    shop = await uow.shops.locked(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    if security.lock_of(shop, now, 0) is None:
        raise Conflict(Refusal.SHOP_NOT_LOCKED, shop_id=shop.id, name=shop.name)
    lock = security.lock_of(shop, now, await security.wrong_codes_of_shop(uow, shop.id, now))
    blocked_at = shop.blocked_at
    shop.blocked_at = None
    shop.locked_until = None
    await security.record(
        uow,
        security.SHOP_UNLOCKED,
        now,
        municipality_id=municipality_id,
        shop_id=shop.id,
        detail=activity.actor_name(by),
    )
    # The log's page names these keys (office/words.py FIELD_NAMES).
    assert lock is not None
    before: dict[str, object] = {"wrong_codes": lock.wrong_codes}
    if lock.until is not None:
        before["locked_until"] = lock.until.isoformat()
    if blocked_at is not None:
        before["blocked_at"] = blocked_at.isoformat()
    await activity.by_actor(
        uow,
        municipality_id,
        by,
        "shop.unlock",
        subject=f"{shop.id} {shop.name}",
        before=before,
        after={"locked": False},
        now=now,
    )
    return shop

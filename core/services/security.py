"""Counting what rate limits need, in the database (several processes share the counts).

Each limited act is one row of `security_events` with its time: a wrong payment code
(against the shop that asked; a wrong card PIN is one too, its detail naming the card,
and core/services/cards.py counts those per card and shop), a lookup of a person or a voucher (against the shop,
whoever it found: the shop's limit counts these), a lookup that found nobody (for the
office's view of fishing only; never shown to the shop), a
confirmation code sent (against the number it went to), a wrong cashier code (against
the chat that typed it), and the office unlocking a shop (who did it). The rules are
in docs/payments-and-codes.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.errors import NotAllowed, Refusal
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

WRONG_PAYMENT_CODE = "wrong_payment_code"
LOOKUP = "lookup"
LOOKUP_MISS = "lookup_miss"
CODE_SENT = "code_sent"
WRONG_INVITE = "wrong_invite"
SHOP_UNLOCKED = "shop_unlocked"

# Longer than any window counted; older rows are dropped when new ones are written.
KEEP = timedelta(days=30)


async def record(
    uow: UnitOfWork,
    kind: str,
    now: datetime,
    *,
    municipality_id: int | None = None,
    shop_id: int | None = None,
    charge_id: int | None = None,
    channel: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> None:
    """Record one event; the same key's rows older than KEEP go (except office unlocks,
    the record of what the office did): rate-limit rows say who typed what, and when."""
    await uow.security.record(
        m.SecurityEvent(
            municipality_id=municipality_id,
            kind=kind,
            shop_id=shop_id,
            charge_id=charge_id,
            channel=channel,
            address=address,
            detail=detail[:100] if detail else None,
            created_at=now,
        ),
        drop_before=None if kind == SHOP_UNLOCKED else now - KEEP,
    )


async def count(
    uow: UnitOfWork,
    kind: str,
    since: datetime,
    *,
    shop_id: int | None = None,
    channel: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> int:
    return await uow.security.count(
        kind, since, shop_id=shop_id, channel=channel, address=address, detail=detail
    )


async def count_lookup(
    uow: UnitOfWork, shop: m.Shop, now: datetime, *, till: str, limit: int, shop_limit: int
) -> None:
    """Count one lookup by this till of the shop (`till`: who asks, as "channel:address"),
    before anybody is looked up; over `limit` for the till, or `shop_limit` for the whole
    shop, in the last hour refuse (LOOKUP_TOO_MANY). Holders and nobody count and are
    answered alike: a limit that counted only misses would tell the shop, by when it
    answers "try later", which of its lookups found a holder.

    Per till first, because an SMS sender can be forged: lookups forged as the shop's
    number use up that number's till only, while its Telegram and other cashiers' tills
    keep charging; the shop's own ceiling still bounds how many people a shop can try."""
    since = now - timedelta(hours=1)
    # A lookup that ended in a payment the citizen confirmed gives its place back: a busy
    # honest till is never stopped, and a confirmation needs the citizen's own code, so
    # fishing cannot earn places (and a confirmed payment tells the shop nothing new).
    looked = await count(uow, LOOKUP, since, shop_id=shop.id, detail=till)
    if looked >= limit and looked - await uow.charges.paid_since(shop.id, since, till) >= limit:
        raise NotAllowed(Refusal.LOOKUP_TOO_MANY)
    looked = await count(uow, LOOKUP, since, shop_id=shop.id)
    if (
        looked >= shop_limit
        and looked - await uow.charges.paid_since(shop.id, since, None) >= shop_limit
    ):
        raise NotAllowed(Refusal.LOOKUP_TOO_MANY)
    await record(
        uow, LOOKUP, now, municipality_id=shop.municipality_id, shop_id=shop.id, detail=till
    )


async def last_unlock(uow: UnitOfWork, shop_id: int) -> datetime | None:
    return await uow.security.latest(SHOP_UNLOCKED, shop_id)


async def wrong_codes_of_shop(uow: UnitOfWork, shop_id: int, now: datetime) -> int:
    """Wrong payment codes of the last 24 hours, counted from the office's last unlock."""
    since = now - timedelta(hours=24)
    unlocked = await last_unlock(uow, shop_id)
    if unlocked is not None and unlocked > since:
        since = unlocked
    return await count(uow, WRONG_PAYMENT_CODE, since, shop_id=shop_id)


@dataclass(frozen=True)
class ShopLockState:
    """A shop that cannot charge because of wrong payment codes, as the office sees it."""

    until: datetime | None  # None: until the office unlocks it
    wrong_codes: int  # its wrong codes of the last 24 hours, since the office's last unlock


def lock_of(shop: m.Shop, now: datetime, wrong_codes: int) -> ShopLockState | None:
    if shop.blocked_at is not None:
        return ShopLockState(None, wrong_codes)
    if shop.locked_until is not None and shop.locked_until > now:
        return ShopLockState(shop.locked_until, wrong_codes)
    return None


async def shop_locks(
    uow: UnitOfWork, shops: Sequence[m.Shop], now: datetime
) -> dict[int, ShopLockState]:
    """The locked shops among these (by id), with until when and how many wrong codes."""
    found: dict[int, ShopLockState] = {}
    for shop in shops:
        if lock_of(shop, now, 0) is None:
            continue
        lock = lock_of(shop, now, await wrong_codes_of_shop(uow, shop.id, now))
        assert lock is not None
        found[shop.id] = lock
    return found


@dataclass(frozen=True)
class ShopLookups:
    shop_id: int
    shop_name: str
    last_hour: int
    last_day: int
    last_week: int
    latest: datetime


async def lookup_misses(
    uow: UnitOfWork, municipality_id: int, now: datetime
) -> Sequence[ShopLookups]:
    """Per shop, the lookups that found nobody: for the office to spot a shop fishing."""
    week = now - timedelta(days=7)
    by_shop: dict[int, tuple[str, list[datetime]]] = {}
    for shop_id, name, at in await uow.security.of_shops(LOOKUP_MISS, municipality_id, week):
        by_shop.setdefault(shop_id, (name, []))[1].append(at)
    found = [
        ShopLookups(
            shop_id=shop_id,
            shop_name=name,
            last_hour=sum(1 for x in times if x > now - timedelta(hours=1)),
            last_day=sum(1 for x in times if x > now - timedelta(days=1)),
            last_week=len(times),
            latest=max(times),
        )
        for shop_id, (name, times) in by_shop.items()
    ]
    return sorted(found, key=lambda x: (-x.last_day, -x.last_week, x.shop_id))

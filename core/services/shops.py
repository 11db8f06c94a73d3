"""Shops: registration, approval, staff, search and statements."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.errors import Conflict, NotAllowed, NotFound
from core.domain.geo import haversine_m, valid_position
from core.domain.identity import normalize_iban, normalize_partita_iva
from core.domain.ledger import AccountKind
from core.domain.shops import MemberRole, ShopCategory
from core.services import ledger
from core.storage import models as m
from core.storage.uow import UnitOfWork

INVITE_TTL = timedelta(days=2)


@dataclass(frozen=True)
class ShopInput:
    name: str
    vat_number: str
    category: ShopCategory
    address: str
    town: str
    postcode: str
    latitude: float | None
    longitude: float | None
    iban: str


async def register_shop(
    uow: UnitOfWork,
    municipality_id: int,
    data: ShopInput,
    *,
    owner_channel: str,
    owner_address: str,
    now: datetime,
) -> m.Shop:
    """A shop asks to join; it can charge only after the office approves it."""
    if not data.name.strip():
        raise Conflict("shop.name_missing")
    has_position = data.latitude is not None and data.longitude is not None
    if has_position and not valid_position(data.latitude or 0.0, data.longitude or 0.0):
        raise Conflict("shop.bad_position")
    shop = m.Shop(
        municipality_id=municipality_id,
        name=data.name.strip(),
        vat_number=normalize_partita_iva(data.vat_number),
        category=data.category.value,
        address=data.address.strip(),
        town=data.town.strip(),
        postcode=data.postcode.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        iban=normalize_iban(data.iban),
        status="pending",
        created_at=now,
        failed_charge_strikes=0,
    )
    uow.session.add(shop)
    await uow.session.flush()
    uow.session.add(
        m.ShopMember(
            shop_id=shop.id,
            channel=owner_channel,
            address=owner_address,
            role=MemberRole.OWNER.value,
            created_at=now,
        )
    )
    await uow.session.flush()
    return shop


async def approve_shop(
    uow: UnitOfWork, municipality_id: int, shop_id: int, now: datetime
) -> m.Shop:
    shop = await uow.shops.by_id(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound("shop.not_found", shop_id=shop_id)
    if shop.status == "approved":
        return shop
    shop.status = "approved"
    shop.approved_at = now
    # Create the ledger account now, so that payments never race to create it.
    await uow.ledger.account(municipality_id, AccountKind.SHOP, shop.id)
    return shop


def _hash_invite(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invite(uow: UnitOfWork, shop_id: int, now: datetime) -> str:
    """A one-use code the owner gives to a cashier, who types it in their own chat."""
    code = "".join(secrets.choice("0123456789") for _ in range(8))
    uow.session.add(
        m.ShopInvite(shop_id=shop_id, code_hash=_hash_invite(code), expires_at=now + INVITE_TTL)
    )
    await uow.session.flush()
    return code


async def accept_invite(
    uow: UnitOfWork, code: str, *, channel: str, address: str, now: datetime
) -> m.Shop:
    invite = await uow.shops.invite_by_hash(_hash_invite("".join(code.split())))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise NotAllowed("invite.invalid")
    invite.used_at = now
    shop = await uow.shops.by_id(invite.shop_id)
    assert shop is not None
    existing = {(x.channel, x.address) for x in await uow.shops.members_of(shop.id)}
    if (channel, address) not in existing:
        uow.session.add(
            m.ShopMember(
                shop_id=shop.id,
                channel=channel,
                address=address,
                role=MemberRole.CASHIER.value,
                created_at=now,
            )
        )
    return shop


async def shops_of_member(
    uow: UnitOfWork, channel: str, address: str
) -> list[tuple[m.ShopMember, m.Shop]]:
    return list(await uow.shops.membership(channel, address))


@dataclass(frozen=True)
class ShopNearby:
    shop: m.Shop
    distance_m: int


async def find_near(
    uow: UnitOfWork,
    municipality_id: int,
    latitude: float,
    longitude: float,
    *,
    radius_km: float = 10.0,
    limit: int = 5,
) -> list[ShopNearby]:
    candidates = await uow.shops.near(municipality_id, latitude, longitude, radius_km)
    found = [
        ShopNearby(shop, haversine_m(latitude, longitude, shop.latitude or 0, shop.longitude or 0))
        for shop in candidates
        if shop.latitude is not None and shop.longitude is not None
    ]
    found = [x for x in found if x.distance_m <= radius_km * 1000]
    return sorted(found, key=lambda x: (x.distance_m, x.shop.name))[:limit]


async def find(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    town: str | None = None,
    postcode: str | None = None,
    category: ShopCategory | None = None,
) -> Sequence[m.Shop]:
    return await uow.shops.search(
        municipality_id, town=town, postcode=postcode, category=category.value if category else None
    )


@dataclass(frozen=True)
class Statement:
    payments: int
    paid_cents: int
    refunds: int
    refunded_cents: int
    to_be_reimbursed_cents: int  # the shop's balance: earned, not yet settled


async def statement(uow: UnitOfWork, shop: m.Shop, since: datetime, until: datetime) -> Statement:
    charges = await uow.charges.of_shop(shop.id, since, until)
    paid = [c for c in charges if c.status in ("confirmed", "refunded")]
    refunded = [c for c in charges if c.status == "refunded"]
    return Statement(
        payments=len(paid),
        paid_cents=sum(c.amount_cents for c in paid),
        refunds=len(refunded),
        refunded_cents=sum(c.amount_cents for c in refunded),
        to_be_reimbursed_cents=await ledger.shop_balance(uow, shop.municipality_id, shop.id),
    )

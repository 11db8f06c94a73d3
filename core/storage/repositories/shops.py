"""Shops: found by id, by name or near a point, their members on each channel, and their
invites.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select, update

from core.domain.channels import PHONE_CHANNELS, Channel
from core.domain.shops import ShopStatus
from core.storage import models as m
from core.storage.repositories.base import _Repository


class ShopRepository(_Repository):
    async def by_id(self, shop_id: int) -> m.Shop | None:
        return await self.session.get(m.Shop, shop_id)

    async def locked(self, shop_id: int) -> m.Shop | None:
        """The shop, its row locked until the commit and read afresh: of two decisions on a
        registration at once (a double click) the second waits, then finds the first's."""
        return await self._row_locked(m.Shop, shop_id)

    async def current(self, shop_id: int) -> m.Shop | None:
        """The shop as the database holds it now (not as read earlier in the session)."""
        return await self.session.scalar(
            select(m.Shop).where(m.Shop.id == shop_id).execution_options(populate_existing=True)
        )

    async def names_of(self, municipality_id: int) -> Sequence[tuple[int, str, str]]:
        """(id, name, status) of every shop of the municipality, as committed now: read as
        columns, not the shops a session may hold from before it waited for a lock."""
        rows = await self.session.execute(
            select(m.Shop.id, m.Shop.name, m.Shop.status)
            .where(m.Shop.municipality_id == municipality_id)
            .order_by(m.Shop.id)
        )
        return [(int(id_), str(name), str(status)) for id_, name, status in rows.all()]

    async def next_receipt(self, shop_id: int) -> int:
        """The shop's next receipt number, in one statement whose row lock holds until the
        commit (as the one-trip payment plan takes it: core/storage/payment_trip.py)."""
        number = await self.session.scalar(
            update(m.Shop)
            .where(m.Shop.id == shop_id)
            .values(last_receipt=m.Shop.last_receipt + 1)
            .returning(m.Shop.last_receipt)
            .execution_options(synchronize_session=False)
        )
        assert number is not None
        return int(number)

    async def with_vat_number(self, vat_number: str) -> Sequence[m.Shop]:
        """The shops, of any municipality and not refused, registered with this partita
        IVA."""
        query = select(m.Shop).where(
            m.Shop.vat_number == vat_number, m.Shop.status != ShopStatus.REFUSED
        )
        return (await self.session.scalars(query.order_by(m.Shop.id))).all()

    async def search(
        self,
        municipality_id: int,
        *,
        town: str | None = None,
        postcode: str | None = None,
        category: str | None = None,
        approved_only: bool = True,
    ) -> Sequence[m.Shop]:
        query = select(m.Shop).where(m.Shop.municipality_id == municipality_id)
        if approved_only:
            query = query.where(m.Shop.status == ShopStatus.APPROVED)
        if town:
            query = query.where(func.lower(m.Shop.town) == town.lower())
        if postcode:
            query = query.where(m.Shop.postcode == postcode)
        if category:
            query = query.where(m.Shop.category == category)
        return (await self.session.scalars(query.order_by(m.Shop.name))).all()

    async def near(
        self, municipality_id: int, latitude: float, longitude: float, radius_km: float
    ) -> Sequence[m.Shop]:
        """Approved shops in a bounding box around the point; the caller sorts by exact distance."""
        dlat = radius_km / 111.0
        dlon = radius_km / (111.0 * max(math.cos(math.radians(latitude)), 0.01))
        query = select(m.Shop).where(
            m.Shop.municipality_id == municipality_id,
            m.Shop.status == ShopStatus.APPROVED,
            m.Shop.latitude.between(latitude - dlat, latitude + dlat),
            m.Shop.longitude.between(longitude - dlon, longitude + dlon),
        )
        return (await self.session.scalars(query)).all()

    async def members_of(self, shop_id: int) -> Sequence[m.ShopMember]:
        return (
            await self.session.scalars(select(m.ShopMember).where(m.ShopMember.shop_id == shop_id))
        ).all()

    async def member_locked(self, shop_id: int, member_id: int) -> m.ShopMember | None:
        """The shop's member with this id, its row locked until the commit and read afresh:
        of two removals at once (a double click) the second waits, then finds it gone."""
        return await self.session.scalar(
            select(m.ShopMember)
            .where(m.ShopMember.shop_id == shop_id, m.ShopMember.id == member_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def membership(self, channel: str, address: str) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        rows = await self.session.execute(
            select(m.ShopMember, m.Shop)
            .join(m.Shop, m.Shop.id == m.ShopMember.shop_id)
            .where(m.ShopMember.channel == channel, m.ShopMember.address == address)
            # A fixed order (the menu lists the shops so), which the one-trip turn repeats.
            .order_by(m.ShopMember.id)
        )
        return [(member, shop) for member, shop in rows.all()]

    async def members_reached_at(
        self, municipality_id: int, *, phone: str | None = None, telegram_user: str | None = None
    ) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        """The members (owners and cashiers) of the municipality's shops, whatever their
        status, reached at this phone: on any channel whose address is a phone
        (PHONE_CHANNELS: SMS, the terminal), or on Telegram with this phone shared as
        their own (ShopMember.phone); or at this Telegram user."""
        reached = []
        if phone:
            reached.append(
                and_(
                    m.ShopMember.channel.in_([x.value for x in PHONE_CHANNELS]),
                    m.ShopMember.address == phone,
                )
            )
            reached.append(m.ShopMember.phone == phone)
        if telegram_user:
            reached.append(
                and_(
                    m.ShopMember.channel == Channel.TELEGRAM.value,
                    m.ShopMember.address == telegram_user,
                )
            )
        if not reached:
            return []
        rows = await self.session.execute(
            select(m.ShopMember, m.Shop)
            .join(m.Shop, m.Shop.id == m.ShopMember.shop_id)
            .where(m.Shop.municipality_id == municipality_id, or_(*reached))
            .order_by(m.ShopMember.id)
        )
        return [(member, shop) for member, shop in rows.all()]

    async def member_at(self, shop_id: int, channel: str, address: str) -> m.ShopMember | None:
        """The chat's place in the shop now, its row locked (shared) until the commit: a
        removal of that member waits for the change made with its rights, or is seen."""
        return await self.session.scalar(
            select(m.ShopMember)
            .where(
                m.ShopMember.shop_id == shop_id,
                m.ShopMember.channel == channel,
                m.ShopMember.address == address,
            )
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )

    async def has_member_at(self, channel: str, address: str) -> bool:
        """Whether a member of any shop is reached at this address."""
        member = await self.session.scalar(
            select(m.ShopMember.id)
            .where(m.ShopMember.channel == channel, m.ShopMember.address == address)
            .limit(1)
        )
        return member is not None

    async def invite_by_hash(self, code_hash: str) -> m.ShopInvite | None:
        return await self.session.scalar(
            select(m.ShopInvite).where(m.ShopInvite.code_hash == code_hash)
        )

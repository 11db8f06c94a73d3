"""Queries over community payments, vouchers and their charges at the till."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from core.domain.ledger import AccountKind, PostingKind
from core.domain.shops import ShopStatus
from core.storage import models as m
from core.storage.repositories.base import _Repository

# A voucher's ledger account (outer-joined: what is left on the voucher is its balance).
_VOUCHER_ACCOUNT = (
    (m.Account.municipality_id == m.Voucher.municipality_id)
    & (m.Account.kind == AccountKind.VOUCHER.value)
    & (m.Account.owner_id == m.Voucher.id)
)


class CommunityRepository(_Repository):
    async def payment_by_charge_id(self, telegram_charge_id: str) -> m.ProviderPayment | None:
        return await self.session.scalar(
            select(m.ProviderPayment).where(
                m.ProviderPayment.telegram_payment_charge_id == telegram_charge_id
            )
        )

    async def payment(self, payment_id: int) -> m.ProviderPayment | None:
        return await self.session.get(m.ProviderPayment, payment_id)

    async def voucher_by_code(self, code: str) -> m.Voucher | None:
        return await self.session.scalar(select(m.Voucher).where(m.Voucher.code == code))

    async def voucher_of_payment(self, payment_id: int) -> m.Voucher | None:
        return await self.session.scalar(
            select(m.Voucher).where(m.Voucher.payment_id == payment_id)
        )

    async def vouchers_held(
        self, municipality_id: int, channel: str, address: str
    ) -> Sequence[tuple[m.Voucher, m.Shop, int]]:
        """A holder's vouchers with their shop and what is left on each, newest first."""
        rows = await self.session.execute(
            select(m.Voucher, m.Shop, func.coalesce(m.Account.balance_cents, 0))
            .join(m.Shop, m.Shop.id == m.Voucher.shop_id)
            .outerjoin(m.Account, _VOUCHER_ACCOUNT)
            .where(
                m.Voucher.municipality_id == municipality_id,
                m.Voucher.holder_channel == channel,
                m.Voucher.holder_address == address,
            )
            .order_by(m.Voucher.id.desc())
        )
        return [(voucher, shop, int(balance)) for voucher, shop, balance in rows.all()]

    async def vouchers_of_town(
        self, municipality_id: int
    ) -> Sequence[tuple[m.Voucher, m.ProviderPayment, m.Shop, int]]:
        """Every voucher sold in the town with its payment, shop and balance (the office's)."""
        rows = await self.session.execute(
            select(m.Voucher, m.ProviderPayment, m.Shop, func.coalesce(m.Account.balance_cents, 0))
            .join(m.ProviderPayment, m.ProviderPayment.id == m.Voucher.payment_id)
            .join(m.Shop, m.Shop.id == m.Voucher.shop_id)
            .outerjoin(m.Account, _VOUCHER_ACCOUNT)
            .where(m.Voucher.municipality_id == municipality_id)
            .order_by(m.Shop.name, m.Voucher.id)
        )
        return [(v, p, s, int(b)) for v, p, s, b in rows.all()]

    async def spent_on(self, voucher_id: int) -> int:
        """What was ever paid at the till with this voucher (refunds of it excluded)."""
        value = await self.session.scalar(
            select(func.coalesce(func.sum(m.VoucherCharge.amount_cents), 0)).where(
                m.VoucherCharge.voucher_id == voucher_id,
                m.VoucherCharge.status == "confirmed",
            )
        )
        return int(value or 0)

    async def pending_charges_of(self, voucher_id: int) -> Sequence[m.VoucherCharge]:
        return (
            await self.session.scalars(
                select(m.VoucherCharge)
                .where(
                    m.VoucherCharge.voucher_id == voucher_id,
                    m.VoucherCharge.status == "pending",
                )
                .order_by(m.VoucherCharge.id)
            )
        ).all()

    async def pending_charges_requested_by(self, shop_id: int, requested_by: str) -> Sequence[int]:
        """The pending voucher charges of a shop that one of its chats started."""
        return (
            await self.session.scalars(
                select(m.VoucherCharge.id)
                .where(
                    m.VoucherCharge.shop_id == shop_id,
                    m.VoucherCharge.requested_by == requested_by,
                    m.VoucherCharge.status == "pending",
                )
                .order_by(m.VoucherCharge.id)
            )
        ).all()

    async def code_times_to_holder(
        self, channel: str, address: str, since: datetime, *, shop_id: int | None = None
    ) -> Sequence[datetime]:
        """When each payment code was sent since then to whoever holds vouchers at this chat
        or phone, whatever the voucher, by every shop or by one, the oldest first."""
        query = (
            select(m.VoucherCharge.created_at)
            .join(m.Voucher, m.Voucher.id == m.VoucherCharge.voucher_id)
            .where(
                m.Voucher.holder_channel == channel,
                m.Voucher.holder_address == address,
                m.VoucherCharge.created_at >= since,
            )
        )
        if shop_id is not None:
            query = query.where(m.VoucherCharge.shop_id == shop_id)
        return (await self.session.scalars(query.order_by(m.VoucherCharge.created_at))).all()

    async def charge_with_parties(
        self, charge_id: int
    ) -> tuple[m.VoucherCharge, m.Voucher, m.Shop, m.Municipality] | None:
        row = (
            await self.session.execute(
                select(m.VoucherCharge, m.Voucher, m.Shop, m.Municipality)
                .join(m.Voucher, m.Voucher.id == m.VoucherCharge.voucher_id)
                .join(m.Shop, m.Shop.id == m.VoucherCharge.shop_id)
                .join(m.Municipality, m.Municipality.id == m.VoucherCharge.municipality_id)
                .where(m.VoucherCharge.id == charge_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def mark_charge(self, charge_id: int, from_status: str, **values: object) -> bool:
        """Compare-and-set on the status, as for buoni spesa charges."""
        result = await self.session.execute(
            update(m.VoucherCharge)
            .where(m.VoucherCharge.id == charge_id, m.VoucherCharge.status == from_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_refunded(self, payment_id: int, **values: object) -> bool:
        """Record a refund once: only a payment not refunded yet changes."""
        result = await self.session.execute(
            update(m.ProviderPayment)
            .where(m.ProviderPayment.id == payment_id, m.ProviderPayment.refunded_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def posted_total(self, municipality_id: int, kind: PostingKind) -> tuple[int, int]:
        """(total cents, number of postings) of one kind in a town."""
        row = (
            await self.session.execute(
                select(func.coalesce(func.sum(m.Posting.amount_cents), 0), func.count()).where(
                    m.Posting.municipality_id == municipality_id, m.Posting.kind == kind.value
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def accepting_shops(self, municipality_id: int) -> Sequence[m.Shop]:
        return (
            await self.session.scalars(
                select(m.Shop)
                .where(
                    m.Shop.municipality_id == municipality_id,
                    m.Shop.status == ShopStatus.APPROVED,
                    m.Shop.vouchers_enabled.is_(True),
                    m.Shop.blocked_at.is_(None),
                )
                .order_by(m.Shop.name)
            )
        ).all()

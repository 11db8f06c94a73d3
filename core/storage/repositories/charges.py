"""Charges a shop asks a citizen to confirm: loading and confirming a payment in one trip,
marking, refunding and expiring them, and `_settled`, the query that tells whether a
reimbursement run has already paid a charge's payment to the shop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.sql import Select

from core.domain.charges import ChargeStatus
from core.domain.ledger import PostingKind
from core.storage import models as m
from core.storage.payment_trip import Paid, PaymentOutcome, PendingPayment, confirm_plan
from core.storage.repositories.base import _Repository

# Tills whose address is a phone number: an SMS number, the terminal chat's phone.
_PHONE_TILLS = ("sms", "terminal")


def _settled(charge_id: QueryableAttribute[Any]) -> Select[Any]:
    """The charge's payment posting followed by a reimbursement posting out of the same shop
    account: a run pays a shop its whole balance, so it paid every payment before it."""
    payment, reimbursement = aliased(m.Posting), aliased(m.Posting)
    return (
        select(reimbursement.id)
        .select_from(payment)
        .join(
            reimbursement,
            and_(
                reimbursement.from_account_id == payment.to_account_id,
                reimbursement.kind == PostingKind.REIMBURSEMENT.value,
                reimbursement.id > payment.id,
            ),
        )
        .where(payment.charge_id == charge_id, payment.kind == PostingKind.PAYMENT.value)
    )


class ChargeRepository(_Repository):
    async def by_id(self, charge_id: int) -> m.Charge | None:
        return await self.session.get(m.Charge, charge_id)

    async def by_receipt(self, shop_id: int, receipt_number: int) -> m.Charge | None:
        """A shop's payment by the number on its receipt."""
        return await self.session.scalar(
            select(m.Charge).where(
                m.Charge.shop_id == shop_id, m.Charge.receipt_number == receipt_number
            )
        )

    async def states(self, charge_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
        """(status, expires_at) of these charges, in one query: for the outbox's claim."""
        if not charge_ids:
            return {}
        rows = await self.session.execute(
            select(m.Charge.id, m.Charge.status, m.Charge.expires_at).where(
                m.Charge.id.in_(sorted(set(charge_ids)))
            )
        )
        return {charge_id: (status, expires) for charge_id, status, expires in rows}

    async def with_parties(
        self, charge_id: int
    ) -> tuple[m.Charge, m.Citizen, m.Shop, m.Municipality] | None:
        """A charge with everyone it involves, in one query (the payment hot path)."""
        row = (
            await self.session.execute(
                select(m.Charge, m.Citizen, m.Shop, m.Municipality)
                .join(m.Citizen, m.Citizen.id == m.Charge.citizen_id)
                .join(m.Shop, m.Shop.id == m.Charge.shop_id)
                .join(m.Municipality, m.Municipality.id == m.Charge.municipality_id)
                .where(m.Charge.id == charge_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def confirm_in_one_trip(
        self,
        charge_id: int,
        shop_id: int,
        typed_by: tuple[str, str],
        now: datetime,
        *,
        accept: Callable[[PendingPayment], bool],
        receipt: Callable[[PendingPayment, int], dict[str, Any]],
    ) -> PaymentOutcome | None:
        """Confirm a charge in one trip to the database (core/storage/payment_trip.py), or
        None with nothing written when it is not a plain acceptance."""
        postgresql = self._transaction.dialect == "postgresql"
        plan = confirm_plan(
            charge_id,
            shop_id,
            typed_by,
            now,
            accept=accept,
            receipt=receipt,
            postgresql=postgresql,
        )
        outcome = await self._transaction.run_plan(plan)
        if outcome is not None and outcome.outcome is Paid.CONFIRMED:
            # Its receipts are payment-lane rows: whoever commits wakes the payment loop.
            self._transaction.queued_payment = True
        return outcome

    async def mark(self, charge_id: int, from_status: str, **values: object) -> bool:
        """Compare-and-set on the status: the one place a charge changes state."""
        result = await self.session.execute(
            update(m.Charge)
            .where(m.Charge.id == charge_id, m.Charge.status == from_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_refunded(self, charge_id: int, now: datetime) -> bool:
        """Confirmed -> refunded, unless a reimbursement run has already paid the shop for
        it: the guard is in the statement, so no caller can mark a settled payment."""
        result = await self.session.execute(
            update(m.Charge)
            .where(
                m.Charge.id == charge_id,
                m.Charge.status == ChargeStatus.CONFIRMED,
                ~_settled(m.Charge.id).exists(),
            )
            .values(status=ChargeStatus.REFUNDED, refunded_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def settled(self, charge_ids: Sequence[int]) -> set[int]:
        """Those of these charges whose payment a reimbursement run has paid the shop for."""
        if not charge_ids:
            return set()
        payment = aliased(m.Posting)
        rows = await self.session.scalars(
            select(payment.charge_id).where(
                payment.charge_id.in_(list(charge_ids)), _settled(payment.charge_id).exists()
            )
        )
        return {charge_id for charge_id in rows if charge_id is not None}

    async def of_shop(
        self, shop_id: int, since: datetime, until: datetime, till: str | None = None
    ) -> Sequence[m.Charge]:
        """The shop's charges asked in the period; only those the till `till` asked
        (`requested_by`) when given."""
        query = (
            select(m.Charge)
            .where(
                m.Charge.shop_id == shop_id,
                m.Charge.created_at >= since,
                m.Charge.created_at < until,
            )
            .order_by(m.Charge.id)
        )
        if till is not None:
            query = query.where(m.Charge.requested_by == till)
        return (await self.session.scalars(query)).all()

    async def takings_by_till(
        self, shop_id: int, since: datetime, until: datetime, till: str | None = None
    ) -> Sequence[tuple[str, int, int, int, int]]:
        """The shop's payments made in the period (asked from `since` to `until`, as
        of_shop counts them), per till that asked them (`requested_by`): (till, payments,
        their cents, refunded since, their cents), the till first in its order. Only the
        till `till` when given. Counted in the database: no citizen is loaded."""
        refunded = m.Charge.status == ChargeStatus.REFUNDED.value
        query = (
            select(
                m.Charge.requested_by,
                func.count(m.Charge.id),
                func.sum(m.Charge.amount_cents),
                func.count(case((refunded, m.Charge.id))),
                func.coalesce(func.sum(case((refunded, m.Charge.amount_cents))), 0),
            )
            .where(
                m.Charge.shop_id == shop_id,
                m.Charge.status.in_((ChargeStatus.CONFIRMED.value, ChargeStatus.REFUNDED.value)),
                m.Charge.created_at >= since,
                m.Charge.created_at < until,
            )
            .group_by(m.Charge.requested_by)
            .order_by(m.Charge.requested_by)
        )
        if till is not None:
            query = query.where(m.Charge.requested_by == till)
        rows = await self.session.execute(query)
        return [
            (str(by), int(count), int(cents), int(refunds), int(refunded_cents))
            for by, count, cents, refunds, refunded_cents in rows.all()
        ]

    async def last_paid_of_shop(self, shop_id: int, till: str | None = None) -> m.Charge | None:
        """The shop's last payment made (confirmed, perhaps refunded since), the newest
        confirmed first; only among those the till `till` asked (`requested_by`) when given."""
        query = (
            select(m.Charge)
            .where(
                m.Charge.shop_id == shop_id,
                m.Charge.status.in_((ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)),
            )
            .order_by(m.Charge.confirmed_at.desc(), m.Charge.id.desc())
            .limit(1)
        )
        if till is not None:
            query = query.where(m.Charge.requested_by == till)
        result: m.Charge | None = await self.session.scalar(query)
        return result

    async def pending_requested_by(self, shop_id: int, requested_by: str) -> Sequence[int]:
        """The pending charges of a shop that one of its chats started (`channel:address`)."""
        return (
            await self.session.scalars(
                select(m.Charge.id)
                .where(
                    m.Charge.shop_id == shop_id,
                    m.Charge.requested_by == requested_by,
                    m.Charge.status == ChargeStatus.PENDING,
                )
                .order_by(m.Charge.id)
            )
        ).all()

    async def waits_at_another_till(self, shop_id: int, requested_by: str, now: datetime) -> bool:
        """Whether a payment of the shop that another of its chats asked still waits for
        its code (pending, not expired)."""
        found = await self.session.scalar(
            select(m.Charge.id)
            .where(
                m.Charge.shop_id == shop_id,
                m.Charge.requested_by != requested_by,
                m.Charge.status == ChargeStatus.PENDING,
                m.Charge.expires_at > now,
            )
            .limit(1)
        )
        return found is not None

    async def paid_since(self, shop_id: int, since: datetime, requested_by: str | None) -> int:
        """Charges of a shop (of one of its chats, `channel:address`, if given) requested
        after `since` that the citizen confirmed (refunded later or not)."""
        query = select(func.count(m.Charge.id)).where(
            m.Charge.shop_id == shop_id,
            m.Charge.created_at >= since,
            m.Charge.status.in_((ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)),
        )
        if requested_by is not None:
            query = query.where(m.Charge.requested_by == requested_by)
        return int(await self.session.scalar(query) or 0)

    async def last_card_payment(
        self, citizen_id: int, shop_id: int | None, *, consent: str = "card_pin"
    ) -> datetime | None:
        """When the citizen last paid with the card's PIN (at this shop, if given): the
        latest payment confirmed by a right PIN, refunded later or not. With `consent`
        "code": by a right code sent to her phone or chat instead."""
        query = select(func.max(m.Charge.confirmed_at)).where(
            m.Charge.citizen_id == citizen_id,
            m.Charge.consent == consent,
            m.Charge.status.in_((ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)),
        )
        if shop_id is not None:
            query = query.where(m.Charge.shop_id == shop_id)
        return await self.session.scalar(query)

    async def card_positions_shown(
        self, citizen_id: int, shop_id: int, since: datetime
    ) -> set[int]:
        """The card positions asked, on the citizen's card charges since `since` (the
        grid's issue), by payments not made, at this shop or at any till of the people who
        work for it now (core.domain.cards.drawable_at_shop): their codes may have been
        heard there, and a cashier of two shops hears at one what the other would ask."""
        tills = await self._tills_of_people_of(shop_id)
        asked_here = m.Charge.shop_id == shop_id
        if tills:
            asked_here = asked_here | m.Charge.requested_by.in_(sorted(tills))
        rows = await self.session.scalars(
            select(m.Charge.card_code_position).where(
                m.Charge.citizen_id == citizen_id,
                asked_here,
                m.Charge.created_at >= since,
                m.Charge.card_code_position.is_not(None),
                m.Charge.status.not_in((ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)),
            )
        )
        return {position for position in rows.all() if position is not None}

    async def _tills_of_people_of(self, shop_id: int) -> set[str]:
        """The tills ("channel:address", as charges' `requested_by`) of everyone who works
        for this shop now, at any shop: the same chat, or the same phone (an SMS or
        terminal till's number, the phone a Telegram member shared)."""
        members = (
            await self.session.execute(
                select(m.ShopMember.channel, m.ShopMember.address, m.ShopMember.phone).where(
                    m.ShopMember.shop_id == shop_id
                )
            )
        ).all()
        if not members:
            return set()
        phones = {row.phone for row in members if row.phone} | {
            row.address for row in members if row.channel in _PHONE_TILLS
        }
        same_phone = m.ShopMember.phone.in_(sorted(phones)) | (
            m.ShopMember.channel.in_(_PHONE_TILLS) & m.ShopMember.address.in_(sorted(phones))
        )
        elsewhere = await self.session.execute(
            select(m.ShopMember.channel, m.ShopMember.address).where(same_phone)
        )
        return {f"{row.channel}:{row.address}" for row in (*members, *elsewhere.all())}

    async def pending_for_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(m.Charge.citizen_id == citizen_id, m.Charge.status == ChargeStatus.PENDING)
                .order_by(m.Charge.id)
            )
        ).all()

    async def expired_for_citizen(
        self, citizen_id: int, since: datetime, now: datetime
    ) -> Sequence[m.Charge]:
        """The citizen's payments whose code expired after `since` without being confirmed
        (still pending past their time, or marked expired), the newest first."""
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(
                    m.Charge.citizen_id == citizen_id,
                    m.Charge.status.in_((ChargeStatus.PENDING, ChargeStatus.EXPIRED)),
                    m.Charge.expires_at > since,
                    m.Charge.expires_at <= now,
                )
                .order_by(m.Charge.id.desc())
            )
        ).all()

    async def latest_for_citizen(self, citizen_id: int, since: datetime) -> m.Charge | None:
        """The citizen's newest payment asked since `since`, by a code or by the card."""
        return await self.session.scalar(
            select(m.Charge)
            .where(m.Charge.citizen_id == citizen_id, m.Charge.created_at >= since)
            .order_by(m.Charge.id.desc())
            .limit(1)
        )

    async def closed_with_code_for_citizen(
        self, citizen_id: int, since: datetime
    ) -> Sequence[m.Charge]:
        """The citizen's payments asked since `since` whose code was sent and that are over
        (confirmed, refunded since, or cancelled), the newest first."""
        closed = (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED, ChargeStatus.CANCELLED)
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(
                    m.Charge.citizen_id == citizen_id,
                    m.Charge.status.in_(closed),
                    m.Charge.created_at >= since,
                    m.Charge.code_hash != "",
                )
                .order_by(m.Charge.id.desc())
            )
        ).all()

    async def code_times_to(
        self, citizen_id: int, since: datetime, *, shop_id: int | None = None
    ) -> Sequence[datetime]:
        """When each payment code was sent to the citizen since then, by every shop or by one,
        the oldest first (a card charge sends none: its hash is empty)."""
        query = select(m.Charge.created_at).where(
            m.Charge.citizen_id == citizen_id,
            m.Charge.created_at >= since,
            m.Charge.code_hash != "",
        )
        if shop_id is not None:
            query = query.where(m.Charge.shop_id == shop_id)
        return (await self.session.scalars(query.order_by(m.Charge.created_at))).all()

    async def refresh(self, charge: m.Charge) -> None:
        await self.session.refresh(charge)

    async def expire_due(self, now: datetime) -> int:
        """Pending charges past their expiry become expired, in one statement: how many."""
        result = await self.session.execute(
            update(m.Charge)
            .where(m.Charge.status == ChargeStatus.PENDING, m.Charge.expires_at <= now)
            .values(status=ChargeStatus.EXPIRED, closed_reason="expired")
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        """Every charge of the citizen, oldest first."""
        return (
            await self.session.scalars(
                select(m.Charge).where(m.Charge.citizen_id == citizen_id).order_by(m.Charge.id)
            )
        ).all()

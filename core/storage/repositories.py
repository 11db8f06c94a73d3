"""Repositories: the only place that knows how aggregates are queried and stored."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.ledger import AccountKind
from core.storage import models as m


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _upsert_insert(self) -> Any:
        """The dialect's INSERT that knows ON CONFLICT (the same SQL on SQLite and PostgreSQL)."""
        return pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert

    def add(self, obj: m.Base) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()


class MunicipalityRepository(_Repository):
    async def by_code(self, code: str) -> m.Municipality | None:
        return await self.session.scalar(
            select(m.Municipality).where(m.Municipality.code == code.upper())
        )

    async def by_id(self, municipality_id: int) -> m.Municipality | None:
        return await self.session.get(m.Municipality, municipality_id)

    async def by_sms_number(self, number: str) -> m.Municipality | None:
        return await self.session.scalar(
            select(m.Municipality).where(m.Municipality.sms_number == number)
        )

    async def all(self) -> Sequence[m.Municipality]:
        return (
            await self.session.scalars(select(m.Municipality).order_by(m.Municipality.id))
        ).all()

    async def next_number(self, municipality_id: int, name: str) -> int:
        """A gap-free per-municipality sequence (protocol numbers), safe under concurrency:
        one upsert, so two first applications of a year cannot both create the counter."""
        insert = self._upsert_insert()
        statement = (
            insert(m.Counter)
            .values(municipality_id=municipality_id, name=name, value=1)
            .on_conflict_do_update(
                index_elements=[m.Counter.municipality_id, m.Counter.name],
                set_={"value": m.Counter.value + 1},
            )
            .returning(m.Counter.value)
        )
        return int((await self.session.execute(statement)).scalar_one())


class RoundRepository(_Repository):
    async def latest(self, municipality_id: int) -> m.Round | None:
        return await self.session.scalar(
            select(m.Round)
            .where(m.Round.municipality_id == municipality_id)
            .order_by(m.Round.number.desc())
            .limit(1)
        )


class CitizenRepository(_Repository):
    async def by_id(self, citizen_id: int) -> m.Citizen | None:
        return await self.session.get(m.Citizen, citizen_id)

    async def by_codice_fiscale(self, municipality_id: int, cf: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id, m.Citizen.codice_fiscale == cf
            )
        )

    async def by_phone(self, municipality_id: int, phone: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen)
            .where(m.Citizen.municipality_id == municipality_id, m.Citizen.phone == phone)
            .order_by(m.Citizen.id)
            .limit(1)
        )

    async def by_card_code(self, municipality_id: int, card_code: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id, m.Citizen.card_code == card_code
            )
        )

    async def with_cards(self, municipality_id: int, blocked_only: bool) -> Sequence[m.Citizen]:
        """Citizens holding a card with a PIN, blocked ones first."""
        query = select(m.Citizen).where(
            m.Citizen.municipality_id == municipality_id, m.Citizen.card_pin_hash.is_not(None)
        )
        if blocked_only:
            query = query.where(m.Citizen.card_blocked_at.is_not(None))
        return (
            await self.session.scalars(
                query.order_by(m.Citizen.card_blocked_at.is_(None), m.Citizen.codice_fiscale)
            )
        ).all()

    async def count_wrong_pin(self, citizen_id: int) -> int:
        """One more wrong PIN, counted in the UPDATE itself (concurrent tills lose no count)."""
        result = await self.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == citizen_id)
            .values(card_pin_failures=m.Citizen.card_pin_failures + 1)
            .returning(m.Citizen.card_pin_failures)
            .execution_options(synchronize_session=False)
        )
        return int(result.scalar_one())

    async def block_card(self, citizen_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == citizen_id, m.Citizen.card_blocked_at.is_(None))
            .values(card_blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def reset_pin_failures(self, citizen_id: int) -> None:
        await self.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == citizen_id, m.Citizen.card_pin_failures != 0)
            .values(card_pin_failures=0)
            .execution_options(synchronize_session=False)
        )

    async def by_telegram_chat(self, municipality_id: int, chat_id: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id,
                m.Citizen.telegram_chat_id == chat_id,
            )
        )


class DelegateRepository(_Repository):
    async def of_citizen(self, citizen_id: int) -> m.Delegate | None:
        return await self.session.scalar(
            select(m.Delegate).where(m.Delegate.citizen_id == citizen_id)
        )

    async def by_phone(self, municipality_id: int, phone: str) -> m.Delegate | None:
        return await self.session.scalar(
            select(m.Delegate).where(
                m.Delegate.municipality_id == municipality_id, m.Delegate.phone == phone
            )
        )

    async def remove(self, delegate: m.Delegate) -> None:
        await self.session.delete(delegate)
        await self.session.flush()


class ApplicationRepository(_Repository):
    async def by_protocol(self, protocol: str) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application).where(m.Application.protocol == protocol.upper())
        )

    async def for_citizen(self, round_id: int, citizen_id: int) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application).where(
                m.Application.round_id == round_id, m.Application.citizen_id == citizen_id
            )
        )

    async def latest_for_citizen(self, citizen_id: int) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application)
            .where(m.Application.citizen_id == citizen_id)
            .order_by(m.Application.id.desc())
            .limit(1)
        )

    async def in_round(self, round_id: int) -> Sequence[m.Application]:
        return (
            await self.session.scalars(
                select(m.Application)
                .where(m.Application.round_id == round_id)
                .order_by(m.Application.submitted_at, m.Application.id)
            )
        ).all()

    async def with_citizens(self, round_id: int) -> Sequence[tuple[m.Application, m.Citizen]]:
        rows = await self.session.execute(
            select(m.Application, m.Citizen)
            .join(m.Citizen, m.Citizen.id == m.Application.citizen_id)
            .where(m.Application.round_id == round_id)
            .order_by(m.Application.submitted_at, m.Application.id)
        )
        return [(app, citizen) for app, citizen in rows.all()]


class AllocationRepository(_Repository):
    async def latest(self, round_id: int) -> m.Allocation | None:
        return await self.session.scalar(
            select(m.Allocation)
            .where(m.Allocation.round_id == round_id)
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def lines(self, allocation_id: int) -> Sequence[m.AllocationLine]:
        return (
            await self.session.scalars(
                select(m.AllocationLine)
                .where(m.AllocationLine.allocation_id == allocation_id)
                .order_by(m.AllocationLine.id)
            )
        ).all()

    async def lines_for_application(
        self, application_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Allocation]]:
        rows = await self.session.execute(
            select(m.AllocationLine, m.Allocation)
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(m.AllocationLine.application_id == application_id)
            .order_by(m.Allocation.tranche)
        )
        return [(line, alloc) for line, alloc in rows.all()]


class LedgerRepository(_Repository):
    async def account(
        self, municipality_id: int, kind: AccountKind, owner_id: int = 0
    ) -> m.Account:
        """The account, created on first use."""
        account = await self.find(municipality_id, kind, owner_id)
        if account is None:
            account = m.Account(
                municipality_id=municipality_id, kind=kind.value, owner_id=owner_id, balance_cents=0
            )
            self.session.add(account)
            await self.session.flush()
        return account

    async def find(
        self, municipality_id: int, kind: AccountKind, owner_id: int = 0
    ) -> m.Account | None:
        return await self.session.scalar(
            select(m.Account).where(
                m.Account.municipality_id == municipality_id,
                m.Account.kind == kind.value,
                m.Account.owner_id == owner_id,
            )
        )

    async def pair(
        self, municipality_id: int, source: tuple[AccountKind, int], target: tuple[AccountKind, int]
    ) -> tuple[m.Account, m.Account]:
        """Both accounts of a posting in one query, creating any that does not exist yet."""
        wanted = [source, target]
        found = await self.session.scalars(
            select(m.Account).where(
                m.Account.municipality_id == municipality_id,
                or_(
                    *(
                        and_(m.Account.kind == kind.value, m.Account.owner_id == owner)
                        for kind, owner in wanted
                    )
                ),
            )
        )
        by_key = {(a.kind, a.owner_id): a for a in found}
        accounts = []
        for kind, owner in wanted:
            account = by_key.get((kind.value, owner))
            if account is None:
                account = await self.account(municipality_id, kind, owner)
            accounts.append(account)
        return accounts[0], accounts[1]

    async def debit_guarded(
        self, account_id: int, amount_cents: int, allow_negative: bool
    ) -> int | None:
        """Take money out of an account in one statement: the new balance, or None when it
        would overdraw.

        The guard lives in the UPDATE itself, so concurrent payments serialise on the
        row and none can read a stale balance."""
        statement = (
            update(m.Account)
            .where(m.Account.id == account_id)
            .values(balance_cents=m.Account.balance_cents - amount_cents)
            .returning(m.Account.balance_cents)
        )
        if not allow_negative:
            statement = statement.where(m.Account.balance_cents >= amount_cents)
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        balance = result.scalar_one_or_none()
        return None if balance is None else int(balance)

    async def credit(self, account_id: int, amount_cents: int) -> None:
        await self.session.execute(
            update(m.Account)
            .where(m.Account.id == account_id)
            .values(balance_cents=m.Account.balance_cents + amount_cents)
            .execution_options(synchronize_session=False)
        )

    async def balance_of_owner(self, municipality_id: int, kind: AccountKind, owner_id: int) -> int:
        """The balance of an account found by its owner, 0 when it does not exist yet."""
        value = await self.session.scalar(
            select(m.Account.balance_cents).where(
                m.Account.municipality_id == municipality_id,
                m.Account.kind == kind.value,
                m.Account.owner_id == owner_id,
            )
        )
        return int(value or 0)

    async def balance(self, account_id: int) -> int:
        value = await self.session.scalar(
            select(m.Account.balance_cents).where(m.Account.id == account_id)
        )
        return int(value or 0)

    async def derived_balances(self, municipality_id: int) -> dict[int, int]:
        """Balances recomputed from postings alone (received minus given)."""
        received = await self.session.execute(
            select(m.Posting.to_account_id, func.sum(m.Posting.amount_cents))
            .where(m.Posting.municipality_id == municipality_id)
            .group_by(m.Posting.to_account_id)
        )
        given = await self.session.execute(
            select(m.Posting.from_account_id, func.sum(m.Posting.amount_cents))
            .where(m.Posting.municipality_id == municipality_id)
            .group_by(m.Posting.from_account_id)
        )
        balances: dict[int, int] = {}
        for account_id, total in received.all():
            balances[account_id] = balances.get(account_id, 0) + int(total)
        for account_id, total in given.all():
            balances[account_id] = balances.get(account_id, 0) - int(total)
        return balances

    async def accounts(self, municipality_id: int) -> Sequence[m.Account]:
        return (
            await self.session.scalars(
                select(m.Account).where(m.Account.municipality_id == municipality_id)
            )
        ).all()


class ShopRepository(_Repository):
    async def by_id(self, shop_id: int) -> m.Shop | None:
        return await self.session.get(m.Shop, shop_id)

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
            query = query.where(m.Shop.status == "approved")
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
            m.Shop.status == "approved",
            m.Shop.latitude.between(latitude - dlat, latitude + dlat),
            m.Shop.longitude.between(longitude - dlon, longitude + dlon),
        )
        return (await self.session.scalars(query)).all()

    async def members_of(self, shop_id: int) -> Sequence[m.ShopMember]:
        return (
            await self.session.scalars(select(m.ShopMember).where(m.ShopMember.shop_id == shop_id))
        ).all()

    async def membership(self, channel: str, address: str) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        rows = await self.session.execute(
            select(m.ShopMember, m.Shop)
            .join(m.Shop, m.Shop.id == m.ShopMember.shop_id)
            .where(m.ShopMember.channel == channel, m.ShopMember.address == address)
        )
        return [(member, shop) for member, shop in rows.all()]

    async def invite_by_hash(self, code_hash: str) -> m.ShopInvite | None:
        return await self.session.scalar(
            select(m.ShopInvite).where(m.ShopInvite.code_hash == code_hash)
        )


class ChargeRepository(_Repository):
    async def by_id(self, charge_id: int) -> m.Charge | None:
        return await self.session.get(m.Charge, charge_id)

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

    async def mark(self, charge_id: int, from_status: str, **values: object) -> bool:
        """Compare-and-set on the status: the one place a charge changes state."""
        result = await self.session.execute(
            update(m.Charge)
            .where(m.Charge.id == charge_id, m.Charge.status == from_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def of_shop(self, shop_id: int, since: datetime, until: datetime) -> Sequence[m.Charge]:
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(
                    m.Charge.shop_id == shop_id,
                    m.Charge.created_at >= since,
                    m.Charge.created_at < until,
                )
                .order_by(m.Charge.id)
            )
        ).all()

    async def pending_for_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(m.Charge.citizen_id == citizen_id, m.Charge.status == "pending")
                .order_by(m.Charge.id)
            )
        ).all()

    async def refresh(self, charge: m.Charge) -> None:
        await self.session.refresh(charge)


class OutboxRepository(_Repository):
    async def by_id(self, message_id: int) -> m.OutboxMessage | None:
        return await self.session.get(m.OutboxMessage, message_id)

    async def by_provider_id(self, provider_message_id: str) -> m.OutboxMessage | None:
        return await self.session.scalar(
            select(m.OutboxMessage).where(
                m.OutboxMessage.provider_message_id == provider_message_id
            )
        )

    async def due(
        self, channel: str, now: datetime, limit: int, lock: bool, lane: int | None = None
    ) -> Sequence[m.OutboxMessage]:
        """Rows to send now: of one lane, or every lane with the lower lanes first."""
        query = (
            select(m.OutboxMessage)
            .where(
                m.OutboxMessage.channel == channel,
                m.OutboxMessage.status == "pending",
                m.OutboxMessage.next_attempt_at <= now,
            )
            .order_by(m.OutboxMessage.lane, m.OutboxMessage.id)
            .limit(limit)
        )
        if lane is not None:
            query = query.where(m.OutboxMessage.lane == lane)
        if lock:
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).all()

    async def release_expired_leases(self, channel: str, now: datetime) -> None:
        """Rows claimed by a worker whose lease ended (it died, or hung): due again."""
        await self.session.execute(
            update(m.OutboxMessage)
            .where(
                m.OutboxMessage.channel == channel,
                m.OutboxMessage.status == "sending",
                m.OutboxMessage.next_attempt_at <= now,
            )
            .values(status="pending")
            .execution_options(synchronize_session=False)
        )

    async def renew_leases(self, ids: Sequence[int], until: datetime) -> int:
        """Rows still being sent by this worker keep their claim until `until`."""
        result = await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.status == "sending")
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def failed(
        self, municipality_id: int, since: datetime | None
    ) -> Sequence[m.OutboxMessage]:
        """A municipality's messages that failed or were reported undelivered."""
        query = select(m.OutboxMessage).where(
            m.OutboxMessage.municipality_id == municipality_id,
            m.OutboxMessage.status.in_(("failed", "undelivered")),
        )
        if since is not None:
            query = query.where(m.OutboxMessage.created_at >= since)
        return (await self.session.scalars(query.order_by(m.OutboxMessage.id))).all()

    async def for_address(self, channel: str, address: str) -> Sequence[m.OutboxMessage]:
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.channel == channel, m.OutboxMessage.address == address)
                .order_by(m.OutboxMessage.id)
            )
        ).all()


class ConversationRepository(_Repository):
    async def find(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        query = select(m.Conversation).where(
            m.Conversation.channel == channel, m.Conversation.address == address
        )
        if municipality_id is None:
            query = query.where(m.Conversation.municipality_id.is_(None))
        else:
            query = query.where(m.Conversation.municipality_id == municipality_id)
        return await self.session.scalar(query)

    async def record_inbound(self, channel: str, provider_message_id: str, now: datetime) -> bool:
        """Remember a provider's message id; False when it was recorded already.

        One statement: a concurrent delivery of the same id waits on the unique index and
        then inserts nothing."""
        statement = (
            self._upsert_insert()(m.InboundMessage)
            .values(channel=channel, provider_message_id=provider_message_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
            .returning(m.InboundMessage.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None


class IdentityEventRepository(_Repository):
    """The identity log: rows are only ever added (the database refuses changes)."""

    async def record(self, event: m.IdentityEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def count_since(self, citizen_id: int, kind: str, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(m.IdentityEvent)
                .where(
                    m.IdentityEvent.citizen_id == citizen_id,
                    m.IdentityEvent.kind == kind,
                    m.IdentityEvent.created_at >= since,
                )
            )
            or 0
        )

    async def for_citizen(self, citizen_id: int) -> Sequence[m.IdentityEvent]:
        return (
            await self.session.scalars(
                select(m.IdentityEvent)
                .where(m.IdentityEvent.citizen_id == citizen_id)
                .order_by(m.IdentityEvent.id)
            )
        ).all()

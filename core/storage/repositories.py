"""Repositories: the only place that knows how aggregates are queried and stored."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.sql import Select

from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.ledger import AccountKind, PostingKind
from core.domain.outbox import OutboxStatus
from core.domain.shops import ShopStatus
from core.storage import models as m
from core.storage.payment_trip import Paid, PaymentOutcome, PendingPayment, confirm_plan
from core.storage.trips import Transaction
from core.storage.turn_trip import (
    ConversationRow,
    Found,
    Lookup,
    TownRow,
    TurnOutcome,
    TurnWrite,
    turn_plan,
)


def _placeholders(paramstyle: str, count: int) -> str:
    """Positional parameter markers in the driver's own style (sqlite3: ?, asyncpg: $n)."""
    if paramstyle == "numeric_dollar":
        return ", ".join(f"${index}" for index in range(1, count + 1))
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    raise NotImplementedError(f"parameter style {paramstyle}")


C = TypeVar("C")

# Applications marked notified per UPDATE (an IN list well under every driver's limit).
_DECIDED_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class CreditedLine:
    """A citizen as the credit notice needs them, with the amount and the new balance."""

    id: int
    municipality_id: int
    erased_at: datetime | None
    telegram_chat_id: str | None
    phone: str | None
    language: str
    amount_cents: int
    balance_cents: int


@dataclass(frozen=True)
class DecidedLine:
    """An application a credit run decided without paying it, as its notice needs it."""

    application_id: int
    protocol: str
    assignment: str
    exclusion_reason: str | None
    erased_at: datetime | None
    telegram_chat_id: str | None
    phone: str | None
    language: str


@dataclass(frozen=True)
class TrancheFigures:
    allocation_id: int
    round_id: int
    tranche: int
    credited: bool
    approved_cents: int  # the lines' amounts as the determina approved them
    posted_cents: int  # allocation postings of this tranche
    excused_cents: int  # lines not paid because the application was revoked before the credit
    stray_postings: int  # allocation postings without their line, or with another amount

    @property
    def ok(self) -> bool:
        if self.stray_postings:
            return False
        if not self.credited:
            return self.posted_cents == 0
        return self.posted_cents + self.excused_cents == self.approved_cents


class _Repository:
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    @property
    def session(self) -> AsyncSession:
        # Asked for on use, not at construction: a unit of work whose only work is a plan
        # opens no session at all (core/storage/uow.py).
        return self._transaction.session

    def _upsert_insert(self) -> Any:
        """The dialect's INSERT that knows ON CONFLICT (the same SQL on SQLite and PostgreSQL)."""
        return pg_insert if self._transaction.dialect == "postgresql" else sqlite_insert

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
    async def by_id(self, round_id: int) -> m.Round | None:
        return await self.session.get(m.Round, round_id)

    async def latest(self, municipality_id: int) -> m.Round | None:
        return await self.session.scalar(
            select(m.Round)
            .where(m.Round.municipality_id == municipality_id)
            .order_by(m.Round.number.desc())
            .limit(1)
        )

    async def of_municipality(self, municipality_id: int) -> Sequence[m.Round]:
        """Every window of the municipality, the first one first."""
        return (
            await self.session.scalars(
                select(m.Round)
                .where(m.Round.municipality_id == municipality_id)
                .order_by(m.Round.number)
            )
        ).all()

    async def by_number(self, municipality_id: int, number: int) -> m.Round | None:
        return await self.session.scalar(
            select(m.Round).where(
                m.Round.municipality_id == municipality_id, m.Round.number == number
            )
        )

    async def lock(self, round_id: int) -> None:
        """Hold the window's row until commit: acts on its tranches run one at a time.

        On PostgreSQL a row lock; SQLite has one writer already (BEGIN IMMEDIATE)."""
        await self.session.execute(
            select(m.Round.id).where(m.Round.id == round_id).with_for_update()
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

    async def block_card(self, citizen_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == citizen_id, m.Citizen.card_blocked_at.is_(None))
            .values(card_blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def other_reached_at(
        self, municipality_id: int, citizen_id: int, channel: str, address: str
    ) -> bool:
        """Whether another citizen of the municipality has this phone (or Telegram chat)."""
        column = m.Citizen.telegram_chat_id if channel == Channel.TELEGRAM else m.Citizen.phone
        other = await self.session.scalar(
            select(m.Citizen.id)
            .where(
                m.Citizen.municipality_id == municipality_id,
                m.Citizen.id != citizen_id,
                column == address,
            )
            .limit(1)
        )
        return other is not None

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

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Application]:
        """Every application of the citizen, in every window, oldest first."""
        return (
            await self.session.scalars(
                select(m.Application)
                .where(m.Application.citizen_id == citizen_id)
                .order_by(m.Application.id)
            )
        ).all()

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
        """The highest tranche of the round, withdrawn ones included (they keep their number)."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(m.Allocation.round_id == round_id)
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def by_tranche(self, round_id: int, tranche: int) -> m.Allocation | None:
        return await self.session.scalar(
            select(m.Allocation).where(
                m.Allocation.round_id == round_id, m.Allocation.tranche == tranche
            )
        )

    async def of_round(self, round_id: int, *, withdrawn: bool = True) -> Sequence[m.Allocation]:
        """The round's tranches in order (without the withdrawn ones when told)."""
        query = select(m.Allocation).where(m.Allocation.round_id == round_id)
        if not withdrawn:
            query = query.where(m.Allocation.withdrawn_at.is_(None))
        return (await self.session.scalars(query.order_by(m.Allocation.tranche))).all()

    async def latest_standing(self, round_id: int) -> m.Allocation | None:
        """The highest tranche that was not withdrawn."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(m.Allocation.round_id == round_id, m.Allocation.withdrawn_at.is_(None))
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def standing(self, round_id: int) -> Sequence[m.Allocation]:
        """The round's tranches that were not withdrawn, in order."""
        return (
            await self.session.scalars(
                select(m.Allocation)
                .where(m.Allocation.round_id == round_id, m.Allocation.withdrawn_at.is_(None))
                .order_by(m.Allocation.tranche)
            )
        ).all()

    async def waiting(self, round_id: int) -> m.Allocation | None:
        """The approved tranche waiting to be credited (at most one per round)."""
        return await self.session.scalar(
            select(m.Allocation)
            .where(
                m.Allocation.round_id == round_id,
                m.Allocation.credited_at.is_(None),
                m.Allocation.withdrawn_at.is_(None),
            )
            .order_by(m.Allocation.tranche.desc())
            .limit(1)
        )

    async def waiting_in_municipality(self, municipality_id: int) -> m.Allocation | None:
        return await self.session.scalar(
            select(m.Allocation)
            .where(
                m.Allocation.municipality_id == municipality_id,
                m.Allocation.credited_at.is_(None),
                m.Allocation.withdrawn_at.is_(None),
            )
            .limit(1)
        )

    async def given_by_application(self, round_id: int) -> dict[int, int]:
        """What the round's tranches (not withdrawn) give each application, in cents."""
        rows = await self.session.execute(
            select(m.AllocationLine.application_id, func.sum(m.AllocationLine.amount_cents))
            .join(m.Allocation, m.Allocation.id == m.AllocationLine.allocation_id)
            .where(
                m.Allocation.round_id == round_id,
                m.Allocation.withdrawn_at.is_(None),
                m.AllocationLine.amount_cents > 0,
            )
            .group_by(m.AllocationLine.application_id)
        )
        return {int(app_id): int(total) for app_id, total in rows.all()}

    async def add_lines(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(m.AllocationLine), rows)

    async def mark_credited(self, allocation_id: int, now: datetime) -> bool:
        """Compare-and-set: True for the one caller that takes the tranche from waiting."""
        result = await self.session.execute(
            update(m.Allocation)
            .where(
                m.Allocation.id == allocation_id,
                m.Allocation.credited_at.is_(None),
                m.Allocation.withdrawn_at.is_(None),
            )
            .values(credited_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_withdrawn(self, allocation_id: int, now: datetime, by: str) -> bool:
        result = await self.session.execute(
            update(m.Allocation)
            .where(
                m.Allocation.id == allocation_id,
                m.Allocation.credited_at.is_(None),
                m.Allocation.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=now, withdrawn_by=by)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def line_ids_to_credit(self, allocation_id: int) -> list[int]:
        """The lines a credit pays: an amount, and the application not revoked."""
        rows = await self.session.scalars(
            select(m.AllocationLine.id)
            .join(m.Application, m.Application.id == m.AllocationLine.application_id)
            .where(
                m.AllocationLine.allocation_id == allocation_id,
                m.AllocationLine.amount_cents > 0,
                m.Application.revoked_at.is_(None),
            )
            .order_by(m.AllocationLine.id)
        )
        return list(rows.all())

    async def mark_decided_unpaid(self, allocation_id: int, now: datetime) -> list[DecidedLine]:
        """The applications this tranche gives nothing (excluded, or no money left) that were
        never told a decision nor paid by any tranche, not revoked: marked notified at `now`
        (once per application: a later tranche finds them marked) and returned by line."""
        line, app, citizen = m.AllocationLine, m.Application, m.Citizen
        earlier = aliased(m.AllocationLine)
        paid_before = (
            select(m.Posting.id)
            .join(earlier, earlier.id == m.Posting.allocation_line_id)
            .where(earlier.application_id == app.id)
            .exists()
        )
        rows = await self.session.execute(
            select(
                app.id,
                app.protocol,
                line.assignment,
                line.exclusion_reason,
                citizen.erased_at,
                citizen.telegram_chat_id,
                citizen.phone,
                citizen.language,
            )
            .join(app, app.id == line.application_id)
            .join(citizen, citizen.id == app.citizen_id)
            .where(
                line.allocation_id == allocation_id,
                line.amount_cents == 0,
                app.revoked_at.is_(None),
                app.decision_notified_at.is_(None),
                ~paid_before,
            )
            .order_by(line.id)
        )
        found = [DecidedLine(*row) for row in rows.all()]
        ids = [row.application_id for row in found]
        for start in range(0, len(ids), _DECIDED_CHUNK):
            await self.session.execute(
                update(app)
                .where(app.id.in_(ids[start : start + _DECIDED_CHUNK]))
                .values(decision_notified_at=now)
                .execution_options(synchronize_session=False)
            )
        return found

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

    async def account_by_id(self, account_id: int) -> m.Account | None:
        return await self.session.get(m.Account, account_id)

    async def postings_of(self, account_id: int) -> Sequence[m.Posting]:
        """Every posting into or out of the account, oldest first."""
        return (
            await self.session.scalars(
                select(m.Posting)
                .where(
                    or_(
                        m.Posting.from_account_id == account_id,
                        m.Posting.to_account_id == account_id,
                    )
                )
                .order_by(m.Posting.id)
            )
        ).all()

    async def shops_owed(self, municipality_id: int) -> Sequence[tuple[m.Shop, int]]:
        """Each shop whose account holds money (> 0), with the amount, by name."""
        rows = await self.session.execute(
            select(m.Shop, m.Account.balance_cents)
            .join(
                m.Account,
                (m.Account.municipality_id == m.Shop.municipality_id)
                & (m.Account.kind == AccountKind.SHOP.value)
                & (m.Account.owner_id == m.Shop.id),
            )
            .where(m.Shop.municipality_id == municipality_id, m.Account.balance_cents > 0)
            .order_by(m.Shop.name, m.Shop.id)
        )
        return [(shop, int(cents)) for shop, cents in rows]

    async def first_posting_at(self, municipality_id: int, kind: PostingKind) -> datetime | None:
        """When the municipality's first posting of this kind was made."""
        return await self.session.scalar(
            select(m.Posting.created_at)
            .where(m.Posting.municipality_id == municipality_id, m.Posting.kind == kind.value)
            .order_by(m.Posting.id)
            .limit(1)
        )

    async def allocated_in_round(self, account_id: int, round_id: int) -> int:
        """What the round's tranches credited to this account."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(m.Posting.amount_cents), 0))
            .join(m.Allocation, m.Allocation.id == m.Posting.allocation_id)
            .where(
                m.Posting.kind == PostingKind.ALLOCATION.value,
                m.Posting.to_account_id == account_id,
                m.Allocation.round_id == round_id,
            )
        )
        return int(total or 0)

    async def accounts(self, municipality_id: int) -> Sequence[m.Account]:
        return (
            await self.session.scalars(
                select(m.Account).where(m.Account.municipality_id == municipality_id)
            )
        ).all()

    async def lock(self, account_ids: Sequence[int]) -> None:
        """Lock accounts in id order (PostgreSQL): every transaction that changes balances
        takes its locks in this one global order, so none waits in a cycle (a deadlock).
        SQLite needs nothing: a writer holds the whole database from BEGIN IMMEDIATE."""
        if self._transaction.dialect != "postgresql":
            return
        await self.session.execute(
            select(m.Account.id)
            .where(m.Account.id.in_(sorted(set(account_ids))))
            .order_by(m.Account.id)
            .with_for_update()
        )

    def _citizens_of_tranche(self, allocation_id: int) -> Any:
        return (
            select(m.Application.citizen_id)
            .join(m.AllocationLine, m.AllocationLine.application_id == m.Application.id)
            .where(
                m.AllocationLine.allocation_id == allocation_id,
                m.AllocationLine.amount_cents > 0,
                m.Application.revoked_at.is_(None),
            )
        )

    async def open_citizen_accounts(self, municipality_id: int, allocation_id: int) -> None:
        """Create, in one statement, the accounts of the tranche's citizens that have none."""
        citizens = self._citizens_of_tranche(allocation_id).subquery()
        # WHERE true: SQLite reads "SELECT … ON CONFLICT" as a join constraint without it.
        source = select(
            literal(municipality_id),
            literal(AccountKind.CITIZEN.value),
            citizens.c.citizen_id,
            literal(0),
        ).where(true())
        statement = (
            self._upsert_insert()(m.Account)
            .from_select(["municipality_id", "kind", "owner_id", "balance_cents"], source)
            .on_conflict_do_nothing(index_elements=["municipality_id", "kind", "owner_id"])
        )
        await self.session.execute(statement)

    async def refresh_statistics(self) -> None:
        """PostgreSQL: re-read the row counts of the tables a credit joins. Accounts created
        a moment ago in this transaction (and lines approved minutes ago) are invisible to
        the planner's statistics; it then believes them one row long and joins them in a
        nested loop, a quadratic plan (100,000 households: hours, not seconds)."""
        if self._transaction.dialect != "postgresql":
            return
        for table in ("accounts", "allocation_lines", "applications"):
            await self.session.execute(text(f"ANALYZE {table}"))

    async def lock_for_credit(self, municipality_id: int, allocation_id: int, fund_id: int) -> None:
        """Lock the fund and every citizen account of the tranche, in id order (PostgreSQL)."""
        if self._transaction.dialect != "postgresql":
            return
        citizens = self._citizens_of_tranche(allocation_id)
        await self.session.execute(
            select(m.Account.id)
            .where(
                or_(
                    m.Account.id == fund_id,
                    and_(
                        m.Account.municipality_id == municipality_id,
                        m.Account.kind == AccountKind.CITIZEN.value,
                        m.Account.owner_id.in_(citizens),
                    ),
                )
            )
            .order_by(m.Account.id)
            .with_for_update()
        )

    async def post_allocation_lines(
        self,
        municipality_id: int,
        allocation_id: int,
        fund_id: int,
        first_line: int,
        last_line: int,
        now: datetime,
    ) -> None:
        """One posting fund -> citizen per line in [first_line, last_line], then the balances."""
        line, application, account = m.AllocationLine, m.Application, m.Account
        source = (
            select(
                literal(municipality_id),
                literal("allocation"),
                literal(fund_id),
                account.id,
                line.amount_cents,
                bindparam("now", now, type_=m.Posting.__table__.c.created_at.type),
                literal(allocation_id),
                line.id,
            )
            .join(application, application.id == line.application_id)
            .join(
                account,
                and_(
                    account.municipality_id == municipality_id,
                    account.kind == AccountKind.CITIZEN.value,
                    account.owner_id == application.citizen_id,
                ),
            )
            .where(
                line.allocation_id == allocation_id,
                line.id.between(first_line, last_line),
                line.amount_cents > 0,
                application.revoked_at.is_(None),
            )
        )
        columns = [
            "municipality_id",
            "kind",
            "from_account_id",
            "to_account_id",
            "amount_cents",
            "created_at",
            "allocation_id",
            "allocation_line_id",
        ]
        await self.session.execute(insert(m.Posting).from_select(columns, source))
        posting = m.Posting
        # UPDATE … FROM (PostgreSQL, SQLite >= 3.33): each account meets its one posting of
        # this tranche (one application per household and window) through the indexes.
        await self.session.execute(
            update(m.Account)
            .where(
                m.Account.id == posting.to_account_id,
                posting.allocation_id == allocation_id,
                posting.allocation_line_id.between(first_line, last_line),
            )
            .values(balance_cents=m.Account.balance_cents + posting.amount_cents)
            .execution_options(synchronize_session=False)
        )

    async def credited_lines(
        self, allocation_id: int, first_line: int, last_line: int
    ) -> Sequence[CreditedLine]:
        """Who got what for the lines just posted in the range, and their balance now.

        Plain columns, not Citizen objects: a tranche may hold a region's households."""
        citizen = m.Citizen
        rows = await self.session.execute(
            select(
                citizen.id,
                citizen.municipality_id,
                citizen.erased_at,
                citizen.telegram_chat_id,
                citizen.phone,
                citizen.language,
                m.Posting.amount_cents,
                m.Account.balance_cents,
            )
            .join(m.Account, m.Account.id == m.Posting.to_account_id)
            .join(citizen, citizen.id == m.Account.owner_id)
            .where(
                m.Posting.allocation_id == allocation_id,
                m.Posting.allocation_line_id.between(first_line, last_line),
            )
            .order_by(m.Posting.allocation_line_id)
        )
        return [CreditedLine(*row) for row in rows.all()]

    async def debit_fund(self, fund_id: int, amount_cents: int) -> None:
        await self.session.execute(
            update(m.Account)
            .where(m.Account.id == fund_id)
            .values(balance_cents=m.Account.balance_cents - amount_cents)
            .execution_options(synchronize_session=False)
        )

    async def tranche_figures(self, municipality_id: int) -> list[TrancheFigures]:
        """Per tranche: approved total, posted total, lines left unpaid because their
        application was revoked before the credit, and postings that match no line."""
        allocations = (
            await self.session.scalars(
                select(m.Allocation)
                .where(m.Allocation.municipality_id == municipality_id)
                .order_by(m.Allocation.id)
            )
        ).all()
        line, posting, application = m.AllocationLine, m.Posting, m.Application
        approved = dict(
            (
                await self.session.execute(
                    select(line.allocation_id, func.sum(line.amount_cents))
                    .join(m.Allocation, m.Allocation.id == line.allocation_id)
                    .where(m.Allocation.municipality_id == municipality_id, line.amount_cents > 0)
                    .group_by(line.allocation_id)
                )
            ).all()
        )
        posted = dict(
            (
                await self.session.execute(
                    select(posting.allocation_id, func.sum(posting.amount_cents))
                    .where(
                        posting.municipality_id == municipality_id,
                        posting.kind == "allocation",
                    )
                    .group_by(posting.allocation_id)
                )
            ).all()
        )
        excused = dict(
            (
                await self.session.execute(
                    select(line.allocation_id, func.sum(line.amount_cents))
                    .join(m.Allocation, m.Allocation.id == line.allocation_id)
                    .join(application, application.id == line.application_id)
                    .outerjoin(posting, posting.allocation_line_id == line.id)
                    .where(
                        m.Allocation.municipality_id == municipality_id,
                        line.amount_cents > 0,
                        posting.id.is_(None),
                        # Revoked when the tranche was credited (a revocation undone later
                        # still excuses the tranche it made skip the application).
                        exists().where(
                            m.Revocation.application_id == application.id,
                            m.Revocation.revoked_at <= m.Allocation.credited_at,
                            or_(
                                m.Revocation.undone_at.is_(None),
                                m.Revocation.undone_at > m.Allocation.credited_at,
                            ),
                        ),
                    )
                    .group_by(line.allocation_id)
                )
            ).all()
        )
        stray = dict(
            (
                await self.session.execute(
                    select(posting.allocation_id, func.count())
                    .outerjoin(line, line.id == posting.allocation_line_id)
                    .where(
                        posting.municipality_id == municipality_id,
                        posting.kind == "allocation",
                        or_(
                            line.id.is_(None),
                            line.allocation_id != posting.allocation_id,
                            line.amount_cents != posting.amount_cents,
                        ),
                    )
                    .group_by(posting.allocation_id)
                )
            ).all()
        )
        return [
            TrancheFigures(
                allocation_id=a.id,
                round_id=a.round_id,
                tranche=a.tranche,
                credited=a.credited_at is not None,
                approved_cents=int(approved.get(a.id) or 0),
                posted_cents=int(posted.get(a.id) or 0),
                excused_cents=int(excused.get(a.id) or 0),
                stray_postings=int(stray.get(a.id) or 0),
            )
            for a in allocations
        ]


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

    async def membership(self, channel: str, address: str) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        rows = await self.session.execute(
            select(m.ShopMember, m.Shop)
            .join(m.Shop, m.Shop.id == m.ShopMember.shop_id)
            .where(m.ShopMember.channel == channel, m.ShopMember.address == address)
            # A fixed order (the menu lists the shops so), which the one-trip turn repeats.
            .order_by(m.ShopMember.id)
        )
        return [(member, shop) for member, shop in rows.all()]

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
        now: datetime,
        *,
        accept: Callable[[PendingPayment], bool],
        receipt: Callable[[PendingPayment, int], dict[str, Any]],
    ) -> PaymentOutcome | None:
        """Confirm a charge in one trip to the database (core/storage/payment_trip.py), or
        None with nothing written when it is not a plain acceptance."""
        postgresql = self._transaction.dialect == "postgresql"
        plan = confirm_plan(
            charge_id, shop_id, now, accept=accept, receipt=receipt, postgresql=postgresql
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

    async def last_card_payment(self, citizen_id: int, shop_id: int | None) -> datetime | None:
        """When the citizen last paid with the card's PIN (at this shop, if given): the
        latest payment confirmed by a right PIN, refunded later or not."""
        query = select(func.max(m.Charge.confirmed_at)).where(
            m.Charge.citizen_id == citizen_id,
            m.Charge.consent == "card_pin",
            m.Charge.status.in_((ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)),
        )
        if shop_id is not None:
            query = query.where(m.Charge.shop_id == shop_id)
        return await self.session.scalar(query)

    async def pending_for_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        return (
            await self.session.scalars(
                select(m.Charge)
                .where(m.Charge.citizen_id == citizen_id, m.Charge.status == ChargeStatus.PENDING)
                .order_by(m.Charge.id)
            )
        ).all()

    async def codes_sent_to(self, citizen_id: int, since: datetime) -> int:
        """Payment codes sent to the citizen since then, by every shop (a card PIN charge
        sends none: its hash is empty)."""
        value = await self.session.scalar(
            select(func.count())
            .select_from(m.Charge)
            .where(
                m.Charge.citizen_id == citizen_id,
                m.Charge.created_at >= since,
                m.Charge.code_hash != "",
            )
        )
        return int(value or 0)

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
                m.OutboxMessage.status == OutboxStatus.PENDING,
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

    async def add_many(self, common: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """Queue many messages (a credit run's notices): `common` holds the values every row
        shares, `rows` the others, each row with the same keys.

        Hand-written with the driver's executemany because the ORM's bulk insert spends
        most of its time converting each row's values: here the shared values are converted
        once, and each row only its own (the JSON payload)."""
        if not rows:
            return
        table = m.OutboxMessage.__table__
        dialect = self.session.get_bind().dialect
        # Keys the same in every row, in the same order: the values go positionally.

        def converter(name: str) -> Any:
            return table.c[name].type._cached_bind_processor(dialect) or (lambda value: value)

        fixed = [converter(name)(value) for name, value in common.items()]
        own = [converter(name) for name in rows[0]]
        prepared = [
            (*fixed, *(convert(value) for convert, value in zip(own, row.values(), strict=True)))
            for row in rows
        ]
        names = [*common, *rows[0]]
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            f"INSERT INTO {m.OutboxMessage.__tablename__} ({', '.join(names)}) "
            f"VALUES ({_placeholders(dialect.paramstyle, len(names))})",
            prepared,
        )

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

    async def by_ids_locked(self, ids: Sequence[int], lock: bool) -> Sequence[m.OutboxMessage]:
        """Rows by id, in id order, with `lock` held until commit (see `by_id_locked`)."""
        query = (
            select(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids)).order_by(m.OutboxMessage.id)
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def mark_sent(
        self, sent: Sequence[tuple[int, int, str | None]], now: datetime
    ) -> set[tuple[int, int]]:
        """Rows the provider accepted, each (id, attempts when claimed, the provider's id), in
        one statement. A row is written only while that claim still holds it (`sending`,
        the same attempts): a row whose lease another worker took over is left to it.
        Returns the (id, attempts) written. Only for rows without a code: a code's row
        must be scrubbed as well (core.services.outbox.forget_code)."""
        if not sent:
            return set()
        table = m.OutboxMessage
        claims = [
            (and_(table.id == message_id, table.attempts == attempts), provider_id)
            for message_id, attempts, provider_id in sent
        ]
        provider_ids = case(
            *(
                (claim, literal(provider_id, table.provider_message_id.type))
                for claim, provider_id in claims
            )
        )
        result = await self.session.execute(
            update(table)
            .where(table.status == OutboxStatus.SENDING, or_(*(claim for claim, _ in claims)))
            .values(
                status=OutboxStatus.SENT,
                sent_at=now,
                provider_message_id=provider_ids,
                last_error=None,
            )
            .returning(table.id, table.attempts)
            .execution_options(synchronize_session=False)
        )
        return {(int(message_id), int(attempts)) for message_id, attempts in result.all()}

    async def by_id_locked(self, message_id: int, lock: bool) -> m.OutboxMessage | None:
        """A row, with `lock` held until commit (PostgreSQL: a worker and lease recovery
        take turns on it; SQLite holds the write lock for the whole transaction)."""
        query = select(m.OutboxMessage).where(m.OutboxMessage.id == message_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def last_id(self) -> int:
        """The newest row's id, 0 when there is none."""
        return int(
            await self.session.scalar(
                select(m.OutboxMessage.id).order_by(m.OutboxMessage.id.desc()).limit(1)
            )
            or 0
        )

    async def pending_after(self, message_id: int) -> Sequence[m.OutboxMessage]:
        """Rows still to send that were written after `message_id`, oldest first."""
        return (
            await self.session.scalars(
                select(m.OutboxMessage)
                .where(
                    m.OutboxMessage.id > message_id,
                    m.OutboxMessage.status == OutboxStatus.PENDING,
                )
                .order_by(m.OutboxMessage.id)
            )
        ).all()

    async def mark_all_pending_sent(self, now: datetime) -> None:
        """Every pending row counts as sent (the demo's history: nothing to deliver)."""
        await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now)
        )

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

    async def of_address(
        self, municipality_id: int, channel: str, address: str
    ) -> Sequence[m.Conversation]:
        """An address's conversations with the municipality and with none (before a town
        was picked), oldest first."""
        return (
            await self.session.scalars(
                select(m.Conversation)
                .where(
                    m.Conversation.channel == channel,
                    m.Conversation.address == address,
                    or_(
                        m.Conversation.municipality_id == municipality_id,
                        m.Conversation.municipality_id.is_(None),
                    ),
                )
                .order_by(m.Conversation.id)
            )
        ).all()

    async def find_for_update(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        """`find`, the row locked until commit (PostgreSQL; SQLite has one writer)."""
        query = select(m.Conversation).where(
            m.Conversation.channel == channel, m.Conversation.address == address
        )
        if municipality_id is None:
            query = query.where(m.Conversation.municipality_id.is_(None))
        else:
            query = query.where(m.Conversation.municipality_id == municipality_id)
        return await self.session.scalar(
            query.order_by(m.Conversation.id).limit(1).with_for_update()
        )

    async def latest(self, channel: str, address: str) -> m.Conversation | None:
        """The address's most recent conversation with any municipality."""
        return await self.session.scalar(
            select(m.Conversation)
            .where(m.Conversation.channel == channel, m.Conversation.address == address)
            .order_by(m.Conversation.updated_at.desc(), m.Conversation.id.desc())
            .limit(1)
        )

    async def latest_for_update(self, channel: str, address: str) -> m.Conversation | None:
        """The address's most recent conversation with any municipality, locked."""
        return await self.session.scalar(
            select(m.Conversation)
            .where(m.Conversation.channel == channel, m.Conversation.address == address)
            .order_by(m.Conversation.updated_at.desc(), m.Conversation.id.desc())
            .limit(1)
            .with_for_update()
        )

    async def is_stopped(self, municipality_id: int, channel: str, address: str) -> bool:
        stopped = await self.session.scalar(
            select(m.Conversation.stopped).where(
                m.Conversation.municipality_id == municipality_id,
                m.Conversation.channel == channel,
                m.Conversation.address == address,
            )
        )
        return bool(stopped)

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

    async def turn_in_one_trip(
        self,
        channel: str,
        address: str,
        message_id: str | None,
        now: datetime,
        *,
        route: Callable[[list[TownRow]], TownRow | None],
        classify: Callable[[TownRow, ConversationRow], Lookup[C] | None],
        decide: Callable[[C, Found], TurnWrite | None],
        postings_shown: int,
    ) -> TurnOutcome | None:
        """A plain dialogue turn in one plan (core/storage/turn_trip.py), or None with
        nothing written when it is not plain."""
        postgresql = self._transaction.dialect == "postgresql"
        plan = turn_plan(
            channel,
            address,
            message_id,
            now,
            route=route,
            classify=classify,
            decide=decide,
            postings_shown=postings_shown,
            lock_rows=postgresql,
        )
        return await self._transaction.run_plan(plan)

    async def stopped_addresses(self, municipality_id: int) -> set[tuple[str, str]]:
        """(channel, address) of everyone who wrote STOP to this municipality."""
        rows = await self.session.execute(
            select(m.Conversation.channel, m.Conversation.address).where(
                m.Conversation.municipality_id == municipality_id,
                m.Conversation.stopped.is_(True),
            )
        )
        return {(channel, address) for channel, address in rows.all()}


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


class SecurityEventRepository(_Repository):
    """The rows rate limits count (core.services.security says which and why)."""

    async def record(self, event: m.SecurityEvent, *, drop_before: datetime | None) -> None:
        """Add one event; with `drop_before`, the same key's rows older than it go first
        (the key: its kind, and its shop or its channel and address when it has them)."""
        if drop_before is not None:
            old = delete(m.SecurityEvent).where(
                m.SecurityEvent.kind == event.kind, m.SecurityEvent.created_at < drop_before
            )
            if event.shop_id is not None:
                old = old.where(m.SecurityEvent.shop_id == event.shop_id)
            if event.channel is not None and event.address is not None:
                old = old.where(
                    m.SecurityEvent.channel == event.channel,
                    m.SecurityEvent.address == event.address,
                )
            await self.session.execute(old.execution_options(synchronize_session=False))
        self.session.add(event)
        await self.session.flush()

    async def count(
        self,
        kind: str,
        since: datetime,
        *,
        shop_id: int | None = None,
        channel: str | None = None,
        address: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Events of a kind after `since`, of a shop, a channel, an address or a detail."""
        query = (
            select(func.count())
            .select_from(m.SecurityEvent)
            .where(m.SecurityEvent.kind == kind, m.SecurityEvent.created_at > since)
        )
        if shop_id is not None:
            query = query.where(m.SecurityEvent.shop_id == shop_id)
        if channel is not None:
            query = query.where(m.SecurityEvent.channel == channel)
        if address is not None:
            query = query.where(m.SecurityEvent.address == address)
        if detail is not None:
            query = query.where(m.SecurityEvent.detail == detail)
        return int(await self.session.scalar(query) or 0)

    async def times(
        self, kind: str, since: datetime, *, shop_id: int, detail: str
    ) -> Sequence[datetime]:
        """When a shop's events of a kind and detail happened after `since`, oldest first."""
        return (
            await self.session.scalars(
                select(m.SecurityEvent.created_at)
                .where(
                    m.SecurityEvent.kind == kind,
                    m.SecurityEvent.shop_id == shop_id,
                    m.SecurityEvent.created_at > since,
                    m.SecurityEvent.detail == detail,
                )
                .order_by(m.SecurityEvent.created_at)
            )
        ).all()

    async def of_address(
        self, kind: str, channel: str, address: str, since: datetime
    ) -> Sequence[m.SecurityEvent]:
        """The address's events of a kind after `since`, the oldest first."""
        rows = await self.session.scalars(
            select(m.SecurityEvent)
            .where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.channel == channel,
                m.SecurityEvent.address == address,
                m.SecurityEvent.created_at > since,
            )
            .order_by(m.SecurityEvent.created_at, m.SecurityEvent.id)
        )
        return rows.all()

    async def mark_code(
        self,
        kind: str,
        channel: str,
        address: str,
        code_hash: str,
        *,
        proven_at: datetime | None = None,
        wrong_try: bool = False,
    ) -> None:
        """The code sent with this hash to the address came back right (`proven_at`), or
        a wrong code was typed against it (`wrong_try`). One statement: two processes
        counting tries at once both count."""
        values: dict[str, Any] = {}
        if proven_at is not None:
            values["proven_at"] = proven_at
        if wrong_try:
            values["wrong_tries"] = m.SecurityEvent.wrong_tries + 1
        await self.session.execute(
            update(m.SecurityEvent)
            .where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.channel == channel,
                m.SecurityEvent.address == address,
                m.SecurityEvent.code_hash == code_hash,
                m.SecurityEvent.proven_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def unproven_of_town(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[str, str, datetime]]:
        """(channel, address, when) of the town's events of a kind after `since` whose code
        never came back."""
        rows = await self.session.execute(
            select(
                m.SecurityEvent.channel, m.SecurityEvent.address, m.SecurityEvent.created_at
            ).where(
                m.SecurityEvent.kind == kind,
                m.SecurityEvent.municipality_id == municipality_id,
                m.SecurityEvent.created_at > since,
                m.SecurityEvent.proven_at.is_(None),
                m.SecurityEvent.channel.is_not(None),
                m.SecurityEvent.address.is_not(None),
            )
        )
        return [(str(c), str(a), at) for c, a, at in rows.all()]

    async def forget_address(self, channel: str, address: str) -> None:
        """Drop every row naming this address (its person was erased)."""
        await self.session.execute(
            delete(m.SecurityEvent)
            .where(m.SecurityEvent.channel == channel, m.SecurityEvent.address == address)
            .execution_options(synchronize_session=False)
        )

    async def latest(self, kind: str, shop_id: int) -> datetime | None:
        """When the shop's latest event of this kind happened."""
        return await self.session.scalar(
            select(func.max(m.SecurityEvent.created_at)).where(
                m.SecurityEvent.kind == kind, m.SecurityEvent.shop_id == shop_id
            )
        )

    async def of_shops(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[int, str, datetime]]:
        """(shop id, shop name, when) of the municipality's shops' events after `since`."""
        rows = await self.session.execute(
            select(m.SecurityEvent.shop_id, m.Shop.name, m.SecurityEvent.created_at)
            .join(m.Shop, m.Shop.id == m.SecurityEvent.shop_id)
            .where(
                m.SecurityEvent.kind == kind,
                m.Shop.municipality_id == municipality_id,
                m.SecurityEvent.created_at > since,
            )
        )
        return [(int(shop), str(name), at) for shop, name, at in rows.all() if shop is not None]

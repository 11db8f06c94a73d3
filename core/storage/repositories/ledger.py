"""The ledger: accounts created on first use, guarded debits and credits, balances derived
from postings, the locks a credit run takes, posting a tranche's allocation lines in
bulk with the lines its notices need, and each tranche's figures for the ledger check.
One class, larger than the others because the double-entry bookkeeping is one unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
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

from core.domain.ledger import AccountKind, PostingKind
from core.storage import models as m
from core.storage.repositories.base import _Repository
from core.storage.repositories.results import CreditedLine, TrancheFigures


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

    async def owed_to_shops(self, municipality_id: int) -> int:
        """What the town's shops are owed together, in cents: their accounts' balances
        (never below zero: ck balance_not_negative), shops_owed's total."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(m.Account.balance_cents), 0))
            .join(
                m.Shop,
                (m.Shop.municipality_id == m.Account.municipality_id)
                & (m.Shop.id == m.Account.owner_id),
            )
            .where(
                m.Account.municipality_id == municipality_id,
                m.Account.kind == AccountKind.SHOP.value,
            )
        )
        return int(total or 0)

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

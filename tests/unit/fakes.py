"""An in-memory unit of work for testing service rules in milliseconds.

`FakeUnitOfWork` satisfies core.services.unit_of_work.UnitOfWork with repositories that
keep rows (the same model objects the SQL repositories return) in dictionaries. It
behaves like the SQL one where services can tell: `async with` rolls back what was not
committed (column values restored, new rows gone, deleted rows back), a flush gives
rows their ids and column defaults and refuses a duplicate of a unique key with
IntegrityError, and every query flushes first (as SQLAlchemy's autoflush does).

What it does not do is what only a database proves: concurrent transactions, row locks,
SKIP LOCKED. Those stay in tests/integration. tests/integration/test_repository_contract.py
runs the same checks on these repositories and on the SQL ones, so they cannot drift.
"""

from __future__ import annotations

import copy
import enum
import itertools
import math
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Index, Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from core.domain.channels import PHONE_CHANNELS, Channel
from core.domain.charges import ChargeStatus
from core.domain.identity import codice_fiscale_forms
from core.domain.keys import PROCESS_KEYS, ServerKeys
from core.domain.ledger import AccountKind, PostingKind
from core.domain.shops import ShopStatus
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.payment_trip import Paid, PaymentOutcome, PendingPayment
from core.storage.repositories.code_filter import CodeFilter
from core.storage.repositories.results import (
    CreditedLine,
    DecidedLine,
    DeterminaRest,
    StandingSums,
    TrancheFigures,
)

Row = TypeVar("Row", bound=m.Base)


def _plain(value: object) -> object:
    """What the database would give back: an enum as its value."""
    return value.value if isinstance(value, enum.Enum) else value


def _unique_keys(model: type[m.Base]) -> list[tuple[str, ...]]:
    table = model.__table__
    assert isinstance(table, Table)
    keys: list[tuple[str, ...]] = [(c.key,) for c in table.columns if c.unique]
    keys += [
        tuple(c.key for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    keys += [
        tuple(c.key for c in index.columns)
        for index in table.indexes
        # A partial index (WHERE ...) is the database's to enforce: the fake cannot read SQL.
        if isinstance(index, Index)
        and index.unique
        and index.dialect_options["sqlite"].get("where") is None
    ]
    return keys


class FakeStore:
    """The tables: model -> id -> row; what a database would hold."""

    def __init__(self) -> None:
        self.tables: dict[type[m.Base], dict[int, m.Base]] = {}
        self.pending: list[m.Base] = []
        self._ids = itertools.count(1)

    def add(self, row: m.Base) -> None:
        if row not in self.pending:
            self.pending.append(row)

    def delete(self, row: m.Base) -> None:
        if row in self.pending:
            self.pending.remove(row)
        self.tables.get(type(row), {}).pop(row.id, None)  # type: ignore[attr-defined]

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for row in pending:
            model = type(row)
            for column in model.__table__.columns:
                default = column.default
                if getattr(row, column.key) is None and default is not None:
                    if default.is_scalar:
                        setattr(row, column.key, default.arg)
                    elif default.is_callable:
                        setattr(row, column.key, default.arg(None))
            table = self.tables.setdefault(model, {})
            for key in _unique_keys(model):
                mine = tuple(getattr(row, name) for name in key)
                if None in mine:
                    continue
                for other in table.values():
                    if other is not row and tuple(getattr(other, n) for n in key) == mine:
                        raise IntegrityError(
                            f"INSERT INTO {model.__tablename__}", {}, Exception(f"unique {key}")
                        )
            if getattr(row, "id", None) is None:
                row.id = next(self._ids)  # type: ignore[attr-defined]
            table[row.id] = row  # type: ignore[attr-defined]

    def rows(self, model: type[Row], where: Callable[[Row], bool] | None = None) -> list[Row]:
        """The rows of a table in id order (after a flush, as autoflush does)."""
        self.flush()
        found = [row for row in self.tables.get(model, {}).values() if isinstance(row, model)]
        found.sort(key=lambda row: row.id)  # type: ignore[attr-defined]
        return [row for row in found if where is None or where(row)]

    def get(self, model: type[Row], row_id: int) -> Row | None:
        self.flush()
        row = self.tables.get(model, {}).get(row_id)
        return row if isinstance(row, model) else None

    def first(self, model: type[Row], where: Callable[[Row], bool]) -> Row | None:
        found = self.rows(model, where)
        return found[0] if found else None

    def snapshot(self) -> dict[type[m.Base], dict[int, tuple[m.Base, dict[str, Any]]]]:
        self.flush()
        return {
            model: {
                row_id: (
                    row,
                    {c.key: copy.deepcopy(getattr(row, c.key)) for c in model.__table__.columns},
                )
                for row_id, row in table.items()
            }
            for model, table in self.tables.items()
        }

    def restore(self, saved: dict[type[m.Base], dict[int, tuple[m.Base, dict[str, Any]]]]) -> None:
        self.pending = []
        self.tables = {}
        for model, table in saved.items():
            self.tables[model] = {}
            for row_id, (row, values) in table.items():
                for key, value in values.items():
                    setattr(row, key, copy.deepcopy(value))
                self.tables[model][row_id] = row


class _Fake:
    def __init__(self, store: FakeStore) -> None:
        self.store = store


class FakeMunicipalities(_Fake):
    async def by_code(self, code: str) -> m.Municipality | None:
        return self.store.first(m.Municipality, lambda x: x.code == code.upper())

    async def by_id(self, municipality_id: int) -> m.Municipality | None:
        return self.store.get(m.Municipality, municipality_id)

    async def by_sms_number(self, number: str) -> m.Municipality | None:
        return self.store.first(m.Municipality, lambda x: x.sms_number == number)

    async def all(self) -> Sequence[m.Municipality]:
        return self.store.rows(m.Municipality)

    async def hold_shop_names(self, municipality_id: int) -> None:
        """One task at a time runs on the fakes: nothing to wait for."""

    async def next_number(self, municipality_id: int, name: str) -> int:
        counter = self.store.first(
            m.Counter, lambda x: x.municipality_id == municipality_id and x.name == name
        )
        if counter is None:
            counter = m.Counter(municipality_id=municipality_id, name=name, value=0)
            self.store.add(counter)
            self.store.flush()
        counter.value += 1
        return counter.value


class FakeRounds(_Fake):
    async def by_id(self, round_id: int) -> m.Round | None:
        return self.store.get(m.Round, round_id)

    async def latest(self, municipality_id: int) -> m.Round | None:
        rounds = self.store.rows(m.Round, lambda x: x.municipality_id == municipality_id)
        return max(rounds, key=lambda x: x.number, default=None)

    async def of_municipality(self, municipality_id: int) -> list[m.Round]:
        rounds = self.store.rows(m.Round, lambda x: x.municipality_id == municipality_id)
        return sorted(rounds, key=lambda x: x.number)

    async def by_number(self, municipality_id: int, number: int) -> m.Round | None:
        return self.store.first(
            m.Round, lambda x: x.municipality_id == municipality_id and x.number == number
        )

    async def lock(self, round_id: int) -> None:
        """One transaction at a time here: nothing to wait for."""


class FakeCitizens(_Fake):
    async def by_id(self, citizen_id: int) -> m.Citizen | None:
        return self.store.get(m.Citizen, citizen_id)

    def _of(self, municipality_id: int, test: Callable[[m.Citizen], bool]) -> m.Citizen | None:
        return self.store.first(
            m.Citizen, lambda x: x.municipality_id == municipality_id and test(x)
        )

    async def by_codice_fiscale(self, municipality_id: int, cf: str) -> m.Citizen | None:
        return self._of(municipality_id, lambda x: x.codice_fiscale == cf)

    async def by_person_key(self, municipality_id: int, cf: str) -> Sequence[m.Citizen]:
        forms = set(codice_fiscale_forms(cf))
        return self.store.rows(
            m.Citizen, lambda x: x.municipality_id == municipality_id and x.codice_fiscale in forms
        )

    async def by_phone(self, municipality_id: int, phone: str) -> m.Citizen | None:
        return self._of(municipality_id, lambda x: x.phone == phone)

    async def by_card_code(self, municipality_id: int, card_code: str) -> m.Citizen | None:
        return self._of(municipality_id, lambda x: x.card_code == card_code)

    async def lock(self, citizen_id: int) -> m.Citizen | None:
        """One transaction at a time here: nothing to wait for."""
        return self.store.get(m.Citizen, citizen_id)

    async def hold_person(self, municipality_id: int, cf: str) -> None:
        """One transaction at a time here: nothing to wait for."""

    async def hold_phone(self, municipality_id: int, phone: str) -> None:
        """One transaction at a time here: nothing to wait for."""

    async def set_phone(self, citizen: m.Citizen, phone: str) -> bool:
        taken = self._of(citizen.municipality_id, lambda x: x.phone == phone and x is not citizen)
        if taken is not None:
            return False
        citizen.phone = phone
        return True

    async def with_cards(self, municipality_id: int, blocked_only: bool) -> Sequence[m.Citizen]:
        found = self.store.rows(
            m.Citizen,
            lambda x: (
                x.municipality_id == municipality_id
                and x.card_pin_hash is not None
                and (not blocked_only or x.card_blocked_at is not None)
            ),
        )
        return sorted(found, key=lambda x: (x.card_blocked_at is None, x.codice_fiscale))

    async def block_card(self, citizen_id: int, now: datetime) -> bool:
        citizen = self.store.get(m.Citizen, citizen_id)
        if citizen is None or citizen.card_blocked_at is not None:
            return False
        citizen.card_blocked_at = now
        return True

    async def card_grid(self, citizen_id: int, card_code: str) -> Sequence[m.CardCode]:
        found = self.store.rows(
            m.CardCode,
            lambda x: (
                x.citizen_id == citizen_id and x.card_code == card_code and x.voided_at is None
            ),
        )
        return sorted(found, key=lambda x: x.position)

    async def void_card_codes(self, citizen_id: int, now: datetime) -> int:
        found = self.store.rows(
            m.CardCode, lambda x: x.citizen_id == citizen_id and x.voided_at is None
        )
        for code in found:
            code.voided_at = now
        return len(found)

    async def use_card_code(self, code_id: int, charge_id: int, now: datetime) -> bool:
        code = self.store.get(m.CardCode, code_id)
        if code is None or code.used_at is not None or code.voided_at is not None:
            return False
        code.used_at, code.charge_id = now, charge_id
        return True

    async def release_card_code(self, code_id: int, charge_id: int) -> bool:
        code = self.store.get(m.CardCode, code_id)
        if code is None or code.charge_id != charge_id:
            return False
        code.used_at, code.charge_id = None, None
        return True

    async def by_telegram_chat(self, municipality_id: int, chat_id: str) -> m.Citizen | None:
        return self._of(municipality_id, lambda x: x.telegram_chat_id == chat_id)

    async def other_reached_at(
        self, municipality_id: int, citizen_id: int, channel: str, address: str
    ) -> bool:
        column = "telegram_chat_id" if channel == "telegram" else "phone"
        return (
            self._of(
                municipality_id, lambda x: x.id != citizen_id and getattr(x, column) == address
            )
            is not None
        )


class FakeDelegates(_Fake):
    async def of_citizen(self, citizen_id: int, *, lock: bool = False) -> m.Delegate | None:
        return self.store.first(m.Delegate, lambda x: x.citizen_id == citizen_id)

    async def by_phone(self, municipality_id: int, phone: str) -> m.Delegate | None:
        return self.store.first(
            m.Delegate, lambda x: x.municipality_id == municipality_id and x.phone == phone
        )

    async def remove(self, delegate: m.Delegate) -> None:
        self.store.delete(delegate)


class FakeApplications(_Fake):
    async def by_protocol(self, protocol: str) -> m.Application | None:
        return self.store.first(m.Application, lambda x: x.protocol == protocol.upper())

    async def latest_for_citizen(self, citizen_id: int) -> m.Application | None:
        found = self.store.rows(m.Application, lambda x: x.citizen_id == citizen_id)
        return found[-1] if found else None

    async def in_round(self, round_id: int) -> Sequence[m.Application]:
        found = self.store.rows(m.Application, lambda x: x.round_id == round_id)
        return sorted(found, key=lambda x: (x.submitted_at, x.id))

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Application]:
        return self.store.rows(m.Application, lambda x: x.citizen_id == citizen_id)

    async def for_citizen(self, round_id: int, citizen_id: int) -> m.Application | None:
        return self.store.first(
            m.Application, lambda x: x.round_id == round_id and x.citizen_id == citizen_id
        )

    async def with_citizens(self, round_id: int) -> Sequence[tuple[m.Application, m.Citizen]]:
        found = self.store.rows(m.Application, lambda x: x.round_id == round_id)
        found.sort(key=lambda x: (x.submitted_at, x.id))
        pairs = []
        for application in found:
            citizen = self.store.get(m.Citizen, application.citizen_id)
            assert citizen is not None
            pairs.append((application, citizen))
        return pairs


class FakeAllocations(_Fake):
    def _of_round(self, round_id: int, test: Callable[[m.Allocation], bool]) -> m.Allocation | None:
        found = self.store.rows(m.Allocation, lambda x: x.round_id == round_id and test(x))
        return max(found, key=lambda x: x.tranche, default=None)

    async def latest(self, round_id: int) -> m.Allocation | None:
        return self._of_round(round_id, lambda x: True)

    async def latest_standing(self, round_id: int) -> m.Allocation | None:
        return self._of_round(round_id, lambda x: x.withdrawn_at is None)

    async def standing_sums(self, round_id: int) -> StandingSums:
        standing = self.store.rows(
            m.Allocation, lambda x: x.round_id == round_id and x.withdrawn_at is None
        )
        credited = {x.id for x in standing if x.credited_at is not None}
        lines = self.store.rows(
            m.AllocationLine, lambda x: x.allocation_id in {y.id for y in standing}
        )
        return StandingSums(
            allocated_cents=sum(x.amount_cents for x in lines),
            credited_cents=sum(x.amount_cents for x in lines if x.allocation_id in credited),
        )

    async def waiting(self, round_id: int) -> m.Allocation | None:
        return self._of_round(round_id, lambda x: x.credited_at is None and x.withdrawn_at is None)

    async def waiting_in_municipality(self, municipality_id: int) -> m.Allocation | None:
        return self.store.first(
            m.Allocation,
            lambda x: (
                x.municipality_id == municipality_id
                and x.credited_at is None
                and x.withdrawn_at is None
            ),
        )

    async def given_by_application(self, round_id: int) -> dict[int, int]:
        standing = {
            a.id
            for a in self.store.rows(
                m.Allocation, lambda x: x.round_id == round_id and x.withdrawn_at is None
            )
        }
        given: dict[int, int] = {}
        for line in self.store.rows(m.AllocationLine):
            if line.allocation_id in standing and line.amount_cents > 0:
                given[line.application_id] = given.get(line.application_id, 0) + line.amount_cents
        return given

    async def to_credit_for_citizen(self, citizen_id: int) -> int:
        waiting = {
            a.id
            for a in self.store.rows(
                m.Allocation, lambda x: x.credited_at is None and x.withdrawn_at is None
            )
        }
        applications = {
            x.id
            for x in self.store.rows(
                m.Application, lambda x: x.citizen_id == citizen_id and x.revoked_at is None
            )
        }
        return sum(
            line.amount_cents
            for line in self.store.rows(m.AllocationLine)
            if line.allocation_id in waiting
            and line.application_id in applications
            and line.amount_cents > 0
        )

    async def never_allocated(self, round_id: int) -> int:
        standing = {
            a.id
            for a in self.store.rows(
                m.Allocation, lambda x: x.round_id == round_id and x.withdrawn_at is None
            )
        }
        decided = {
            line.application_id
            for line in self.store.rows(m.AllocationLine)
            if line.allocation_id in standing
        }
        return len(
            self.store.rows(
                m.Application,
                lambda x: (
                    x.round_id == round_id
                    and x.withdrawn_at is None
                    and x.revoked_at is None
                    and x.id not in decided
                ),
            )
        )

    async def add_lines(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.store.add(m.AllocationLine(**row))
        self.store.flush()

    def _set_if_waiting(self, allocation_id: int, **values: object) -> bool:
        allocation = self.store.get(m.Allocation, allocation_id)
        if (
            allocation is None
            or allocation.credited_at is not None
            or allocation.withdrawn_at is not None
        ):
            return False
        for key, value in values.items():
            setattr(allocation, key, value)
        return True

    async def mark_credited(self, allocation_id: int, now: datetime) -> bool:
        return self._set_if_waiting(allocation_id, credited_at=now)

    async def mark_withdrawn(self, allocation_id: int, now: datetime, by: str) -> bool:
        return self._set_if_waiting(allocation_id, withdrawn_at=now, withdrawn_by=by)

    async def line_ids_to_credit(self, allocation_id: int) -> list[int]:
        return [line.id for line in _lines_to_credit(self.store, allocation_id)]

    async def still_to_decide(self, application_ids: Sequence[int]) -> int:
        posted = {p.allocation_line_id for p in self.store.rows(m.Posting, lambda x: True)}
        paid = {
            line.application_id
            for line in self.store.rows(m.AllocationLine, lambda x: True)
            if line.id in posted
        }
        found = 0
        for application_id in application_ids:
            application = self.store.get(m.Application, application_id)
            if (
                application is not None
                and application.revoked_at is None
                and application.decision_notified_at is None
                and application.id not in paid
            ):
                found += 1
        return found

    async def mark_decided_unpaid(self, allocation_id: int, now: datetime) -> list[DecidedLine]:
        posted = {p.allocation_line_id for p in self.store.rows(m.Posting, lambda x: True)}
        paid = {
            line.application_id
            for line in self.store.rows(m.AllocationLine, lambda x: True)
            if line.id in posted
        }
        found = []
        for line in sorted(self.store.rows(m.AllocationLine, lambda x: True), key=lambda x: x.id):
            application = self.store.get(m.Application, line.application_id)
            assert application is not None
            if (
                line.allocation_id != allocation_id
                or line.amount_cents != 0
                or application.revoked_at is not None
                or application.decision_notified_at is not None
                or application.id in paid
            ):
                continue
            citizen = self.store.get(m.Citizen, application.citizen_id)
            assert citizen is not None
            application.decision_notified_at = now
            found.append(
                DecidedLine(
                    application.id,
                    application.protocol,
                    line.assignment,
                    line.exclusion_reason,
                    citizen.erased_at,
                    citizen.telegram_chat_id,
                    citizen.phone,
                    citizen.language,
                )
            )
        return found

    async def by_tranche(self, round_id: int, tranche: int) -> m.Allocation | None:
        return self._of_round(round_id, lambda x: x.tranche == tranche)

    async def of_round(self, round_id: int, *, withdrawn: bool = True) -> Sequence[m.Allocation]:
        found = self.store.rows(
            m.Allocation,
            lambda x: x.round_id == round_id and (withdrawn or x.withdrawn_at is None),
        )
        return sorted(found, key=lambda x: x.tranche)

    async def lines(self, allocation_id: int) -> Sequence[m.AllocationLine]:
        return self.store.rows(m.AllocationLine, lambda x: x.allocation_id == allocation_id)

    async def lines_for_application(
        self, application_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Allocation]]:
        pairs = []
        for line in self.store.rows(m.AllocationLine, lambda x: x.application_id == application_id):
            allocation = self.store.get(m.Allocation, line.allocation_id)
            assert allocation is not None
            pairs.append((line, allocation))
        return sorted(pairs, key=lambda pair: pair[1].tranche)


def _lines_to_credit(store: FakeStore, allocation_id: int) -> list[m.AllocationLine]:
    """A tranche's lines with an amount whose application is not revoked."""

    def paid(line: m.AllocationLine) -> bool:
        application = store.get(m.Application, line.application_id)
        return (
            line.allocation_id == allocation_id
            and line.amount_cents > 0
            and application is not None
            and application.revoked_at is None
        )

    return store.rows(m.AllocationLine, paid)


class FakeLedger(_Fake):
    async def account(
        self, municipality_id: int, kind: AccountKind, owner_id: int = 0
    ) -> m.Account:
        account = await self.find(municipality_id, kind, owner_id)
        if account is None:
            account = m.Account(
                municipality_id=municipality_id, kind=kind.value, owner_id=owner_id, balance_cents=0
            )
            self.store.add(account)
            self.store.flush()
        return account

    async def find(
        self, municipality_id: int, kind: AccountKind, owner_id: int = 0
    ) -> m.Account | None:
        return self.store.first(
            m.Account,
            lambda x: (
                x.municipality_id == municipality_id
                and x.kind == kind.value
                and x.owner_id == owner_id
            ),
        )

    async def pair(
        self, municipality_id: int, source: tuple[AccountKind, int], target: tuple[AccountKind, int]
    ) -> tuple[m.Account, m.Account]:
        return (
            await self.account(municipality_id, *source),
            await self.account(municipality_id, *target),
        )

    async def lock(self, account_ids: Sequence[int]) -> None:
        """One transaction at a time here: nothing to wait for."""

    def _account(self, account_id: int) -> m.Account:
        account = self.store.get(m.Account, account_id)
        assert account is not None
        return account

    async def debit_guarded(
        self, account_id: int, amount_cents: int, allow_negative: bool
    ) -> int | None:
        account = self._account(account_id)
        if not allow_negative and account.balance_cents < amount_cents:
            return None
        account.balance_cents -= amount_cents
        return account.balance_cents

    async def credit(self, account_id: int, amount_cents: int) -> None:
        self._account(account_id).balance_cents += amount_cents

    async def balance(self, account_id: int) -> int:
        account = self.store.get(m.Account, account_id)
        return 0 if account is None else account.balance_cents

    async def balance_of_owner(self, municipality_id: int, kind: AccountKind, owner_id: int) -> int:
        account = await self.find(municipality_id, kind, owner_id)
        return 0 if account is None else account.balance_cents

    async def derived_balances(self, municipality_id: int) -> dict[int, int]:
        balances: dict[int, int] = {}
        for posting in self.store.rows(m.Posting, lambda x: x.municipality_id == municipality_id):
            balances[posting.to_account_id] = (
                balances.get(posting.to_account_id, 0) + posting.amount_cents
            )
            balances[posting.from_account_id] = (
                balances.get(posting.from_account_id, 0) - posting.amount_cents
            )
        return balances

    async def accounts(self, municipality_id: int) -> Sequence[m.Account]:
        return self.store.rows(m.Account, lambda x: x.municipality_id == municipality_id)

    async def tranche_figures(self, municipality_id: int) -> list[TrancheFigures]:
        allocations = self.store.rows(m.Allocation, lambda x: x.municipality_id == municipality_id)
        lines = {line.id: line for line in self.store.rows(m.AllocationLine)}
        postings = self.store.rows(
            m.Posting, lambda x: x.municipality_id == municipality_id and x.kind == "allocation"
        )
        posted_lines = {p.allocation_line_id for p in postings}
        figures = []
        for a in allocations:
            mine = [x for x in lines.values() if x.allocation_id == a.id and x.amount_cents > 0]
            excused = 0
            for line in mine:
                application = self.store.get(m.Application, line.application_id)
                assert application is not None
                revoked = application.revoked_at
                if (
                    line.id not in posted_lines
                    and revoked is not None
                    and a.credited_at is not None
                    and revoked <= a.credited_at
                ):
                    excused += line.amount_cents
            own = [p for p in postings if p.allocation_id == a.id]
            stray = 0
            for p in own:
                line_of = lines.get(p.allocation_line_id or 0)
                if (
                    line_of is None
                    or line_of.allocation_id != p.allocation_id
                    or line_of.amount_cents != p.amount_cents
                ):
                    stray += 1
            figures.append(
                TrancheFigures(
                    allocation_id=a.id,
                    round_id=a.round_id,
                    tranche=a.tranche,
                    credited=a.credited_at is not None,
                    approved_cents=sum(x.amount_cents for x in mine),
                    posted_cents=sum(p.amount_cents for p in own),
                    excused_cents=excused,
                    stray_postings=stray,
                )
            )
        return figures

    async def open_citizen_accounts(self, municipality_id: int, allocation_id: int) -> None:
        for line in _lines_to_credit(self.store, allocation_id):
            application = self.store.get(m.Application, line.application_id)
            assert application is not None
            await self.account(municipality_id, AccountKind.CITIZEN, application.citizen_id)

    async def refresh_statistics(self) -> None:
        """No query planner here."""

    async def lock_for_credit(self, municipality_id: int, allocation_id: int, fund_id: int) -> None:
        """One transaction at a time here: nothing to wait for."""

    async def post_allocation_lines(
        self,
        municipality_id: int,
        allocation_id: int,
        fund_id: int,
        first_line: int,
        last_line: int,
        now: datetime,
    ) -> None:
        for line in _lines_to_credit(self.store, allocation_id):
            if not first_line <= line.id <= last_line:
                continue
            application = self.store.get(m.Application, line.application_id)
            assert application is not None
            account = await self.find(municipality_id, AccountKind.CITIZEN, application.citizen_id)
            if account is None:
                continue
            self.store.add(
                m.Posting(
                    municipality_id=municipality_id,
                    kind="allocation",
                    from_account_id=fund_id,
                    to_account_id=account.id,
                    amount_cents=line.amount_cents,
                    created_at=now,
                    allocation_id=allocation_id,
                    allocation_line_id=line.id,
                )
            )
            self.store.flush()
            account.balance_cents += line.amount_cents

    async def credited_lines(
        self, allocation_id: int, first_line: int, last_line: int
    ) -> Sequence[CreditedLine]:
        postings = self.store.rows(
            m.Posting,
            lambda x: (
                x.allocation_id == allocation_id
                and x.allocation_line_id is not None
                and first_line <= x.allocation_line_id <= last_line
            ),
        )
        found = []
        for posting in sorted(postings, key=lambda x: x.allocation_line_id or 0):
            account = self._account(posting.to_account_id)
            citizen = self.store.get(m.Citizen, account.owner_id)
            assert citizen is not None
            found.append(
                CreditedLine(
                    citizen.id,
                    citizen.municipality_id,
                    citizen.erased_at,
                    citizen.telegram_chat_id,
                    citizen.phone,
                    citizen.language,
                    posting.amount_cents,
                    account.balance_cents,
                )
            )
        return found

    async def debit_fund(self, fund_id: int, amount_cents: int) -> None:
        self._account(fund_id).balance_cents -= amount_cents

    async def account_by_id(self, account_id: int) -> m.Account | None:
        return self.store.get(m.Account, account_id)

    async def postings_of(self, account_id: int) -> Sequence[m.Posting]:
        return self.store.rows(
            m.Posting, lambda x: account_id in (x.from_account_id, x.to_account_id)
        )

    async def shops_owed(self, municipality_id: int) -> Sequence[tuple[m.Shop, int]]:
        owed = []
        for shop in self.store.rows(m.Shop, lambda x: x.municipality_id == municipality_id):
            cents = await self.balance_of_owner(municipality_id, AccountKind.SHOP, shop.id)
            if cents > 0:
                owed.append((shop, cents))
        return sorted(owed, key=lambda pair: (pair[0].name, pair[0].id))

    async def owed_to_shops(self, municipality_id: int) -> int:
        return sum(cents for _, cents in await self.shops_owed(municipality_id))

    async def first_posting_at(self, municipality_id: int, kind: PostingKind) -> datetime | None:
        first = self.store.first(
            m.Posting, lambda x: x.municipality_id == municipality_id and x.kind == kind.value
        )
        return None if first is None else first.created_at

    async def allocated_in_round(self, account_id: int, round_id: int) -> int:
        tranches = {a.id for a in self.store.rows(m.Allocation, lambda x: x.round_id == round_id)}
        return sum(
            p.amount_cents
            for p in self.store.rows(
                m.Posting,
                lambda x: (
                    x.kind == PostingKind.ALLOCATION.value
                    and x.to_account_id == account_id
                    and x.allocation_id in tranches
                ),
            )
        )


class FakeShops(_Fake):
    async def by_id(self, shop_id: int) -> m.Shop | None:
        return self.store.get(m.Shop, shop_id)

    async def names_of(self, municipality_id: int) -> Sequence[tuple[int, str, str]]:
        found = self.store.rows(m.Shop, lambda x: x.municipality_id == municipality_id)
        return [(x.id, x.name, x.status) for x in sorted(found, key=lambda x: x.id)]

    async def locked(self, shop_id: int) -> m.Shop | None:
        return self.store.get(m.Shop, shop_id)  # one task at a time: nothing to wait for

    async def next_receipt(self, shop_id: int) -> int:
        shop = self.store.get(m.Shop, shop_id)
        assert shop is not None
        shop.last_receipt = (shop.last_receipt or 0) + 1
        return shop.last_receipt

    async def members_of(self, shop_id: int) -> Sequence[m.ShopMember]:
        return self.store.rows(m.ShopMember, lambda x: x.shop_id == shop_id)

    async def with_vat_number(self, vat_number: str) -> Sequence[m.Shop]:
        found = self.store.rows(
            m.Shop, lambda x: x.vat_number == vat_number and x.status != ShopStatus.REFUSED
        )
        return sorted(found, key=lambda x: x.id)

    async def search(
        self,
        municipality_id: int,
        *,
        town: str | None = None,
        postcode: str | None = None,
        category: str | None = None,
        approved_only: bool = True,
    ) -> Sequence[m.Shop]:
        found = self.store.rows(
            m.Shop,
            lambda x: (
                x.municipality_id == municipality_id
                and (not approved_only or x.status == ShopStatus.APPROVED)
                and (not town or x.town.lower() == town.lower())
                and (not postcode or x.postcode == postcode)
                and (not category or x.category == category)
            ),
        )
        return sorted(found, key=lambda x: x.name)

    async def near(
        self, municipality_id: int, latitude: float, longitude: float, radius_km: float
    ) -> Sequence[m.Shop]:
        dlat = radius_km / 111.0
        dlon = radius_km / (111.0 * max(math.cos(math.radians(latitude)), 0.01))
        return self.store.rows(
            m.Shop,
            lambda x: (
                x.municipality_id == municipality_id
                and x.status == ShopStatus.APPROVED
                and x.latitude is not None
                and x.longitude is not None
                and latitude - dlat <= x.latitude <= latitude + dlat
                and longitude - dlon <= x.longitude <= longitude + dlon
            ),
        )

    async def membership(self, channel: str, address: str) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        pairs = []
        for member in self.store.rows(
            m.ShopMember, lambda x: x.channel == channel and x.address == address
        ):
            shop = self.store.get(m.Shop, member.shop_id)
            assert shop is not None
            pairs.append((member, shop))
        return pairs

    async def members_reached_at(
        self, municipality_id: int, *, phone: str | None = None, telegram_user: str | None = None
    ) -> Sequence[tuple[m.ShopMember, m.Shop]]:
        def reached(x: m.ShopMember) -> bool:
            if x.channel == Channel.TELEGRAM:
                return bool(telegram_user) and x.address == telegram_user
            return bool(phone) and x.channel in PHONE_CHANNELS and x.address == phone

        pairs = []
        for member in sorted(self.store.rows(m.ShopMember, reached), key=lambda x: x.id):
            shop = self.store.get(m.Shop, member.shop_id)
            assert shop is not None
            if shop.municipality_id == municipality_id:
                pairs.append((member, shop))
        return pairs

    async def invite_by_hash(self, code_hash: str) -> m.ShopInvite | None:
        return self.store.first(m.ShopInvite, lambda x: x.code_hash == code_hash)

    async def member_at(self, shop_id: int, channel: str, address: str) -> m.ShopMember | None:
        return self.store.first(
            m.ShopMember,
            lambda x: x.shop_id == shop_id and x.channel == channel and x.address == address,
        )

    async def member_locked(self, shop_id: int, member_id: int) -> m.ShopMember | None:
        return self.store.first(m.ShopMember, lambda x: x.shop_id == shop_id and x.id == member_id)

    async def current(self, shop_id: int) -> m.Shop | None:
        return self.store.get(m.Shop, shop_id)

    async def has_member_at(self, channel: str, address: str) -> bool:
        return (
            self.store.first(m.ShopMember, lambda x: x.channel == channel and x.address == address)
            is not None
        )


class FakeCharges(_Fake):
    async def by_id(self, charge_id: int) -> m.Charge | None:
        return self.store.get(m.Charge, charge_id)

    async def by_receipt(self, shop_id: int, receipt_number: int) -> m.Charge | None:
        found = self.store.rows(
            m.Charge, lambda x: x.shop_id == shop_id and x.receipt_number == receipt_number
        )
        return found[0] if found else None

    async def states(self, charge_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
        found = (self.store.get(m.Charge, charge_id) for charge_id in set(charge_ids))
        return {c.id: (c.status, c.expires_at) for c in found if c is not None}

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
        """No one-trip path in memory: every confirmation takes the general path, whose
        rules are what these tests check (the plan is proved on real databases in
        tests/integration/test_one_trip_payments.py). The plan's check of the chat that
        typed the code is kept: only a member of the payment's shop goes on."""
        charge = self.store.get(m.Charge, charge_id)
        channel, address = typed_by
        if charge is not None and not self.store.first(
            m.ShopMember,
            lambda x: x.shop_id == charge.shop_id and x.channel == channel and x.address == address,
        ):
            return PaymentOutcome(Paid.UNKNOWN, charge_id, 0)
        return None

    async def with_parties(
        self, charge_id: int
    ) -> tuple[m.Charge, m.Citizen, m.Shop, m.Municipality] | None:
        charge = self.store.get(m.Charge, charge_id)
        if charge is None:
            return None
        citizen = self.store.get(m.Citizen, charge.citizen_id)
        shop = self.store.get(m.Shop, charge.shop_id)
        municipality = self.store.get(m.Municipality, charge.municipality_id)
        assert citizen is not None and shop is not None and municipality is not None
        return charge, citizen, shop, municipality

    async def mark(self, charge_id: int, from_status: str, **values: object) -> bool:
        charge = self.store.get(m.Charge, charge_id)
        if charge is None or charge.status != from_status:
            return False
        for key, value in values.items():
            setattr(charge, key, _plain(value))
        return True

    async def mark_refunded(self, charge_id: int, now: datetime) -> bool:
        if await self.settled([charge_id]):
            return False
        return await self.mark(
            charge_id, ChargeStatus.CONFIRMED, status=ChargeStatus.REFUNDED, refunded_at=now
        )

    async def settled(self, charge_ids: Sequence[int]) -> set[int]:
        """A payment posting followed by a reimbursement out of the same shop account."""
        postings = self.store.rows(m.Posting)
        return {
            payment.charge_id
            for payment in postings
            if payment.charge_id is not None
            and payment.charge_id in charge_ids
            and payment.kind == PostingKind.PAYMENT
            and any(
                later.kind == PostingKind.REIMBURSEMENT
                and later.from_account_id == payment.to_account_id
                and later.id > payment.id
                for later in postings
            )
        }

    async def pending_for_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        return self.store.rows(
            m.Charge, lambda x: x.citizen_id == citizen_id and x.status == ChargeStatus.PENDING
        )

    async def expired_for_citizen(
        self, citizen_id: int, since: datetime, now: datetime
    ) -> Sequence[m.Charge]:
        rows = self.store.rows(
            m.Charge,
            lambda x: (
                x.citizen_id == citizen_id
                and x.status in (ChargeStatus.PENDING, ChargeStatus.EXPIRED)
                and since < x.expires_at <= now
            ),
        )
        return sorted(rows, key=lambda x: -x.id)

    async def closed_with_code_for_citizen(
        self, citizen_id: int, since: datetime
    ) -> Sequence[m.Charge]:
        closed = (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED, ChargeStatus.CANCELLED)
        rows = self.store.rows(
            m.Charge,
            lambda x: (
                x.citizen_id == citizen_id
                and x.status in closed
                and x.created_at >= since
                and x.code_hash != ""
            ),
        )
        return sorted(rows, key=lambda x: -x.id)

    async def paid_since(self, shop_id: int, since: datetime, requested_by: str | None) -> int:
        paid = (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)
        return len(
            self.store.rows(
                m.Charge,
                lambda x: (
                    x.shop_id == shop_id
                    and x.created_at >= since
                    and x.status in paid
                    and (requested_by is None or x.requested_by == requested_by)
                ),
            )
        )

    async def card_positions_shown(
        self, citizen_id: int, shop_id: int, since: datetime
    ) -> set[int]:
        paid = (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)
        members = self.store.rows(m.ShopMember, lambda x: x.shop_id == shop_id)
        phones = {x.phone for x in members if x.phone} | {
            x.address for x in members if x.channel in ("sms", "terminal")
        }
        people = members + self.store.rows(
            m.ShopMember,
            lambda x: (
                x.phone in phones or (x.channel in ("sms", "terminal") and x.address in phones)
            ),
        )
        tills = {f"{x.channel}:{x.address}" for x in people}
        return {
            x.card_code_position
            for x in self.store.rows(
                m.Charge,
                lambda x: (
                    x.citizen_id == citizen_id
                    and (x.shop_id == shop_id or x.requested_by in tills)
                    and x.created_at >= since
                    and x.status not in paid
                ),
            )
            if x.card_code_position is not None
        }

    async def last_card_payment(
        self, citizen_id: int, shop_id: int | None, *, consent: str = "card_pin"
    ) -> datetime | None:
        paid = (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)
        times = [
            x.confirmed_at
            for x in self.store.rows(
                m.Charge,
                lambda x: (
                    x.citizen_id == citizen_id
                    and x.consent == consent
                    and x.status in paid
                    and (shop_id is None or x.shop_id == shop_id)
                ),
            )
            if x.confirmed_at is not None
        ]
        return max(times, default=None)

    async def pending_requested_by(self, shop_id: int, requested_by: str) -> Sequence[int]:
        return [
            x.id
            for x in self.store.rows(
                m.Charge,
                lambda x: (
                    x.shop_id == shop_id
                    and x.requested_by == requested_by
                    and x.status == ChargeStatus.PENDING
                ),
            )
        ]

    async def code_times_to(
        self, citizen_id: int, since: datetime, *, shop_id: int | None = None
    ) -> Sequence[datetime]:
        return sorted(
            x.created_at
            for x in self.store.rows(
                m.Charge,
                lambda x: (
                    x.citizen_id == citizen_id
                    and x.created_at >= since
                    and bool(x.code_hash)
                    and (shop_id is None or x.shop_id == shop_id)
                ),
            )
        )

    async def refresh(self, charge: m.Charge) -> None:
        """The row is the object itself here: always fresh."""

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Charge]:
        return self.store.rows(m.Charge, lambda x: x.citizen_id == citizen_id)

    async def of_shop(
        self, shop_id: int, since: datetime, until: datetime, till: str | None = None
    ) -> Sequence[m.Charge]:
        return self.store.rows(
            m.Charge,
            lambda x: (
                x.shop_id == shop_id
                and since <= x.created_at < until
                and till in (None, x.requested_by)
            ),
        )

    async def takings_by_till(
        self, shop_id: int, since: datetime, until: datetime, till: str | None = None
    ) -> Sequence[tuple[str, int, int, int, int]]:
        paid = [
            x
            for x in await self.of_shop(shop_id, since, until)
            if x.status in (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)
            and till in (None, x.requested_by)
        ]
        rows = []
        for by in sorted({x.requested_by for x in paid}):
            taken = [x for x in paid if x.requested_by == by]
            back = [x for x in taken if x.status == ChargeStatus.REFUNDED]
            rows.append(
                (
                    by,
                    len(taken),
                    sum(x.amount_cents for x in taken),
                    len(back),
                    sum(x.amount_cents for x in back),
                )
            )
        return rows

    async def last_paid_of_shop(self, shop_id: int, till: str | None = None) -> m.Charge | None:
        paid = self.store.rows(
            m.Charge,
            lambda x: (
                x.shop_id == shop_id
                and x.status in (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)
                and (till is None or x.requested_by == till)
            ),
        )
        return max(paid, key=lambda x: (x.confirmed_at or x.created_at, x.id), default=None)

    async def waits_at_another_till(self, shop_id: int, requested_by: str, now: datetime) -> bool:
        return bool(
            self.store.rows(
                m.Charge,
                lambda x: (
                    x.shop_id == shop_id
                    and x.requested_by != requested_by
                    and x.status == ChargeStatus.PENDING
                    and x.expires_at > now
                ),
            )
        )

    async def expire_due(self, now: datetime) -> int:
        due = self.store.rows(
            m.Charge, lambda x: x.status == ChargeStatus.PENDING and x.expires_at <= now
        )
        for charge in due:
            charge.status, charge.closed_reason = ChargeStatus.EXPIRED.value, "expired"
        return len(due)


class FakeOutbox(_Fake):
    async def add_many(self, common: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.store.add(m.OutboxMessage(**common, **row))
        self.store.flush()

    async def failed(
        self, municipality_id: int, since: datetime | None
    ) -> Sequence[m.OutboxMessage]:
        return self.store.rows(
            m.OutboxMessage,
            lambda x: (
                x.municipality_id == municipality_id
                and x.status in ("failed", "undelivered")
                and (since is None or x.created_at >= since)
            ),
        )

    async def for_address(self, channel: str, address: str) -> Sequence[m.OutboxMessage]:
        return self.store.rows(
            m.OutboxMessage, lambda x: x.channel == channel and x.address == address
        )

    async def for_charge(self, charge_id: int) -> Sequence[m.OutboxMessage]:
        return self.store.rows(m.OutboxMessage, lambda x: x.charge_id == charge_id)

    async def close_unsent(self, message_id: int, payload: dict[str, Any], why: str) -> bool:
        for row in self.store.rows(m.OutboxMessage, lambda x: x.id == message_id):
            if row.status == "pending":
                row.status, row.last_error, row.payload = "failed", why, payload
                return True
        return False

    def to(self, address: str) -> list[m.OutboxMessage]:
        """For tests: the messages queued to an address, oldest first."""
        return self.store.rows(m.OutboxMessage, lambda x: x.address == address)


class FakeConversations(_Fake):
    async def find(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        return self.store.first(
            m.Conversation,
            lambda x: (
                x.municipality_id == municipality_id
                and x.channel == channel
                and x.address == address
            ),
        )

    async def of_address(
        self, municipality_id: int, channel: str, address: str
    ) -> Sequence[m.Conversation]:
        return self.store.rows(
            m.Conversation,
            lambda x: (
                x.channel == channel
                and x.address == address
                and x.municipality_id in (municipality_id, None)
            ),
        )

    async def find_for_update(
        self, municipality_id: int | None, channel: str, address: str
    ) -> m.Conversation | None:
        return await self.find(municipality_id, channel, address)

    async def latest_for_update(self, channel: str, address: str) -> m.Conversation | None:
        found = self.store.rows(
            m.Conversation, lambda x: x.channel == channel and x.address == address
        )
        return max(found, key=lambda x: (x.updated_at, x.id), default=None)

    async def is_stopped(self, municipality_id: int, channel: str, address: str) -> bool:
        found = await self.find(municipality_id, channel, address)
        return found is not None and found.stopped

    async def record_inbound(self, channel: str, provider_message_id: str, now: datetime) -> bool:
        seen = self.store.first(
            m.InboundMessage,
            lambda x: x.channel == channel and x.provider_message_id == provider_message_id,
        )
        if seen is not None:
            return False
        self.store.add(
            m.InboundMessage(
                channel=channel, provider_message_id=provider_message_id, received_at=now
            )
        )
        self.store.flush()
        return True

    async def stopped_addresses(self, municipality_id: int) -> set[tuple[str, str]]:
        return {
            (x.channel, x.address)
            for x in self.store.rows(
                m.Conversation, lambda x: x.municipality_id == municipality_id and x.stopped
            )
        }


class FakeSecurityEvents(_Fake):
    async def record(self, event: m.SecurityEvent, *, drop_before: datetime | None) -> None:
        if drop_before is not None:

            def same_key(x: m.SecurityEvent) -> bool:
                return (
                    x.kind == event.kind
                    and x.created_at < drop_before
                    and (event.shop_id is None or x.shop_id == event.shop_id)
                    and (
                        event.channel is None
                        or event.address is None
                        or (x.channel, x.address) == (event.channel, event.address)
                    )
                )

            for old in self.store.rows(m.SecurityEvent, same_key):
                self.store.delete(old)
        self.store.add(event)
        self.store.flush()

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
        wanted = {"shop_id": shop_id, "channel": channel, "address": address, "detail": detail}
        return len(
            self.store.rows(
                m.SecurityEvent,
                lambda x: (
                    x.kind == kind
                    and x.created_at > since
                    and all(v is None or getattr(x, k) == v for k, v in wanted.items())
                ),
            )
        )

    async def times(
        self, kind: str, since: datetime, *, shop_id: int, detail: str
    ) -> Sequence[datetime]:
        return sorted(
            x.created_at
            for x in self.store.rows(
                m.SecurityEvent,
                lambda x: (
                    (x.kind, x.shop_id, x.detail) == (kind, shop_id, detail)
                    and x.created_at > since
                ),
            )
        )

    async def of_detail(
        self, kind: str, since: datetime, detail: str
    ) -> Sequence[tuple[int | None, datetime]]:
        rows = self.store.rows(
            m.SecurityEvent,
            lambda x: (x.kind, x.detail) == (kind, detail) and x.created_at > since,
        )
        return [(x.shop_id, x.created_at) for x in sorted(rows, key=lambda x: x.created_at)]

    async def of_address(
        self, kind: str, channel: str, address: str, since: datetime
    ) -> Sequence[m.SecurityEvent]:
        rows = self.store.rows(
            m.SecurityEvent,
            lambda x: (
                (x.kind, x.channel, x.address) == (kind, channel, address) and x.created_at > since
            ),
        )
        return sorted(rows, key=lambda x: (x.created_at, x.id))

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
        for x in self.store.rows(
            m.SecurityEvent,
            lambda x: (
                (x.kind, x.channel, x.address, x.code_hash) == (kind, channel, address, code_hash)
                and x.proven_at is None
            ),
        ):
            if proven_at is not None:
                x.proven_at = proven_at
            if wrong_try:
                x.wrong_tries = (x.wrong_tries or 0) + 1

    async def unproven_of_shop(
        self, kind: str, shop_id: int, detail: str, since: datetime
    ) -> Sequence[datetime]:
        return sorted(
            x.created_at
            for x in self.store.rows(
                m.SecurityEvent,
                lambda x: (
                    x.kind == kind
                    and x.shop_id == shop_id
                    and x.detail == detail
                    and x.created_at > since
                    and x.proven_at is None
                ),
            )
        )

    async def codes_of_shop(
        self, kind: str, detail: str, shop_id: int, since: datetime, only: CodeFilter
    ) -> Sequence[m.SecurityEvent]:
        found = self.store.rows(
            m.SecurityEvent,
            lambda x: (
                x.kind == kind
                and x.detail == detail
                and x.shop_id == shop_id
                and x.created_at > since
                and (only.void_too or x.voided is None)
                and (not only.unproven or x.proven_at is None)
                and only.charge_id in (None, x.charge_id)
                and only.asked_by in (None, x.asked_by)
                and only.code_hash in (None, x.code_hash)
            ),
        )
        return sorted(found, key=lambda x: (x.created_at, x.id))

    async def forget_asker(self, asked_by: str) -> None:
        for row in self.store.rows(m.SecurityEvent, lambda x: x.asked_by == asked_by):
            row.asked_by = None

    async def void_code(self, event_id: int, reason: str) -> bool:
        for row in self.store.rows(m.SecurityEvent, lambda x: x.id == event_id):
            if row.voided is None:
                row.voided = reason
                return True
        return False

    async def unproven_of_town(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[str, str, str | None, datetime]]:
        return [
            (x.channel, x.address, x.detail, x.created_at)
            for x in self.store.rows(
                m.SecurityEvent,
                lambda x: (
                    x.kind == kind
                    and x.municipality_id == municipality_id
                    and x.created_at > since
                    and x.proven_at is None
                ),
            )
            if x.channel is not None and x.address is not None
        ]

    async def forget_address(self, channel: str, address: str) -> None:
        for row in self.store.rows(
            m.SecurityEvent, lambda x: x.channel == channel and x.address == address
        ):
            self.store.delete(row)

    async def latest(self, kind: str, shop_id: int) -> datetime | None:
        times = [
            x.created_at
            for x in self.store.rows(
                m.SecurityEvent, lambda x: x.kind == kind and x.shop_id == shop_id
            )
        ]
        return max(times, default=None)

    async def refusals_of_town(
        self, kind: str, municipality_id: int
    ) -> Sequence[tuple[int, datetime, int, str | None, str | None, datetime | None]]:
        found = []
        for x in self.store.rows(m.SecurityEvent, lambda x: x.kind == kind):
            charge = self.store.get(m.Charge, x.charge_id) if x.charge_id is not None else None
            if charge is not None and charge.municipality_id == municipality_id:
                found.append(
                    (
                        charge.shop_id,
                        x.created_at,
                        charge.amount_cents,
                        x.detail,
                        x.channel,
                        x.proven_at,
                    )
                )
        return sorted(found, key=lambda row: row[1], reverse=True)

    async def challenges_of_citizen(
        self, kind: str, citizen_id: int, since: datetime, tries: int
    ) -> Sequence[m.SecurityEvent]:
        def waiting(x: m.SecurityEvent) -> bool:
            charge = self.store.get(m.Charge, x.charge_id) if x.charge_id is not None else None
            return (
                x.kind == kind
                and charge is not None
                and charge.citizen_id == citizen_id
                and x.created_at > since
                and x.proven_at is None
                and x.code_hash is not None
                and (x.wrong_tries or 0) < tries
            )

        return sorted(self.store.rows(m.SecurityEvent, waiting), key=lambda x: (x.created_at, x.id))

    async def prove_challenge(self, event_id: int, now: datetime, tries: int) -> bool:
        row = self.store.get(m.SecurityEvent, event_id)
        if row is None or row.proven_at is not None or (row.wrong_tries or 0) >= tries:
            return False
        row.proven_at = now
        return True

    async def renew_challenge(
        self, event_ids: Sequence[int], salt: str, code_hash: str, tries: int
    ) -> int:
        renewed = 0
        for event_id in event_ids:
            row = self.store.get(m.SecurityEvent, event_id)
            if row is not None and row.proven_at is None and (row.wrong_tries or 0) < tries:
                row.code_salt, row.code_hash = salt, code_hash
                renewed += 1
        return renewed

    async def challenge_wrong_try(self, event_ids: Sequence[int]) -> None:
        for event_id in event_ids:
            row = self.store.get(m.SecurityEvent, event_id)
            if row is not None and row.proven_at is None:
                row.wrong_tries = (row.wrong_tries or 0) + 1

    async def of_shops(
        self, kind: str, municipality_id: int, since: datetime
    ) -> Sequence[tuple[int, str, datetime]]:
        found = []
        for x in self.store.rows(m.SecurityEvent, lambda x: x.kind == kind):
            shop = self.store.get(m.Shop, x.shop_id) if x.shop_id is not None else None
            if (
                shop is not None
                and shop.municipality_id == municipality_id
                and x.created_at > since
            ):
                found.append((shop.id, shop.name, x.created_at))
        return found


class FakeCommunity(_Fake):
    async def payment_by_charge_id(self, telegram_charge_id: str) -> m.ProviderPayment | None:
        return self.store.first(
            m.ProviderPayment, lambda x: x.telegram_payment_charge_id == telegram_charge_id
        )

    async def payment(self, payment_id: int) -> m.ProviderPayment | None:
        return self.store.get(m.ProviderPayment, payment_id)

    async def voucher_by_code(self, code: str) -> m.Voucher | None:
        return self.store.first(m.Voucher, lambda x: x.code == code)

    async def voucher_of_payment(self, payment_id: int) -> m.Voucher | None:
        return self.store.first(m.Voucher, lambda x: x.payment_id == payment_id)

    def _left_on(self, voucher: m.Voucher) -> int:
        account = self.store.first(
            m.Account,
            lambda x: (
                x.municipality_id == voucher.municipality_id
                and x.kind == AccountKind.VOUCHER.value
                and x.owner_id == voucher.id
            ),
        )
        return 0 if account is None else account.balance_cents

    def _shop(self, shop_id: int) -> m.Shop:
        shop = self.store.get(m.Shop, shop_id)
        assert shop is not None
        return shop

    async def vouchers_held(
        self, municipality_id: int, channel: str, address: str
    ) -> Sequence[tuple[m.Voucher, m.Shop, int]]:
        held = self.store.rows(
            m.Voucher,
            lambda x: (
                x.municipality_id == municipality_id
                and x.holder_channel == channel
                and x.holder_address == address
            ),
        )
        return [(v, self._shop(v.shop_id), self._left_on(v)) for v in reversed(held)]

    async def vouchers_of_town(
        self, municipality_id: int
    ) -> Sequence[tuple[m.Voucher, m.ProviderPayment, m.Shop, int]]:
        found = []
        for v in self.store.rows(m.Voucher, lambda x: x.municipality_id == municipality_id):
            payment = self.store.get(m.ProviderPayment, v.payment_id)
            assert payment is not None
            found.append((v, payment, self._shop(v.shop_id), self._left_on(v)))
        return sorted(found, key=lambda row: (row[2].name, row[0].id))

    async def spent_on(self, voucher_id: int) -> int:
        return sum(
            x.amount_cents
            for x in self.store.rows(
                m.VoucherCharge, lambda x: x.voucher_id == voucher_id and x.status == "confirmed"
            )
        )

    async def pending_charges_of(self, voucher_id: int) -> Sequence[m.VoucherCharge]:
        return self.store.rows(
            m.VoucherCharge, lambda x: x.voucher_id == voucher_id and x.status == "pending"
        )

    async def pending_charges_requested_by(self, shop_id: int, requested_by: str) -> Sequence[int]:
        return [
            x.id
            for x in self.store.rows(
                m.VoucherCharge,
                lambda x: (
                    x.shop_id == shop_id
                    and x.requested_by == requested_by
                    and x.status == "pending"
                ),
            )
        ]

    async def code_times_to_holder(
        self, channel: str, address: str, since: datetime, *, shop_id: int | None = None
    ) -> Sequence[datetime]:
        held = {
            v.id
            for v in self.store.rows(
                m.Voucher, lambda v: v.holder_channel == channel and v.holder_address == address
            )
        }
        return sorted(
            x.created_at
            for x in self.store.rows(
                m.VoucherCharge,
                lambda x: (
                    x.voucher_id in held
                    and x.created_at >= since
                    and (shop_id is None or x.shop_id == shop_id)
                ),
            )
        )

    async def charge_with_parties(
        self, charge_id: int
    ) -> tuple[m.VoucherCharge, m.Voucher, m.Shop, m.Municipality] | None:
        charge = self.store.get(m.VoucherCharge, charge_id)
        if charge is None:
            return None
        voucher = self.store.get(m.Voucher, charge.voucher_id)
        municipality = self.store.get(m.Municipality, charge.municipality_id)
        assert voucher is not None and municipality is not None
        return charge, voucher, self._shop(charge.shop_id), municipality

    async def mark_charge(self, charge_id: int, from_status: str, **values: object) -> bool:
        charge = self.store.get(m.VoucherCharge, charge_id)
        if charge is None or charge.status != from_status:
            return False
        for key, value in values.items():
            setattr(charge, key, _plain(value))
        return True

    async def mark_refunded(self, payment_id: int, **values: object) -> bool:
        payment = self.store.get(m.ProviderPayment, payment_id)
        if payment is None or payment.refunded_at is not None:
            return False
        for key, value in values.items():
            setattr(payment, key, _plain(value))
        return True

    async def posted_total(self, municipality_id: int, kind: PostingKind) -> tuple[int, int]:
        postings = self.store.rows(
            m.Posting, lambda x: x.municipality_id == municipality_id and x.kind == kind.value
        )
        return sum(p.amount_cents for p in postings), len(postings)

    async def accepting_shops(self, municipality_id: int) -> Sequence[m.Shop]:
        found = self.store.rows(
            m.Shop,
            lambda x: (
                x.municipality_id == municipality_id
                and x.status == ShopStatus.APPROVED
                and x.vouchers_enabled
                and x.blocked_at is None
            ),
        )
        return sorted(found, key=lambda x: x.name)


class FakeIdentityEvents(_Fake):
    async def record(self, event: m.IdentityEvent) -> None:
        self.store.add(event)
        self.store.flush()

    async def for_citizen(self, citizen_id: int) -> Sequence[m.IdentityEvent]:
        return self.store.rows(m.IdentityEvent, lambda x: x.citizen_id == citizen_id)

    async def count_since(self, citizen_id: int, kind: str, since: datetime) -> int:
        return len(
            self.store.rows(
                m.IdentityEvent,
                lambda x: x.citizen_id == citizen_id and x.kind == kind and x.created_at >= since,
            )
        )


class FakeActivity(_Fake):
    async def record(self, entry: m.ActivityEntry) -> None:
        self.store.add(entry)
        self.store.flush()

    async def newest_first(
        self, municipality_id: int, limit: int | None, offset: int
    ) -> Sequence[m.ActivityEntry]:
        found = self.store.rows(m.ActivityEntry, lambda x: x.municipality_id == municipality_id)
        found.reverse()
        return found[offset : None if limit is None else offset + limit]

    async def about(
        self, municipality_id: int, subjects: Sequence[str], limit: int | None
    ) -> Sequence[m.ActivityEntry]:
        found = self.store.rows(
            m.ActivityEntry,
            lambda x: x.municipality_id == municipality_id and x.subject in subjects,
        )
        found.reverse()
        return found[:limit]

    async def member_removal(
        self, municipality_id: int, shop_id: int, member_id: int
    ) -> m.ActivityEntry | None:
        found = self.store.rows(
            m.ActivityEntry,
            lambda x: (
                x.municipality_id == municipality_id
                and x.action in ("shop.member_remove", "shop.member_leave")
                and x.subject.startswith(f"{shop_id} ")
                and (x.before or {}).get("member_id") == member_id
            ),
        )
        return found[-1] if found else None


class FakeOperators(_Fake):
    async def by_id(self, operator_id: int) -> m.Operator | None:
        return self.store.get(m.Operator, operator_id)

    async def by_username(self, username: str, *, lock: bool = False) -> m.Operator | None:
        return self.store.first(m.Operator, lambda x: x.username == username)

    async def of_municipality(self, municipality_id: int) -> Sequence[m.Operator]:
        found = self.store.rows(m.Operator, lambda x: x.municipality_id == municipality_id)
        return sorted(found, key=lambda x: x.username)

    async def count(self, municipality_id: int) -> int:
        return len(await self.of_municipality(municipality_id))

    async def device(self, operator_id: int, nonce: str) -> m.OperatorDevice | None:
        return self.store.first(
            m.OperatorDevice, lambda x: x.operator_id == operator_id and x.nonce == nonce
        )

    async def devices(self, operator_id: int) -> Sequence[m.OperatorDevice]:
        return self.store.rows(m.OperatorDevice, lambda x: x.operator_id == operator_id)

    async def session_by_hash(self, token_hash: str) -> m.OperatorSession | None:
        return self.store.first(m.OperatorSession, lambda x: x.token_hash == token_hash)

    async def sessions(self, operator_id: int) -> Sequence[m.OperatorSession]:
        return self.store.rows(m.OperatorSession, lambda x: x.operator_id == operator_id)

    async def end_session(self, token_hash: str) -> bool:
        found = await self.session_by_hash(token_hash)
        if found is not None:
            self.store.delete(found)
        return found is not None

    async def end_sessions(self, operator_id: int) -> int:
        found = await self.sessions(operator_id)
        for row in found:
            self.store.delete(row)
        return len(found)

    async def drop_expired_sessions(self, now: datetime) -> int:
        found = self.store.rows(
            m.OperatorSession, lambda x: x.idle_until <= now or x.expires_at <= now
        )
        for row in found:
            self.store.delete(row)
        return len(found)

    async def keep_session(self, session_id: int, idle_until: datetime) -> None:
        found = self.store.get(m.OperatorSession, session_id)
        if found is not None:
            found.idle_until = idle_until


class FakeOfficeActs(_Fake):
    async def by_id(self, act_id: int) -> m.OfficeAct | None:
        return self.store.get(m.OfficeAct, act_id)

    async def add_open(self, act: m.OfficeAct) -> bool:
        # uq_office_acts_open: one prepared act per (municipality, kind, protocol).
        key = (act.municipality_id, act.kind, act.protocol or "")
        if self.store.first(
            m.OfficeAct,
            lambda x: x.status == "prepared" and (x.municipality_id, x.kind, x.protocol) == key,
        ):
            return False
        self.store.add(act)
        self.store.flush()
        return True

    async def decide(self, act: m.OfficeAct, status: str, by_id: int, now: datetime) -> bool:
        stored = self.store.get(m.OfficeAct, act.id)
        if stored is None or stored.status != "prepared":
            return False
        stored.status, stored.decided_by_id, stored.decided_at = status, by_id, now
        return True

    async def prepared(self, municipality_id: int, kind: str | None) -> Sequence[m.OfficeAct]:
        return self.store.rows(
            m.OfficeAct,
            lambda x: (
                x.municipality_id == municipality_id
                and x.status == "prepared"
                and (kind is None or x.kind == kind)
            ),
        )

    async def naming(self, municipality_id: int, protocol: str) -> Sequence[m.OfficeAct]:
        return self.store.rows(
            m.OfficeAct,
            lambda x: (
                x.municipality_id == municipality_id
                and (x.params or {}).get("protocol") == protocol
            ),
        )

    async def recent(self, municipality_id: int, limit: int) -> Sequence[m.OfficeAct]:
        found = self.store.rows(m.OfficeAct, lambda x: x.municipality_id == municipality_id)
        return list(reversed(found))[:limit]

    async def approved_of_kind(
        self, municipality_id: int, kind: str, limit: int
    ) -> Sequence[m.OfficeAct]:
        found = self.store.rows(
            m.OfficeAct,
            lambda x: (
                x.municipality_id == municipality_id and x.kind == kind and x.status == "approved"
            ),
        )
        return list(reversed(found))[:limit]


class FakeFund(_Fake):
    async def by_id(self, entry_id: int) -> m.FundEntry | None:
        return self.store.get(m.FundEntry, entry_id)

    async def of_municipality(self, municipality_id: int) -> Sequence[m.FundEntry]:
        return self.store.rows(m.FundEntry, lambda x: x.municipality_id == municipality_id)

    async def total(self, municipality_id: int) -> int | None:
        entries = await self.of_municipality(municipality_id)
        return sum(x.amount_cents for x in entries) if entries else None

    async def corrected(self, entry_id: int) -> int:
        return -sum(
            x.amount_cents
            for x in self.store.rows(m.FundEntry, lambda x: x.corrects_id == entry_id)
        )

    def _standing(self, municipality_id: int) -> list[m.Allocation]:
        return self.store.rows(
            m.Allocation,
            lambda x: x.municipality_id == municipality_id and x.withdrawn_at is None,
        )

    async def approved_budgets(self, municipality_id: int) -> int:
        return sum(x.budget_cents - (x.freed_cents or 0) for x in self._standing(municipality_id))

    async def freed(self, municipality_id: int) -> int:
        return sum(x.freed_cents or 0 for x in self._standing(municipality_id))

    async def rests(self, municipality_id: int) -> list[DeterminaRest]:
        found = []
        for record in self._standing(municipality_id):
            round_ = self.store.get(m.Round, record.round_id)
            assert round_ is not None
            found.append(
                DeterminaRest(
                    allocation_id=record.id,
                    window=round_.number,
                    tranche=record.tranche,
                    budget_cents=record.budget_cents,
                    allocated_cents=sum(
                        line.amount_cents
                        for line in self.store.rows(m.AllocationLine)
                        if line.allocation_id == record.id
                    ),
                    freed_cents=record.freed_cents or 0,
                    credited=record.credited_at is not None,
                    approved_at=record.approved_at,
                )
            )
        return sorted(found, key=lambda x: (x.window, x.tranche))

    async def free(self, allocation_id: int, amount_cents: int, allocated_cents: int) -> bool:
        record = self.store.get(m.Allocation, allocation_id)
        if record is None or record.credited_at is None or record.withdrawn_at is not None:
            return False
        freed = (record.freed_cents or 0) + amount_cents
        if freed > record.budget_cents - allocated_cents:
            return False
        record.freed_cents = freed
        return True

    async def economie(self, municipality_id: int) -> Sequence[m.Economia]:
        return self.store.rows(m.Economia, lambda x: x.municipality_id == municipality_id)

    async def lock(self, municipality_id: int) -> None:
        """One transaction at a time here: nothing to wait for."""


def _pending(change: m.PhoneChange) -> bool:
    """m.PENDING_REQUEST in memory."""
    return change.status == "waiting" or (
        change.kind == "card" and change.status == "approved" and change.handed_at is None
    )


class FakePhoneChanges(_Fake):
    """The rules of the table's indexes in memory: one pending request of a kind per
    citizen, one waiting request naming a number in a municipality."""

    def _pending_of(self, citizen_id: int, municipality_id: int) -> list[m.PhoneChange]:
        return self.store.rows(
            m.PhoneChange,
            lambda x: (
                x.citizen_id == citizen_id and x.municipality_id == municipality_id and _pending(x)
            ),
        )

    async def add_waiting(self, change: m.PhoneChange) -> bool:
        kind = change.kind or "phone"
        mine = self._pending_of(change.citizen_id, change.municipality_id)
        if any((x.kind or "phone") == kind for x in mine):
            return False
        if change.phone is not None and await self.waiting_with_phone(
            change.municipality_id, change.phone
        ):
            return False
        self.store.add(change)
        self.store.flush()
        return True

    async def by_id(self, change_id: int) -> m.PhoneChange | None:
        return self.store.get(m.PhoneChange, change_id)

    async def locked(self, change_id: int) -> m.PhoneChange | None:
        return self.store.get(m.PhoneChange, change_id)  # one task at a time: nothing to wait for

    async def waiting_for(self, citizen: m.Citizen, kind: str = "phone") -> m.PhoneChange | None:
        mine = self._pending_of(citizen.id, citizen.municipality_id)
        return next((x for x in mine if (x.kind or "phone") == kind), None)

    async def pending_for(self, citizen: m.Citizen) -> Sequence[m.PhoneChange]:
        return self._pending_of(citizen.id, citizen.municipality_id)

    async def waiting_with_phone(self, municipality_id: int, phone: str) -> Sequence[m.PhoneChange]:
        return self.store.rows(
            m.PhoneChange,
            lambda x: (
                x.municipality_id == municipality_id and x.status == "waiting" and x.phone == phone
            ),
        )

    async def waiting(self, municipality_id: int) -> Sequence[tuple[m.PhoneChange, m.Citizen]]:
        found = []
        for change in self.store.rows(
            m.PhoneChange,
            lambda x: x.municipality_id == municipality_id and x.status == "waiting",
        ):
            citizen = self.store.get(m.Citizen, change.citizen_id)
            if citizen is not None:
                found.append((change, citizen))
        return found

    async def mark_handed(
        self, change_id: int, citizen: m.Citizen, operator_id: int, now: datetime
    ) -> bool:
        change = await self.by_id(change_id)
        if change is None or change.kind != "card" or change.status != "approved":
            return False
        if (change.citizen_id, change.municipality_id) != (citizen.id, citizen.municipality_id):
            return False
        if change.handed_at is not None or change.print_by is None or change.print_by <= now:
            return False
        change.handed_by_id, change.handed_at = operator_id, now
        return True

    async def mark_expired(self, change_id: int, now: datetime) -> bool:
        change = await self.by_id(change_id)
        if change is None or change.kind != "card" or change.status != "approved":
            return False
        if change.handed_at is not None or change.print_by is None or change.print_by > now:
            return False
        change.status = "expired"
        return True

    async def mark_checked(self, change_id: int, operator_id: int) -> bool:
        change = await self.by_id(change_id)
        if change is None or change.status != "waiting" or change.requested_by_id is not None:
            return False
        if change.requested_by_chat is None:
            return False
        change.requested_by_id = operator_id
        return True

    async def forget_chats(self, citizen_id: int) -> None:
        for change in self.store.rows(
            m.PhoneChange,
            lambda x: x.citizen_id == citizen_id and x.requested_by_chat is not None,
        ):
            change.requested_by_chat = m.ERASED_CHAT

    async def mark_decided(
        self, change_id: int, *, status_was: str = "waiting", **values: object
    ) -> bool:
        change = await self.by_id(change_id)
        if change is None or change.status != status_was or change.handed_at is not None:
            return False
        for name, value in values.items():
            setattr(change, name, value)
        return True


class FakeSettlements(_Fake):
    async def latest_at(self, municipality_id: int) -> datetime | None:
        found = self.store.rows(m.Settlement, lambda x: x.municipality_id == municipality_id)
        return found[-1].created_at if found else None

    async def by_id(self, settlement_id: int) -> m.Settlement | None:
        return self.store.get(m.Settlement, settlement_id)

    async def recent(self, municipality_id: int, limit: int) -> Sequence[tuple[m.Settlement, bool]]:
        found = self.store.rows(m.Settlement, lambda x: x.municipality_id == municipality_id)
        return [(x, x.document is not None) for x in reversed(found)][:limit]

    async def first_after(self, municipality_id: int, moment: datetime) -> m.Settlement | None:
        found = self.store.rows(
            m.Settlement,
            lambda x: x.municipality_id == municipality_id and x.created_at > moment,
        )
        return min(found, key=lambda x: (x.created_at, x.id), default=None)


class FakeAuditSamples(_Fake):
    async def of_round(self, round_id: int) -> Sequence[m.AuditSample]:
        return self.store.rows(m.AuditSample, lambda x: x.round_id == round_id)


class FakePaperImport(_Fake):
    """The bulk import's reads and writes, row by row (the same rows and the same refusals
    of a duplicate key; the speed of the SQL ones is what bench/ measures)."""

    async def citizens_by_codice_fiscale(
        self, municipality_id: int, codes: Sequence[str]
    ) -> dict[str, m.Citizen]:
        wanted = set(codes)
        return {
            x.codice_fiscale: x
            for x in self.store.rows(
                m.Citizen,
                lambda x: x.municipality_id == municipality_id and x.codice_fiscale in wanted,
            )
        }

    async def citizens_by_phone(
        self, municipality_id: int, phones: Sequence[str]
    ) -> dict[str, m.Citizen]:
        wanted = set(phones)
        return {
            x.phone: x
            for x in self.store.rows(
                m.Citizen, lambda x: x.municipality_id == municipality_id and x.phone in wanted
            )
            if x.phone
        }

    async def shop_phones(self, municipality_id: int, phones: Sequence[str]) -> set[str]:
        shops = {
            x.id for x in self.store.rows(m.Shop, lambda x: x.municipality_id == municipality_id)
        }
        return {
            x.address
            for x in self.store.rows(
                m.ShopMember,
                lambda x: (
                    x.shop_id in shops and x.channel in PHONE_CHANNELS and x.address in set(phones)
                ),
            )
        }

    async def asked_phones(
        self, municipality_id: int, phones: Sequence[str]
    ) -> dict[str, m.PhoneChange]:
        wanted = set(phones)
        found: dict[str, m.PhoneChange] = {}
        for x in sorted(
            self.store.rows(
                m.PhoneChange,
                lambda x: (
                    x.municipality_id == municipality_id
                    and x.status == "waiting"
                    and x.phone in wanted
                ),
            ),
            key=lambda x: x.id,
        ):
            if x.phone is not None:
                found.setdefault(x.phone, x)
        return found

    async def lock_citizens(self, citizen_ids: Sequence[int]) -> None:
        """One process, one unit of work at a time: nothing to wait for."""

    async def phone_changes_waiting(self, citizen_ids: Sequence[int]) -> dict[int, m.PhoneChange]:
        wanted = set(citizen_ids)
        return {
            x.citizen_id: x
            for x in self.store.rows(
                m.PhoneChange,
                lambda x: x.citizen_id in wanted and x.kind == "phone" and x.status == "waiting",
            )
        }

    async def delegates_of(self, citizen_ids: Sequence[int]) -> dict[int, str]:
        wanted = set(citizen_ids)
        return {
            x.citizen_id: x.phone
            for x in self.store.rows(m.Delegate, lambda x: x.citizen_id in wanted)
        }

    async def applied_in_round(self, round_id: int, citizen_ids: Sequence[int]) -> set[int]:
        wanted = set(citizen_ids)
        return {
            x.citizen_id
            for x in self.store.rows(
                m.Application, lambda x: x.round_id == round_id and x.citizen_id in wanted
            )
        }

    async def has_allocation(self, round_id: int) -> bool:
        return self.store.first(m.Allocation, lambda x: x.round_id == round_id) is not None

    def _insert(self, model: type[m.Base], rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self.store.add(model(**row))
        self.store.flush()

    async def insert_citizens(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        self._insert(m.Citizen, rows)
        if not rows:
            return {}
        found = await self.citizens_by_codice_fiscale(
            rows[0]["municipality_id"], [row["codice_fiscale"] for row in rows]
        )
        return {code: citizen.id for code, citizen in found.items()}

    async def bind_phones(self, rows: Sequence[dict[str, Any]]) -> set[int]:
        bound: set[int] = set()
        for row in rows:
            citizen = self.store.get(m.Citizen, row["cid"])
            if citizen is not None and citizen.phone is None:
                citizen.phone = row["new_phone"]
                citizen.phone_proven_by = row["proven_by"]
                citizen.phone_proven_at = row["proven_at"]
                bound.add(row["cid"])
        self.store.flush()  # the unique phone key, as the UPDATE would
        return bound

    async def insert_identity_events(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert(m.IdentityEvent, rows)

    async def insert_applications(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert(m.Application, rows)

    async def reserve_numbers(self, municipality_id: int, name: str, count: int) -> int:
        first = 0
        for _ in range(count):
            number = await FakeMunicipalities(self.store).next_number(municipality_id, name)
            first = first or number
        return first


class FakeAudit(_Fake):
    async def check_of(self, application_id: int) -> m.AuditCheck | None:
        return self.store.first(m.AuditCheck, lambda x: x.application_id == application_id)

    async def checks_by_protocol(self, municipality_id: int) -> Sequence[tuple[str, m.AuditCheck]]:
        found = []
        for check in self.store.rows(m.AuditCheck, lambda x: x.municipality_id == municipality_id):
            application = self.store.get(m.Application, check.application_id)
            assert application is not None
            found.append((application.protocol, check))
        return found

    async def standing_revocation(self, application_id: int) -> m.Revocation | None:
        return self.store.first(
            m.Revocation, lambda x: x.application_id == application_id and x.undone_at is None
        )

    async def last_undone(self, application_id: int) -> m.Revocation | None:
        found = self.store.rows(
            m.Revocation,
            lambda x: x.application_id == application_id and x.undone_at is not None,
        )
        return found[-1] if found else None

    async def mark_undone(self, revocation_id: int, **values: object) -> bool:
        row = self.store.get(m.Revocation, revocation_id)
        if row is None or row.undone_at is not None:
            return False
        for key, value in values.items():
            setattr(row, key, value)
        return True

    async def standing_revocations(
        self, municipality_id: int
    ) -> Sequence[tuple[m.Revocation, m.Application]]:
        found = []
        for revocation in self.store.rows(
            m.Revocation, lambda x: x.municipality_id == municipality_id and x.undone_at is None
        ):
            application = self.store.get(m.Application, revocation.application_id)
            assert application is not None
            found.append((revocation, application))
        return sorted(found, key=lambda pair: (pair[0].revoked_at, pair[0].id))

    async def revocations_of(self, application_id: int) -> Sequence[m.Revocation]:
        return self.store.rows(m.Revocation, lambda x: x.application_id == application_id)


class FakeReadModels(_Fake):
    async def outbox_backlog(self, municipality_id: int) -> int:
        return len(
            self.store.rows(
                m.OutboxMessage,
                lambda x: (
                    x.municipality_id == municipality_id and x.status in ("pending", "sending")
                ),
            )
        )

    async def shops_with_status(self, municipality_id: int, status: ShopStatus) -> int:
        return len(
            self.store.rows(
                m.Shop, lambda x: x.municipality_id == municipality_id and x.status == status
            )
        )

    async def appeals_open(self, municipality_id: int) -> int:
        return len(
            self.store.rows(
                m.Appeal, lambda x: x.municipality_id == municipality_id and x.status == "open"
            )
        )

    async def acts_waiting(self, municipality_id: int) -> int:
        return len(
            self.store.rows(
                m.OfficeAct,
                lambda x: x.municipality_id == municipality_id and x.status == "prepared",
            )
        )

    async def search_applications(
        self,
        municipality_id: int,
        *,
        protocol: str,
        codice_fiscale: str | None,
        phone: str | None,
        phone_digits: str | None,
        limit: int | None,
    ) -> Sequence[tuple[m.Application, m.Citizen]]:
        found = []
        for app in reversed(
            self.store.rows(m.Application, lambda x: x.municipality_id == municipality_id)
        ):
            citizen = self.store.get(m.Citizen, app.citizen_id)
            assert citizen is not None
            matches = not protocol or (
                protocol in app.protocol
                or (codice_fiscale is not None and codice_fiscale in citizen.codice_fiscale)
                or (phone is not None and citizen.phone == phone)
                or (phone_digits is not None and phone_digits in (citizen.phone or ""))
            )
            if matches:
                found.append((app, citizen))
        return found if limit is None else found[:limit]

    async def latest_decisions(self, application_ids: Sequence[int]) -> dict[int, m.AllocationLine]:
        decided: dict[int, tuple[tuple[int, int], m.AllocationLine]] = {}
        for line in self.store.rows(
            m.AllocationLine, lambda x: x.application_id in application_ids
        ):
            allocation = self.store.get(m.Allocation, line.allocation_id)
            assert allocation is not None
            if allocation.withdrawn_at is not None:
                continue
            order = (allocation.tranche, allocation.id)
            if line.application_id not in decided or decided[line.application_id][0] < order:
                decided[line.application_id] = (order, line)
        return {application_id: line for application_id, (_, line) in decided.items()}

    async def messages_to(
        self, municipality_id: int, addresses: Sequence[str], limit: int
    ) -> Sequence[m.OutboxMessage]:
        found = self.store.rows(
            m.OutboxMessage,
            lambda x: x.municipality_id == municipality_id and x.address in addresses,
        )
        return list(reversed(found))[:limit]

    async def decision_notices(self, application_id: int) -> Sequence[m.OutboxMessage]:
        return self.store.rows(m.OutboxMessage, lambda x: x.application_id == application_id)

    def _lines(self, allocation_id: int) -> list[tuple[m.AllocationLine, m.Application]]:
        pairs = []
        for line in self.store.rows(m.AllocationLine, lambda x: x.allocation_id == allocation_id):
            application = self.store.get(m.Application, line.application_id)
            assert application is not None
            pairs.append((line, application))
        return sorted(pairs, key=lambda pair: pair[1].protocol)

    async def determina_lines(
        self, allocation_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Application]]:
        return self._lines(allocation_id)

    async def allocation_with_applicants(
        self, allocation_id: int
    ) -> Sequence[tuple[m.AllocationLine, m.Application, m.Citizen]]:
        rows = []
        for line, application in self._lines(allocation_id):
            citizen = self.store.get(m.Citizen, application.citizen_id)
            assert citizen is not None
            rows.append((line, application, citizen))
        return rows

    async def latest_postings(
        self, account_id: int, limit: int
    ) -> Sequence[tuple[m.Posting, str | None]]:
        found = []
        for posting in reversed(
            self.store.rows(m.Posting, lambda x: account_id in (x.from_account_id, x.to_account_id))
        ):
            charge = self.store.get(m.Charge, posting.charge_id) if posting.charge_id else None
            shop = self.store.get(m.Shop, charge.shop_id) if charge else None
            found.append((posting, shop.name if shop else None))
        return found[:limit]

    async def paid_out(self, account_id: int, kind: PostingKind) -> tuple[int, datetime | None]:
        postings = self.store.rows(
            m.Posting, lambda x: x.from_account_id == account_id and x.kind == kind.value
        )
        return sum(p.amount_cents for p in postings), max(
            (p.created_at for p in postings), default=None
        )

    async def last_paid_out(
        self, account_id: int, kind: PostingKind
    ) -> tuple[int, datetime, date | None] | None:
        postings = self.store.rows(
            m.Posting, lambda x: x.from_account_id == account_id and x.kind == kind.value
        )
        if not postings:
            return None
        last = postings[-1]
        settlement = (
            self.store.get(m.Settlement, last.settlement_id) if last.settlement_id else None
        )
        return last.amount_cents, last.created_at, settlement.execution_date if settlement else None

    async def flow(
        self, municipality_id: int, kind: PostingKind, *, count_receivers: bool
    ) -> tuple[int, int]:
        postings = self.store.rows(
            m.Posting, lambda x: x.municipality_id == municipality_id and x.kind == kind.value
        )
        sides = {p.to_account_id if count_receivers else p.from_account_id for p in postings}
        return sum(p.amount_cents for p in postings), len(sides)

    async def flow_by_account(
        self, municipality_id: int, kind: PostingKind, *, receivers: bool
    ) -> dict[int, int]:
        totals: dict[int, int] = {}
        for p in self.store.rows(
            m.Posting, lambda x: x.municipality_id == municipality_id and x.kind == kind.value
        ):
            account = p.to_account_id if receivers else p.from_account_id
            totals[account] = totals.get(account, 0) + p.amount_cents
        return totals


class FakeAppeals(_Fake):
    async def application(self, application_id: int) -> m.Application | None:
        return self.store.get(m.Application, application_id)

    async def add_open(self, appeal: m.Appeal) -> bool:
        if self.store.first(
            m.Appeal, lambda x: x.application_id == appeal.application_id and x.status == "open"
        ):
            return False  # uq_appeals_open, a partial index the fake enforces here
        self.store.add(appeal)
        self.store.flush()
        return True

    async def by_id(self, appeal_id: int) -> m.Appeal | None:
        return self.store.get(m.Appeal, appeal_id)

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Appeal]:
        return self.store.rows(m.Appeal, lambda x: x.citizen_id == citizen_id)

    async def of_application(self, application_id: int) -> Sequence[m.Appeal]:
        return self.store.rows(m.Appeal, lambda x: x.application_id == application_id)

    async def in_town(
        self, municipality_id: int, status: str | None = None
    ) -> Sequence[tuple[m.Appeal, m.Application, m.Citizen]]:
        found = []
        for appeal in self.store.rows(
            m.Appeal,
            lambda x: x.municipality_id == municipality_id and status in (None, x.status),
        ):
            application = self.store.get(m.Application, appeal.application_id)
            citizen = self.store.get(m.Citizen, appeal.citizen_id)
            assert application is not None and citizen is not None
            found.append((appeal, application, citizen))
        return sorted(found, key=lambda row: (row[0].created_at, row[0].id))

    async def mark_decided(self, appeal_id: int, **values: object) -> bool:
        row = self.store.get(m.Appeal, appeal_id)
        if row is None or row.status != "open":
            return False
        for key, value in values.items():
            setattr(row, key, value)
        return True

    async def paid_credits(self, application_id: int) -> Sequence[datetime | None]:
        moments = []
        for line in self.store.rows(m.AllocationLine, lambda x: x.application_id == application_id):
            allocation = self.store.get(m.Allocation, line.allocation_id)
            paid = line.id in {
                p.allocation_line_id for p in self.store.rows(m.Posting, lambda x: True)
            }
            if allocation is not None and allocation.credited_at and paid:
                moments.append(allocation.credited_at)
        return moments


class FakeUnitOfWork:
    """The in-memory unit of work; `commits` counts the commits a use case made."""

    def __init__(self, store: FakeStore | None = None, keys: ServerKeys = PROCESS_KEYS) -> None:
        self.store = store if store is not None else FakeStore()
        self.keys = keys
        self.commits = 0
        self.municipalities = FakeMunicipalities(self.store)
        self.rounds = FakeRounds(self.store)
        self.citizens = FakeCitizens(self.store)
        self.delegates = FakeDelegates(self.store)
        self.applications = FakeApplications(self.store)
        self.allocations = FakeAllocations(self.store)
        self.ledger = FakeLedger(self.store)
        self.shops = FakeShops(self.store)
        self.charges = FakeCharges(self.store)
        self.outbox = FakeOutbox(self.store)
        self.conversations = FakeConversations(self.store)
        self.security = FakeSecurityEvents(self.store)
        self.identity_events = FakeIdentityEvents(self.store)
        self.activity = FakeActivity(self.store)
        self.community = FakeCommunity(self.store)
        self.audit = FakeAudit(self.store)
        self.appeals = FakeAppeals(self.store)
        self.operators = FakeOperators(self.store)
        self.acts = FakeOfficeActs(self.store)
        self.fund = FakeFund(self.store)
        self.phone_changes = FakePhoneChanges(self.store)
        self.settlements = FakeSettlements(self.store)
        self.audit_samples = FakeAuditSamples(self.store)
        self.read = FakeReadModels(self.store)
        self.paper_import = FakePaperImport(self.store)
        self._committed = self.store.snapshot()

    async def __aenter__(self) -> FakeUnitOfWork:
        self._committed = self.store.snapshot()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.store.restore(self._committed)

    def add(self, row: m.Base) -> None:
        self.store.add(row)

    async def flush(self) -> None:
        self.store.flush()

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[object]:
        saved = self.store.snapshot()
        try:
            yield saved
        except BaseException:
            self.store.restore(saved)
            raise

    async def delete(self, row: m.Base) -> None:
        self.store.delete(row)

    async def refresh(self, row: m.Base) -> None:
        """The row is the object itself here: always fresh."""

    def expire_all(self) -> None:
        """Nothing is cached apart from the rows themselves."""

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """What the block did is undone when it raises (a duplicate refused at its flush)."""
        return self._savepoint()

    async def commit(self) -> None:
        self._committed = self.store.snapshot()
        self.commits += 1

    async def rollback(self) -> None:
        self.store.restore(self._committed)


def _is_a_unit_of_work(uow: FakeUnitOfWork) -> UnitOfWork:
    """mypy checks here that the fake satisfies the protocol the services are typed against."""
    return uow


def add_all(uow: FakeUnitOfWork, rows: Iterable[m.Base]) -> None:
    """Seed the fake with rows (flushed: they get their ids)."""
    for row in rows:
        uow.add(row)
    uow.store.flush()

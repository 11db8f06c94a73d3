"""Storage for importing paper applications in bulk: a few statements per thousand rows.

One INSERT per row through the ORM made 50,000 applications take minutes; here lookups are
`IN (...)` queries and writes are executemany INSERTs of plain rows, in chunks that stay
under SQLite's and asyncpg's limits on bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update

from core.domain.channels import PHONE_CHANNELS
from core.storage import models as m
from core.storage.repositories.base import _Repository

CHUNK = 900  # values in one IN (...) list: SQLite allows 999 bound parameters by default
_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class PaperImportRepository(_Repository):
    async def citizens_by_codice_fiscale(
        self, municipality_id: int, codes: Sequence[str]
    ) -> dict[str, m.Citizen]:
        found: dict[str, m.Citizen] = {}
        for part in chunks(codes):
            rows = await self.session.scalars(
                select(m.Citizen).where(
                    m.Citizen.municipality_id == municipality_id,
                    m.Citizen.codice_fiscale.in_(part),
                )
            )
            found |= {citizen.codice_fiscale: citizen for citizen in rows}
        return found

    async def citizens_by_phone(
        self, municipality_id: int, phones: Sequence[str]
    ) -> dict[str, m.Citizen]:
        found: dict[str, m.Citizen] = {}
        for part in chunks(phones):
            rows = await self.session.scalars(
                select(m.Citizen).where(
                    m.Citizen.municipality_id == municipality_id, m.Citizen.phone.in_(part)
                )
            )
            found |= {citizen.phone: citizen for citizen in rows if citizen.phone}
        return found

    async def lock_citizens(self, citizen_ids: Sequence[int]) -> None:
        """Hold these citizens' rows until the commit, in id order, and read them again
        (the objects already loaded are refreshed): what another transaction committed on
        them while this one waited is what the import sees. FOR UPDATE on PostgreSQL, as
        CitizenRepository.lock; SQLite has one writer already."""
        for part in chunks(sorted(citizen_ids)):
            await self.session.scalars(
                select(m.Citizen)
                .where(m.Citizen.id.in_(part))
                .order_by(m.Citizen.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )

    async def phone_changes_waiting(self, citizen_ids: Sequence[int]) -> dict[int, m.PhoneChange]:
        """The new phone waiting for a second operator of each of these citizens (those
        who have one), by citizen id."""
        found: dict[int, m.PhoneChange] = {}
        for part in chunks(citizen_ids):
            rows = await self.session.scalars(
                select(m.PhoneChange).where(
                    m.PhoneChange.citizen_id.in_(part),
                    m.PhoneChange.kind == "phone",
                    m.PhoneChange.status == "waiting",
                )
            )
            found |= {change.citizen_id: change for change in rows}
        return found

    async def asked_phones(
        self, municipality_id: int, phones: Sequence[str]
    ) -> dict[str, m.PhoneChange]:
        """Of these phones, those a request waiting for a second operator would give to
        somebody (a new phone, a delegate), with the oldest such request."""
        found: dict[str, m.PhoneChange] = {}
        for part in chunks(phones):
            rows = await self.session.scalars(
                select(m.PhoneChange)
                .where(
                    m.PhoneChange.municipality_id == municipality_id,
                    m.WAITING_REQUEST,
                    m.PhoneChange.phone.in_(part),
                )
                .order_by(m.PhoneChange.id)
            )
            for change in rows:
                if change.phone is not None:
                    found.setdefault(change.phone, change)
        return found

    async def shop_phones(self, municipality_id: int, phones: Sequence[str]) -> set[str]:
        """Of these phones, those that charge vouchers for a shop of the municipality (its
        members on any channel whose address is a phone: PHONE_CHANNELS, and the phones
        its Telegram members shared: ShopMember.phone)."""
        found: set[str] = set()
        for part in chunks(phones):
            rows = await self.session.execute(
                select(m.ShopMember.address, m.ShopMember.phone)
                .join(m.Shop, m.Shop.id == m.ShopMember.shop_id)
                .where(
                    m.Shop.municipality_id == municipality_id,
                    or_(
                        and_(
                            m.ShopMember.channel.in_([x.value for x in PHONE_CHANNELS]),
                            m.ShopMember.address.in_(part),
                        ),
                        m.ShopMember.phone.in_(part),
                    ),
                )
            )
            wanted = set(part)
            for address, phone in rows:
                found |= {x for x in (address, phone) if x in wanted}
        return found

    async def delegates_of(self, citizen_ids: Sequence[int]) -> dict[int, str]:
        """The phone of each of these citizens' delegate, by citizen id (those who have one)."""
        found: dict[int, str] = {}
        for part in chunks(citizen_ids):
            rows = await self.session.execute(
                select(m.Delegate.citizen_id, m.Delegate.phone).where(
                    m.Delegate.citizen_id.in_(part)
                )
            )
            found |= {citizen_id: phone for citizen_id, phone in rows}
        return found

    async def applied_in_round(self, round_id: int, citizen_ids: Sequence[int]) -> set[int]:
        """Of these citizens, those who already have an application in the round."""
        applied: set[int] = set()
        for part in chunks(citizen_ids):
            applied.update(
                await self.session.scalars(
                    select(m.Application.citizen_id).where(
                        m.Application.round_id == round_id, m.Application.citizen_id.in_(part)
                    )
                )
            )
        return applied

    async def has_allocation(self, round_id: int) -> bool:
        found = await self.session.scalar(
            select(m.Allocation.id).where(m.Allocation.round_id == round_id).limit(1)
        )
        return found is not None

    async def _insert(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        # Core executemany (not the ORM's bulk path): no per-row object bookkeeping.
        connection = await self.session.connection()
        for part in chunks(rows, 5000):
            await connection.execute(insert(table), list(part))

    async def insert_citizens(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Insert new citizens; their ids by codice fiscale."""
        await self._insert(m.Citizen.__table__, rows)
        if not rows:
            return {}
        municipality_id = rows[0]["municipality_id"]
        ids: dict[str, int] = {}
        codes = [row["codice_fiscale"] for row in rows]
        for part in chunks(codes):
            result = await self.session.execute(
                select(m.Citizen.codice_fiscale, m.Citizen.id).where(
                    m.Citizen.municipality_id == municipality_id,
                    m.Citizen.codice_fiscale.in_(part),
                )
            )
            ids |= {row[0]: row[1] for row in result}
        return ids

    async def bind_phones(self, rows: Sequence[dict[str, Any]]) -> set[int]:
        """Give existing citizens without a phone the one the office proved (key `cid`).
        Returns the ids of those given it: a citizen whose phone is no longer empty (a chat
        bound one since the import read it) keeps theirs and is not among them. One
        statement per row, to know each one's outcome: only the known citizens without a
        phone a row gives one, a handful in a large import."""
        bound: set[int] = set()
        if rows:
            table = m.Citizen.__table__
            assert isinstance(table, Table)
            statement = (
                update(table)
                .where(table.c.id == bindparam("cid"), table.c.phone.is_(None))
                .values(
                    phone=bindparam("new_phone"),
                    phone_proven_by=bindparam("proven_by"),
                    phone_proven_at=bindparam("proven_at"),
                )
            )
            connection = await self.session.connection()
            for row in rows:
                result = await connection.execute(statement, row)
                if result.rowcount:
                    bound.add(row["cid"])
        return bound

    async def insert_identity_events(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(m.IdentityEvent.__table__, rows)

    async def insert_applications(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(m.Application.__table__, rows)

    async def reserve_numbers(self, municipality_id: int, name: str, count: int) -> int:
        """Reserve `count` consecutive numbers of a per-municipality sequence in one statement;
        returns the first. Gap-free and safe under concurrency, like next_number."""
        insert_ = self._upsert_insert()
        statement = (
            insert_(m.Counter)
            .values(municipality_id=municipality_id, name=name, value=count)
            .on_conflict_do_update(
                index_elements=[m.Counter.municipality_id, m.Counter.name],
                set_={"value": m.Counter.value + count},
            )
            .returning(m.Counter.value)
        )
        last = int((await self.session.execute(statement)).scalar_one())
        return last - count + 1

"""Where the scheme runs: municipalities (found by code, id or SMS number, with their
gap-free counters such as protocol numbers) and their rounds (latest, by number, locked
for a change).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from core.storage import models as m
from core.storage.repositories.base import _Repository


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

    async def hold_shop_names(self, municipality_id: int) -> None:
        """Hold the town's shop names until the commit: a registration, a rename or an
        approval looks for a shop of the same name and writes its own one after the other
        (core/services/shops.refuse_taken_name; no unique index can say the rule, which
        depends on a shop's status). On PostgreSQL the town's row FOR NO KEY UPDATE, which
        the town's other writes (rows that only refer to it: payments, messages) do not
        wait for; SQLite has one writer already (BEGIN IMMEDIATE), and its dialect drops
        FOR UPDATE."""
        await self.session.execute(
            select(m.Municipality.id)
            .where(m.Municipality.id == municipality_id)
            .with_for_update(key_share=True)
        )

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

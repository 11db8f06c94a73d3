"""What every repository shares: `_Repository`, the base that holds the unit of work's
transaction, opens its session on use and picks the dialect's upsert INSERT, and
`_placeholders`, the positional parameter markers of raw SQL in the driver's style. The
storage modules outside this package (office, community, review, read models, paper
import) build their repositories on the same base.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage import models as m
from core.storage.trips import Transaction

_Row = TypeVar("_Row", bound=m.Base)


def _placeholders(paramstyle: str, count: int) -> str:
    """Positional parameter markers in the driver's own style (sqlite3: ?, asyncpg: $n)."""
    if paramstyle == "numeric_dollar":
        return ", ".join(f"${index}" for index in range(1, count + 1))
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    raise NotImplementedError(f"parameter style {paramstyle}")


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

    async def _row_locked(self, model: type[_Row], row_id: int) -> _Row | None:
        """The row of `model` with this id, held until the commit (FOR UPDATE on PostgreSQL;
        SQLite has one writer already, BEGIN IMMEDIATE) and read afresh: of two decisions on
        it at once (a double click) the second waits, then sees what the first committed."""
        return await self.session.scalar(
            select(model)
            .filter_by(id=row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def add(self, obj: m.Base) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

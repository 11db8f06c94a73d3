"""The one-row table of the server secret's fingerprint (models.ServerSecret)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.storage import models as m
from core.storage.repositories.base import _Repository

_ROW = 1


class ServerSecretRepository(_Repository):
    async def fingerprint(self) -> str | None:
        """The fingerprint recorded by the first start; None before it."""
        return await self.session.scalar(
            select(m.ServerSecret.fingerprint).where(m.ServerSecret.id == _ROW)
        )

    async def record(self, fingerprint: str, now: datetime) -> str:
        """Record `fingerprint` unless one is there already; the one that stays. Two first
        starts at once (the same database) both end up comparing with the first one."""
        insert = self._upsert_insert()
        await self.session.execute(
            insert(m.ServerSecret)
            .values(id=_ROW, fingerprint=fingerprint, recorded_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        stored = await self.fingerprint()
        assert stored is not None
        return stored

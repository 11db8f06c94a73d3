"""Whom the service may still act on. A citizen the office erased (privacy.erase_citizen)
keeps a pseudonymised row for the postings and the acts that name it, but is nobody any
more: not found by code, phone or chat, not told, not paid back. One name for that, so a
service says what it means instead of repeating the test on `erased_at`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeGuard, TypeVar


class Erasable(Protocol):
    """A citizen, or a row of a bulk query that carries their erasure."""

    @property
    def erased_at(self) -> datetime | None: ...


P = TypeVar("P", bound=Erasable)


def can_act_on(person: P | None) -> TypeGuard[P]:
    """Whether there is a person and the office has not erased them: who can still be
    found, told, charged or refunded."""
    return person is not None and person.erased_at is None

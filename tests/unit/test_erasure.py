"""core.domain.erasure: whom the service may still act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.domain.erasure import can_act_on


@dataclass
class Person:
    erased_at: datetime | None


def test_nobody_and_an_erased_person_cannot_be_acted_on() -> None:
    assert can_act_on(Person(erased_at=None))
    assert not can_act_on(Person(erased_at=datetime(2026, 3, 2, tzinfo=UTC)))
    assert not can_act_on(None)

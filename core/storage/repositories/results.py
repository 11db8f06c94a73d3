"""What repositories answer besides model rows: the credited line a credit notice needs,
the application a credit run decided without paying, and a tranche's figures for the
ledger check. Plain frozen dataclasses, so services and the in-memory fakes can name
them without loading a repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
class StandingSums:
    """What the lines of a round's tranches not withdrawn give, in cents: all of them, and
    those of the tranches already credited."""

    allocated_cents: int
    credited_cents: int


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


@dataclass(frozen=True)
class DeterminaRest:
    """A determina standing (approved, not withdrawn) and what it did not assign: its
    budget, what its lines allocated, what economie freed already."""

    allocation_id: int
    window: int  # the round's number
    tranche: int
    budget_cents: int
    allocated_cents: int
    freed_cents: int
    credited: bool
    approved_at: datetime  # the determina's approval: no economia's act is older

    @property
    def rest_cents(self) -> int:
        """What an economia may still free: budget − allocated − freed."""
        return self.budget_cents - self.allocated_cents - self.freed_cents

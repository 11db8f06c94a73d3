"""The town's fund: the money it has for vouchers, and what its determine commit of it.

A municipality records every sum it receives for the vouchers (the State's "fondo di
solidarietà alimentare", its own money) as a fund entry; a mistaken entry is corrected by a
new negative entry that names it, never by an edit. A determina commits its whole budget:
the budgets of the determine approved and not withdrawn, and of the ones prepared and
waiting for approval, are what is committed; what a new determina may take is the rest.
Amounts are integer cents. Pure: core.services.fund reads the figures and applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_DESCRIPTION = 200
# The earliest day money for the vouchers can have been received. The emergency food
# vouchers this platform serves began with the Civil Protection ordinance OCDPC 658/2020
# (March 2020, the State's "fondo di solidarietà alimentare"); no town received money for
# them before 2020, so an earlier day is a typo (0001-01-01, 2002 for 2026) that would
# otherwise pass as money already in hand. A fixed day, not "N years back": an old receipt
# recorded late stays recordable however long the platform runs.
EARLIEST_RECEIPT = date(2020, 1, 1)
# The most one receipt, one correction or one determina's budget may be: fifty million
# euro. The State's whole fondo di solidarietà alimentare of 2020, 400 million euro, was
# shared among some 7,900 towns; the largest share, Rome's, was about 15 million: every
# town fits with room to spare, and an amount above it is a typo of digits (three zeros
# too many), refused before it is recorded, committed or published. The round page's
# budget simulator uses it too.
MAX_AMOUNT_CENTS = 50_000_000_00


def plausible(amount_cents: int) -> bool:
    """Whether an amount of the fund (a receipt, a correction, a budget) is within
    MAX_AMOUNT_CENTS."""
    return amount_cents <= MAX_AMOUNT_CENTS


@dataclass(frozen=True)
class FundPosition:
    """The fund of one town now: received, committed by determine, and what is left."""

    fund_cents: int  # every entry: receipts minus their corrections
    approved_cents: int  # budgets of the determine approved and not withdrawn, less freed
    pending_cents: int  # budgets of the determine prepared, waiting for their approval
    # What economie freed of the approved budgets (already out of approved_cents): the
    # unassigned rest of credited determine the town's acts gave back.
    freed_cents: int = 0

    @property
    def committed_cents(self) -> int:
        return self.approved_cents + self.pending_cents

    @property
    def left_cents(self) -> int:
        return self.fund_cents - self.committed_cents


def budget_fits(position: FundPosition, budget_cents: int) -> bool:
    """A determina may commit at most what is left of the fund (exactly all of it is fine)."""
    return 0 < budget_cents <= position.left_cents


def correction_fits(
    position: FundPosition, entry_cents: int, corrected_cents: int, amount_cents: int
) -> str | None:
    """Why taking `amount_cents` (more than zero) back from an entry of `entry_cents`, of
    which `corrected_cents` were already taken back, is refused, or None when it is fine.

    "entry": more than the entry still holds; "committed": the fund would fall below what
    the determine already commit (withdraw one first, or record where the money came from).
    """
    if amount_cents <= 0 or amount_cents > entry_cents - corrected_cents:
        return "entry"
    if position.fund_cents - amount_cents < position.committed_cents:
        return "committed"
    return None

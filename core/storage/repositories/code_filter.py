"""Which of a shop's codes a search takes beyond kind, detail and time (codes_of_shop): one
value that the protocol, the repository and the in-memory fake all name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeFilter:
    """Only a payment's codes (`charge_id`), a chat's (`asked_by`) or a hash's (`code_hash`)
    when given; only those never typed back when `unproven`; void requests too, `void_too`."""

    charge_id: int | None = None
    asked_by: str | None = None
    code_hash: str | None = None
    unproven: bool = True
    void_too: bool = False

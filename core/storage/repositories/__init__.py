"""Repositories: the only place that knows how aggregates are queried and stored.

One module per area: `base` (the `_Repository` every repository builds on), `results`
(the plain dataclasses some queries answer), `places` (municipalities, rounds), `people`
(citizens, delegates, applications), `allocations`, `ledger`, `shops`, `charges`,
`outbox`, `conversations`, `events` (identity and security logs) and `server_secret`
(the fingerprint of the server secret). Every repository and
result is re-exported here, so `from core.storage.repositories import X` keeps working;
the unit of work (core/storage/uow.py) builds one of each.
"""

from __future__ import annotations

from core.storage.repositories.allocations import AllocationRepository
from core.storage.repositories.base import _Repository
from core.storage.repositories.charges import ChargeRepository
from core.storage.repositories.conversations import ConversationRepository
from core.storage.repositories.events import IdentityEventRepository, SecurityEventRepository
from core.storage.repositories.ledger import LedgerRepository
from core.storage.repositories.outbox import OutboxRepository
from core.storage.repositories.people import (
    ApplicationRepository,
    CitizenRepository,
    DelegateRepository,
)
from core.storage.repositories.places import MunicipalityRepository, RoundRepository
from core.storage.repositories.results import CreditedLine, DecidedLine, TrancheFigures
from core.storage.repositories.server_secret import ServerSecretRepository
from core.storage.repositories.shops import ShopRepository

__all__ = [
    "AllocationRepository",
    "ApplicationRepository",
    "ChargeRepository",
    "CitizenRepository",
    "ConversationRepository",
    "CreditedLine",
    "DecidedLine",
    "DelegateRepository",
    "IdentityEventRepository",
    "LedgerRepository",
    "MunicipalityRepository",
    "OutboxRepository",
    "RoundRepository",
    "SecurityEventRepository",
    "ServerSecretRepository",
    "ShopRepository",
    "TrancheFigures",
    "_Repository",
]

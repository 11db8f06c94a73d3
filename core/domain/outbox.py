"""Where a message to a person stands in the outbox (stored as its value)."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent (again, after a transient failure)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"  # the provider reported it reached the phone
    UNDELIVERED = "undelivered"  # the provider reported it did not
    FAILED = "failed"  # refused for good: never retried

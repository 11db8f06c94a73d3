"""Typed domain errors. Each carries a reason code that channels turn into a translated sentence."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose.

    `code` is stable (channels translate it); `params` fill the message."""

    code: str = "error"

    def __init__(self, code: str | None = None, /, **params: object) -> None:
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(self.code, params)


class InvalidAmount(DomainError):
    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"amount.{reason}", text=text)
        self.reason = reason


class InvalidIdentifier(DomainError):
    """A codice fiscale, partita IVA, IBAN or phone number that does not validate."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"{kind}.{reason}", value=value)
        self.kind = kind
        self.reason = reason


class PolicyError(DomainError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__("policy.invalid", key=key, problem=problem)
        self.key = key
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}"


class InsufficientFunds(DomainError):
    code = "payment.insufficient_funds"


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class NotAllowed(DomainError):
    pass

"""The payment confirmation as one plan (core/storage/trips.py): the hot path of a till.

The plan loads the charge with everything its confirmation needs in one query, asks
the service whether this is a plain acceptance (pending, right code, in time, shop
not locked), and only then writes: the compare-and-set on the charge, the guarded
debit, the credit, the posting and the receipts in the outbox, all in the caller's
transaction. Anything else (a wrong code, an expired charge, a locked shop, a card
PIN, a missing account, nobody to tell) returns `None` before a single write, and
the service takes its general path in the same transaction (on PostgreSQL holding the
charge's row lock the load took: the lock order is by _LOCK_CHARGE below).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.ledger import AccountKind, PostingKind
from core.domain.outbox import OutboxStatus
from core.storage.trips import Plan, Row, drive_sqlite, utc

# The outbox lane of messages about a payment (core/services/outbox.py: PAYMENT_LANE).
PAYMENT_LANE = 0
# The enum members' values a payment writes, read once: an enum member's `.value` is a
# Python property on 3.11 (about 1,700 instructions), and a payment asked it nine times.
_SMS = Channel.SMS.value
_TELEGRAM = Channel.TELEGRAM.value
_CITIZEN_ACCOUNT = AccountKind.CITIZEN.value
_SHOP_ACCOUNT = AccountKind.SHOP.value
_PENDING = ChargeStatus.PENDING.value
_CONFIRMED = ChargeStatus.CONFIRMED.value
_CANCELLED = ChargeStatus.CANCELLED.value
_PAYMENT_POSTING = PostingKind.PAYMENT.value
_OUTBOX_PENDING = OutboxStatus.PENDING.value


@dataclass(frozen=True, slots=True)
class PendingPayment:
    """A charge as its confirmation sees it, with its shop, citizen and accounts."""

    charge_id: int
    municipality_id: int
    shop_id: int
    citizen_id: int
    amount_cents: int
    status: str
    code_salt: str
    code_hash: str
    consent: str
    attempts: int
    expires_at: datetime
    shop_name: str
    shop_blocked_at: datetime | None
    shop_locked_until: datetime | None
    policy_toml: str
    citizen_erased_at: datetime | None
    citizen_telegram_chat_id: str | None
    citizen_phone: str | None
    citizen_language: str
    delegate_phone: str | None
    delegate_language: str | None  # of the delegate's SMS conversation, if any
    citizen_account_id: int | None
    shop_account_id: int | None

    def receivers(self) -> list[tuple[str, str, str]]:
        """(channel, address, language) of a receipt: the payer (the delegate, else the
        citizen's own channel) and, when a delegate pays, the citizen too; as
        core/services/outbox.notify decides it."""
        own: tuple[str, str, str] | None = None
        if self.citizen_erased_at is None:
            if self.citizen_telegram_chat_id:
                own = (_TELEGRAM, self.citizen_telegram_chat_id, self.citizen_language)
            elif self.citizen_phone:
                own = (_SMS, self.citizen_phone, self.citizen_language)
        else:
            return []
        if self.delegate_phone is not None:
            language = self.delegate_language or self.citizen_language
            payer = (_SMS, self.delegate_phone, language)
            return [payer] if own is None else [payer, own]
        return [] if own is None else [own]


class Paid(StrEnum):
    CONFIRMED = "confirmed"
    # The chat that typed the code is not the owner nor a cashier of the payment's shop:
    # refused as a payment that does not exist (nothing judged, nothing counted).
    UNKNOWN = "unknown"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"
    INSUFFICIENT_FUNDS = "insufficient_funds"


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    outcome: Paid
    charge_id: int
    amount_cents: int
    citizen_balance_cents: int | None = None
    receipt_number: int | None = None  # the shop's number for this receipt


_LOAD = (
    "SELECT c.id, c.municipality_id, c.shop_id, c.citizen_id, c.amount_cents, c.status, "
    "c.code_salt, c.code_hash, c.consent, c.attempts, c.expires_at, "
    "s.name, s.blocked_at, s.locked_until, mu.policy_toml, "
    "z.erased_at, z.telegram_chat_id, z.phone, z.language, "
    "d.phone, dc.language, ca.id, sa.id, "
    # Whether the chat typing the code works for the payment's shop now. Not locked: a
    # removal committing meanwhile cancels that member's payments by a compare-and-set on
    # the charge, whose row this statement locks, so either of the two comes first.
    "EXISTS (SELECT 1 FROM shop_members sm WHERE sm.shop_id = c.shop_id "
    "AND sm.channel = ? AND sm.address = ?) "
    "FROM charges c "
    "JOIN shops s ON s.id = c.shop_id "
    "JOIN municipalities mu ON mu.id = c.municipality_id "
    "JOIN citizens z ON z.id = c.citizen_id "
    "LEFT JOIN delegates d ON d.citizen_id = c.citizen_id "
    "LEFT JOIN conversations dc ON dc.municipality_id = c.municipality_id "
    "AND dc.channel = ? AND dc.address = d.phone "
    "LEFT JOIN accounts ca ON ca.municipality_id = c.municipality_id "
    "AND ca.kind = ? AND ca.owner_id = c.citizen_id "
    "LEFT JOIN accounts sa ON sa.municipality_id = c.municipality_id "
    "AND sa.kind = ? AND sa.owner_id = c.shop_id "
    "WHERE c.id = ?"
)
# PostgreSQL: the lock order of a confirmation, right code or wrong (the general path in
# core/services/charges/confirming.py starts with this plan too, in the same transaction):
#   1. the charge's row, FOR UPDATE, in the first statement, before anything is judged;
#   2. the accounts, in id order (as every path that moves money takes them);
#   3. the shop's row (its receipt number; a wrong code's lock of the shop).
# The charge comes first, and in the strongest mode the payment will need: setting
# `receipt_number` (a column of the unique index uq_charges_shop_receipt) takes FOR UPDATE,
# which a weaker lock (the status UPDATE's) would have to be raised to at the end. A wrong
# code typed meanwhile (its security event's foreign key holds FOR KEY SHARE on the charge,
# it writes the shop, then the charge's attempts) waited in a cycle with that raise: two
# confirmations of one charge now queue on its row and never hold a lock the other needs.
_LOCK_CHARGE = " FOR UPDATE OF c"
_MARK_CONFIRMED = (
    "UPDATE charges SET status = ?, confirmed_at = ? WHERE id = ? AND status = ? RETURNING id"
)
_STATUS = "SELECT status, receipt_number FROM charges WHERE id = ?"
# The shop's next receipt number: one statement, whose row lock on the shop holds until
# the commit, so two payments at one shop never get the same number, and a payment rolled
# back gives its number back (no gaps). Taken only once the money moved.
_NUMBER = "UPDATE shops SET last_receipt = last_receipt + 1 WHERE id = ? RETURNING last_receipt"
_RECEIPT = "UPDATE charges SET receipt_number = ? WHERE id = ? RETURNING id"
# PostgreSQL: the compare-and-set and the accounts' row locks, in id order (as every
# path that moves money takes them), in one statement. The UPDATE runs first: the
# EXISTS reads its result. No row back: the charge was no longer pending.
_MARK_AND_LOCK = (
    "WITH marked AS (UPDATE charges SET status = ?, confirmed_at = ? "
    "WHERE id = ? AND status = ? RETURNING id) "
    "SELECT a.id, a.balance_cents FROM accounts a "
    "WHERE a.id IN (?, ?) AND EXISTS (SELECT 1 FROM marked) ORDER BY a.id FOR UPDATE OF a"
)
_DEBIT = (
    "UPDATE accounts SET balance_cents = balance_cents - ? "
    "WHERE id = ? AND balance_cents >= ? RETURNING balance_cents"
)
_UNDO_CONFIRMED = (
    "UPDATE charges SET status = ?, confirmed_at = NULL, closed_reason = ? "
    "WHERE id = ? AND status = ? RETURNING id"
)
_CREDIT = "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ? RETURNING id"
_POSTING = (
    "INSERT INTO postings (municipality_id, kind, from_account_id, to_account_id, "
    "amount_cents, created_at, charge_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
_OUTBOX = (
    "INSERT INTO outbox (municipality_id, channel, address, language, payload, status, "
    "attempts, next_attempt_at, created_at, charge_id, lane) "
    "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id"
)


@lru_cache(maxsize=4)
def _pay(receivers: int) -> str:
    """PostgreSQL: the guarded debit, the credit, the posting, the shop's receipt number
    and the receipts in one statement. The others read the debit's row: when its guard
    refuses, nothing is written and no row comes back. (PostgreSQL gives each `?` its
    column's type.)"""
    columns = _OUTBOX.partition(" VALUES ")[0].removeprefix("INSERT INTO outbox ")
    queued = ", ".join(
        f"queued{index} AS (INSERT INTO outbox {columns} "
        "SELECT ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ? FROM debited RETURNING id)"
        for index in range(receivers)
    )
    counted = " + ".join(f"(SELECT count(*) FROM queued{index})" for index in range(receivers))
    return (
        "WITH debited AS (UPDATE accounts SET balance_cents = balance_cents - ? "
        "WHERE id = ? AND balance_cents >= ? RETURNING balance_cents), "
        "credited AS (UPDATE accounts SET balance_cents = balance_cents + ? "
        "WHERE id = ? AND EXISTS (SELECT 1 FROM debited) RETURNING id), "
        "posted AS (INSERT INTO postings (municipality_id, kind, from_account_id, "
        "to_account_id, amount_cents, created_at, charge_id) "
        f"SELECT ?, ?, ?, ?, ?, ?, ? FROM debited RETURNING id), "
        "numbered AS (UPDATE shops SET last_receipt = last_receipt + 1 "
        "WHERE id = ? AND EXISTS (SELECT 1 FROM debited) RETURNING last_receipt), "
        "receipted AS (UPDATE charges SET receipt_number = (SELECT last_receipt FROM numbered) "
        "WHERE id = ? AND EXISTS (SELECT 1 FROM numbered) RETURNING receipt_number), "
        f"{queued} "
        "SELECT d.balance_cents, (SELECT count(*) FROM credited), "
        f"(SELECT count(*) FROM posted), {counted}, "
        "(SELECT receipt_number FROM receipted) FROM debited d"
    )


def _loaded(row: Row) -> PendingPayment:
    expires_at = utc(row[10])
    assert expires_at is not None
    return PendingPayment(
        charge_id=row[0],
        municipality_id=row[1],
        shop_id=row[2],
        citizen_id=row[3],
        amount_cents=row[4],
        status=row[5],
        code_salt=row[6],
        code_hash=row[7],
        consent=row[8],
        attempts=row[9],
        expires_at=expires_at,
        shop_name=row[11],
        shop_blocked_at=utc(row[12]),
        shop_locked_until=utc(row[13]),
        policy_toml=row[14],
        citizen_erased_at=utc(row[15]),
        citizen_telegram_chat_id=row[16],
        citizen_phone=row[17],
        citizen_language=row[18],
        delegate_phone=row[19],
        delegate_language=row[20],
        citizen_account_id=row[21],
        shop_account_id=row[22],
    )


def confirm_plan(
    charge_id: int,
    shop_id: int,
    typed_by: tuple[str, str],
    now: datetime,
    *,
    accept: Callable[[PendingPayment], bool],
    receipt: Callable[[PendingPayment, int], dict[str, Any]],
    postgresql: bool,
) -> Plan[PaymentOutcome | None]:
    """Confirm a charge whose code `accept` judged right, or None with nothing written.

    `typed_by`: the chat (channel, address) that typed the code; a chat that is not a
    member (owner or cashier) of the payment's shop gets Paid.UNKNOWN, nothing written.

    `receipt(payment, balance)`: the outbox payload telling the new balance.
    `postgresql`: lock the charge's row as it is loaded, then the accounts' rows in id
    order, then the shop's (see _LOCK_CHARGE; SQLite's writer holds the file), and send
    the writes in two statements instead of six: each statement is a round trip to the
    server, and the shop's row stays locked from the first to the commit. On PostgreSQL
    the charge's lock is held to the commit even when this returns None."""
    rows = yield (
        _LOAD + _LOCK_CHARGE if postgresql else _LOAD,
        (
            *typed_by,
            _SMS,
            _CITIZEN_ACCOUNT,
            _SHOP_ACCOUNT,
            charge_id,
        ),
    )
    if not rows:
        return None
    if not rows[0][23]:
        return PaymentOutcome(Paid.UNKNOWN, charge_id, 0)
    payment = _loaded(rows[0])
    if payment.shop_id != shop_id or payment.status != ChargeStatus.PENDING:
        return None
    if payment.citizen_account_id is None or payment.shop_account_id is None:
        return None  # the general path creates the missing account
    receivers = payment.receivers()
    if not receivers or not accept(payment):
        return None
    if postgresql:
        return (yield from _pay_on_postgresql(payment, receivers, receipt, now))
    amount = payment.amount_cents
    source, target = payment.citizen_account_id, payment.shop_account_id
    # Out of "pending" first (compare-and-set): a concurrent confirmation waits on this
    # row and then finds it no longer pending.
    changed = yield _MARK_CONFIRMED, _mark(charge_id, now)
    if not changed:
        return (yield from _not_pending(payment))
    # The no-overdraw guard is in the UPDATE that takes the money.
    left = yield _DEBIT, (amount, source, amount)
    if not left:
        return (yield from _undo(payment))
    balance = int(left[0][0])
    yield _CREDIT, (amount, target)
    yield _POSTING, _posting(payment, now)
    numbered = yield _NUMBER, (payment.shop_id,)
    number = int(numbered[0][0])
    yield _RECEIPT, (number, charge_id)
    payload = receipt(payment, balance)
    for receiver in receivers:
        yield _OUTBOX, _outbox(payment, receiver, payload, now)
    return PaymentOutcome(
        Paid.CONFIRMED, charge_id, amount, citizen_balance_cents=balance, receipt_number=number
    )


def _pay_on_postgresql(
    payment: PendingPayment,
    receivers: list[tuple[str, str, str]],
    receipt: Callable[[PendingPayment, int], dict[str, Any]],
    now: datetime,
) -> Plan[PaymentOutcome]:
    amount = payment.amount_cents
    source, target = payment.citizen_account_id, payment.shop_account_id
    assert source is not None and target is not None
    locked = yield (
        _MARK_AND_LOCK,
        (*_mark(payment.charge_id, now), min(source, target), max(source, target)),
    )
    if not locked:
        return (yield from _not_pending(payment))
    # The citizen's row is locked: its balance cannot move before the commit, so the
    # receipt can tell the balance before the debit is sent. The guard stays in the SQL.
    held = {int(row[0]): int(row[1]) for row in locked}[source]
    if held < amount:
        return (yield from _undo(payment))
    payload = receipt(payment, held - amount)
    parameters: list[Any] = [amount, source, amount, amount, target, *_posting(payment, now)]
    parameters.extend((payment.shop_id, payment.charge_id))
    for receiver in receivers:
        parameters.extend(_outbox(payment, receiver, payload, now))
    paid = yield _pay(len(receivers)), tuple(parameters)
    if not paid:
        return (yield from _undo(payment))
    balance, credited, posted, queued, number = (
        None if value is None else int(value) for value in paid[0]
    )
    if (balance, credited, posted, queued) != (held - amount, 1, 1, len(receivers)) or not number:
        # Not reachable while the row locks hold; never commit a half-written payment.
        raise RuntimeError(f"payment {payment.charge_id} written in part: {paid[0]}")
    return PaymentOutcome(
        Paid.CONFIRMED,
        payment.charge_id,
        amount,
        citizen_balance_cents=balance,
        receipt_number=number,
    )


def _mark(charge_id: int, now: datetime) -> tuple[Any, ...]:
    return (_CONFIRMED, now, charge_id, _PENDING)


def _not_pending(payment: PendingPayment) -> Plan[PaymentOutcome]:
    status = yield _STATUS, (payment.charge_id,)
    if status and status[0][0] == ChargeStatus.CONFIRMED:
        return PaymentOutcome(
            Paid.ALREADY_CONFIRMED,
            payment.charge_id,
            payment.amount_cents,
            receipt_number=status[0][1],
        )
    return PaymentOutcome(Paid.NOT_PENDING, payment.charge_id, payment.amount_cents)


def _undo(payment: PendingPayment) -> Plan[PaymentOutcome]:
    """The debit was refused: the charge, confirmed a moment ago, is cancelled instead."""
    yield (
        _UNDO_CONFIRMED,
        (
            _CANCELLED,
            "insufficient_funds",
            payment.charge_id,
            _CONFIRMED,
        ),
    )
    return PaymentOutcome(Paid.INSUFFICIENT_FUNDS, payment.charge_id, payment.amount_cents)


def _posting(payment: PendingPayment, now: datetime) -> tuple[Any, ...]:
    return (
        payment.municipality_id,
        _PAYMENT_POSTING,
        payment.citizen_account_id,
        payment.shop_account_id,
        payment.amount_cents,
        now,
        payment.charge_id,
    )


def _outbox(
    payment: PendingPayment,
    receiver: tuple[str, str, str],
    payload: dict[str, Any],
    now: datetime,
) -> tuple[Any, ...]:
    channel, address, language = receiver
    return (
        payment.municipality_id,
        channel,
        address,
        language,
        payload,
        _OUTBOX_PENDING,
        now,
        now,
        payment.charge_id,
        PAYMENT_LANE,
    )


def confirm_transaction(
    charge_id: int,
    shop_id: int,
    typed_by: tuple[str, str],
    now: datetime,
    *,
    accept: Callable[[PendingPayment], bool],
    receipt: Callable[[PendingPayment, int], dict[str, Any]],
) -> Callable[[sqlite3.Connection], PaymentOutcome | None]:
    """`confirm_plan` as a transaction for SQLite's group commit (core/storage/group_commit)."""

    def transaction(connection: sqlite3.Connection) -> PaymentOutcome | None:
        plan = confirm_plan(
            charge_id, shop_id, typed_by, now, accept=accept, receipt=receipt, postgresql=False
        )
        return drive_sqlite(connection, plan)

    return transaction

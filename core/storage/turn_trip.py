"""A plain dialogue turn as one plan (core/storage/trips.py): the hot path of the chat.

The plan reads first: the towns (to route by the number written to), the conversation
(locked FOR UPDATE on PostgreSQL), then, if the dialogue says the turn is plain, what it
asks for: who wrote (a citizen by phone or linked Telegram chat, else the citizen a
delegate's phone acts for) with their balance and last postings, the shops the address
works for in the town, and whether a payment waits for a code sent to a Telegram chat
(the help names it: the general path answers then). A pure decision of the dialogue (the
callbacks) makes the replies and the new conversation state; only then the plan writes:
the dedupe record (already there: a duplicate, nothing else written), the conversation
and the outbox rows, in the caller's transaction. A provider's retry is found by that
insert, after the reads: retries are rare, and every other turn is spared a SELECT that
looked for the record first. Any case that is not plain returns `None` before a single
write, and the engine runs its general path.
See docs/decisions/0007-one-trip-dialogue-turn.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from core.domain.charges import ChargeStatus
from core.domain.ledger import AccountKind
from core.storage.trips import Plan, drive_sqlite, utc

C = TypeVar("C")


# The rows a turn reads are NamedTuples, not frozen dataclasses: a frozen dataclass sets
# each field through object.__setattr__, about 2,000 instructions a field, and a balance
# by SMS builds some thirty of these fields a turn.


class TownRow(NamedTuple):
    id: int
    sms_number: str | None
    timezone: str
    name: str
    community_enabled: bool


class ConversationRow(NamedTuple):
    id: int
    municipality_id: int | None
    language: str
    flow: str | None
    step: str | None
    data: dict[str, Any]
    stopped: bool


@dataclass(frozen=True, slots=True)
class Lookup(Generic[C]):
    """What the dialogue needs to know about the sender to answer: the citizen found by
    phone (SMS) or by linked chat (Telegram), else the citizen whose delegate's phone
    wrote (nothing of these: nobody is looked up); with `shops`, the shops the address
    works for; with `shops_if_nobody`, the same only when no holder was found (a
    Telegram chat that works for a shop is told so); with `waiting_chat` (a Telegram
    chat), when the address works for no
    shop, whether a payment asked of the citizen linked to that chat waits for its code.
    `context` is the dialogue's own, handed back to its decision."""

    context: C
    citizen_phone: str | None = None
    citizen_chat: str | None = None
    delegate_phone: str | None = None
    shops: bool = False
    shops_if_nobody: bool = False
    waiting_chat: str | None = None


class PostingRow(NamedTuple):
    kind: str
    amount_cents: int  # positive: money in; negative: money out
    at: datetime
    shop_name: str | None
    charge_id: int | None


class Holder(NamedTuple):
    """The citizen whose vouchers the turn is about, with their balance and last postings."""

    citizen_id: int
    codice_fiscale: str
    by_delegate: bool
    balance_cents: int
    postings: list[PostingRow]


class MemberShopRow(NamedTuple):
    """A shop the address is a member of (in the turn's town), with the member's role."""

    id: int
    name: str
    status: str
    role: str


@dataclass(frozen=True, slots=True)
class Found:
    """What the plan found for the dialogue's Lookup."""

    holder: Holder | None = None
    shops: list[MemberShopRow] = field(default_factory=list)
    # A payment asked of the citizen linked to Lookup.waiting_chat still waits for its code
    # (as core.services.charges.awaiting_code reads it: pending, not a card's PIN, not
    # expired). Whether the code went to that chat (not to a delegate) the general path
    # decides: True only says a plain turn cannot answer the help alone.
    payment_waiting: bool = False


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """What a plain turn changes: the conversation's state and the outbox rows (each a
    dict of the outbox columns, as core/services/outbox.outbox_row makes them)."""

    municipality_id: int
    language: str
    stopped: bool
    data: dict[str, Any]
    outbox: list[dict[str, Any]]
    flow: str | None = None  # where the conversation stands after the turn (None: no step)
    step: str | None = None


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    duplicate: bool
    outbox_ids: list[int] = field(default_factory=list)
    payments: bool = False  # one of them is in the payment lane


# core.services.outbox.PAYMENT_LANE (storage sits below services and cannot import it).
_PAYMENT_LANE = 0
# Read once: an enum member's `.value` is a Python property on 3.11 (about 1,700
# instructions), and every balance asked for it.
_CITIZEN_ACCOUNT = AccountKind.CITIZEN.value
# core.services.cards.CONSENT_CARD_PIN: a payment confirmed by the card's PIN sent no code.
_CARD_PIN = "card_pin"

_TOWNS = "SELECT id, sms_number, timezone, name, community_enabled FROM municipalities ORDER BY id"
_CONVERSATION = (
    "SELECT id, municipality_id, language, flow, step, data, stopped FROM conversations "
    "WHERE channel = ? AND address = ? AND municipality_id = ? ORDER BY id LIMIT 1"
)
# The citizen with their account, if any: one statement.
_CITIZEN = (
    "SELECT z.id, z.codice_fiscale, z.erased_at, a.id, a.balance_cents FROM citizens z "
    "LEFT JOIN accounts a ON a.municipality_id = z.municipality_id "
    "AND a.kind = ? AND a.owner_id = z.id "
    "WHERE z.municipality_id = ? AND z.{column} = ? ORDER BY z.id LIMIT 1"
)
_CITIZEN_BY_PHONE = _CITIZEN.format(column="phone")
_CITIZEN_BY_CHAT = _CITIZEN.format(column="telegram_chat_id")
_REPRESENTED = (
    "SELECT z.id, z.codice_fiscale, z.erased_at, a.id, a.balance_cents FROM delegates d "
    "JOIN citizens z ON z.id = d.citizen_id "
    "LEFT JOIN accounts a ON a.municipality_id = z.municipality_id "
    "AND a.kind = ? AND a.owner_id = z.id "
    "WHERE d.municipality_id = ? AND d.phone = ? "
    # A phone that is a voucher holder's own speaks for that holder (delegates.represented_by):
    # on Telegram the general path links the chat to them first.
    "AND NOT EXISTS (SELECT 1 FROM citizens o WHERE o.municipality_id = d.municipality_id "
    "AND o.phone = d.phone AND o.erased_at IS NULL)"
)
# The account's postings out, then in: two indexed reads merged newest first. Written as
# `from_account_id = ? OR to_account_id = ?`, SQLite gathered the OR's two index reads
# and sorted them in a temporary b-tree every turn (EXPLAIN: OpenEphemeral, about 20,000
# instructions); as a UNION ordered by the id, it merges the two indexes read backwards
# (EXPLAIN QUERY PLAN: MERGE (UNION)) and stops at the limit. UNION, not UNION ALL: a
# posting from an account to itself would come from both sides, and is one movement.
_POSTINGS_FROM_ACCOUNT = (
    "SELECT p.id, p.kind, p.amount_cents, p.created_at, s.name, p.charge_id, p.to_account_id "
    "FROM postings p "
    "LEFT JOIN charges c ON c.id = p.charge_id "
    "LEFT JOIN shops s ON s.id = c.shop_id "
    "WHERE p.{column} = ?"
)
_POSTINGS = (
    f"{_POSTINGS_FROM_ACCOUNT.format(column='from_account_id')} UNION "
    f"{_POSTINGS_FROM_ACCOUNT.format(column='to_account_id')} ORDER BY 1 DESC LIMIT ?"
)
# In the order of the general path's ShopRepository.membership (the menu lists them so).
_SHOPS = (
    "SELECT s.id, s.name, s.status, sm.role FROM shop_members sm "
    "JOIN shops s ON s.id = sm.shop_id "
    "WHERE sm.channel = ? AND sm.address = ? AND s.municipality_id = ? ORDER BY sm.id"
)
# The payments waiting for a code, asked of the (not erased) citizen linked to a chat.
_WAITING = (
    "SELECT c.expires_at FROM charges c JOIN citizens z ON z.id = c.citizen_id "
    "WHERE z.municipality_id = ? AND z.telegram_chat_id = ? AND z.erased_at IS NULL "
    "AND c.status = ? AND c.consent <> ?"
)
_FIRST_DELIVERY = (
    "INSERT INTO inbound_messages (channel, provider_message_id, received_at) "
    "VALUES (?, ?, ?) ON CONFLICT (channel, provider_message_id) DO NOTHING RETURNING id"
)
_SAVE = (
    "UPDATE conversations SET municipality_id = ?, language = ?, flow = ?, step = ?, "
    "data = ?, stopped = ?, updated_at = ? WHERE id = ?"
)
_OUTBOX_COLUMNS = (
    "municipality_id",
    "channel",
    "address",
    "language",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "charge_id",
    "lane",
    "deliver_by",
)
_OUTBOX = (
    f"INSERT INTO outbox ({', '.join(_OUTBOX_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _OUTBOX_COLUMNS)}) RETURNING id"
)


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str | bytes) else value
    return loaded if isinstance(loaded, dict) else {}


class TurnAsk(NamedTuple, Generic[C]):
    """A turn to try in one trip: who wrote what, when, and the dialogue's callbacks
    (turn_plan says what each answers); one value for both databases' ways to run it. A
    NamedTuple, as the rows above: built on every turn."""

    channel: str
    address: str
    message_id: str | None
    now: datetime
    route: Callable[[list[TownRow]], TownRow | None]
    classify: Callable[[TownRow, ConversationRow], Lookup[C] | None]
    decide: Callable[[C, Found], TurnWrite | None]
    postings_shown: int


def turn_plan(ask: TurnAsk[C], *, lock_rows: bool) -> Plan[TurnOutcome | None]:
    """A plain turn, or None with nothing written.

    `route`: the town of the turn among all towns (None: not plain); `classify`: whether
    the conversation and the message make a plain turn, and whom to look up;
    `decide`: the new state and the replies (None: not plain after all).
    `lock_rows`: lock the conversation row until commit (PostgreSQL)."""
    channel, address, now = ask.channel, ask.address, ask.now
    message_id = ask.message_id[:64] if ask.message_id else None
    towns = [TownRow(row[0], row[1], row[2], row[3], bool(row[4])) for row in (yield _TOWNS, ())]
    town = ask.route(towns)
    if town is None:
        return None
    sql = _CONVERSATION + (" FOR UPDATE" if lock_rows else "")
    rows = yield sql, (channel, address, town.id)
    if not rows:
        return None  # a first message: the general path creates the conversation
    row = rows[0]
    conversation = ConversationRow(
        row[0], row[1], row[2], row[3], row[4], _json(row[5]), bool(row[6])
    )
    lookup = ask.classify(town, conversation)
    if lookup is None:
        return None
    holder = None
    if lookup.citizen_phone or lookup.citizen_chat or lookup.delegate_phone:
        holder = yield from _holder(town.id, lookup, ask.postings_shown)
    shops: list[MemberShopRow] = []
    if lookup.shops or (lookup.shops_if_nobody and holder is None):
        rows = yield _SHOPS, (channel, address, town.id)
        shops = [MemberShopRow(row[0], row[1], row[2], row[3]) for row in rows]
    waiting = False
    if lookup.waiting_chat and not shops:
        rows = yield (
            _WAITING,
            (town.id, lookup.waiting_chat, ChargeStatus.PENDING.value, _CARD_PIN),
        )
        ends = [utc(row[0]) for row in rows]
        waiting = any(end is not None and end > now for end in ends)
    write = ask.decide(lookup.context, Found(holder, shops, waiting))
    if write is None:
        return None
    if message_id:
        # The dedupe: a message id recorded already (a provider's retry, or a concurrent
        # delivery that won) inserts nothing, and nothing else is written.
        first = yield _FIRST_DELIVERY, (channel, message_id, now)
        if not first:
            return TurnOutcome(duplicate=True)
    yield (
        _SAVE,
        (
            write.municipality_id,
            write.language,
            write.flow,
            write.step,
            write.data,
            write.stopped,
            now,
            conversation.id,
        ),
    )
    ids: list[int] = []
    for values in write.outbox:
        inserted = yield _OUTBOX, tuple(values[column] for column in _OUTBOX_COLUMNS)
        ids.append(int(inserted[0][0]))
    payments = any(values["lane"] == _PAYMENT_LANE for values in write.outbox)
    return TurnOutcome(duplicate=False, outbox_ids=ids, payments=payments)


def _holder(municipality_id: int, lookup: Lookup[Any], postings_shown: int) -> Plan[Holder | None]:
    """The citizen the sender is (by phone or chat), else the one they are the delegate of:
    an erased citizen is nobody's any more."""
    kind = _CITIZEN_ACCOUNT
    found: Sequence[Any] | None = None
    by_delegate = False
    if lookup.citizen_phone:
        rows = yield _CITIZEN_BY_PHONE, (kind, municipality_id, lookup.citizen_phone)
        found = rows[0] if rows else None
    elif lookup.citizen_chat:
        rows = yield _CITIZEN_BY_CHAT, (kind, municipality_id, lookup.citizen_chat)
        found = rows[0] if rows else None
    if found is not None and found[2] is not None:
        found = None
    if found is None and lookup.delegate_phone:
        rows = yield _REPRESENTED, (kind, municipality_id, lookup.delegate_phone)
        found = rows[0] if rows and rows[0][2] is None else None
        by_delegate = found is not None
    if found is None:
        return None
    citizen_id, codice_fiscale, _, account_id, balance = found
    postings: list[PostingRow] = []
    if account_id is not None and postings_shown > 0:
        rows = yield _POSTINGS, (account_id, account_id, postings_shown)
        for _, kind_, amount, at, shop_name, charge_id, to_account in rows:
            when = utc(at)
            assert when is not None
            sign = 1 if to_account == account_id else -1
            postings.append(PostingRow(kind_, sign * int(amount), when, shop_name, charge_id))
    return Holder(
        citizen_id,
        codice_fiscale,
        by_delegate,
        int(balance or 0),
        postings,
    )


def turn_transaction(ask: TurnAsk[C]) -> Callable[[sqlite3.Connection], TurnOutcome | None]:
    """`turn_plan` as a transaction for SQLite's group commit (core/storage/group_commit)."""

    def transaction(connection: sqlite3.Connection) -> TurnOutcome | None:
        plan = turn_plan(ask, lock_rows=False)
        return drive_sqlite(connection, plan)

    return transaction

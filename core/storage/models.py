"""Tables. Every record belongs to one municipality (directly or through its parent)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.domain.charges import ChargeStatus
from core.domain.outbox import OutboxStatus
from core.domain.shops import ShopStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


def _id() -> Mapped[int]:
    return mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


def _fk(target: str, nullable: bool = False, index: bool = True) -> Mapped[Any]:
    return mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey(target, ondelete="RESTRICT"),
        nullable=nullable,
        index=index,
    )


class ServerSecret(Base):
    """One row, written by the first start: the fingerprint (ServerKeys.fingerprint, never
    the secret) of the server secret this database was set up with. Card grids, pending
    codes and cashier codes are hashed under that secret: a start with another one is
    refused (core/bootstrap.py) instead of silently making them all invalid."""

    __tablename__ = "server_secret"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class Municipality(Base):
    __tablename__ = "municipalities"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    policy_toml: Mapped[str] = mapped_column(Text)
    sms_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    created_at: Mapped[datetime]
    # The municipality's privacy notice (GDPR art. 13), linked from the application's consent.
    privacy_url: Mapped[str | None] = mapped_column(String(300), default=None)
    # How citizens reach the social-services office (a phone, hours, where): UFFICIO says it.
    office_contact: Mapped[str | None] = mapped_column(String(100), default=None)
    # Community vouchers and donations from the chat (`admin municipality community`).
    community_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class Round(Base):
    """An application window: one application per household per round."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("municipality_id", "number"),)
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    number: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]


class Citizen(Base):
    """A codice fiscale within a municipality, bound to at most one proven phone number and
    at most one Telegram user; each of those belongs to at most one citizen of the
    municipality (docs/identity-and-consent.md). Only core.services.identity binds them."""

    __tablename__ = "citizens"
    __table_args__ = (
        UniqueConstraint("municipality_id", "codice_fiscale"),
        Index("uq_citizens_phone", "municipality_id", "phone", unique=True),
        Index("uq_citizens_telegram", "municipality_id", "telegram_chat_id", unique=True),
        # A card is bound only to a request asked for its own holder: the request's id
        # with the citizen's (phone_changes' uq_phone_changes_id_citizen). On SQLite, which
        # cannot add a table constraint to citizens in place, migration 0030 holds the same
        # rule with a column reference and triggers (docs/cards-and-delegates.md).
        ForeignKeyConstraint(
            ["card_change_id", "id"],
            ["phone_changes.id", "phone_changes.citizen_id"],
            ondelete="RESTRICT",
            use_alter=True,
        ),
    )
    # autoincrement said: `id` is in a foreign key too (the one above), which would
    # otherwise make SQLAlchemy expect it given.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    municipality_id: Mapped[int] = _fk("municipalities.id")
    # After erasure this holds a pseudonym, never the real code.
    codice_fiscale: Mapped[str] = mapped_column(String(64))
    # The proven phone (E.164), how it was proven (sms_code, telegram_contact, office), when.
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    phone_proven_by: Mapped[str | None] = mapped_column(String(16))
    phone_proven_at: Mapped[datetime | None]
    # The Telegram user: in a private chat the chat id is the user id.
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="it")
    card_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]
    # A printed card with a PIN (for people without a phone): the PIN is stored like a
    # payment code (salted hash). Wrong PINs are wrong codes of the shop in security_events
    # (naming the card); too many at several shops block the card until the office issues
    # a new one (new number and PIN).
    card_pin_salt: Mapped[str | None] = mapped_column(String(32))
    card_pin_hash: Mapped[str | None] = mapped_column(String(64))
    card_issued_at: Mapped[datetime | None]
    card_blocked_at: Mapped[datetime | None]
    # The approved card request (phone_changes, kind card) this card was printed for; None
    # for a card issued without one (nothing at stake, or before migration 0030).
    card_change_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class Delegate(Base):
    """A phone the office registered to act for a citizen (a relative, a caregiver).

    Payment codes and receipts go to it, and it may ask the citizen's balance. One
    delegate per citizen, and a phone is the delegate of at most one citizen of a
    municipality, so that a message from it names one person only."""

    __tablename__ = "delegates"
    __table_args__ = (
        UniqueConstraint("municipality_id", "phone"),
        UniqueConstraint("citizen_id"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    citizen_id: Mapped[int] = _fk("citizens.id", index=False)
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class IdentityEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): each binding of a phone or
    a Telegram user, each refused takeover and each rebinding by the office, with who did
    it and when. Phones appear masked (the last three digits): the log outlives erasure."""

    __tablename__ = "identity_events"
    __table_args__ = (Index("ix_identity_events_citizen", "citizen_id", "kind", "created_at"),)
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    citizen_id: Mapped[int] = _fk("citizens.id", index=False)
    kind: Mapped[str] = mapped_column(String(32))
    proof: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16))
    previous_phone: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Application(Base):
    """A household's application in one round, as stored: the answers of an
    `ApplicationInput` plus who (citizen), when (round, dates) and its protocol."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("round_id", "citizen_id"),
        # Withdrawn by the office (a paper application): always with its reason.
        CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawal_reason IS NULL)", name="withdrawal_has_reason"
        ),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    round_id: Mapped[int] = _fk("rounds.id")
    citizen_id: Mapped[int] = _fk("citizens.id")
    protocol: Mapped[str] = mapped_column(String(32), unique=True)
    household_size: Mapped[int] = mapped_column(Integer)
    has_work_income: Mapped[bool] = mapped_column(Boolean)
    has_pension: Mapped[bool] = mapped_column(Boolean)
    liquidity_cents: Mapped[int] = mapped_column(BigInteger)
    public_support_monthly_cents: Mapped[int] = mapped_column(BigInteger)
    rent_monthly_cents: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    recover_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(300))
    # When the decision of a tranche that paid it nothing (excluded, or no money left) was
    # notified: set once, by the first such credit run; its appeal window starts here.
    decision_notified_at: Mapped[datetime | None]


class Allocation(Base):
    """An approved allocation (the determina) of one tranche."""

    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("round_id", "tranche"),
        # What economie freed of the budget (0044): never below zero nor above the budget;
        # the service's guarded UPDATE keeps it within the unassigned rest.
        CheckConstraint("freed_cents >= 0 AND freed_cents <= budget_cents", name="freed"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    round_id: Mapped[int] = _fk("rounds.id")
    tranche: Mapped[int] = mapped_column(Integer)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    approved_at: Mapped[datetime]
    # Set once, by the one credit run that wins the compare-and-set on this row.
    credited_at: Mapped[datetime | None]
    # A mistaken determina withdrawn before its credit: kept, with who withdrew it and when.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    # The unassigned rest (budget − allocated) the town's economie gave back to the fund:
    # what the determina no longer commits (core.services.economia).
    freed_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AllocationLine(Base):
    __tablename__ = "allocation_lines"
    __table_args__ = (UniqueConstraint("allocation_id", "application_id"),)
    id: Mapped[int] = _id()
    allocation_id: Mapped[int] = _fk("allocations.id")
    application_id: Mapped[int] = _fk("applications.id")
    assignment: Mapped[str] = mapped_column(String(16))
    score_text: Mapped[str] = mapped_column(String(32), default="")
    exclusion_reason: Mapped[str | None] = mapped_column(String(32))
    full_amount_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class Account(Base):
    """A ledger account. balance_cents is a running total kept in the same transaction as
    each posting, so that a guarded UPDATE can refuse an overdraft atomically; the ledger
    check (services.ledger.verify) proves it equals the sum of postings."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("municipality_id", "kind", "owner_id", name="uq_accounts_owner"),
        # Below zero only the fund and the provider, which the ledger spends down
        # (core.domain.ledger.may_go_negative; migration 0050).
        CheckConstraint(
            "balance_cents >= 0 OR kind IN ('fund', 'provider')", name="balance_not_negative"
        ),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class Posting(Base):
    """Append-only: never updated, never deleted. A reversal is a new posting."""

    __tablename__ = "postings"
    # An allocation line is credited by one posting at most, whatever runs at the same time;
    # a charge is paid once and refunded once (migration 0048), whatever writes it.
    __table_args__ = (
        Index("uq_postings_allocation_line", "allocation_line_id", unique=True),
        Index(
            "uq_postings_charge_kind",
            "charge_id",
            "kind",
            unique=True,
            sqlite_where=text("charge_id IS NOT NULL AND kind IN ('payment', 'refund')"),
            postgresql_where=text("charge_id IS NOT NULL AND kind IN ('payment', 'refund')"),
        ),
        # Every amount is positive, its direction the accounts' (migration 0049).
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    kind: Mapped[str] = mapped_column(String(16))
    from_account_id: Mapped[int] = _fk("accounts.id")
    to_account_id: Mapped[int] = _fk("accounts.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    charge_id: Mapped[int | None] = _fk("charges.id", nullable=True)
    allocation_id: Mapped[int | None] = _fk("allocations.id", nullable=True)
    allocation_line_id: Mapped[int | None] = _fk("allocation_lines.id", nullable=True, index=False)
    settlement_id: Mapped[int | None] = _fk("settlements.id", nullable=True)


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(String(300))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    iban: Mapped[str] = mapped_column(String(34))
    status: Mapped[str] = mapped_column(String(16), default=ShopStatus.PENDING.value)
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    # Locked for a while after wrong payment codes (see SecurityEvent)...
    locked_until: Mapped[datetime | None]
    # ...or until the office unlocks it (`admin shops unlock`).
    blocked_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(String(300))
    # Community vouchers: sold only while on, for amounts between the limits (cents).
    vouchers_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    voucher_min_cents: Mapped[int] = mapped_column(BigInteger, default=500, server_default="500")
    voucher_max_cents: Mapped[int] = mapped_column(
        BigInteger, default=10_000, server_default="10000"
    )
    # The shop's last receipt number: each payment confirmed raises it by one, in its
    # transaction (core/storage/payment_trip.py), so receipts count per shop.
    last_receipt: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ShopMember(Base):
    """Who may act for a shop: the owner and cashiers, each a chat address."""

    __tablename__ = "shop_members"
    __table_args__ = (UniqueConstraint("channel", "address", "shop_id"),)
    id: Mapped[int] = _id()
    shop_id: Mapped[int] = _fk("shops.id")
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # On Telegram: the member's own phone (E.164), from the contact they shared, so that a
    # code for one of the shop's customers never goes to it (migration 0040). None on
    # channels addressed by a phone, and for a Telegram member who has not shared it yet.
    phone: Mapped[str | None] = mapped_column(String(32), index=True)


class ShopInvite(Base):
    __tablename__ = "shop_invites"
    id: Mapped[int] = _id()
    shop_id: Mapped[int] = _fk("shops.id")
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (
        Index("uq_charges_shop_receipt", "shop_id", "receipt_number", unique=True),
        # What the shop asks, positive; a refund is a posting back (migration 0049).
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    shop_id: Mapped[int] = _fk("shops.id")
    citizen_id: Mapped[int] = _fk("citizens.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=ChargeStatus.PENDING.value)
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    # "code": a one-time code sent to the citizen (or their delegate); "card_pin": the PIN
    # printed on the citizen's card, checked against the card (no code is sent).
    consent: Mapped[str] = mapped_column(String(16), default="code", server_default="code")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    # The receipt's number, counted per shop (shops.last_receipt), set when the payment
    # is confirmed; receipts made before migration 0026 keep their number, the charge id.
    receipt_number: Mapped[int | None] = mapped_column(BigInteger)
    closed_reason: Mapped[str | None] = mapped_column(String(32))
    refunded_at: Mapped[datetime | None]
    # A card payment with a grid of one-time codes (CardCode): the position the server drew
    # among the unused ones when the shop asked; only the code at this position confirms
    # it. None for every other payment, and for a card printed before the grids (its PIN).
    card_code_position: Mapped[int | None] = mapped_column(Integer)


class CardCode(Base):
    """One cell of the grid of one-time codes printed with a card (core.domain.cards): the
    holder types the code at the position the till asks, once. Stored like a payment code
    (salted, keyed hash). `used_at` is set by a guarded UPDATE in the transaction of the
    payment, so a code confirms at most one; a reissued card voids its grid (`voided_at`).
    """

    __tablename__ = "card_codes"
    __table_args__ = (
        Index("uq_card_codes_position", "citizen_id", "card_code", "position", unique=True),
        CheckConstraint("position >= 1", name="position_positive"),
    )
    id: Mapped[int] = _id()
    citizen_id: Mapped[int] = _fk("citizens.id", index=False)
    # The card number the grid was printed with (citizens.card_code when it was issued).
    card_code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The payment the code confirmed.
    charge_id: Mapped[int | None] = _fk("charges.id", nullable=True, index=False)
    voided_at: Mapped[datetime | None]


class SecurityEvent(Base):
    """What rate limits count, with its time: a wrong payment code against a shop, a lookup
    that found nobody, a confirmation code sent to a number, a wrong cashier code typed in
    a chat, an office unlock of a shop (`detail`: who). Kept 30 days at most, but for the
    unlocks and a customer's "not me" refusal of a payment (`charge_id`, `detail`: the
    till that asked it), the office's records.

    A confirmation code sent (`detail`: the request it confirms) keeps its salted hash, the
    wrong tries typed against it, when the right code came back (`proven_at`), and
    `code_content`, a keyed digest of what it was sent to confirm (the answers of an
    application, an appeal's reason): a proven code no longer counts against the number,
    and a code confirms nothing else than its content (core.services.security).

    A code a cashier's refund sends the customer also keeps the payment (`charge_id`), the
    chat that asked it (`asked_by`, "channel:address") and, once that request became void
    otherwise than by the customer's code, why (`voided`): the customer is told, and the
    code typed later is answered as void (core.services.charges)."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_shop", "kind", "shop_id", "created_at"),
        Index("ix_security_events_address", "kind", "channel", "address", "created_at"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int | None] = _fk("municipalities.id", nullable=True, index=False)
    kind: Mapped[str] = mapped_column(String(24))
    shop_id: Mapped[int | None] = _fk("shops.id", nullable=True, index=False)
    charge_id: Mapped[int | None] = _fk("charges.id", nullable=True, index=False)
    channel: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    code_salt: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_content: Mapped[str | None] = mapped_column(String(64))
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    proven_at: Mapped[datetime | None]
    asked_by: Mapped[str | None] = mapped_column(String(100))
    voided: Mapped[str | None] = mapped_column(String(24))


class Settlement(Base):
    """One reimbursement run: shop -> settled postings and the SEPA file that pays them."""

    __tablename__ = "settlements"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    created_at: Mapped[datetime]
    total_cents: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    # The day the bank is asked to pay (the file's ReqdExctnDt); None for runs made before
    # it was kept. Nothing here says the money arrived.
    execution_date: Mapped[date | None] = mapped_column(Date)
    # The pain.001 file the run produced, kept so the office can download it again whoever
    # ordered the run (an approved act or the command line); None for command-line runs
    # made before it was kept.
    document: Mapped[bytes | None] = mapped_column(LargeBinary)


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_claim", "channel", "status", "lane", "next_attempt_at"),
        Index(
            "ix_outbox_application",
            "application_id",
            sqlite_where=text("application_id IS NOT NULL"),
            postgresql_where=text("application_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int | None] = _fk("municipalities.id", nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    charge_id: Mapped[int | None] = _fk("charges.id", nullable=True)
    # Claimed in this order (core/services/outbox.py): 0 about a payment, 1 an answer to a
    # message just received, 2 a notice the service sends on its own.
    lane: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    # After this the message is no longer worth sending (a code: when it expires); None:
    # the worker's notice lifetime from created_at.
    deliver_by: Mapped[datetime | None]
    # A decision notice: the application whose decision it reports (no foreign key: the
    # outbox stays a queue any row of which can be written in bulk).
    application_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class Conversation(Base):
    """Where a chat stands: survives restarts and is shared by every server process."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address", "municipality_id"),)
    id: Mapped[int] = _id()
    municipality_id: Mapped[int | None] = _fk("municipalities.id", nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="it")
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class InboundMessage(Base):
    """Provider message ids already handled: a retried webhook is processed once."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)
    id: Mapped[int] = _id()
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]


class Counter(Base):
    __tablename__ = "counters"
    municipality_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("municipalities.id"),
        primary_key=True,
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditSample(Base):
    __tablename__ = "audit_samples"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    round_id: Mapped[int] = _fk("rounds.id")
    seed: Mapped[int] = mapped_column(BigInteger)
    percent: Mapped[float] = mapped_column(Float)
    protocols: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class AuditCheck(Base):
    """The outcome of checking one sampled application's declaration: confirmed, or a
    discrepancy found, with a note. One per application (corrected in place; the activity
    log keeps every version)."""

    __tablename__ = "audit_checks"
    __table_args__ = (
        UniqueConstraint("application_id"),
        CheckConstraint("outcome IN ('confirmed', 'discrepancy')", name="outcome"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    application_id: Mapped[int] = _fk("applications.id", index=False)
    sample_id: Mapped[int] = _fk("audit_samples.id", index=False)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(300), default="")
    checked_by: Mapped[str] = mapped_column(String(100))
    operator_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    checked_at: Mapped[datetime]


class Revocation(Base):
    """One revocation of an application: what went back to the fund, what is to recover,
    and, when it was a mistake, its undoing (never more back to the citizen than was
    returned: CHECK restored_le_returned). At most one standing (not undone) revocation per
    application (partial unique index)."""

    __tablename__ = "revocations"
    __table_args__ = (
        Index(
            "uq_revocations_standing",
            "application_id",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
        CheckConstraint("returned_cents >= 0 AND recover_cents >= 0", name="amounts"),
        CheckConstraint(
            "(undone_at IS NULL AND restored_cents IS NULL) "
            "OR (undone_at IS NOT NULL AND restored_cents IS NOT NULL "
            "AND restored_cents >= 0 AND restored_cents <= returned_cents)",
            name="restored_le_returned",
        ),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    application_id: Mapped[int] = _fk("applications.id", index=False)
    revoked_at: Mapped[datetime]
    returned_cents: Mapped[int] = mapped_column(BigInteger)
    recover_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(300))
    act_id: Mapped[int | None] = _fk("office_acts.id", nullable=True, index=False)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(100))
    undo_reason: Mapped[str | None] = mapped_column(String(300))
    undo_act_id: Mapped[int | None] = _fk("office_acts.id", nullable=True, index=False)
    restored_cents: Mapped[int | None] = mapped_column(BigInteger)


class Appeal(Base):
    """A citizen's request (ricorso) that the office review the decision on their
    application, written in the chat; the office upholds or rejects it with a reason. One
    open appeal per application (partial unique index)."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index(
            "uq_appeals_open",
            "application_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status"),
        CheckConstraint(
            "status = 'open' OR (decided_at IS NOT NULL AND decision_reason IS NOT NULL "
            "AND decided_by IS NOT NULL)",
            name="decided",
        ),
        # Only an upheld appeal's application may have its answers corrected on appeal.
        CheckConstraint("corrected_at IS NULL OR status = 'upheld'", name="corrected_upheld"),
        Index("ix_appeals_queue", "municipality_id", "status"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    application_id: Mapped[int] = _fk("applications.id", index=False)
    citizen_id: Mapped[int] = _fk("citizens.id", index=False)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    # When the decision appealed was notified (the credit or the revocation).
    decision_at: Mapped[datetime]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    operator_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(300))
    # When the answers of the application were last corrected on this (upheld) appeal.
    corrected_at: Mapped[datetime | None]


class Operator(Base):
    """A person of the office who signs in to the back-office (docs/office.md).

    Roles: clerk (prepares), manager (approves what moves money), viewer (reads, never a
    full codice fiscale or phone). The password is an argon2 hash; failed sign-ins in a row
    from browsers without the operator's device cookie are counted here and lock those
    browsers out for a while (core.services.operators; known browsers: OperatorDevice)."""

    __tablename__ = "operators"
    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint("role IN ('clerk', 'manager', 'viewer')", name="role"),
        CheckConstraint("failed_sign_ins >= 0", name="failed_sign_ins"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class OperatorDevice(Base):
    """Wrong passwords typed in a browser that holds a valid device cookie of the operator
    (core.domain.device_cookies), counted for that cookie's nonce alone: five in a row lock
    that browser, not the account. The row goes at the browser's next successful sign-in
    (its cookie gets a new nonce) or when the office unlocks the operator."""

    __tablename__ = "operator_devices"
    __table_args__ = (
        UniqueConstraint("operator_id", "nonce"),
        CheckConstraint("failed_sign_ins >= 0", name="failed_sign_ins"),
    )
    id: Mapped[int] = _id()
    operator_id: Mapped[int] = _fk("operators.id", index=False)
    nonce: Mapped[str] = mapped_column(String(64))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]


class OperatorSession(Base):
    """A signed-in browser of an operator (core.services.office_sessions). The browser's
    session cookie holds a random token; only its SHA-256 is kept here, so a copy of this
    table signs nobody in. Written at sign-in; deleted at sign-out, when the operator
    changes the password or is disabled, and once expired: `idle_until` (moved on while
    the operator uses the office) or `expires_at` (the absolute lifetime) has passed. A
    cookie whose row is gone signs nobody in, however long the cookie itself lasts."""

    __tablename__ = "operator_sessions"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        CheckConstraint("expires_at > created_at", name="lifetime"),
        CheckConstraint("idle_until <= expires_at", name="idle_within_lifetime"),
    )
    id: Mapped[int] = _id()
    # CASCADE: a session is no record; an operator row deleted takes its sessions along.
    operator_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("operators.id", ondelete="CASCADE"),
        index=True,
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    idle_until: Mapped[datetime]
    expires_at: Mapped[datetime]


class ActivityEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): what an operator did, when,
    to what, with the values before and after. Nobody edits it, not even a manager."""

    __tablename__ = "office_activity"
    __table_args__ = (
        Index("ix_office_activity_when", "municipality_id", "created_at"),
        # An application's history: the entries about one subject, newest first.
        Index("ix_office_activity_subject", "municipality_id", "subject", "id"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    operator_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    # The username (or "cli"): kept as text so that the entry reads the same forever.
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(100), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class OfficeAct(Base):
    """An act that moves money, prepared by one operator and approved by another (four
    eyes): the determina of a tranche, its credit, a reimbursement run, a revocation, its
    undoing, the correction of an application on an upheld appeal. The CHECK makes the
    rule hold whatever writes the row."""

    __tablename__ = "office_acts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('determina', 'credit', 'reimbursement', 'revocation', 'revocation_undo', "
            "'appeal_correction', 'economia')",
            name="kind",
        ),
        CheckConstraint("status IN ('prepared', 'approved', 'withdrawn')", name="status"),
        CheckConstraint(
            "status <> 'approved' "
            "OR (decided_by_id IS NOT NULL AND decided_by_id <> prepared_by_id)",
            name="four_eyes",
        ),
        Index("ix_office_acts_open", "municipality_id", "status"),
        # One open draft per kind, per application for the acts about one (0037): two
        # drafts prepared at once would let two approvals move the same money twice.
        Index(
            "uq_office_acts_open",
            "municipality_id",
            "kind",
            "protocol",
            unique=True,
            sqlite_where=text("status = 'prepared'"),
            postgresql_where=text("status = 'prepared'"),
        ),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    kind: Mapped[str] = mapped_column(String(24))
    # The protocol of the application an act is about (a revocation, its undoing, an
    # appeal's correction; as in params), "" for the town's acts: the open-draft key.
    protocol: Mapped[str] = mapped_column(String(32), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="prepared")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    prepared_by_id: Mapped[int] = _fk("operators.id", index=False)
    prepared_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    decided_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The SEPA file of an approved reimbursement, to download again later.
    document: Mapped[bytes | None] = mapped_column(LargeBinary)


class FundEntry(Base):
    """Money the town received for its vouchers (the State's fund, its own money), or the
    correction of such an entry: a negative amount that names the entry it corrects. Rows
    are only ever inserted (triggers refuse UPDATE and DELETE): a mistake is corrected by a
    new entry, never by an edit. core.domain.fund says what a determina may commit of it."""

    __tablename__ = "fund_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # A receipt is positive; a correction is negative and names the entry it corrects.
        CheckConstraint(
            "(corrects_id IS NULL AND amount_cents > 0) "
            "OR (corrects_id IS NOT NULL AND amount_cents < 0)",
            name="correction_negative",
        ),
        CheckConstraint("corrects_id IS NULL OR corrects_id <> id", name="not_itself"),
        CheckConstraint("length(trim(description)) > 0", name="description"),
        CheckConstraint("length(trim(recorded_by)) > 0", name="recorded_by"),
        Index("ix_fund_entries_town", "municipality_id", "id"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # Where the money comes from, or why the correction: as the office wrote it.
    description: Mapped[str] = mapped_column(String(200))
    # The day the money was received (or assigned), as on the town's accounts.
    received_on: Mapped[date] = mapped_column(Date)
    corrects_id: Mapped[int | None] = _fk("fund_entries.id", nullable=True)
    # The operator of the office page; None from the command line (recorded_by names them).
    operator_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


class Economia(Base):
    """An economia: the town's act (its reference and day) that frees part or all of a
    credited determina's unassigned rest (budget − allocated − already freed), which goes
    back to the fund. Recorded when a manager approves the office's act (`act_id`), in the
    transaction of the guarded UPDATE of allocations.freed_cents. Append-only, as the
    fund's entries (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "economie"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("length(trim(reference)) > 0", name="reference"),
        CheckConstraint("length(trim(recorded_by)) > 0", name="recorded_by"),
        Index("ix_economie_town", "municipality_id", "id"),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    allocation_id: Mapped[int] = _fk("allocations.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # The town's act that frees it, as the office wrote it ("det. n. 123/2026"), and its day.
    reference: Mapped[str] = mapped_column(String(100))
    act_on: Mapped[date] = mapped_column(Date)
    act_id: Mapped[int | None] = _fk("office_acts.id", nullable=True, index=False)
    operator_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


class PhoneChange(Base):
    """An act about who receives a citizen's payment codes, asked by one operator (or, for a
    first phone, by the citizen's Telegram chat that proved it: `requested_by_chat`) and
    waiting for a second (four eyes): a new phone (`kind` phone, for a citizen who has
    money to spend), a delegate (`delegate`), a card with a PIN (`card`, a first one or a
    replacement: `reissue`). The phone and the delegate decide who receives the codes; the
    card's PIN is the consent itself.

    The CHECKs hold the rule whatever writes the row: an approved request has an approver
    who is not its requester; the full number (new phone, delegate) is kept only while the
    request waits (afterwards only its masked form), so a decided row needs no erasure; a
    card request names no number, and is handed over (its PIN printed, once) only after
    its approval. One request of each kind waits per citizen, an approved card not yet
    printed included (partial unique index). An approved card not printed before
    `print_by` expires (`status` expired): it is never printed, and a new request may be
    asked."""

    __tablename__ = "phone_changes"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'approved', 'withdrawn', 'expired')", name="status"),
        CheckConstraint("kind IN ('phone', 'delegate', 'card')", name="kind"),
        # An approved request has an operator requester (who asked it, or who checked a
        # chat's number) and another operator approved it (migration
        # 0047_chat_requests_four_eyes: a chat is no pair of eyes).
        CheckConstraint(
            "status <> 'approved' OR (decided_by_id IS NOT NULL "
            "AND requested_by_id IS NOT NULL AND decided_by_id <> requested_by_id)",
            name="four_eyes",
        ),
        # A requester: an operator, the citizen's Telegram chat (a first number its own
        # contact proved: core.services.identity.FirstNumberNeedsOffice), or both (the
        # chat's number an operator checked: phone_changes.check_chat_request); a chat asks
        # only for a phone.
        CheckConstraint(
            "(requested_by_id IS NOT NULL OR requested_by_chat IS NOT NULL) "
            "AND (requested_by_chat IS NULL OR kind = 'phone')",
            name="requester",
        ),
        CheckConstraint(
            "(status = 'waiting' AND decided_at IS NULL "
            "AND (phone IS NOT NULL OR kind = 'card')) "
            "OR (status <> 'waiting' AND phone IS NULL AND decided_at IS NOT NULL)",
            name="phone_while_waiting",
        ),
        CheckConstraint(
            "(kind = 'card' AND phone IS NULL AND phone_masked IS NULL) "
            "OR (kind <> 'card' AND phone_masked IS NOT NULL AND NOT reissue)",
            name="card_without_phone",
        ),
        CheckConstraint(
            "(handed_at IS NULL AND handed_by_id IS NULL) "
            "OR (handed_at IS NOT NULL AND handed_by_id IS NOT NULL "
            "AND kind = 'card' AND status = 'approved')",
            name="handed_when_approved",
        ),
        # An approved card is printed by its deadline or not at all; only such a card
        # expires (and keeps its deadline).
        CheckConstraint(
            "(print_by IS NULL AND status <> 'expired' "
            "AND (kind <> 'card' OR status <> 'approved')) "
            "OR (print_by IS NOT NULL AND kind = 'card' "
            "AND (status = 'withdrawn' OR (status = 'expired' AND handed_at IS NULL) "
            "OR (status = 'approved' AND (handed_at IS NULL OR handed_at < print_by))))",
            name="printed_in_time",
        ),
        Index("ix_phone_changes_queue", "municipality_id", "status"),
        # The key citizens.card_change_id refers to with the citizen's own id: a card is
        # bound only to a request of its holder (fk_citizens_card_change_phone_changes).
        Index("uq_phone_changes_id_citizen", "id", "citizen_id", unique=True),
    )
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id", index=False)
    citizen_id: Mapped[int] = _fk("citizens.id", index=False)
    kind: Mapped[str] = mapped_column(String(16), default="phone", server_default="phone")
    # The protocol of the application the change was asked from (or the citizen's latest):
    # the application's history shows the change.
    subject: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    previous_masked: Mapped[str | None] = mapped_column(String(16))
    # A card request replaces the card the citizen holds (the old one stops working).
    reissue: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    # Who asked: an operator, or (a new phone only) the Telegram chat linked to the citizen
    # that proved the number with its own contact (CHECK one_requester).
    requested_by_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    requested_by_chat: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(300))
    # An approved card: who printed it (its PIN, once) and when; the card exists from then.
    handed_by_id: Mapped[int | None] = _fk("operators.id", nullable=True, index=False)
    handed_at: Mapped[datetime | None]
    # An approved card: printed before this moment (its approval and CARD_PRINT_DAYS of
    # core.services.cards), or it expires (`status` expired) and a new one is asked.
    print_by: Mapped[datetime | None]


# What an erased citizen's requests asked by their Telegram chat keep in requested_by_chat:
# that a chat asked, not which (privacy.erase_citizen).
ERASED_CHAT = "erased"

# A request of phone_changes still to be acted on: waiting for its approval, or an approved
# card not yet printed. One of each kind per citizen (uq_phone_changes_waiting). One
# expression, for the index and for the queries (core.storage.office_repositories): the
# database refuses exactly what the services look for. In a WHERE beside other conditions
# SQLAlchemy keeps its OR in parentheses.
PENDING_REQUEST: ColumnElement[bool] = or_(
    PhoneChange.status == "waiting",
    and_(
        PhoneChange.kind == "card",
        PhoneChange.status == "approved",
        PhoneChange.handed_at.is_(None),
    ),
)
# A request waiting for its approval; the only one that holds a full number (CHECK
# phone_while_waiting). One waiting request names a number in a municipality
# (uq_phone_changes_waiting_phone), whichever household and kind (a new phone, a delegate).
WAITING_REQUEST: ColumnElement[bool] = PhoneChange.status == "waiting"

Index(
    "uq_phone_changes_waiting",
    PhoneChange.citizen_id,
    PhoneChange.kind,
    unique=True,
    sqlite_where=PENDING_REQUEST,
    postgresql_where=PENDING_REQUEST,
)
Index(
    "uq_phone_changes_waiting_phone",
    PhoneChange.municipality_id,
    PhoneChange.phone,
    unique=True,
    sqlite_where=WAITING_REQUEST,
    postgresql_where=WAITING_REQUEST,
)


class ProviderPayment(Base):
    """Money in through the payment provider (Telegram Payments): a voucher or a donation.

    Written only when the provider reports the payment done; the unique charge id makes a
    report delivered twice record one payment. The provider's references are kept for
    reconciliation with its statements, and a refund's reference when the shop refunds."""

    __tablename__ = "provider_payments"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    purpose: Mapped[str] = mapped_column(String(16))
    shop_id: Mapped[int | None] = _fk("shops.id", nullable=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    telegram_payment_charge_id: Mapped[str] = mapped_column(String(128), unique=True)
    provider_payment_charge_id: Mapped[str] = mapped_column(String(128))
    payer_channel: Mapped[str] = mapped_column(String(16))
    payer_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    posting_id: Mapped[int | None] = _fk("postings.id", nullable=True, index=False)
    refunded_at: Mapped[datetime | None]
    refund_reference: Mapped[str | None] = mapped_column(String(128))


class Voucher(Base):
    """A bought voucher: its balance is the ledger account (voucher, id), usable at one shop.
    The holder is the buyer's chat until it is given to a phone number."""

    __tablename__ = "vouchers"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    shop_id: Mapped[int] = _fk("shops.id")
    payment_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("provider_payments.id", ondelete="RESTRICT"),
        unique=True,
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    holder_channel: Mapped[str] = mapped_column(String(16))
    holder_address: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8), default="it")
    created_at: Mapped[datetime]
    given_at: Mapped[datetime | None]


class VoucherCharge(Base):
    """A shop's charge on a community voucher: pending until the holder's code is typed,
    like a charge on buoni spesa (same code rules, wrong codes count against the shop)."""

    __tablename__ = "voucher_charges"
    id: Mapped[int] = _id()
    municipality_id: Mapped[int] = _fk("municipalities.id")
    shop_id: Mapped[int] = _fk("shops.id")
    voucher_id: Mapped[int] = _fk("vouchers.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(32))
    posting_id: Mapped[int | None] = _fk("postings.id", nullable=True, index=False)

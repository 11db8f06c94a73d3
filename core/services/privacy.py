"""A citizen's rights over their personal data (GDPR art. 15 and 17; docs/allocation.md).

Export gives a person everything the installation holds about them. Erasure removes what
identifies them but keeps the public-spending record: the ledger, the amounts and the
application facts stay (legal retention of how public money was spent), tied to a
pseudonym that nobody, the office included, can turn back into the codice fiscale.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.identity import normalize_codice_fiscale
from core.domain.ledger import AccountKind
from core.domain.outbox import OutboxStatus
from core.services import activity, ledger
from core.services.activity import Actor
from core.services.appeals import appeal_window
from core.services.cards import print_expired
from core.services.identity import new_card_code
from core.services.municipalities import current_round
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

ERASED_PREFIX = "ERASED-"
ERASED_ADDRESS = "erased"
# What an erased outbox message keeps: nothing to say, marked as erased. Still a valid
# Reply document, so any code that reads old rows keeps working.
ERASED_PAYLOAD: dict[str, Any] = {"texts": [], "erased": True}
PENDING = ChargeStatus.PENDING


class ErasureRefused(NotAllowed):
    """Erasure would destroy something still needed. `reason` is one of:
    balance_not_zero, charge_pending, credit_pending, application_in_progress,
    recovery_pending, appeal_open, appeal_period, phone_change_waiting (with the request's
    `kind`: phone, delegate or card, and its `status`: waiting, or approved for a card not
    printed)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(f"privacy.{reason}", **params)
        self.reason = reason


async def _find(uow: UnitOfWork, municipality: m.Municipality, codice_fiscale: str) -> m.Citizen:
    # normalize_codice_fiscale raises InvalidIdentifier on a code that cannot exist.
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality.id, cf)
    if not can_act_on(citizen):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


def _addresses(citizen: m.Citizen) -> list[tuple[str, str]]:
    """The chat addresses that reach this person."""
    found: list[tuple[str, str]] = []
    if citizen.telegram_chat_id:
        found.append((Channel.TELEGRAM, citizen.telegram_chat_id))
    if citizen.phone:
        found.append((Channel.SMS, citizen.phone))
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _conversations(
    uow: UnitOfWork, municipality_id: int, channel: str, address: str
) -> list[m.Conversation]:
    # Conversations and messages from before a Telegram user picked a town belong to none.
    return list(await uow.conversations.of_address(municipality_id, channel, address))


async def _messages(
    uow: UnitOfWork, municipality_id: int, channel: str, address: str
) -> list[m.OutboxMessage]:
    return [
        row
        for row in await uow.outbox.for_address(channel, address)
        if row.municipality_id in (municipality_id, None)
    ]


async def _applications(uow: UnitOfWork, citizen_id: int) -> list[m.Application]:
    return list(await uow.applications.of_citizen(citizen_id))


async def export_citizen(
    uow: UnitOfWork, municipality: m.Municipality, codice_fiscale: str
) -> dict[str, Any]:
    """Everything held about one person, as JSON-serialisable data (amounts in cents).

    Reads only. Payment-code hashes are left out: they are security material, not
    information about the person."""
    citizen = await _find(uow, municipality, codice_fiscale)
    applications = await _applications(uow, citizen.id)
    allocation_lines = []
    for application in applications:
        for line, allocation in await uow.allocations.lines_for_application(application.id):
            allocation_lines.append(
                {
                    "protocol": application.protocol,
                    "tranche": allocation.tranche,
                    "approved_at": _iso(allocation.approved_at),
                    "credited_at": _iso(allocation.credited_at),
                    "withdrawn_at": _iso(allocation.withdrawn_at),
                    "list": line.assignment,
                    "score": line.score_text,
                    "exclusion_reason": line.exclusion_reason,
                    "full_amount_cents": line.full_amount_cents,
                    "amount_cents": line.amount_cents,
                }
            )

    account = await uow.ledger.find(municipality.id, AccountKind.CITIZEN, citizen.id)
    postings: list[dict[str, Any]] = []
    if account is not None:
        for posting in await uow.ledger.postings_of(account.id):
            incoming = posting.to_account_id == account.id
            other = await uow.ledger.account_by_id(
                posting.from_account_id if incoming else posting.to_account_id
            )
            assert other is not None
            postings.append(
                {
                    "id": posting.id,
                    "kind": posting.kind,
                    "direction": "in" if incoming else "out",
                    "amount_cents": posting.amount_cents,
                    "created_at": _iso(posting.created_at),
                    "counterparty": await _describe_account(uow, other),
                }
            )

    charges = []
    for charge in await uow.charges.of_citizen(citizen.id):
        shop = await uow.shops.by_id(charge.shop_id)
        charges.append(
            {
                "id": charge.id,
                "shop": shop.name if shop else None,
                "amount_cents": charge.amount_cents,
                "status": charge.status,
                "created_at": _iso(charge.created_at),
                "expires_at": _iso(charge.expires_at),
                "confirmed_at": _iso(charge.confirmed_at),
                "closed_reason": charge.closed_reason,
                "refunded_at": _iso(charge.refunded_at),
            }
        )

    conversations = []
    messages = []
    for channel, address in _addresses(citizen):
        for conversation in await _conversations(uow, municipality.id, channel, address):
            conversations.append(
                {
                    "channel": conversation.channel,
                    "address": conversation.address,
                    "language": conversation.language,
                    "flow": conversation.flow,
                    "step": conversation.step,
                    "data": conversation.data,
                    "stopped": conversation.stopped,
                    "updated_at": _iso(conversation.updated_at),
                }
            )
        for message in await _messages(uow, municipality.id, channel, address):
            messages.append(
                {
                    "id": message.id,
                    "channel": message.channel,
                    "address": message.address,
                    "language": message.language,
                    "payload": message.payload,
                    "status": message.status,
                    "created_at": _iso(message.created_at),
                    "sent_at": _iso(message.sent_at),
                }
            )

    delegate = await uow.delegates.of_citizen(citizen.id)
    return {
        "municipality": {"code": municipality.code, "name": municipality.name},
        "citizen": {
            "codice_fiscale": citizen.codice_fiscale,
            "phone": citizen.phone,
            "phone_proven_by": citizen.phone_proven_by,
            "phone_proven_at": _iso(citizen.phone_proven_at),
            "telegram_chat_id": citizen.telegram_chat_id,
            "language": citizen.language,
            "card_code": citizen.card_code,
            "card_issued_at": _iso(citizen.card_issued_at),
            "card_blocked_at": _iso(citizen.card_blocked_at),
            "created_at": _iso(citizen.created_at),
            "delegate_phone": delegate.phone if delegate is not None else None,
        },
        "applications": [
            {
                "protocol": a.protocol,
                "source": a.source,
                "household_size": a.household_size,
                "has_work_income": a.has_work_income,
                "has_pension": a.has_pension,
                "liquidity_cents": a.liquidity_cents,
                "public_support_monthly_cents": a.public_support_monthly_cents,
                "rent_monthly_cents": a.rent_monthly_cents,
                "submitted_at": _iso(a.submitted_at),
                "updated_at": _iso(a.updated_at),
                "revoked_at": _iso(a.revoked_at),
                "recover_cents": a.recover_cents,
            }
            for a in applications
        ],
        "allocation_lines": allocation_lines,
        "account": {
            "balance_cents": await ledger.citizen_balance(uow, municipality.id, citizen.id),
            "postings": postings,
        },
        "charges": charges,
        "conversations": conversations,
        "messages": messages,
        "identity_events": [
            {
                "kind": event.kind,
                "proof": event.proof,
                "channel": event.channel,
                "phone": event.phone,
                "previous_phone": event.previous_phone,
                "actor": event.actor,
                "created_at": _iso(event.created_at),
            }
            for event in await uow.identity_events.for_citizen(citizen.id)
        ],
        "appeals": [
            {
                "id": appeal.id,
                "channel": appeal.channel,
                "reason": appeal.reason,
                "created_at": _iso(appeal.created_at),
                "status": appeal.status,
                "decided_at": _iso(appeal.decided_at),
                "decision_reason": appeal.decision_reason,
            }
            for appeal in await uow.appeals.of_citizen(citizen.id)
        ],
    }


async def _describe_account(uow: UnitOfWork, account: m.Account) -> str:
    if account.kind == AccountKind.SHOP.value:
        shop = await uow.shops.by_id(account.owner_id)
        return f"shop: {shop.name}" if shop else "shop"
    return account.kind  # the fund, or "settled"


@dataclass(frozen=True)
class Erasure:
    pseudonym: str
    conversations_deleted: int
    conversations_reset: int  # shared address: kept, but emptied of this person's data
    messages_blanked: int  # outbox rows whose text and address were removed
    messages_withdrawn: int  # of which not yet sent: they will never be


async def _check_erasable(
    uow: UnitOfWork, municipality: m.Municipality, citizen: m.Citizen, now: datetime
) -> None:
    balance = await ledger.citizen_balance(uow, municipality.id, citizen.id)
    if balance != 0:
        # Money on the card belongs to the person: they must spend it, or the office revoke it.
        raise ErasureRefused("balance_not_zero", balance_cents=balance)
    live = 0
    for charge in await uow.charges.pending_for_citizen(citizen.id):
        if charge.expires_at <= now:
            # A code past its expiry can never be used; record that instead of refusing.
            await uow.charges.mark(
                charge.id, PENDING, status=ChargeStatus.EXPIRED, closed_reason="expired"
            )
        else:
            live += 1
    if live:
        raise ErasureRefused("charge_pending", charges=live)
    round_ = await current_round(uow, municipality.id)
    for application in await _applications(uow, citizen.id):
        if application.recover_cents > 0:
            # The municipality still has to claim this sum back from this very person.
            raise ErasureRefused(
                "recovery_pending",
                protocol=application.protocol,
                cents=application.recover_cents,
            )
        if application.revoked_at is not None:
            continue
        lines = await uow.allocations.lines_for_application(application.id)
        if any(
            line.amount_cents > 0 and alloc.credited_at is None and alloc.withdrawn_at is None
            for line, alloc in lines
        ):
            raise ErasureRefused("credit_pending", protocol=application.protocol)
        if not lines and round_ is not None and application.round_id == round_.id:
            raise ErasureRefused("application_in_progress", protocol=application.protocol)
    for appeal in await uow.appeals.of_citizen(citizen.id):
        if appeal.status == "open":  # the office must still answer them
            raise ErasureRefused("appeal_open", appeal_id=appeal.id)
    for change in await uow.phone_changes.pending_for(citizen):
        if print_expired(change, now):
            continue  # an approved card past its deadline is never printed
        # A waiting phone or delegate holds a full number about this person, an approved
        # card waits to be printed for them: decide it first.
        raise ErasureRefused(
            "phone_change_waiting", change_id=change.id, kind=change.kind, status=change.status
        )
    for application in await _applications(uow, citizen.id):
        # The person may still appeal the decision: answering (and correcting) the appeal
        # needs to know who they are. Possible from the day after the last day to appeal.
        window = await appeal_window(uow, municipality, application, now)
        if window.by_day is not None:
            raise ErasureRefused(
                "appeal_period",
                protocol=application.protocol,
                last_day=window.by_day.isoformat(),
                from_day=(window.by_day + timedelta(days=1)).isoformat(),
            )


async def _shared(
    uow: UnitOfWork, municipality_id: int, citizen_id: int, channel: str, address: str
) -> bool:
    """Whether someone else is reached at this address too (a family phone, a shop's)."""
    if await uow.citizens.other_reached_at(municipality_id, citizen_id, channel, address):
        return True
    return await uow.shops.has_member_at(channel, address)


def pseudonym(municipality_id: int, codice_fiscale: str) -> str:
    """The pseudonym: "ERASED-" and a hash of the code salted with a random, discarded salt.

    Codici fiscali are few and structured enough to be enumerated: with a kept salt (or
    none) anyone holding the database could test a known code against the pseudonyms."""
    salt = secrets.token_bytes(16)
    digest = hashlib.sha256(salt + f"{municipality_id}:{codice_fiscale}".encode()).hexdigest()
    return ERASED_PREFIX + digest[:32]


async def erase_citizen(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    now: datetime,
    *,
    by: Actor,
) -> Erasure:
    """Pseudonymise one person. The caller commits.

    Refused (ErasureRefused) while money or a procedure still depends on knowing who they
    are, a payment waiting for its code included, even one a shop asks at this very moment
    (the citizen's row is held, and the database refuses a payment of an erased citizen).
    Afterwards: the codice fiscale is replaced by a pseudonym, phone and Telegram chat
    are cleared, the card code is rotated (an old printed card stops working), their
    conversations are deleted, their messages blanked and the words of their appeals removed
    (the office's decisions stay). Postings, charges, applications
    and allocation lines stay, with their amounts. The activity log records who erased
    whom (the pseudonym and the protocols, nothing erased) and when."""
    citizen = await _find(uow, municipality, codice_fiscale)
    # Held until commit before anything is checked: a PAGA that wrote a payment for the
    # citizen is waited for and its payment seen (charge_pending); one writing it after
    # this waits and is refused once the erasure commits (migration 0039_no_charge_for_erased).
    locked = await uow.citizens.lock(citizen.id)
    if not can_act_on(locked):
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)  # erased meanwhile by another operator
    citizen = locked
    await _check_erasable(uow, municipality, citizen, now)
    real_cf = citizen.codice_fiscale

    delegate = await uow.delegates.of_citizen(citizen.id)
    addresses = _addresses(citizen)
    if delegate is not None:  # codes and receipts about this person went there too
        addresses.append((Channel.SMS, delegate.phone))
    deleted = reset = blanked = withdrawn = 0
    for channel, address in addresses:
        shared = await _shared(uow, municipality.id, citizen.id, channel, address)
        for conversation in await _conversations(uow, municipality.id, channel, address):
            if not shared:
                await uow.delete(conversation)
                deleted += 1
            elif real_cf in json.dumps(conversation.data):
                # Someone else still chats from this address: keep their conversation, but
                # drop the half-finished flow that holds this person's data.
                conversation.data = {}
                conversation.flow = None
                conversation.step = None
                reset += 1
        if not shared:
            # Rate-limit rows (codes sent to this number, wrong cashier codes) name it too.
            await uow.security.forget_address(channel, address)
        for message in await _messages(uow, municipality.id, channel, address):
            if message.status == PENDING:
                if shared:
                    # Possibly addressed to the other person (a notice, a payment code).
                    continue
                message.status = OutboxStatus.FAILED
                message.last_error = "recipient erased"
                withdrawn += 1
            message.payload = dict(ERASED_PAYLOAD)
            message.address = ERASED_ADDRESS
            blanked += 1

    citizen.codice_fiscale = pseudonym(municipality.id, real_cf)
    citizen.phone = None
    citizen.telegram_chat_id = None
    await uow.phone_changes.forget_chats(citizen.id)  # which chat asked a phone, if any
    citizen.card_code = new_card_code()
    citizen.card_pin_salt = citizen.card_pin_hash = None
    await uow.citizens.void_card_codes(citizen.id, now)  # the grid confirms nothing more
    citizen.card_change_id = None  # no card left to have been printed for a request
    if delegate is not None:  # the delegate's phone is personal data too, and acts no more
        await uow.delegates.remove(delegate)
    for appeal in await uow.appeals.of_citizen(citizen.id):
        appeal.reason = ""  # their own words about their life; the decision stays
    citizen.erased_at = now
    await uow.flush()
    protocols = [application.protocol for application in await _applications(uow, citizen.id)]
    await activity.by_actor(
        uow,
        municipality.id,
        by,
        "privacy.erase",
        subject=citizen.codice_fiscale,
        after={
            "pseudonym": citizen.codice_fiscale,
            "protocols": protocols,
            "conversations_deleted": deleted,
            "messages_blanked": blanked,
        },
        now=now,
    )
    return Erasure(citizen.codice_fiscale, deleted, reset, blanked, withdrawn)

"""A cashier's refund and the customer's code that consents to it: sending the code,
voiding the requests that end without it, and reading it when it comes back
(docs/payments-and-codes.md). The refund itself is core.services.charges.refund_charge.

Below core.services.charges in the imports, so that charges can void a shop's refund
requests when it blocks the shop for wrong codes (count_wrong_code) and when a payment
is refunded (refund_charge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import otp
from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.errors import NotAllowed, NotFound, Refusal
from core.domain.messages import Money, Reply, t
from core.services import security
from core.services.code_destinations import destinations_of, shown_destination
from core.services.outbox import carries_code, notify, notify_payer, payer_of, scrubbed
from core.services.shop_rights import acting_member, refuse_code_to_own_staff
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from core.storage.repositories.code_filter import CodeFilter

# A cashier's refund needs the customer's consent: a code sent to the customer. A dishonest
# cashier must not be able to send a customer code after code (harassment, and SMS paid by
# the town): those codes are counted as the confirmation codes of a number are
# (core.services.security), per customer under the same limits but on their own count, and
# per shop. A code the customer gives back right gives its place back.
REFUND_CODE = security.REFUND_CUSTOMER
REFUND_CODES_PER_SHOP_PER_HOUR = 10

# A cashier's refund request the customer holds a code for may become void otherwise than
# by the customer's code: then the customer is told, once, in the transaction that voids
# it (a confused customer would otherwise keep reading out a dead code), and the code,
# typed later by the cashier or sent to our chat by the customer, is answered as void.
# Why, as kept with the code (security_events.voided):
REFUND_CANCELLED = "cancelled"  # the cashier cancelled it or left it, or it was refused
REFUND_REPLACED = "replaced"  # the chat that asked it asked another refund
REFUND_CASHIER_GONE = "cashier_gone"  # that chat left the shop or was removed from it
REFUND_SHOP_BLOCKED = "shop_blocked"  # the shop was blocked for wrong codes
REFUND_DONE = "refunded"  # the payment was refunded by another request (told as such)
# The code went to a chat no longer the customer's: the office removed their delegate or
# gave them a new phone (a lost or stolen one), code_destinations.
REFUND_CODE_ELSEWHERE = "code_elsewhere"


@dataclass(frozen=True)
class RefundCode:
    """The code the customer holds for a cashier's refund: its salt and keyed hash, where it
    went (masked), when it was sent, the wrong tries already typed against it, and whether
    it is one sent earlier for the very same refund (at the limit nothing new is sent)."""

    salt: str
    hash: str
    where: str
    sent_at: datetime
    wrong_tries: int = 0
    held: bool = False


async def send_refund_code(
    uow: UnitOfWork,
    *,
    charge_id: int,
    shop_id: int,
    now: datetime,
    by: tuple[str, str],
    content: str,
) -> RefundCode:
    """A code to the citizen of a payment, for a cashier's refund. The citizen tells it to
    the cashier to accept the refund. `by`: the chat (channel, address) asking, which must
    still work for the shop, the shop able to charge; `content`: the digest of the refund
    (security.content_digest), kept with the code.

    At the customer's limit of refund codes, the last one still valid for this very refund
    goes on (nothing is sent); otherwise, and at the shop's limit, refused
    (refund.codes_too_many; refund.shop_codes_too_many with `when` the shop's own codes
    let a new one be sent: the customer's limit names no time, which other shops' codes
    set): nothing is sent and nothing changes. A code that would go to one of the shop's
    own members (older data pairing the customer's phone, chat or delegate with it) is
    refused as a payment's is (payment.code_to_shop, shop_rights.refuse_code_to_own_staff):
    the cashier would read the consent they ask for; the owner refunds without a code."""
    await acting_member(uow, shop_id, by, now, shop_may_charge=True)
    charge = await uow.charges.by_id(charge_id)
    if charge is None or charge.shop_id != shop_id:
        raise NotFound(Refusal.CHARGE_NOT_FOUND)
    if await uow.charges.settled([charge.id]):
        # Reimbursed since the cashier picked it: no code for a refund that would be refused.
        raise NotAllowed(Refusal.REFUND_ALREADY_SETTLED)
    await refuse_after_revocation(uow, charge)
    await refuse_after_erasure(uow, charge)
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(shop_id)
    assert citizen is not None and shop is not None
    payer = await payer_of(uow, citizen)
    if payer is None:
        raise NotAllowed(Refusal.CITIZEN_UNREACHABLE)
    # The customer's consent: never a code the cashier, or anyone of the shop, reads (the
    # payment code's rule), not even one held from before.
    await refuse_code_to_own_staff(uow, shop, (payer.channel, payer.address))
    channel, shown = shown_destination(citizen, payer)
    where = "Telegram" if channel != Channel.SMS else f"SMS {shown}".strip()
    till = f"{by[0]}:{by[1]}"
    used_up = await security.codes_used_up(
        uow, payer.channel, payer.address, REFUND_CODE, now, content=content
    )
    if used_up is not None and used_up.valid is not None:
        held = used_up.valid
        await _replaced(uow, shop.id, till, charge.id, now, but_hash=held.hash)
        return RefundCode(held.salt, held.hash, where, held.sent_at, held.wrong_tries, held=True)
    if used_up is not None:
        # No time: it would be when the customer's oldest code of the window leaves it, a
        # code of any shop (or, under the number's ceiling, one of the customer's own), so
        # the cashier would learn when another shop asked this customer for a refund.
        raise NotAllowed(Refusal.REFUND_CODES_TOO_MANY)
    shop_next = await security.shop_codes_used_up(
        uow, shop.id, REFUND_CODE, REFUND_CODES_PER_SHOP_PER_HOUR, now
    )
    if shop_next is not None:
        raise NotAllowed(Refusal.REFUND_SHOP_CODES_TOO_MANY, when=shop_next.isoformat())
    await _replaced(uow, shop.id, till, charge.id, now)
    code, salt = otp.new_code(), otp.new_salt()
    code_hash = otp.hash_code(uow.keys, code, salt)
    await security.code_sent(
        uow,
        payer.channel,
        payer.address,
        REFUND_CODE,
        now,
        salt=salt,
        code_hash=code_hash,
        municipality_id=shop.municipality_id,
        content=content,
        shop_id=shop.id,
        charge_id=charge.id,
        asked_by=till,
    )
    notify(
        uow,
        citizen,
        payer,
        Reply.of(
            t(
                "{shop} wants to refund you {amount}. Code: {code}. Tell it to the cashier only "
                "if you agree.",
                shop=shop.name,
                amount=Money(charge.amount_cents),
                code=code,
            ),
            sensitive=True,
        ),
        now,
        charge_id=charge.id,
        code=True,
    )
    return RefundCode(salt, code_hash, where, now)


async def _replaced(
    uow: UnitOfWork,
    shop_id: int,
    till: str,
    charge_id: int,
    now: datetime,
    *,
    but_hash: str | None = None,
) -> None:
    """A chat asks a refund: the earlier refund codes it asked (its conversation holds one
    request at a time) are void. Their customers are told, except the customer of this
    very payment, who gets this request's code (or holds it: `but_hash`) instead."""
    for row in await uow.security.codes_of_shop(
        security.CODE_SENT, REFUND_CODE, shop_id, now - timedelta(days=1), CodeFilter(asked_by=till)
    ):
        if row.code_hash == but_hash:
            continue
        await _void_refund_code(uow, row, REFUND_REPLACED, now, tell=row.charge_id != charge_id)


async def void_refund_codes(
    uow: UnitOfWork,
    reason: str,
    now: datetime,
    *,
    shop_id: int,
    charge_id: int | None = None,
    asked_by: str | None = None,
    code_hash: str | None = None,
) -> int:
    """The cashier's refund requests of a shop (of a payment, of the chat that asked them,
    or the one whose customer code has this hash; only this one when the customer already
    gave its code back) became void for `reason`: each code is marked so, once, and each
    customer told in the same transaction. Returns how many customers were told."""
    told = 0
    for row in await uow.security.codes_of_shop(
        security.CODE_SENT,
        REFUND_CODE,
        shop_id,
        now - timedelta(days=1),
        CodeFilter(charge_id, asked_by, code_hash, unproven=code_hash is None),
    ):
        told += await _void_refund_code(uow, row, reason, now, tell=True)
    return told


async def void_refund_codes_gone_elsewhere(
    uow: UnitOfWork, citizen: m.Citizen, now: datetime
) -> int:
    """The cashiers' refund requests of the citizen's payments whose customer code went to
    a chat no longer theirs (destinations_of, read now: call this after the change, in its
    transaction) become void, as the payments waiting for such a code are cancelled
    (code_destinations.void_codes_gone_elsewhere): a former delegate or whoever holds a
    lost phone consents to nothing more. The citizen is told where they are reached now;
    the till that types the code is told it no longer works (refund_code_void). A code's
    message not sent yet is closed unsent and scrubbed, as a cancelled payment's is: it
    never reaches that chat. Returns how many were told."""
    theirs = destinations_of(citizen, await uow.delegates.of_citizen(citizen.id))
    since = now - timedelta(days=1)
    told = 0
    for charge in await uow.charges.of_citizen(citizen.id):
        # Only payments of today are refunded: a code of a day ago asks nothing any more.
        if charge.status != ChargeStatus.CONFIRMED or (charge.confirmed_at or now) < since:
            continue
        for row in await uow.security.codes_of_shop(
            security.CODE_SENT, REFUND_CODE, charge.shop_id, since, CodeFilter(charge.id)
        ):
            if (row.channel, row.address) not in theirs:
                told += await _void_refund_code(uow, row, REFUND_CODE_ELSEWHERE, now, tell=True)
        for message in await uow.outbox.for_charge(charge.id):
            # Whatever voided its request before, a code still queued for that chat stays
            # there (a row a worker already holds is its own, as for a payment's code).
            if carries_code(message) and (message.channel, message.address) not in theirs:
                await uow.outbox.close_unsent(
                    message.id, scrubbed(message.payload), "not sent: refund cancelled"
                )
    return told


async def refund_code_void(
    uow: UnitOfWork, *, shop_id: int, charge_id: int, code_hash: str, now: datetime
) -> bool:
    """Whether the customer code a till waits for (by its hash) belongs to a refund request
    that became void meanwhile while the till still waited (its code gone to a chat no
    longer the customer's, or the customer erased): typed now, it refunds nothing. Read
    only."""
    charge = await uow.charges.by_id(charge_id)
    citizen = await uow.citizens.by_id(charge.citizen_id) if charge is not None else None
    if not can_act_on(citizen):
        # Erased (privacy.erase_citizen): their phone and chat are nobody's now, and the
        # code's row was forgotten with them, so no void mark is left to read.
        return True
    rows = await uow.security.codes_of_shop(
        security.CODE_SENT,
        REFUND_CODE,
        shop_id,
        now - timedelta(days=1),
        CodeFilter(charge_id, code_hash=code_hash, unproven=False, void_too=True),
    )
    return any(row.voided is not None for row in rows)


async def _void_refund_code(
    uow: UnitOfWork, row: m.SecurityEvent, reason: str, now: datetime, *, tell: bool
) -> bool:
    """Mark one customer's refund code void (compare-and-set: two transactions voiding it
    at once tell the customer once) and tell them. True when they were told."""
    if not await uow.security.void_code(row.id, reason) or not tell or row.charge_id is None:
        return False
    charge = await uow.charges.by_id(row.charge_id)
    if charge is None or charge.status == ChargeStatus.REFUNDED or reason == REFUND_DONE:
        # Refunded after all: the refund's own message tells them.
        return False
    citizen = await uow.citizens.by_id(charge.citizen_id)
    shop = await uow.shops.by_id(charge.shop_id)
    if citizen is None or shop is None:
        return False
    return bool(
        await notify_payer(
            uow,
            citizen,
            Reply.of(
                t(
                    "The refund of {amount} from {shop} was cancelled: the code you received "
                    "no longer works. Your balance has not changed.",
                    amount=Money(charge.amount_cents),
                    shop=shop.name,
                )
            ),
            now,
            charge_id=charge.id,
        )
    )


@dataclass(frozen=True)
class RefundCodeHere:
    """A customer's refund code that came back to the chat it was sent to: the shop, the
    amount, and whether it still works (its request waits), was given back (`refunded`),
    or its request became void."""

    shop: str
    amount_cents: int
    waiting: bool
    refunded: bool


async def refund_code_sent_here(
    uow: UnitOfWork, channel: str, address: str, typed: str, now: datetime
) -> RefundCodeHere | None:
    """The refund code sent to this chat in the last day that `typed` is (read only:
    nothing is counted), or None: a customer who sends it to us instead of reading it to
    the cashier is told what it is for, or that its request is over."""
    keys = uow.keys
    for row in reversed(
        await uow.security.of_address(security.CODE_SENT, channel, address, now - timedelta(days=1))
    ):
        if (
            row.detail != REFUND_CODE
            or row.code_salt is None
            or row.code_hash is None
            or row.charge_id is None
            or not keys.code_matches(typed, row.code_salt, row.code_hash)
        ):
            continue
        charge = await uow.charges.by_id(row.charge_id)
        shop = await uow.shops.by_id(row.shop_id) if row.shop_id is not None else None
        if charge is None or shop is None:
            return None
        refunded = charge.status == ChargeStatus.REFUNDED
        waiting = not refunded and row.voided is None and row.proven_at is None
        return RefundCodeHere(shop.name, charge.amount_cents, waiting, refunded)
    return None


async def ended_refund_code(uow: UnitOfWork, shop_id: int, typed: str, now: datetime) -> bool:
    """Whether `typed` is the customer's code of a refund this shop asked in the last day
    whose request is over (void, or its code already given back): typed at the till with
    nothing open, it is said so, not taken for a payment's code. Read only."""
    for row in await uow.security.codes_of_shop(
        security.CODE_SENT,
        REFUND_CODE,
        shop_id,
        now - timedelta(days=1),
        CodeFilter(unproven=False, void_too=True),
    ):
        if (
            (row.voided is not None or row.proven_at is not None)
            and row.code_salt is not None
            and row.code_hash is not None
            and uow.keys.code_matches(typed, row.code_salt, row.code_hash)
        ):
            return True
    return False


async def earlier_refund_code(
    uow: UnitOfWork, *, charge_id: int, typed: str, pending_hash: str, now: datetime
) -> bool:
    """Whether the customer code a cashier typed is one sent for an earlier refund request
    to the same customer (void, or replaced by the code this request waits for): only the
    customer reads it, so it is no wrong try (and gives its place back), and confirms
    nothing."""
    charge = await uow.charges.by_id(charge_id)
    citizen = await uow.citizens.by_id(charge.citizen_id) if charge is not None else None
    payer = await payer_of(uow, citizen) if citizen is not None else None
    if payer is None:
        return False
    earlier = await security.earlier_code(
        uow,
        uow.keys,
        payer.channel,
        payer.address,
        REFUND_CODE,
        typed,
        now,
        pending_hash=pending_hash,
    )
    return earlier is not None


async def refund_code_typed(
    uow: UnitOfWork, *, charge_id: int, code_hash: str, right: bool, now: datetime
) -> None:
    """The cashier typed the customer's refund code: right (it gives its place back, only
    the customer reads it) or wrong (a try against it, whichever refund uses it)."""
    charge = await uow.charges.by_id(charge_id)
    citizen = await uow.citizens.by_id(charge.citizen_id) if charge is not None else None
    payer = await payer_of(uow, citizen) if citizen is not None else None
    if payer is None:
        return
    if right:
        await security.code_proven(uow, payer.channel, payer.address, code_hash, now)
    else:
        await security.code_wrong_try(uow, payer.channel, payer.address, code_hash)


async def refuse_after_revocation(uow: UnitOfWork, charge: m.Charge) -> None:
    """A payment made before the office revoked the customer's vouchers is not given back
    by the shop: the revocation returned the balance left to the fund and counted this
    payment in the sum to recover, so a refund would put revoked money back to spend while
    the office still claims it. The office undoes the revocation, or handles the payment.
    Refused with REFUND_REVOKED, before a refund code is sent (send_refund_code) and by
    charges.confirmed_charge and charges.refund_charge."""
    paid_at = charge.confirmed_at
    if paid_at is None:
        return
    for application in await uow.applications.of_citizen(charge.citizen_id):
        if application.revoked_at is not None and application.revoked_at >= paid_at:
            raise NotAllowed(Refusal.REFUND_REVOKED)


async def refuse_after_erasure(uow: UnitOfWork, charge: m.Charge) -> None:
    """A payment of a customer the office erased since (privacy.erase_citizen) is not given
    back by the shop, the owner included: erasure leaves the pseudonymised account at zero
    for good, and money put back on it could never be spent nor reimbursed to anyone.
    Refused with REFUND_CUSTOMER_ERASED, before a refund code is sent (send_refund_code)
    and by charges.confirmed_charge and charges.refund_charge; the database refuses the
    refund's posting too (migration 0051_no_refund_to_erased), for an erasure committed
    meanwhile."""
    citizen = await uow.citizens.by_id(charge.citizen_id)
    if not can_act_on(citizen):
        raise NotAllowed(Refusal.REFUND_CUSTOMER_ERASED)

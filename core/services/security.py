"""Counting what rate limits need, in the database (several processes share the counts).

Each limited act is one row of `security_events` with its time: a wrong payment code
(against the shop that asked; a wrong card PIN is one too, its detail naming the card,
and core/services/cards.py counts those per card and shop), a lookup of a person or a
voucher (against the shop, whoever it found: the shop's limit counts these), a lookup
that found nobody (for the office's view of fishing only; never shown to the shop), a
confirmation code sent (against the number it went to, with its salted hash, the wrong
tries typed against it and when it came back right), a wrong cashier code (against
the chat that typed it), and the office unlocking a shop (who did it). Two are kept, not
counted: the office's unlocks and a customer's "not me" refusal of a payment (against
the shop, its payment, and the till that asked it in `detail`), the office's sign of a
cashier charging people who were not there; one written by SMS counts against the shop
only once the challenge of its reply came back (`proven_at`, not_me_refusal). The rules
are in docs/payments-and-codes.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain import otp
from core.domain.channels import Channel
from core.domain.errors import NotAllowed, Refusal
from core.domain.keys import ServerKeys
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

WRONG_PAYMENT_CODE = "wrong_payment_code"
LOOKUP = "lookup"
LOOKUP_MISS = "lookup_miss"
CODE_SENT = "code_sent"
WRONG_INVITE = "wrong_invite"
SHOP_UNLOCKED = "shop_unlocked"
NOT_ME = "not_me"
# The office let payment codes go to a person again after too many wrong codes for her at
# several shops (`detail`: the person, core/services/charges/person_locks.py).
CODES_RESUMED = "codes_resumed"

# Records of what happened, for the office to read, not counts for a limit: never dropped.
_KEPT = frozenset({SHOP_UNLOCKED, NOT_ME, CODES_RESUMED})

# Longer than any window counted; older rows are dropped when new ones are written.
KEEP = timedelta(days=30)

# Confirmation codes sent to one address (an SMS sender can be forged, so what an SMS
# changes waits for a code sent to its number), each valid CODE_VALID, with CODE_TRIES
# wrong tries in all. Codes that came back right never count (only the phone's owner
# reads them). The others are counted per PURPOSE, a group of requests of one kind: at
# most CODES_PER_HOUR in an hour and CODES_PER_DAY in a day of one purpose. A forger who
# writes as a victim's number can make us send it codes of any request anyone may start
# (an application, a shop's registration), and so use up that purpose's codes; with one
# count for all, that flood would also stop the victim's own phone change, cashier work
# or a refund's consent until the next day. Per purpose, it stops only what was flooded.
# A cashier's refund asks the customer's consent by a code (core/services/charges/refunds.py):
# codes other people make us send to a person are a purpose of their own.
REFUND_CUSTOMER = "refund_customer"
APPLICATION = "application"  # the citizen's application and its appeal
SHOP = "shop"  # a shop's registration and its people: cashier codes, joining, leaving
TILL = "till"  # a shop's daily work from SMS: opening the till, the owner's refunds
REFUND_CONSENT = "refund_consent"  # a cashier's refund, the customer's consent
PURPOSES: dict[str, str] = {
    "apply": APPLICATION,
    "appeal": APPLICATION,
    "register": SHOP,
    "cashier": SHOP,
    "cashiers": SHOP,
    "join": SHOP,
    "leave": SHOP,
    "charge": TILL,
    "refund": TILL,
    REFUND_CUSTOMER: REFUND_CONSENT,
}
CODES_PER_HOUR = 5
CODES_PER_DAY = 10
# And all purposes together, CODES_PER_NUMBER_PER_DAY a day that never came back: each
# is an SMS the town pays, and a forger flooding every purpose would otherwise cost
# CODES_PER_DAY times their number, and more with each purpose added. Honest use never
# meets it: its codes come back (a person typically has one or two waiting a day), and
# it is above two purposes flooded to their limit, so a forger must flood three purposes
# before any other one is touched; a cashier's refund codes, which no forger can start,
# are limited per shop too.
CODES_PER_NUMBER_PER_DAY = 30
CODE_VALID = timedelta(minutes=10)
CODE_TRIES = 3


async def record(
    uow: UnitOfWork,
    kind: str,
    now: datetime,
    *,
    municipality_id: int | None = None,
    shop_id: int | None = None,
    charge_id: int | None = None,
    channel: str | None = None,
    address: str | None = None,
    detail: str | None = None,
    code_salt: str | None = None,
    code_hash: str | None = None,
    code_content: str | None = None,
    asked_by: str | None = None,
    proven_at: datetime | None = None,
) -> None:
    """Record one event; the same key's rows older than KEEP go (except office unlocks
    and "not me" refusals, records the office reads): rate-limit rows say who typed what,
    and when."""
    await uow.security.record(
        m.SecurityEvent(
            municipality_id=municipality_id,
            kind=kind,
            shop_id=shop_id,
            charge_id=charge_id,
            channel=channel,
            address=address,
            detail=detail[:100] if detail else None,
            created_at=now,
            code_salt=code_salt,
            code_hash=code_hash,
            code_content=code_content,
            wrong_tries=0,
            asked_by=asked_by,
            proven_at=proven_at,
        ),
        drop_before=None if kind in _KEPT else now - KEEP,
    )


async def count(
    uow: UnitOfWork,
    kind: str,
    since: datetime,
    *,
    shop_id: int | None = None,
    channel: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> int:
    return await uow.security.count(
        kind, since, shop_id=shop_id, channel=channel, address=address, detail=detail
    )


async def count_lookup(
    uow: UnitOfWork, shop: m.Shop, now: datetime, *, till: str, limit: int, shop_limit: int
) -> None:
    """Count one lookup by this till of the shop (`till`: who asks, as "channel:address"),
    before anybody is looked up; over `limit` for the till, or `shop_limit` for the whole
    shop, in the last hour refuse (LOOKUP_TOO_MANY). Holders and nobody count and are
    answered alike: a limit that counted only misses would tell the shop, by when it
    answers "try later", which of its lookups found a holder.

    Per till first, because an SMS sender can be forged: lookups forged as the shop's
    number use up that number's till only, while its Telegram and other cashiers' tills
    keep charging; the shop's own ceiling still bounds how many people a shop can try."""
    since = now - timedelta(hours=1)
    # A lookup that ended in a payment the citizen confirmed gives its place back: a busy
    # honest till is never stopped, and a confirmation needs the citizen's own code, so
    # fishing cannot earn places (and a confirmed payment tells the shop nothing new).
    looked = await count(uow, LOOKUP, since, shop_id=shop.id, detail=till)
    if looked >= limit and looked - await uow.charges.paid_since(shop.id, since, till) >= limit:
        raise NotAllowed(Refusal.LOOKUP_TOO_MANY)
    looked = await count(uow, LOOKUP, since, shop_id=shop.id)
    if (
        looked >= shop_limit
        and looked - await uow.charges.paid_since(shop.id, since, None) >= shop_limit
    ):
        raise NotAllowed(Refusal.LOOKUP_TOO_MANY)
    await record(
        uow, LOOKUP, now, municipality_id=shop.municipality_id, shop_id=shop.id, detail=till
    )


async def last_unlock(uow: UnitOfWork, shop_id: int) -> datetime | None:
    return await uow.security.latest(SHOP_UNLOCKED, shop_id)


async def wrong_codes_of_shop(uow: UnitOfWork, shop_id: int, now: datetime) -> int:
    """Wrong payment codes of the last 24 hours, counted from the office's last unlock."""
    since = now - timedelta(hours=24)
    unlocked = await last_unlock(uow, shop_id)
    if unlocked is not None and unlocked > since:
        since = unlocked
    return await count(uow, WRONG_PAYMENT_CODE, since, shop_id=shop_id)


@dataclass(frozen=True)
class ShopLockState:
    """A shop that cannot charge because of wrong payment codes, as the office sees it."""

    until: datetime | None  # None: until the office unlocks it
    wrong_codes: int  # its wrong codes of the last 24 hours, since the office's last unlock


def lock_of(shop: m.Shop, now: datetime, wrong_codes: int) -> ShopLockState | None:
    if shop.blocked_at is not None:
        return ShopLockState(None, wrong_codes)
    if shop.locked_until is not None and shop.locked_until > now:
        return ShopLockState(shop.locked_until, wrong_codes)
    return None


async def shop_locks(
    uow: UnitOfWork, shops: Sequence[m.Shop], now: datetime
) -> dict[int, ShopLockState]:
    """The locked shops among these (by id), with until when and how many wrong codes."""
    found: dict[int, ShopLockState] = {}
    for shop in shops:
        if lock_of(shop, now, 0) is None:
            continue
        lock = lock_of(shop, now, await wrong_codes_of_shop(uow, shop.id, now))
        assert lock is not None
        found[shop.id] = lock
    return found


@dataclass(frozen=True)
class ShopLookups:
    shop_id: int
    shop_name: str
    last_hour: int
    last_day: int
    last_week: int
    latest: datetime


async def lookup_misses(
    uow: UnitOfWork, municipality_id: int, now: datetime
) -> Sequence[ShopLookups]:
    """Per shop, the lookups that found nobody: for the office to spot a shop fishing."""
    week = now - timedelta(days=7)
    by_shop: dict[int, tuple[str, list[datetime]]] = {}
    for shop_id, name, at in await uow.security.of_shops(LOOKUP_MISS, municipality_id, week):
        by_shop.setdefault(shop_id, (name, []))[1].append(at)
    found = [
        ShopLookups(
            shop_id=shop_id,
            shop_name=name,
            last_hour=sum(1 for x in times if x > now - timedelta(hours=1)),
            last_day=sum(1 for x in times if x > now - timedelta(days=1)),
            last_week=len(times),
            latest=max(times),
        )
        for shop_id, (name, times) in by_shop.items()
    ]
    return sorted(found, key=lambda x: (-x.last_day, -x.last_week, x.shop_id))


# --- confirmation codes sent to a number ---------------------------------------------------
#
# A forger can make us send codes to a citizen's phone (by writing as its number), and the
# limits above protect the phone from a flood; they must not lock its owner out. So:
# a code that came back right (only the phone's owner reads it) gives its places back; a
# number at its limit goes on with the last code of the same request still valid, but
# only for the very content that code was sent to confirm (its message says what: a
# code never confirms answers or a reason written after it was sent); and the refusal
# says when a new code can be sent. A forger can thus delay the owner, by at most a day,
# and the office sees the numbers at their limit (`admin shops lookups`).


def content_digest(keys: ServerKeys, kind: str, content: Sequence[str]) -> str:
    """What a code of request `kind` is sent to confirm, as a keyed digest (the answers or
    the reason themselves are not kept with the code): equal content, equal digest."""
    return keys.hash_code("\x1f".join(content), f"content:{kind}")


@dataclass(frozen=True)
class SentCode:
    """A confirmation code sent to a number, as the conversation keeps it."""

    sent_at: datetime
    salt: str
    hash: str
    wrong_tries: int
    content: str | None = None

    @property
    def expires(self) -> datetime:
        return self.sent_at + CODE_VALID


@dataclass(frozen=True)
class CodesUsedUp:
    """The number had its codes: a new one can be sent from `next_at`; until then `valid`,
    the last code of the same request still valid and sent for the same content (None
    when there is none), lets the request go on. `other_content`: that last code was sent
    for something else (other answers, another reason), which it alone confirms."""

    next_at: datetime
    valid: SentCode | None
    other_content: bool = False


def purpose_of(kind: str | None) -> str:
    """The purpose a request's codes count against: a request not listed in PURPOSES
    (a new one) counts on its own, never against another."""
    return PURPOSES.get(kind or "", kind or "")


def _next_code_at(
    times: Sequence[datetime], now: datetime, *, per_hour: int | None, per_day: int
) -> datetime | None:
    """When a new code may be sent to a number that was sent, at these `times` (the oldest
    first), codes that never came back, `per_hour` and `per_day` at most (no hourly
    limit when None): None when it may be sent now."""
    day = [x for x in times if x > now - timedelta(days=1)]
    hour = [x for x in day if x > now - timedelta(hours=1)]
    waits = []
    if len(day) >= per_day:
        waits.append(day[len(day) - per_day] + timedelta(days=1))
    if per_hour is not None and len(hour) >= per_hour:
        waits.append(hour[len(hour) - per_hour] + timedelta(hours=1))
    return max(waits, default=None)


def _number_next_code_at(
    sent: Sequence[tuple[str | None, datetime]], purpose: str, now: datetime
) -> datetime | None:
    """When a number that was sent these codes that never came back ((request, when), the
    oldest first) may be sent a new one of `purpose`: that purpose's own limits, and the
    number's ceiling of all purposes together."""
    own = _next_code_at(
        [at for kind, at in sent if purpose_of(kind) == purpose],
        now,
        per_hour=CODES_PER_HOUR,
        per_day=CODES_PER_DAY,
    )
    ceiling = _next_code_at(
        [at for _, at in sent], now, per_hour=None, per_day=CODES_PER_NUMBER_PER_DAY
    )
    return max((x for x in (own, ceiling) if x is not None), default=None)


def _still_valid(row: m.SecurityEvent, now: datetime) -> bool:
    return (
        row.code_salt is not None
        and row.code_hash is not None
        and row.created_at + CODE_VALID > now
        and (row.wrong_tries or 0) < CODE_TRIES
        and row.voided is None
    )


async def codes_used_up(
    uow: UnitOfWork,
    channel: str,
    address: str,
    kind: str,
    now: datetime,
    *,
    content: str | None = None,
) -> CodesUsedUp | None:
    """None when a new code of request `kind` may be sent to the address now. Codes that
    came back right do not count: the owner who proves the number is never stopped by the
    codes a forger made us send. Counted per purpose (purpose_of): codes of one purpose
    never use up another's, and all together up to the number's ceiling. At the limit,
    the last code of the request goes on only for the `content` (content_digest) it was
    sent for."""
    sent = await uow.security.of_address(CODE_SENT, channel, address, now - timedelta(days=1))
    waiting = [x for x in sent if x.proven_at is None]
    next_at = _number_next_code_at(
        [(x.detail, x.created_at) for x in waiting], purpose_of(kind), now
    )
    if next_at is None:
        return None
    same = [x for x in waiting if x.detail == kind and x.code_salt and x.code_hash]
    last = same[-1] if same else None
    if last is None or not _still_valid(last, now):
        return CodesUsedUp(next_at, None)
    if last.code_content != content:
        return CodesUsedUp(next_at, None, other_content=True)
    assert last.code_salt is not None and last.code_hash is not None
    valid = SentCode(
        last.created_at, last.code_salt, last.code_hash, last.wrong_tries or 0, last.code_content
    )
    return CodesUsedUp(next_at, valid)


async def code_sent(
    uow: UnitOfWork,
    channel: str,
    address: str,
    kind: str,
    now: datetime,
    *,
    salt: str,
    code_hash: str,
    municipality_id: int | None,
    content: str | None = None,
    shop_id: int | None = None,
    charge_id: int | None = None,
    asked_by: str | None = None,
) -> None:
    """Count a code of request `kind` sent to the address, with its salted hash and the
    digest of what it confirms (`shop_id`: the shop whose request sent it, when one did;
    `charge_id` and `asked_by`, "channel:address": the payment and the chat of a cashier's
    refund that sent it)."""
    await record(
        uow,
        CODE_SENT,
        now,
        municipality_id=municipality_id,
        shop_id=shop_id,
        channel=channel,
        address=address,
        detail=kind,
        code_salt=salt,
        code_hash=code_hash,
        code_content=content,
        charge_id=charge_id,
        asked_by=asked_by,
    )


async def earlier_code(
    uow: UnitOfWork,
    keys: ServerKeys,
    channel: str,
    address: str,
    kind: str,
    typed: str,
    now: datetime,
    *,
    pending_hash: str | None,
) -> SentCode | None:
    """The code of request `kind` sent to the address in the last day, other than the
    pending one, that `typed` is (None when it is none of them): one replaced by a newer
    code, or sent before the request was started again or its answers written anew. Only
    the phone's owner reads it, so it is marked proven (its place given back) and is not
    a wrong try; it confirms nothing (only the code the request waits for does)."""
    for row in await _typed_codes(uow, keys, channel, address, kind, typed, now):
        if row.code_hash == pending_hash:
            continue
        if row.proven_at is None:
            await code_proven(uow, channel, address, row.code_hash, now)
        return SentCode(
            row.created_at, row.code_salt, row.code_hash, row.wrong_tries or 0, row.code_content
        )
    return None


async def used_code(
    uow: UnitOfWork,
    keys: ServerKeys,
    channel: str,
    address: str,
    kind: str,
    typed: str,
    now: datetime,
) -> datetime | None:
    """When the code of request `kind` that `typed` is, sent to the address in the last day,
    came back right (None when it is no such code, or it never came back): a code sent
    here again after it confirmed its request. Only the phone's owner reads it: nothing is
    counted."""
    for row in await _typed_codes(uow, keys, channel, address, kind, typed, now):
        if row.proven_at is not None:
            return row.proven_at
    return None


@dataclass(frozen=True)
class _TypedCode:
    """A code of the last day that `typed` is (its salt and hash known)."""

    created_at: datetime
    code_salt: str
    code_hash: str
    proven_at: datetime | None
    wrong_tries: int | None
    code_content: str | None


async def _typed_codes(
    uow: UnitOfWork,
    keys: ServerKeys,
    channel: str,
    address: str,
    kind: str,
    typed: str,
    now: datetime,
) -> Iterator[_TypedCode]:
    """The codes of request `kind` sent to the address in the last day that `typed` is,
    newest first, each checked only when reached: what earlier_code and used_code each
    look through."""
    sent = await uow.security.of_address(CODE_SENT, channel, address, now - timedelta(days=1))
    return (
        _TypedCode(
            row.created_at,
            row.code_salt,
            row.code_hash,
            row.proven_at,
            row.wrong_tries,
            row.code_content,
        )
        for row in reversed(sent)
        if row.detail == kind
        and row.code_salt is not None
        and row.code_hash is not None
        and keys.code_matches(typed, row.code_salt, row.code_hash)
    )


async def code_proven(
    uow: UnitOfWork, channel: str, address: str, code_hash: str, now: datetime
) -> None:
    """The code came back right from the address: it no longer counts against it."""
    await uow.security.mark_code(CODE_SENT, channel, address, code_hash, proven_at=now)


async def code_wrong_try(uow: UnitOfWork, channel: str, address: str, code_hash: str) -> None:
    """A wrong code typed against this one, in whichever request it was used."""
    await uow.security.mark_code(CODE_SENT, channel, address, code_hash, wrong_try=True)


async def numbers_at_code_limit(uow: UnitOfWork, municipality_id: int, now: datetime) -> int:
    """How many of the town's numbers cannot be sent a new confirmation code now for some
    request of their own (some purpose at its limit, or the number at its ceiling): many
    codes that never came back are someone else's requests, or a forger's flood. (A
    cashier's refund codes, REFUND_CONSENT, are asked by shops, not by the number.)"""
    by_number: dict[tuple[str, str], list[tuple[str | None, datetime]]] = {}
    for channel, address, kind, at in await uow.security.unproven_of_town(
        CODE_SENT, municipality_id, now - timedelta(days=1)
    ):
        by_number.setdefault((channel, address), []).append((kind, at))
    return sum(
        1
        for sent in by_number.values()
        if any(
            _number_next_code_at(sorted(sent, key=lambda x: x[1]), purpose, now) is not None
            for purpose in {purpose_of(kind) for kind, _ in sent} - {REFUND_CONSENT}
        )
    )


async def shop_codes_used_up(
    uow: UnitOfWork, shop_id: int, kind: str, limit: int, now: datetime
) -> datetime | None:
    """When a shop may make us send another code of request `kind` (to its customers),
    having sent `limit` in the last hour that never came back; None when it may now. A
    code its customer gave back right (only they read it) gives its place back."""
    times = await uow.security.unproven_of_shop(CODE_SENT, shop_id, kind, now - timedelta(hours=1))
    if len(times) < limit:
        return None
    return times[len(times) - limit] + timedelta(hours=1)


# How long the challenge in the reply to an SMS "not me" may come back: a day, since an
# elderly person may answer in the evening; its guessing is bounded by its tries
# (CODE_TRIES), not by its minutes.
NOT_ME_CHALLENGE_VALID = timedelta(days=1)
# The channels whose sender is proven by the channel itself: a Telegram chat is an account.
_SENDER_PROVEN = frozenset({Channel.TELEGRAM.value})


@dataclass(frozen=True)
class NotMeRefusal:
    """A payment its customer refused saying she did not shop there: when, how much, the
    till that asked it ("channel:address", None when unknown), the channel she wrote
    from (None for refusals kept before it was), and whether she proved it was her
    (`confirmed`, see not_me_refusal): the shop is judged on confirmed ones only."""

    at: datetime
    amount_cents: int
    till: str | None
    channel: str | None
    confirmed: bool


@dataclass(frozen=True)
class NotMeChallenge:
    """The challenge an SMS "not me" is answered with: the digits said in the reply (only
    the real phone reads them), kept as a salted, keyed hash."""

    code: str
    salt: str
    code_hash: str


def not_me_challenge(keys: ServerKeys, channel: str) -> NotMeChallenge | None:
    """The challenge a "not me" written from `channel` must answer before it counts
    against the shop, None when the channel proves its sender. Twilio's signature proves
    an SMS came through Twilio, not from the number it names: a forged sender could refuse
    a customer's payment (which only protects her) and put a "not me" on an honest shop's
    record. A Telegram chat is an account bound to the person: it counts at once."""
    if channel in _SENDER_PROVEN:
        return None
    code = otp.new_challenge()
    salt = otp.new_salt()
    return NotMeChallenge(code, salt, otp.hash_code(keys, code, salt))


async def not_me_refusal(
    uow: UnitOfWork,
    charge: m.Charge,
    now: datetime,
    *,
    channel: str | None,
    challenge: NotMeChallenge | None,
) -> None:
    """Keep the customer's "not me" refusal of `charge`, in the transaction that cancels it:
    confirmed at once (`proven_at`) when written from a channel that proves its sender,
    else unconfirmed until its `challenge` (not_me_challenge) comes back (confirm_not_me);
    with none, or no channel, it stays unconfirmed.
    The till goes in `detail`, not `asked_by`: a cashier who leaves the shop has the chats
    they asked refund codes from forgotten (forget_asker), but this is the office's record
    of who tried to charge whom, and their leaving must not erase it. The customer's own
    number is not kept (her payment names her): erasing her leaves the shop's record."""
    await record(
        uow,
        NOT_ME,
        now,
        municipality_id=charge.municipality_id,
        shop_id=charge.shop_id,
        charge_id=charge.id,
        channel=channel,
        detail=charge.requested_by,
        code_salt=challenge.salt if challenge else None,
        code_hash=challenge.code_hash if challenge else None,
        proven_at=now if channel in _SENDER_PROVEN else None,
    )


class NotMeAnswer(StrEnum):
    """What a challenge typed back did (confirm_not_me)."""

    CONFIRMED = "confirmed"
    WRONG = "wrong"  # nothing confirmed; tries are left
    USED_UP = "used_up"  # nothing confirmed, and no challenge takes a try any more
    NONE_WAITING = "none_waiting"  # no "not me" of hers waits for a challenge


@dataclass(frozen=True)
class NotMeConfirmation:
    answer: NotMeAnswer
    # The payments whose "not me" it confirmed (CONFIRMED), the oldest first.
    charges: tuple[m.Charge, ...] = ()


async def confirm_not_me(
    uow: UnitOfWork, keys: ServerKeys, citizen_id: int, typed: str, now: datetime
) -> NotMeConfirmation:
    """The challenge of an SMS "not me" typed back from the chat her payment codes go to
    (her phone, or her delegate's): the refusals of her payments whose challenge it is
    (one message's refusals share one) are confirmed, now. Any other digits are a wrong
    try against every challenge of hers still open, CODE_TRIES in all, like other codes;
    a wrong or guessed one changes nothing else."""
    waiting = await uow.security.challenges_of_citizen(
        NOT_ME, citizen_id, now - NOT_ME_CHALLENGE_VALID, CODE_TRIES
    )
    if not waiting:
        return NotMeConfirmation(NotMeAnswer.NONE_WAITING)
    right = [
        row
        for row in waiting
        if row.code_salt is not None
        and row.code_hash is not None
        and otp.code_matches(keys, typed, row.code_salt, row.code_hash)
    ]
    confirmed = []
    for row in right:
        if row.charge_id is not None and await uow.security.prove_challenge(
            row.id, now, CODE_TRIES
        ):
            charge = await uow.charges.by_id(row.charge_id)
            if charge is not None:
                confirmed.append(charge)
    if confirmed:
        return NotMeConfirmation(NotMeAnswer.CONFIRMED, tuple(confirmed))
    tries_before = [row.wrong_tries or 0 for row in waiting]
    await uow.security.challenge_wrong_try([row.id for row in waiting])
    if all(tries + 1 >= CODE_TRIES for tries in tries_before):
        return NotMeConfirmation(NotMeAnswer.USED_UP)
    return NotMeConfirmation(NotMeAnswer.WRONG)


async def renew_not_me_challenge(
    uow: UnitOfWork, keys: ServerKeys, citizen_id: int, channel: str, now: datetime
) -> tuple[NotMeChallenge, list[m.Charge]] | None:
    """ "Non sono io" again, with no digits and no payment waiting, while her "not me" waits
    for its challenge (an elderly person who lost the reply, or wrote the words alone): a
    new challenge for those refusals, said again to the real phone, their wrong tries kept
    (a forger asking again gets no more guesses). None when none waits."""
    waiting = await uow.security.challenges_of_citizen(
        NOT_ME, citizen_id, now - NOT_ME_CHALLENGE_VALID, CODE_TRIES
    )
    challenge = not_me_challenge(keys, channel)
    if not waiting or challenge is None:
        return None
    ids = [row.id for row in waiting]
    if not await uow.security.renew_challenge(ids, challenge.salt, challenge.code_hash, CODE_TRIES):
        return None
    charges = [
        charge
        for row in waiting
        if row.charge_id is not None
        and (charge := await uow.charges.by_id(row.charge_id)) is not None
    ]
    return challenge, charges


async def not_me_refusals(uow: UnitOfWork, municipality_id: int) -> dict[int, list[NotMeRefusal]]:
    """The town's "not me" refusals by shop id, the latest first."""
    found: dict[int, list[NotMeRefusal]] = {}
    for shop_id, at, amount_cents, till, channel, proven_at in await uow.security.refusals_of_town(
        NOT_ME, municipality_id
    ):
        found.setdefault(shop_id, []).append(
            NotMeRefusal(at, amount_cents, till, channel, confirmed=proven_at is not None)
        )
    return found

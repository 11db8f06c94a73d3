"""Who a citizen is: one codice fiscale, one proven phone, one Telegram user, per municipality.

The rules (docs/identity-and-consent.md) live here and in the unique indexes behind
them: a chat can create a new citizen, or act as the citizen its proven phone or its
Telegram user already belongs to, never take over another one. Every binding, every
refused attempt and every rebinding by the office is written to the append-only
identity log; phones appear there masked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.exc import IntegrityError

from core.domain.cards import CARD_CODE_ALPHABET, CARD_CODE_LENGTH
from core.domain.channels import Channel
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.identity import (
    PhoneProof,
    mask_phone,
    normalize_codice_fiscale,
    normalize_phone,
    require_sms_phone,
)
from core.domain.messages import Reply, t
from core.services import activity, asked_numbers, code_destinations, ledger
from core.services.outbox import enqueue, notify_citizen, notify_number
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# A takeover notice at most once a day per citizen: a forged SMS sender repeating the
# attempt must not flood the real holder's phone.
NOTICE_INTERVAL = timedelta(hours=24)

TAKEOVER_REFUSED = "takeover_refused"
CLAIM_REFUSED = "claim_refused"
LINK_REFUSED = "link_refused"
# A citizen's own delegate's number offered as the citizen's own phone (one phone speaks for
# one person: docs/cards-and-delegates.md).
PHONE_IS_DELEGATE = "phone_is_delegate"
# A chat's proven number while the office changes the citizen's phone (four eyes): the
# change decides the number, not the chat (docs/identity-and-consent.md §5).
PHONE_CHANGE_WAITING = "phone_change_waiting"
# A chat's proven number that a waiting request names (asked_numbers): the request is the
# one claim on it until it is approved or withdrawn.
NUMBER_ASKED = "number_asked"
# A chat's proven number offered as the first phone of a citizen with money to spend: the
# chat's link to the citizen never proved it is the person's (docs/identity-and-consent.md
# §5), so the number waits for the office's four eyes (money_at_stake, phone_changes).
PHONE_NEEDS_APPROVAL = "phone_needs_approval"
# A chat's proven number that another household registered as its delegate, offered as the
# first phone of a citizen with money to spend: the office's approval would refuse it
# (check_new_phone), so it is refused at once rather than left waiting for a manager.
PHONE_OF_A_DELEGATE = "phone_of_a_delegate"
# Who asked a phone change a Telegram chat's contact proved (FirstNumberNeedsOffice), in the
# office's activity log and in its lists of waiting changes.
CHAT_ACTOR = "chat:telegram"
# Why a phone change a chat asked was withdrawn without an operator: the chat stopped being
# the citizen's (withdraw_chat_request), in the request's row and the office's activity log.
CHAT_UNLINKED = "chat_unlinked"


class IdentityRefused(NotAllowed):
    """A binding the rules forbid. `reason` is for the log and the office; a person in a
    chat always hears the same neutral sentence, whatever the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(Refusal.IDENTITY_REFUSED, reason=reason)
        self.reason = reason


class DelegateNumber(IdentityRefused):
    """A Telegram chat linked to a citizen (who has a phone of their own or none) proved,
    with its own contact, the number registered as that citizen's delegate, or as another
    household's delegate when it cannot become this citizen's own (they have a phone, money
    to spend, PHONE_OF_A_DELEGATE, or a change of their phone waits): the account is the
    delegate's, so it acts as that delegate's number does, never as the citizen
    (link_telegram unlinks it, and withdraws the phone change the chat asked,
    withdraw_chat_request). Nothing is bound; the chat hears what a delegate's number is
    for, nothing about whose it is."""

    def __init__(self) -> None:
        super().__init__(PHONE_IS_DELEGATE)


class PhoneChangeWaiting(IdentityRefused):
    """A chat proved a number for a citizen without a phone while a new phone asked by the
    office for that citizen waits for a second operator: nothing is bound (while a change
    waits no other number is), and the chat hears that the office is changing the number,
    nothing of the change itself."""

    def __init__(self) -> None:
        super().__init__(PHONE_CHANGE_WAITING)


class FirstNumberNeedsOffice(IdentityRefused):
    """A Telegram chat linked to a citizen without a phone proved a number with its own
    contact while the citizen has money to spend (money_at_stake): nothing is bound. The
    link was made by an application from that chat before phones were required, by
    whoever typed the codice fiscale there (a relative, a delegate, anybody): it proves the
    chat's number, not that the chat is the person. The number waits for the office as a
    phone change the chat asked (`change`: made now, or the one this chat asked before for
    this number), which one manager approves, the contact being the first pair of eyes
    (core.services.phone_changes); the chat hears that the office will check the number,
    nothing about the money."""

    def __init__(self, change: m.PhoneChange | None = None) -> None:
        super().__init__(PHONE_NEEDS_APPROVAL)
        self.change = change


@dataclass(frozen=True)
class Claim:
    """What asking for a codice fiscale from a chat amounts to (nothing written yet)."""

    citizen: m.Citizen | None  # the citizen who has this codice fiscale already, if any
    refusal: str | None = None  # why this chat cannot have it; None: it can
    # Whose identity a refused attempt touched (told about it), and who it is logged against.
    victim: m.Citizen | None = None
    logged_on: m.Citizen | None = None


def new_card_code() -> str:
    """The code printed (with a QR) on a citizen's card: unguessable, easy to read out."""
    # One random byte per symbol: 256 is a multiple of 32, so every symbol is equally likely
    # (and a bulk import makes 100,000 of them ten times faster than secrets.choice).
    return "".join(CARD_CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(CARD_CODE_LENGTH))


def _masked(phone: str | None) -> str | None:
    return mask_phone(phone) if phone else None


async def _log(
    uow: UnitOfWork,
    citizen: m.Citizen,
    kind: str,
    now: datetime,
    *,
    actor: str,
    proof: PhoneProof | None = None,
    channel: str | None = None,
    phone: str | None = None,
    previous_phone: str | None = None,
) -> None:
    await uow.identity_events.record(
        m.IdentityEvent(
            municipality_id=citizen.municipality_id,
            citizen_id=citizen.id,
            kind=kind,
            proof=proof.value if proof else None,
            channel=channel,
            phone=_masked(phone),
            previous_phone=_masked(previous_phone),
            actor=actor[:100],
            created_at=now,
        )
    )


async def is_shop_phone(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    phone: str | None = None,
    telegram_user: str | None = None,
) -> bool:
    """Whether this phone, or this Telegram user, charges vouchers for a shop of the
    municipality (an owner or a cashier, whatever the shop's status): a phone on any
    channel whose address is a phone (SMS, the terminal chat), or the phone a Telegram
    member shared as their own (migration 0040). One rule for a citizen's
    own phone and Telegram chat, a delegate's phone, and a member joining a shop (the
    reverse: shops.refuse_citizens_phone)."""
    return bool(
        await uow.shops.members_reached_at(
            municipality_id, phone=phone, telegram_user=telegram_user
        )
    )


async def refuse_shop_phone(uow: UnitOfWork, municipality_id: int, phone: str) -> None:
    """A phone that charges vouchers for a shop of the municipality (owner or cashier, by
    SMS, at the terminal, or on Telegram with this phone shared) is never a citizen's: that
    shop would receive the citizen's payment codes and could confirm its own charges.
    Raises Conflict(IDENTITY_PHONE_IS_SHOP)."""
    if await is_shop_phone(uow, municipality_id, phone=phone):
        raise Conflict(Refusal.IDENTITY_PHONE_IS_SHOP, phone=mask_phone(phone))


async def refuse_unreachable_phone(uow: UnitOfWork, phone: str) -> None:
    """A number typed by hand for somebody's payment codes and notices (the office's desk,
    a paper application, a delegate, a gift) must receive them by SMS: no landline nor
    service number (require_sms_phone), and no municipality's own SMS number, whose
    messages would come back to the service. The sender of an SMS and a Telegram contact
    are not typed, and are not checked here."""
    require_sms_phone(phone)
    town = await uow.municipalities.by_sms_number(phone)
    if town is not None:
        raise Conflict(Refusal.PHONE_TOWN_NUMBER, phone=mask_phone(phone), code=town.code)


async def is_own_delegates_number(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is the number registered as this citizen's own delegate: never the
    citizen's own phone too (the delegate would receive what is meant for the holder, and
    act as the holder). The number is held until the commit before looking
    (CitizenRepository.hold_phone): a delegate registered on it meanwhile is found, or
    waits and is refused by the database (migration 0041_phone_one_person); the database
    refuses the citizen's side too (0042_citizen_not_own_delegate)."""
    await uow.citizens.hold_phone(citizen.municipality_id, phone)
    delegate = await uow.delegates.of_citizen(citizen.id)
    return delegate is not None and delegate.phone == phone


async def _refuse_first_number(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, now: datetime, *, telegram_user: str | None
) -> None:
    """Refuse binding `phone`, proven by the Telegram chat `telegram_user` linked to
    `citizen` (who has none), while the office changes the citizen's phone
    (PhoneChangeWaiting: the change waiting for its approval decides the number), while a
    waiting request names the number (IdentityRefused NUMBER_ASKED: another household's new
    phone or delegate, or this citizen's delegate), or while the citizen has money to spend
    (FirstNumberNeedsOffice: no first number without the office, money_at_stake; another
    household's delegate's number then is refused at once, IdentityRefused
    PHONE_OF_A_DELEGATE, as the office's approval would refuse it). The last one leaves a
    phone change asked by the chat, waiting for the office (_ask_office); the same chat
    sharing the same number again finds it and asks nothing more, and another number,
    while it waits, is refused as any waiting change refuses it (the office decides the one
    asked first, or withdraws it). The office's rule (rebind_phone,
    phone_changes.request) for the chat: the caller holds the citizen's row
    (CitizenRepository.lock, as the office's change does) and the number (hold_phone)
    until the commit, so a request asked at that moment is found here, or finds the bound
    number (or the chat's request) and is refused."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is not None:
        if telegram_user and (waiting.requested_by_chat, waiting.phone) == (telegram_user, phone):
            raise FirstNumberNeedsOffice(waiting)  # asked already: the office has it
        raise PhoneChangeWaiting()
    try:
        await asked_numbers.refuse_asked(uow, citizen, phone, "phone")
    except Conflict:
        raise IdentityRefused(NUMBER_ASKED) from None
    if await money_at_stake(uow, citizen, now):
        if await _another_households_delegate(uow, citizen, phone):
            # The office's approval would refuse it (rebind_phone's check_new_phone): not
            # left waiting for a manager, doomed, with the number held meanwhile.
            raise IdentityRefused(PHONE_OF_A_DELEGATE)
        if not telegram_user:
            raise FirstNumberNeedsOffice()
        raise FirstNumberNeedsOffice(await _ask_office(uow, citizen, phone, telegram_user, now))


async def _another_households_delegate(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is the delegate of a household other than `citizen` (one not erased:
    check_new_phone's rule). The caller holds the number (hold_phone)."""
    delegate = await uow.delegates.by_phone(citizen.municipality_id, phone)
    if delegate is None or delegate.citizen_id == citizen.id:
        return False
    represented = await uow.citizens.by_id(delegate.citizen_id)
    return represented is not None and represented.erased_at is None


async def is_delegates_number(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> bool:
    """Whether `phone` is registered as a delegate: this citizen's own, or another
    household's not erased (_another_households_delegate). A chat linked to `citizen` that
    proves such a number with its own contact is the delegate's account, not the citizen's
    (link_telegram unlinks it). Holds the number first (is_own_delegates_number)."""
    return await is_own_delegates_number(uow, citizen, phone) or await _another_households_delegate(
        uow, citizen, phone
    )


async def withdraw_chat_request(
    uow: UnitOfWork, citizen: m.Citizen, telegram_user: str, now: datetime
) -> m.PhoneChange | None:
    """The chat `telegram_user` stopped being `citizen`'s: the phone change it asked
    (FirstNumberNeedsOffice), if it still waits, is withdrawn in the same transaction, with
    no operator and the reason CHAT_UNLINKED, in the office's activity log (actor
    chat:telegram); the chat is told there, the number is not (as when the office withdraws
    it: core.services.phone_changes.withdraw). Approved afterwards it would bind, on one
    manager's word, the number of an account that is not the citizen's. The caller holds
    the citizen's row, as the approval does. The request, when one was withdrawn."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is None or waiting.requested_by_chat != telegram_user:
        return None
    closed = await uow.phone_changes.mark_decided(
        waiting.id,
        status="withdrawn",
        decided_by_id=None,
        decided_at=now,
        phone=None,
        reason=CHAT_UNLINKED,
    )
    if not closed:
        return None  # decided a moment ago
    await uow.refresh(waiting)
    await activity.record(
        uow,
        citizen.municipality_id,
        CHAT_ACTOR,
        "citizen.phone_withdraw",
        now=now,
        subject=waiting.subject,
        before={"phone": waiting.phone_masked, "change": waiting.id},
        after={"status": "withdrawn", "outcome": CHAT_UNLINKED},
    )
    town = await uow.municipalities.by_id(citizen.municipality_id)
    if town is not None:
        enqueue(
            uow,
            municipality_id=citizen.municipality_id,
            channel=Channel.TELEGRAM,
            address=telegram_user,
            language=citizen.language,
            reply=Reply.of(
                t(
                    "{town}: the number {phone} you shared will not be used: this chat no "
                    "longer speaks for the vouchers' holder. Request withdrawn.",
                    town=town.name,
                    phone=waiting.phone_masked or "",
                )
            ),
            now=now,
        )
    return waiting


async def _refuse_office_first_number(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, now: datetime
) -> None:
    """Refuse a first number given on paper (proof OFFICE: an application typed in or
    imported, one operator alone) to a citizen the office knows without one, as the paper
    import refuses its row (core.services.paper_applications): while a new phone of theirs
    waits for its second operator (APPLICATION_PHONE_CHANGE_WAITING), when a waiting request
    names the number (asked_numbers), and when the citizen has money at stake
    (APPLICATION_PHONE_NEEDS_APPROVAL, money_at_stake: the one clerk would choose alone the
    phone that receives the payment codes; rebind_phone's rule). The paper goes in without
    the phone; the number is then asked on the application's page, and a manager who did
    not ask approves it. The caller holds the citizen's row and the number."""
    waiting = await uow.phone_changes.waiting_for(citizen, "phone")
    if waiting is not None:
        raise Conflict(
            Refusal.APPLICATION_PHONE_CHANGE_WAITING,
            change_id=waiting.id,
            phone=waiting.phone_masked or "",
        )
    await asked_numbers.refuse_asked(uow, citizen, phone, "phone")
    if await money_at_stake(uow, citizen, now):
        raise NotAllowed(
            Refusal.APPLICATION_PHONE_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale
        )


async def _refuse_asked_for_new(
    uow: UnitOfWork, municipality_id: int, phone: str, proof: PhoneProof
) -> None:
    """Refuse `phone` for a citizen not known yet when a waiting request names it: for the
    office as _refuse_office_first_number and the paper import refuse it
    (REQUEST_NUMBER_ASKED), for a chat as _refuse_first_number does (NUMBER_ASKED, the
    neutral sentence). The number is held first (hold_phone), as a request holds it."""
    await uow.citizens.hold_phone(municipality_id, phone)
    for change in await uow.phone_changes.waiting_with_phone(municipality_id, phone):
        refusal = asked_numbers.asked_refusal(change, None, "phone")
        if refusal is None:
            continue
        if proof is PhoneProof.OFFICE:
            raise refusal
        raise IdentityRefused(NUMBER_ASKED)


async def _ask_office(
    uow: UnitOfWork, citizen: m.Citizen, phone: str, telegram_user: str, now: datetime
) -> m.PhoneChange:
    """The chat's proven number as a phone change waiting for the office, asked by the chat
    (requested_by_chat; no operator), filed under the citizen's latest application and
    written to the office's activity log (actor chat:telegram). The caller holds the
    citizen's row and the number: a request stored a moment ago by another transaction
    (uq_phone_changes_waiting, uq_phone_changes_waiting_phone) is found as if it had been
    there before."""
    latest = await uow.applications.latest_for_citizen(citizen.id)
    subject = latest.protocol if latest is not None else f"citizen #{citizen.id}"
    change = m.PhoneChange(
        municipality_id=citizen.municipality_id,
        citizen_id=citizen.id,
        kind="phone",
        subject=subject,
        phone=phone,
        phone_masked=mask_phone(phone),
        previous_masked=None,
        reissue=False,
        status="waiting",
        requested_by_id=None,
        requested_by_chat=telegram_user,
        requested_at=now,
    )
    if not await uow.phone_changes.add_waiting(change):
        if await uow.phone_changes.waiting_for(citizen, "phone") is not None:
            raise PhoneChangeWaiting()
        raise IdentityRefused(NUMBER_ASKED)
    await activity.record(
        uow,
        citizen.municipality_id,
        CHAT_ACTOR,
        "citizen.phone_request",
        now=now,
        subject=subject,
        before={"phone": None},
        after={"phone": change.phone_masked, "change": change.id, "requested_by": CHAT_ACTOR},
    )
    return change


async def _is_shop_chat(uow: UnitOfWork, municipality_id: int, telegram_user: str) -> bool:
    """Whether this Telegram chat acts for a shop of the municipality (owner or cashier):
    linked to a citizen it would receive the citizen's payment codes at the till."""
    return await is_shop_phone(uow, municipality_id, telegram_user=telegram_user)


async def check_claim(
    uow: UnitOfWork,
    municipality_id: int,
    codice_fiscale: str,
    *,
    phone: str | None,
    telegram_user: str | None = None,
    proof: PhoneProof | None = None,
) -> Claim:
    """Whether this phone (and Telegram user) may apply under this codice fiscale.

    From a chat it may when the code is new and neither the phone nor the Telegram user
    belongs to anyone yet, or when the code's citizen is the one they belong to. The
    office (proof OFFICE) may also give a phone to a citizen who has none.

    A new code that is another form of a citizen's code (the same person key, omocodia
    folded: core.domain.identity.codice_fiscale_person_key) is that citizen's from a
    chat: typing "RSSMRA85T10A73VY" for "RSSMRA85T10A739J" would otherwise make a second
    Rossi. It may be a genuine omocode, a different person: the office, which sees the
    documents, registers that one (proof OFFICE)."""
    cf = normalize_codice_fiscale(codice_fiscale)
    existing = await uow.citizens.by_codice_fiscale(municipality_id, cf)
    namesake = None
    if existing is None and proof is not PhoneProof.OFFICE:
        namesake = next(
            (
                citizen
                for citizen in await uow.citizens.by_person_key(municipality_id, cf)
                if citizen.erased_at is None and citizen.codice_fiscale != cf
            ),
            None,
        )
    phone_holder = await uow.citizens.by_phone(municipality_id, phone) if phone else None
    telegram_holder = (
        await uow.citizens.by_telegram_chat(municipality_id, telegram_user)
        if telegram_user
        else None
    )
    return decide_claim(
        existing,
        phone_holder,
        telegram_holder,
        phone=phone,
        telegram_user=telegram_user,
        proof=proof,
        namesake=namesake,
    )


def decide_claim(
    existing: m.Citizen | None,
    phone_holder: m.Citizen | None,
    telegram_holder: m.Citizen | None,
    *,
    phone: str | None,
    telegram_user: str | None,
    proof: PhoneProof | None,
    namesake: m.Citizen | None = None,
) -> Claim:
    """check_claim's rules on what was looked up: the citizen with the codice fiscale and
    the citizens the phone and the Telegram user belong to (a bulk import looks them up
    for thousands of rows at once), and, for a code nobody has, a citizen with another
    form of it (omocodia folded), whose code it is treated as: refused like a claim of
    their bound code, and they are told."""
    if existing is not None and existing.erased_at is not None:
        existing = None
    if namesake is not None and (existing is not None or namesake.erased_at is not None):
        namesake = None
    touched = existing or namesake
    holders = [(phone_holder, "phone_bound"), (telegram_holder, "telegram_bound")]
    for holder, reason in holders:
        if holder is not None and (existing is None or holder.id != existing.id):
            # This phone or Telegram user is someone else's: one household each. (The
            # holder typing another form of their own code is told nothing.)
            victim = touched if touched is not None and touched.id != holder.id else None
            return Claim(existing, reason, victim=victim, logged_on=victim or holder)
    if existing is None and namesake is not None and proof is not PhoneProof.OFFICE:
        # Another form of a citizen's code: theirs, unless the office sees a genuine
        # omocode's documents and registers that person itself (proof OFFICE).
        return Claim(None, "codice_fiscale_omocode", victim=namesake, logged_on=namesake)
    if existing is None:
        return Claim(None)
    if existing.phone is not None and existing.phone != phone:
        if proof is PhoneProof.OFFICE and phone is None:
            return Claim(existing)  # a paper row without a phone: the one on file stays
        return Claim(existing, "codice_fiscale_bound", victim=existing, logged_on=existing)
    if telegram_user and existing.telegram_chat_id not in (None, telegram_user):
        return Claim(existing, "telegram_differs", victim=existing, logged_on=existing)
    # Known to the office without a phone: only a Telegram user already linked to it (an
    # application made before phones were required) may add one from a chat.
    linked = bool(telegram_user) and existing.telegram_chat_id == telegram_user
    if existing.phone is None and proof is not PhoneProof.OFFICE and not linked:
        return Claim(existing, "codice_fiscale_unproven", victim=existing, logged_on=existing)
    return Claim(existing)


async def claim_citizen(
    uow: UnitOfWork,
    municipality_id: int,
    codice_fiscale: str,
    *,
    phone: str | None,
    proof: PhoneProof,
    now: datetime,
    telegram_user: str | None = None,
    language: str = "it",
    channel: str | None = None,
) -> tuple[m.Citizen, bool]:
    """The citizen with this codice fiscale, created or given this proven phone (and
    Telegram user). Raises IdentityRefused before writing anything when the rules forbid
    it (for the office, the number of the citizen's own delegate is
    Conflict(IDENTITY_PHONE_IS_DELEGATE), and a first number for a citizen with money at
    stake is NotAllowed(APPLICATION_PHONE_NEEDS_APPROVAL): _refuse_office_first_number).
    Returns (citizen, created)."""
    cf = normalize_codice_fiscale(codice_fiscale)
    phone = normalize_phone(phone) if phone else None
    if phone is None and proof is not PhoneProof.OFFICE:
        raise IdentityRefused("no_proven_phone")
    if phone is not None:
        if proof is PhoneProof.OFFICE:
            await refuse_unreachable_phone(uow, phone)
        await refuse_shop_phone(uow, municipality_id, phone)
    if telegram_user and await _is_shop_chat(uow, municipality_id, telegram_user):
        raise IdentityRefused("telegram_is_shop")
    # Held until the commit before looking: two chats claiming two forms of one person's
    # code at once (no unique index can say they are one person: a genuine omocode is
    # another) would each find nobody and make two households. The second now waits, then
    # finds the first's citizen and is refused as if it had come later.
    await uow.citizens.hold_person(municipality_id, cf)
    claim = await check_claim(
        uow, municipality_id, cf, phone=phone, telegram_user=telegram_user, proof=proof
    )
    if claim.refusal is not None:
        raise IdentityRefused(claim.refusal)
    actor = f"chat:{channel}" if channel else "office"
    citizen = claim.citizen
    created = citizen is None
    if (
        citizen is not None
        and phone
        and citizen.phone is None
        and await is_own_delegates_number(uow, citizen, phone)
    ):
        # The holder's delegate's number, from the chat linked to them or on paper: it
        # speaks for the delegate, never as the holder's own. The office reads why (from a
        # chat, in the holder's identity log: the claim was theirs, record_refusal has no
        # refusal of check_claim's to log).
        if proof is PhoneProof.OFFICE:
            raise Conflict(Refusal.IDENTITY_PHONE_IS_DELEGATE, phone=mask_phone(phone))
        await _log(uow, citizen, CLAIM_REFUSED, now, actor=actor, channel=channel, phone=phone)
        raise IdentityRefused(PHONE_IS_DELEGATE)
    if citizen is None and phone is not None:
        # A number a waiting request names (another household's new phone or delegate) is
        # nobody's new citizen's either, as for a citizen the office knows: the request is
        # the one claim on it until it is approved or withdrawn.
        await _refuse_asked_for_new(uow, municipality_id, phone, proof)
    if citizen is None:
        citizen = m.Citizen(
            municipality_id=municipality_id,
            codice_fiscale=cf,
            phone=phone,
            phone_proven_by=proof.value if phone else None,
            phone_proven_at=now if phone else None,
            telegram_chat_id=telegram_user,
            language=language,
            card_code=new_card_code(),
            created_at=now,
        )
        try:
            async with uow.savepoint():
                uow.add(citizen)
                await uow.flush()
        except IntegrityError:
            # Another chat took the code, the phone or the Telegram user a moment ago.
            raise IdentityRefused("concurrent_claim") from None
        if phone:
            await _log(uow, citizen, "phone_bound", now, actor=actor, proof=proof, phone=phone)
        if telegram_user:
            await _log(uow, citizen, "telegram_bound", now, actor=actor, channel=Channel.TELEGRAM)
        return citizen, True
    if (phone and citizen.phone is None) or (telegram_user and citizen.telegram_chat_id is None):
        # Held until the commit and read again before anything of it is written (as the
        # office's change and link_telegram hold it): a number or a chat another
        # transaction bound since check_claim read the row is seen, never overwritten, and
        # the log names only what this claim binds. The number is held already
        # (is_own_delegates_number).
        held = await uow.citizens.lock(citizen.id)
        if (
            held is None
            or (phone is not None and held.phone not in (None, phone))
            or (telegram_user and held.telegram_chat_id not in (None, telegram_user))
        ):
            raise IdentityRefused("concurrent_claim")
        citizen = held
    if phone and citizen.phone is None and proof is PhoneProof.OFFICE:
        await _refuse_office_first_number(uow, citizen, phone, now)
    if phone and citizen.phone is None and proof is not PhoneProof.OFFICE:
        # The linked chat's proven number: refused as link_telegram does while the office
        # changes the citizen's phone, a waiting request names the number, or the citizen
        # has money to spend (the office's four eyes decide a first number then).
        try:
            await _refuse_first_number(uow, citizen, phone, now, telegram_user=telegram_user)
        except IdentityRefused:
            await _log(uow, citizen, CLAIM_REFUSED, now, actor=actor, channel=channel, phone=phone)
            raise
    if phone and citizen.phone is None:
        citizen.phone, citizen.phone_proven_by, citizen.phone_proven_at = phone, proof.value, now
        await _log(uow, citizen, "phone_bound", now, actor=actor, proof=proof, phone=phone)
    if telegram_user and citizen.telegram_chat_id is None:
        citizen.telegram_chat_id = telegram_user
        await _log(uow, citizen, "telegram_bound", now, actor=actor, channel=Channel.TELEGRAM)
    await uow.flush()
    return citizen, created


async def record_refusal(
    uow: UnitOfWork,
    municipality: m.Municipality,
    claim: Claim,
    *,
    channel: str,
    phone: str | None,
    now: datetime,
) -> None:
    """Log a refused claim and, at most once a day, tell the citizen whose codice fiscale
    it was, on their bound phone (else their Telegram chat), in their language."""
    target = claim.logged_on
    if target is None:
        return
    victim = claim.victim
    kind = TAKEOVER_REFUSED if victim is not None else CLAIM_REFUSED
    recent = await uow.identity_events.count_since(target.id, kind, now - NOTICE_INTERVAL)
    await _log(uow, target, kind, now, actor=f"chat:{channel}", channel=channel, phone=phone)
    if victim is None or recent:
        return
    if phone:
        text = t(
            "Someone tried to apply for grocery vouchers with your codice fiscale from {phone}. "
            "If it was not you, tell the office.",
            phone=mask_phone(phone),
        )
    else:
        text = t(
            "Someone tried to apply for grocery vouchers with your codice fiscale. "
            "If it was not you, tell the office."
        )
    if victim.phone:
        destination = (Channel.SMS, victim.phone)
    elif victim.telegram_chat_id:
        destination = (Channel.TELEGRAM, victim.telegram_chat_id)
    else:
        return
    enqueue(
        uow,
        municipality_id=municipality.id,
        channel=destination[0],
        address=destination[1],
        language=victim.language,
        reply=Reply.of(text),
        now=now,
    )


async def link_telegram(
    uow: UnitOfWork, municipality_id: int, telegram_user: str, phone: str, now: datetime
) -> m.Citizen | None:
    """A Telegram user shared their own contact (Telegram verified the number): link the
    chat and the phone to one citizen, or refuse (IdentityRefused, logged) when they
    belong to different citizens, or when the chat, or the number it would bind, is a
    shop's (owner or cashier): the shop would receive the citizen's payment codes. A chat
    linked to a citizen (with a phone of their own or without) that proves a delegate's
    number (theirs, or another household's that cannot become theirs) is unlinked and
    refused (DelegateNumber): it acts as that delegate, never as them; a phone change it
    asked stops waiting (withdraw_chat_request). None: nobody has either yet."""
    phone = normalize_phone(phone)
    by_chat = await uow.citizens.by_telegram_chat(municipality_id, telegram_user)
    if by_chat is not None and by_chat.phone is None:
        # Held until the commit and read again, as the office's phone change holds it
        # (phone_changes.request, rebind_phone): a change asked at this moment is seen
        # below, or sees the number bound here. Then the number is held too, before its
        # owner is read (is_own_delegates_number holds it as well): a chat, an operator or
        # a delegate's registration binding it at this moment is seen, or waits for us.
        by_chat = await uow.citizens.lock(by_chat.id)
        await uow.citizens.hold_phone(municipality_id, phone)
    by_phone = await uow.citizens.by_phone(municipality_id, phone)
    actor, proof = "chat:telegram", PhoneProof.TELEGRAM_CONTACT

    async def refused(citizen: m.Citizen) -> None:
        # Every refusal below is logged alike on the citizen it concerns.
        await _log(
            uow, citizen, LINK_REFUSED, now, actor=actor, channel=Channel.TELEGRAM, phone=phone
        )

    async def as_delegate(citizen: m.Citizen) -> NoReturn:
        # The chat proved the number of the delegate of `citizen`, whom it is linked to: it
        # is unlinked and from now on acts as that delegate's number does (DelegateNumber).
        citizen.telegram_chat_id = None
        await _log(uow, citizen, "telegram_unbound", now, actor=actor, channel=Channel.TELEGRAM)
        await refused(citizen)
        await uow.flush()
        # A number this chat asked for the citizen stops waiting: the chat is not theirs.
        await withdraw_chat_request(uow, citizen, telegram_user, now)
        # A code sent to the chat while it was the holder's confirms nothing more.
        await code_destinations.void_codes_gone_elsewhere(uow, citizen, now)
        raise DelegateNumber()

    if await _is_shop_chat(uow, municipality_id, telegram_user):
        # The reverse of shops.member_is_citizen, checked before anything else: a shop's
        # chat is nobody's, whoever the number belongs to.
        logged_on = by_phone or by_chat
        if logged_on is not None:
            await refused(logged_on)
        raise IdentityRefused("telegram_is_shop")
    if by_chat is not None:
        if by_chat.phone == phone:
            return by_chat
        if by_chat.phone is None and by_phone is None:
            try:
                await refuse_shop_phone(uow, municipality_id, phone)
            except Conflict:
                # A shop's phone would receive this citizen's payment codes.
                await refused(by_chat)
                raise IdentityRefused("phone_is_shop") from None
            if await is_own_delegates_number(uow, by_chat, phone):
                # Telegram says this account is the delegate's: linked to the holder (an
                # application made before phones were required) it would act as the holder,
                # and bound, their delegate's number would be their own. It now acts for
                # them as that number does (SALDO), and the office gives the holder a phone.
                await as_delegate(by_chat)
            try:
                await _refuse_first_number(uow, by_chat, phone, now, telegram_user=telegram_user)
            except IdentityRefused:
                if await _another_households_delegate(uow, by_chat, phone):
                    # Another household's delegate's number, which cannot become this
                    # citizen's (money at stake, PHONE_OF_A_DELEGATE, or a change waiting):
                    # the account is that delegate's, no more this citizen's than their own
                    # delegate's would be. It acts as that number does.
                    await as_delegate(by_chat)
                # The office's change (or request, or four eyes for a citizen with money to
                # spend) decides the number: the office sees the attempt, the chat stays the
                # citizen's, nothing is bound.
                await refused(by_chat)
                raise
            if not await uow.citizens.set_phone(by_chat, phone):
                # A new citizen took the number at this very moment, written by a caller
                # that did not hold it (claim_citizen holds it, _refuse_asked_for_new): the
                # unique index decided, as if it had been taken before; the refusal is the
                # chat's usual one.
                await uow.refresh(by_chat)
                await refused(by_chat)
                raise IdentityRefused("concurrent_claim")
            by_chat.phone_proven_by, by_chat.phone_proven_at = proof.value, now
            await _log(uow, by_chat, "phone_bound", now, actor=actor, proof=proof, phone=phone)
            return by_chat
        if by_phone is None and by_chat.phone is not None:
            # The chat's citizen has a phone of their own, and the account proves a delegate's
            # number (theirs, or another household's): the account is the delegate's
            # (Telegram verified it), never this citizen's, so it
            # stops acting as the holder (their card, their status, their payment codes in
            # this chat) exactly as for a holder without a phone; the holder's own phone
            # stays, and their own account links again by sharing it. Held and read again
            # first, as the office's change holds the row (is_own_delegates_number holds
            # the number).
            held = await uow.citizens.lock(by_chat.id)
            if (
                held is not None
                and held.telegram_chat_id == telegram_user
                and held.phone not in (None, phone)
                and await is_delegates_number(uow, held, phone)
            ):
                await as_delegate(held)
        # The chat is one citizen's, the number another's (or a new one): the office decides.
        await refused(by_chat)
        raise IdentityRefused("telegram_bound")
    if by_phone is None:
        return None
    if by_phone.telegram_chat_id is None:
        by_phone.telegram_chat_id = telegram_user
        await _log(uow, by_phone, "telegram_bound", now, actor=actor, channel=Channel.TELEGRAM)
        await uow.flush()
        return by_phone
    await refused(by_phone)
    raise IdentityRefused("telegram_differs")


@dataclass(frozen=True)
class Rebinding:
    citizen_id: int
    previous_phone: str | None
    phone: str
    telegram_unlinked: bool


async def money_at_stake(uow: UnitOfWork, citizen: m.Citizen, now: datetime) -> bool:
    """Whether the citizen has something to spend, or soon will: a positive balance, money
    an approved tranche gives them that is not credited yet (nor withdrawn), or a charge
    waiting for its code. Then the phone decides who can spend it, and a new one needs a
    second operator (core.services.phone_changes): a phone given before the credit would
    receive the money and the payment codes after it."""
    if await ledger.citizen_balance(uow, citizen.municipality_id, citizen.id) > 0:
        return True
    if await uow.allocations.to_credit_for_citizen(citizen.id) > 0:
        return True
    return any(
        charge.expires_at > now for charge in await uow.charges.pending_for_citizen(citizen.id)
    )


async def office_citizen(
    uow: UnitOfWork, municipality_id: int, codice_fiscale: str, *, lock: bool = False
) -> m.Citizen:
    """The citizen the office names by codice fiscale; an erased one is nobody. With
    `lock`, held until the commit and read again (CitizenRepository.lock): what another
    operator changed a moment earlier is what the caller sees, not what it overwrites."""
    cf = normalize_codice_fiscale(codice_fiscale)
    citizen = await uow.citizens.by_codice_fiscale(municipality_id, cf)
    if citizen is not None and lock:
        citizen = await uow.citizens.lock(citizen.id)
    if citizen is None or citizen.erased_at is not None:
        raise NotFound(Refusal.CITIZEN_NOT_FOUND)
    return citizen


async def check_new_phone(uow: UnitOfWork, citizen: m.Citizen, phone: str) -> None:
    """Refuse a phone the office may not give this citizen: another citizen's, a
    delegate's (a phone speaks for one person), a shop's, one that cannot receive the
    codes by SMS, or one a waiting request names (asked_numbers).

    The number is held until the commit before looking (CitizenRepository.hold_phone):
    a delegate registered on it meanwhile waits, then is refused by the database
    (migration 0041_phone_one_person), or committed first and is found here."""
    await refuse_unreachable_phone(uow, phone)
    await uow.citizens.hold_phone(citizen.municipality_id, phone)
    holder = await uow.citizens.by_phone(citizen.municipality_id, phone)
    if holder is not None and holder.id != citizen.id:
        raise Conflict(Refusal.IDENTITY_PHONE_OF_ANOTHER, codice_fiscale=holder.codice_fiscale)
    delegate = await uow.delegates.by_phone(citizen.municipality_id, phone)
    if delegate is not None:
        represented = await uow.citizens.by_id(delegate.citizen_id)
        if represented is not None and represented.erased_at is None:
            raise Conflict(Refusal.IDENTITY_PHONE_IS_DELEGATE, phone=mask_phone(phone))
    await refuse_shop_phone(uow, citizen.municipality_id, phone)
    # A waiting request claims the number (another household's, or this citizen's
    # delegate): refused for a phone given at once too (rebind_phone, the command line).
    await asked_numbers.refuse_asked(uow, citizen, phone, "phone")


def check_approval(change: m.PhoneChange | None, citizen: m.Citizen) -> None:
    """Refuse an approved request given for a citizen it was not asked for: applying it
    would give someone the phone, delegate or card two operators vouched for somebody
    else (and a log naming the wrong person)."""
    if change is not None and (
        change.citizen_id != citizen.id or change.municipality_id != citizen.municipality_id
    ):
        raise NotAllowed(Refusal.REQUEST_OTHER_CITIZEN, change_id=change.id)


def approves(change: m.PhoneChange | None, citizen: m.Citizen, kind: str = "phone") -> bool:
    """Whether `change` is this citizen's request of `kind` (core.services.phone_changes:
    phone, delegate, card), approved by a second operator: a Telegram chat's number too was
    checked by one operator (requested_by_id) and approved by another."""
    return (
        change is not None
        and change.citizen_id == citizen.id
        and change.kind == kind
        and change.status == "approved"
        and change.decided_by_id is not None
        and change.requested_by_id is not None
        and change.decided_by_id != change.requested_by_id
    )


async def rebind_phone(
    uow: UnitOfWork,
    municipality: m.Municipality,
    codice_fiscale: str,
    phone: str,
    *,
    operator: str,
    now: datetime,
    approved: m.PhoneChange | None = None,
) -> Rebinding:
    """The office binds a citizen to a new phone (the person came in with a document).

    A citizen with money at stake (money_at_stake) gets a new number only through a change
    another operator `approved` (core.services.phone_changes): otherwise this refuses
    (PHONE_CHANGE_NEEDS_APPROVAL), whoever calls it; and while a change waits, no other
    number is bound. The Telegram user linked through the old phone is unlinked (the
    person shares the new contact to link a chat again). Payments waiting for a code
    sent to the old phone or the unlinked chat are cancelled
    (code_destinations.void_codes_gone_elsewhere). The old and the new number are told.

    The citizen's row is held until the commit: of two operators at once the second sees
    the first's number, and its change applies on top of it (the notice to the old number
    goes to the first's), or is refused when it is the same number, already recorded by
    the office (IDENTITY_PHONE_ALREADY: nothing to do, nobody told twice). A number
    another citizen took a moment earlier is refused as when it was taken before."""
    citizen = await office_citizen(uow, municipality.id, codice_fiscale, lock=True)
    check_approval(approved, citizen)
    phone = normalize_phone(phone)
    await check_new_phone(uow, citizen, phone)
    previous = citizen.phone
    if (
        previous == phone
        and citizen.phone_proven_by == PhoneProof.OFFICE.value
        and not approves(approved, citizen)
    ):
        raise Conflict(Refusal.IDENTITY_PHONE_ALREADY, phone=mask_phone(phone))
    if previous != phone and not approves(approved, citizen):
        waiting = await uow.phone_changes.waiting_for(citizen, "phone")
        if waiting is not None:
            raise Conflict(
                Refusal.PHONE_CHANGE_WAITING, change_id=waiting.id, phone=waiting.phone_masked
            )
        if await money_at_stake(uow, citizen, now):
            raise NotAllowed(
                Refusal.PHONE_CHANGE_NEEDS_APPROVAL, codice_fiscale=citizen.codice_fiscale
            )
    actor = f"office:{operator}"
    # A change the citizen's own Telegram chat asked (its contact proved the number:
    # FirstNumberNeedsOffice) keeps that chat: the number is the chat's own. Proven by the
    # contact, the office approving it.
    by_own_chat = (
        approves(approved, citizen)
        and approved is not None
        and approved.requested_by_chat is not None
        and approved.requested_by_chat == citizen.telegram_chat_id
    )
    proof = PhoneProof.TELEGRAM_CONTACT if by_own_chat else PhoneProof.OFFICE
    unlinked = False
    if previous != phone and citizen.telegram_chat_id is not None and not by_own_chat:
        citizen.telegram_chat_id = None
        unlinked = True
        await _log(uow, citizen, "telegram_unbound", now, actor=actor, channel=Channel.TELEGRAM)
    if not await uow.citizens.set_phone(citizen, phone):
        # The savepoint rolled back expired the citizen: nothing of it is read again.
        holder = await uow.citizens.by_phone(municipality.id, phone)
        raise Conflict(
            Refusal.IDENTITY_PHONE_OF_ANOTHER,
            codice_fiscale=holder.codice_fiscale if holder is not None else "",
        )
    citizen.phone_proven_by, citizen.phone_proven_at = proof.value, now
    await _log(
        uow,
        citizen,
        "phone_rebound",
        now,
        actor=actor,
        proof=proof,
        phone=phone,
        previous_phone=previous,
    )
    await uow.flush()
    if previous != phone and by_own_chat:
        # The chat asked with its contact and waits for the answer there: told there, where
        # it asked (the chat is where the citizen is reached now, outbox.citizen_channel).
        # The number is the chat's own account's (Telegram verified it): an SMS to it
        # would tell the same person twice.
        notify_citizen(
            uow,
            citizen,
            Reply.of(
                t(
                    "{town}: the office approved the number {phone} you shared: your grocery "
                    "vouchers now use it.",
                    town=municipality.name,
                    phone=mask_phone(phone),
                )
            ),
            now,
        )
    elif previous != phone:
        notify_number(
            uow,
            citizen,
            phone,
            Reply.of(
                t(
                    "The office of {town} registered this number for your grocery vouchers.",
                    town=municipality.name,
                )
            ),
            now,
        )
    if previous != phone:
        if previous:
            notify_number(
                uow,
                citizen,
                previous,
                Reply.of(
                    t(
                        "Your grocery vouchers now use the number {phone}, as the office "
                        "recorded. If you did not ask, tell the office.",
                        phone=mask_phone(phone),
                    )
                ),
                now,
            )
        # A code sent to the old phone (or the unlinked chat), lost or stolen perhaps,
        # confirms nothing more: the shop starts the payment again, its code to the new one.
        await code_destinations.void_codes_gone_elsewhere(uow, citizen, now)
    return Rebinding(citizen.id, previous, phone, unlinked)


async def citizen_of(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    phone: str | None = None,
    telegram_chat: str | None = None,
) -> m.Citizen | None:
    """The citizen a phone number or a linked Telegram chat belongs to; an erased citizen
    (privacy.erase) is nobody's any more."""
    citizen: m.Citizen | None = None
    if phone:
        citizen = await uow.citizens.by_phone(municipality_id, phone)
    elif telegram_chat:
        citizen = await uow.citizens.by_telegram_chat(municipality_id, telegram_chat)
    if citizen is None or citizen.erased_at is not None:
        return None
    return citizen


async def towns_knowing(
    uow: UnitOfWork,
    towns: list[m.Municipality],
    *,
    phone: str | None = None,
    telegram_chat: str | None = None,
) -> list[m.Municipality]:
    """The towns where this phone or Telegram chat is someone: a citizen's (not erased), a
    delegate's phone, a shop member's (owner or cashier, whatever the shop's status). A
    chat with no number to route it by goes straight to the only one."""
    known = []
    for town in towns:
        if (
            await citizen_of(uow, town.id, phone=phone, telegram_chat=telegram_chat)
            or (phone and await uow.delegates.by_phone(town.id, phone))
            or await is_shop_phone(uow, town.id, phone=phone, telegram_user=telegram_chat)
        ):
            known.append(town)
    return known

"""Claiming a citizen by codice fiscale: whether a chat (or the office) may have it
(check_claim, decide_claim on what was looked up), the claim itself (claim_citizen: a new
citizen, or a proven phone and Telegram user given to one), and a refused claim logged and
told to the person whose code it was (record_refusal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from core.domain.channels import Channel
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, Refusal
from core.domain.identity import PhoneProof, mask_phone, normalize_codice_fiscale, normalize_phone
from core.domain.messages import Reply, t
from core.services import identity
from core.services.identity.card_codes import new_card_code
from core.services.identity.first_number import (
    _refuse_asked_for_new,
    _refuse_first_number,
    _refuse_office_first_number,
)
from core.services.identity.log import _log
from core.services.identity.phone_checks import (
    _is_shop_chat,
    is_own_delegates_number,
    refuse_shop_phone,
    refuse_unreachable_phone,
)
from core.services.identity.refusals import (
    CLAIM_REFUSED,
    PHONE_IS_DELEGATE,
    TAKEOVER_REFUSED,
    IdentityRefused,
)
from core.services.outbox import enqueue
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

# A takeover notice at most once a day per citizen: a forged SMS sender repeating the
# attempt must not flood the real holder's phone.
NOTICE_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class Claim:
    """What asking for a codice fiscale from a chat amounts to (nothing written yet)."""

    citizen: m.Citizen | None  # the citizen who has this codice fiscale already, if any
    refusal: str | None = None  # why this chat cannot have it; None: it can
    # Whose identity a refused attempt touched (told about it), and who it is logged against.
    victim: m.Citizen | None = None
    logged_on: m.Citizen | None = None


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
                if can_act_on(citizen) and citizen.codice_fiscale != cf
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
    if not can_act_on(existing):
        existing = None
    if existing is not None or not can_act_on(namesake):
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
    # Looked up on the package, as before the split into modules: a test replaces it there
    # to play a chat binding the number between this read and the writes below.
    claim = await identity.check_claim(
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

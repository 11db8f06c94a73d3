"""Shops: registration, approval, staff, search and statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import otp
from core.domain.channels import Channel, chat_label, chat_of
from core.domain.charges import ChargeStatus
from core.domain.erasure import can_act_on
from core.domain.errors import Conflict, NotAllowed, NotFound, Refusal
from core.domain.geo import haversine_m, valid_position
from core.domain.gsm7 import to_gsm7
from core.domain.identity import normalize_iban, normalize_partita_iva
from core.domain.ledger import AccountKind
from core.domain.messages import Reply, t
from core.domain.sepa import sepa_name
from core.domain.shops import MAX_SHOP_NAME, MemberRole, ShopCategory, ShopStatus
from core.services import activity, ledger, security
from core.services.outbox import notify_members
from core.services.shop_rights import acting_member, is_owner, till_of
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m

INVITE_TTL = timedelta(days=2)


@dataclass(frozen=True)
class ShopInput:
    name: str
    vat_number: str
    category: ShopCategory
    address: str
    town: str
    postcode: str
    latitude: float | None
    longitude: float | None
    iban: str


async def refuse_citizens_phone(
    uow: UnitOfWork,
    municipality_id: int,
    channel: str,
    address: str,
    phone: str | None = None,
) -> None:
    """A phone (or Telegram chat) that receives a voucher holder's payment codes (their own
    or a delegate's) never charges for a shop of the same municipality: the shop could
    confirm its own charges. Every channel but Telegram is addressed by a phone (SMS, the
    terminal: PHONE_CHANNELS); on Telegram `phone` is the one the member shared as their
    own (a delegate's codes go to it by SMS). The reverse of identity.is_shop_phone.
    Then a Telegram member without a phone is refused (SHOP_MEMBER_PHONE_MISSING): the
    rule could not see where they read codes."""
    if channel != Channel.TELEGRAM:
        if await _phone_receives_codes(uow, municipality_id, address):
            raise Conflict(Refusal.SHOP_MEMBER_IS_CITIZEN)
        return
    holder = await uow.citizens.by_telegram_chat(municipality_id, address)
    if can_act_on(holder):
        raise Conflict(Refusal.SHOP_MEMBER_IS_CITIZEN)
    if phone is None:
        raise Conflict(Refusal.SHOP_MEMBER_PHONE_MISSING)
    if await _phone_receives_codes(uow, municipality_id, phone):
        raise Conflict(Refusal.SHOP_MEMBER_IS_CITIZEN)


async def _phone_receives_codes(uow: UnitOfWork, municipality_id: int, phone: str) -> bool:
    """Whether a voucher holder (not erased) or a delegate of the municipality is reached
    at this phone: their payment codes go to it."""
    holder = await uow.citizens.by_phone(municipality_id, phone)
    if can_act_on(holder):
        return True
    return await uow.delegates.by_phone(municipality_id, phone) is not None


def member_phone(channel: str, phone: str | None) -> str | None:
    """The phone stored on a member: the shared one on Telegram, none elsewhere (the
    address is the phone)."""
    return phone if channel == Channel.TELEGRAM else None


def name_key(name: str) -> str:
    """A shop's name as a citizen reading a list of shops tells it from another: case
    and spaces aside ("CONAD  via Roma" is "Conad via Roma")."""
    return " ".join(name.split()).casefold()


async def refuse_taken_name(
    uow: UnitOfWork,
    municipality_id: int,
    name: str,
    *,
    shop_id: int | None = None,
    approved_only: bool = False,
) -> None:
    """Refuse the name of another shop of the municipality, approved or waiting for the
    office (`approved_only`: approved): a citizen searching shops by chat would see two
    identical names. Refused shops do not count; `shop_id` is the shop being named.

    The town's shop names are held first, until the commit (hold_shop_names): two
    transactions naming shops at the same instant look one after the other, and the
    second sees the name the first wrote. No unique index says the rule (it depends on
    a shop's status), so this lock is what stops two registrations of one name."""
    await uow.municipalities.hold_shop_names(municipality_id)
    key = name_key(name)
    for other_id, other_name, status in await uow.shops.names_of(municipality_id):
        if other_id == shop_id or status == ShopStatus.REFUSED:
            continue
        if approved_only and status != ShopStatus.APPROVED:
            continue
        if name_key(other_name) == key:
            raise Conflict(Refusal.SHOP_NAME_TAKEN, name=other_name)


async def register_shop(
    uow: UnitOfWork,
    municipality_id: int,
    data: ShopInput,
    *,
    owner_channel: str,
    owner_address: str,
    now: datetime,
    owner_phone: str | None = None,
) -> m.Shop:
    """A shop asks to join; it can charge only after the office approves it. From Telegram
    `owner_phone` is the owner's own phone, from the contact they shared (required)."""
    if not data.name.strip():
        raise Conflict(Refusal.SHOP_NAME_MISSING)
    await refuse_citizens_phone(uow, municipality_id, owner_channel, owner_address, owner_phone)
    has_position = data.latitude is not None and data.longitude is not None
    if has_position and not valid_position(data.latitude or 0.0, data.longitude or 0.0):
        raise Conflict(Refusal.SHOP_BAD_POSITION)
    vat_number = normalize_partita_iva(data.vat_number)
    await _refuse_someone_elses(uow, vat_number, owner_channel, owner_address, now)
    # After the copy's check: a shop copied name and all still has its owners told.
    await refuse_taken_name(uow, municipality_id, data.name)
    shop = m.Shop(
        municipality_id=municipality_id,
        name=data.name.strip(),
        vat_number=vat_number,
        category=data.category.value,
        address=data.address.strip(),
        town=data.town.strip(),
        postcode=data.postcode.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        iban=normalize_iban(data.iban),
        status=ShopStatus.PENDING,
        created_at=now,
    )
    uow.add(shop)
    await uow.flush()
    uow.add(
        m.ShopMember(
            shop_id=shop.id,
            channel=owner_channel,
            address=owner_address,
            role=MemberRole.OWNER.value,
            created_at=now,
            phone=member_phone(owner_channel, owner_phone),
        )
    )
    await uow.flush()
    return shop


async def _refuse_someone_elses(
    uow: UnitOfWork, vat_number: str, channel: str, address: str, now: datetime
) -> None:
    """A registration with the partita IVA of a shop already registered (and not refused)
    is its owner's second outlet only when it comes from that owner's chat; from anyone
    else it would copy the shop (its name on the customers' code messages, its
    reimbursements to another account) and is refused. The owners of the shop copied are
    told first, in this transaction: a chat turn commits after a refusal it says. (An IBAN
    is not checked: a copy paid to the shop's own account takes nobody's money.)"""
    for shop in await uow.shops.with_vat_number(vat_number):
        members = await uow.shops.members_of(shop.id)
        owners = [x for x in members if x.role == MemberRole.OWNER.value]
        if any((x.channel, x.address) == (channel, address) for x in owners):
            continue
        await notify_owners(
            uow,
            shop,
            Reply.of(
                t(
                    "Someone used the partita IVA of {shop} to register a shop ({where}): "
                    "refused. Not you? Tell the municipality.",
                    shop=shop.name,
                    where=chat_label(channel, address),
                )
            ),
            now,
        )
        await activity.record(
            uow,
            shop.municipality_id,
            chat_label(channel, address),
            "shop.registration_refused",
            now=now,
            subject=f"{shop.id} {shop.name}",
        )
        raise NotAllowed(Refusal.SHOP_ALREADY_REGISTERED)


async def approve_shop(
    uow: UnitOfWork, municipality_id: int, shop_id: int, now: datetime, *, notify: bool = True
) -> m.Shop:
    """The office approves a shop; its owner is told (unless seeding a demo town). The
    town's shop names are held first (refuse_taken_name), then the shop's row, read
    afresh: a shop approved already is left as it is, nobody told again (a double
    click), and its name and status are as committed, not as a page read them before."""
    await uow.municipalities.hold_shop_names(municipality_id)
    shop = await uow.shops.locked(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    if shop.status == ShopStatus.APPROVED:
        return shop
    # A shop asking under the name of one approved meanwhile (or before names were
    # checked) is renamed by the office first.
    await refuse_taken_name(uow, municipality_id, shop.name, shop_id=shop.id, approved_only=True)
    shop.status = ShopStatus.APPROVED
    shop.approved_at = now
    shop.refusal_reason = None
    # Create the ledger account now, so that payments never race to create it.
    await uow.ledger.account(municipality_id, AccountKind.SHOP, shop.id)
    if not notify:
        return shop
    await notify_owners(
        uow,
        shop,
        Reply.of(
            t(
                "The municipality approved {shop}: you can charge vouchers now. Write PAGA.",
                shop=shop.name,
            )
        ),
        now,
    )
    return shop


REFUSAL_REASON_MAX = 60


async def rename_shop(
    uow: UnitOfWork,
    municipality_id: int,
    shop_id: int,
    name: str,
    now: datetime,
    *,
    actor: str,
    operator_id: int | None = None,
) -> tuple[str, m.Shop]:
    """The office corrects a shop's name (as on its bank account: a SEPA transfer needs one
    it can write). Logged with the name before and after; returns (old name, shop). The
    town's shop names are held before the shop is read (refuse_taken_name)."""
    await uow.municipalities.hold_shop_names(municipality_id)
    shop = await uow.shops.current(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    new = " ".join(name.split())
    if not new:
        raise Conflict(Refusal.SHOP_NAME_MISSING)
    if len(to_gsm7(new)) > MAX_SHOP_NAME:
        raise Conflict(Refusal.SHOP_NAME_TOO_LONG, limit=MAX_SHOP_NAME)
    if sepa_name(new) is None:
        raise Conflict(Refusal.SHOP_NAME_NOT_SEPA, name=new)
    await refuse_taken_name(uow, municipality_id, new, shop_id=shop.id)
    old = shop.name
    shop.name = new
    await activity.record(
        uow,
        municipality_id,
        actor,
        "shop.rename",
        subject=f"{shop.id} {new}",
        before={"name": old},
        after={"name": new},
        now=now,
        operator_id=operator_id,
    )
    return old, shop


async def refuse_shop(
    uow: UnitOfWork, municipality_id: int, shop_id: int, reason: str, now: datetime
) -> m.Shop:
    """The office refuses a registration, with a reason the owner is told. A registration
    refused already is left as it is, its owner told once (a double click, an old tab)."""
    shop = await uow.shops.locked(shop_id)
    if shop is None or shop.municipality_id != municipality_id:
        raise NotFound(Refusal.SHOP_NOT_FOUND, shop_id=shop_id)
    reason = " ".join(reason.split())
    if not reason:
        raise Conflict(Refusal.SHOP_REFUSAL_REASON_MISSING)
    if len(reason) > REFUSAL_REASON_MAX:
        # The notice must fit one SMS with the shop's name.
        raise Conflict(Refusal.SHOP_REFUSAL_REASON_TOO_LONG, limit=REFUSAL_REASON_MAX)
    if shop.status == ShopStatus.APPROVED:
        raise Conflict(Refusal.SHOP_ALREADY_APPROVED, shop_id=shop_id)
    if shop.status == ShopStatus.REFUSED:
        return shop
    shop.status = ShopStatus.REFUSED
    shop.refusal_reason = reason
    await notify_owners(
        uow,
        shop,
        Reply.of(
            t(
                "The municipality did not approve {shop}. Reason: {reason}",
                shop=shop.name,
                reason=reason,
            )
        ),
        now,
    )
    return shop


# Wrong cashier codes one chat may type in 24 hours before it must wait.
INVITE_TRIES_PER_DAY = 5


def _hash_invite(uow: UnitOfWork, code: str) -> str:
    # Looked up by its hash, so one fixed salt; the server key keeps it unguessable offline.
    return uow.keys.hash_code(otp.normalize_invite_code(code), "invite")


async def create_invite(
    uow: UnitOfWork, shop_id: int, now: datetime, *, by: tuple[str, str] | None = None
) -> str:
    """A one-use code the owner gives to a cashier, who types it in their own chat:
    12 characters without 0/O/1/I/L, two to five of them digits (about 59 bits; the shape
    no other code has, core.domain.otp.is_invite_shape), valid 2 days. `by`: the chat (channel,
    address) asking, read now in this transaction: it must still be the shop's owner, and
    the shop able to charge (core.services.shop_rights)."""
    if by is not None:
        await acting_member(uow, shop_id, by, now, owner=True, shop_may_charge=True)
    code = otp.new_invite_code()
    uow.add(
        m.ShopInvite(
            shop_id=shop_id, code_hash=_hash_invite(uow, code), expires_at=now + INVITE_TTL
        )
    )
    await uow.flush()
    return code


async def invited_to(uow: UnitOfWork, code: str, now: datetime) -> m.Shop | None:
    """The shop a cashier code still valid is for (None for any other code), read only:
    the code message sent to the typing chat's own number names it. Wrong codes are
    counted where they are used (accept_invite)."""
    invite = await uow.shops.invite_by_hash(_hash_invite(uow, code))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return await uow.shops.by_id(invite.shop_id)


async def _too_many_wrong_invites(
    uow: UnitOfWork, channel: str, address: str, now: datetime
) -> bool:
    since = now - timedelta(days=1)
    wrong = await security.count(
        uow, security.WRONG_INVITE, since, channel=channel, address=address
    )
    return wrong >= INVITE_TRIES_PER_DAY


async def invite_accepts(
    uow: UnitOfWork, code: str, *, channel: str, address: str, now: datetime
) -> bool:
    """Whether accept_invite would get past the code: one still valid, typed from a chat
    under its daily limit of wrong codes. Read only: a Telegram cashier is asked for their
    phone only then, and any other code is refused (and counted) by accept_invite at once."""
    if await _too_many_wrong_invites(uow, channel, address, now):
        return False
    return await invited_to(uow, code, now) is not None


async def accept_invite(
    uow: UnitOfWork,
    code: str,
    *,
    channel: str,
    address: str,
    now: datetime,
    phone: str | None = None,
) -> m.Shop:
    """Join a shop as cashier. A chat gets INVITE_TRIES_PER_DAY wrong codes a day; the
    owner is told (outbox, same transaction) when a cashier joins. From Telegram `phone`
    is the cashier's own phone, from the contact they shared (required)."""
    if await _too_many_wrong_invites(uow, channel, address, now):
        raise NotAllowed(Refusal.INVITE_TOO_MANY)
    invite = await uow.shops.invite_by_hash(_hash_invite(uow, code))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        await security.record(uow, security.WRONG_INVITE, now, channel=channel, address=address)
        raise NotAllowed(Refusal.INVITE_INVALID)
    shop = await uow.shops.by_id(invite.shop_id)
    assert shop is not None
    await refuse_citizens_phone(uow, shop.municipality_id, channel, address, phone)
    invite.used_at = now
    existing = {(x.channel, x.address): x for x in await uow.shops.members_of(shop.id)}
    if (channel, address) in existing:
        if phone is not None and channel == Channel.TELEGRAM:
            existing[(channel, address)].phone = phone
    else:
        uow.add(
            m.ShopMember(
                shop_id=shop.id,
                channel=channel,
                address=address,
                role=MemberRole.CASHIER.value,
                created_at=now,
                phone=member_phone(channel, phone),
            )
        )
        await notify_owners(
            uow,
            shop,
            Reply.of(
                t(
                    "A cashier joined {shop} from {who}. If you did not give them the code, "
                    "write to the municipality.",
                    shop=shop.name,
                    who=chat_label(channel, address),
                )
            ),
            now,
        )
    return shop


async def notify_owners(
    uow: UnitOfWork,
    shop: m.Shop,
    reply: Reply,
    now: datetime,
    *,
    except_chat: tuple[str, str] | None = None,
) -> int:
    """Tell the shop's owner(s), in the language of their chat, through the outbox; not the
    chat `except_chat` (channel, address), which was answered already."""
    owners = [
        member
        for member in await uow.shops.members_of(shop.id)
        if member.role == MemberRole.OWNER.value and (member.channel, member.address) != except_chat
    ]
    return await notify_members(uow, shop, owners, reply, now)


async def shops_of_member(
    uow: UnitOfWork, channel: str, address: str
) -> list[tuple[m.ShopMember, m.Shop]]:
    return list(await uow.shops.membership(channel, address))


@dataclass(frozen=True)
class ShopNearby:
    shop: m.Shop
    distance_m: int


async def find_near(
    uow: UnitOfWork,
    municipality_id: int,
    latitude: float,
    longitude: float,
    *,
    radius_km: float = 10.0,
    limit: int = 5,
) -> list[ShopNearby]:
    candidates = await uow.shops.near(municipality_id, latitude, longitude, radius_km)
    found = [
        ShopNearby(shop, haversine_m(latitude, longitude, shop.latitude or 0, shop.longitude or 0))
        for shop in candidates
        if shop.latitude is not None and shop.longitude is not None
    ]
    found = [x for x in found if x.distance_m <= radius_km * 1000]
    return sorted(found, key=lambda x: (x.distance_m, x.shop.name))[:limit]


async def find(
    uow: UnitOfWork,
    municipality_id: int,
    *,
    town: str | None = None,
    postcode: str | None = None,
    category: ShopCategory | None = None,
) -> Sequence[m.Shop]:
    return await uow.shops.search(
        municipality_id, town=town, postcode=postcode, category=category.value if category else None
    )


@dataclass(frozen=True)
class Statement:
    payments: int
    paid_cents: int
    refunds: int
    refunded_cents: int
    to_be_reimbursed_cents: int  # the shop's balance: earned, not yet settled


async def statement(uow: UnitOfWork, shop: m.Shop, since: datetime, until: datetime) -> Statement:
    charges = await uow.charges.of_shop(shop.id, since, until)
    paid = [c for c in charges if c.status in (ChargeStatus.CONFIRMED, ChargeStatus.REFUNDED)]
    refunded = [c for c in charges if c.status == ChargeStatus.REFUNDED]
    return Statement(
        payments=len(paid),
        paid_cents=sum(c.amount_cents for c in paid),
        refunds=len(refunded),
        refunded_cents=sum(c.amount_cents for c in refunded),
        to_be_reimbursed_cents=await ledger.shop_balance(uow, shop.municipality_id, shop.id),
    )


@dataclass(frozen=True)
class TillTakings:
    """What one till (a chat that charges for the shop) took in a period: never who paid."""

    label: str  # as CASSIERI names the chat to the owner ("SMS ***050")
    own: bool  # the till of whoever asked
    payments: int
    paid_cents: int
    refunds: int
    refunded_cents: int


async def takings_by_till(
    uow: UnitOfWork, member: m.ShopMember, since: datetime, until: datetime
) -> list[TillTakings]:
    """The payments made at the member's shop in the period, per till that asked them,
    the member's own first: every till for the owner, a cashier's own till only (never what
    another cashier took). A till of a cashier removed since is still named, as it was."""
    own = till_of(member)
    mine_only = None if is_owner(member) else own
    rows = await uow.charges.takings_by_till(member.shop_id, since, until, till=mine_only)
    takings = [
        TillTakings(
            label=chat_label(*chat_of(till)),
            own=till == own,
            payments=payments,
            paid_cents=paid_cents,
            refunds=refunds,
            refunded_cents=refunded_cents,
        )
        for till, payments, paid_cents, refunds, refunded_cents in rows
    ]
    return sorted(takings, key=lambda x: (not x.own, x.label))


async def shop_by_id(uow: UnitOfWork, shop_id: int) -> m.Shop | None:
    return await uow.shops.by_id(shop_id)

"""Who a citizen is: one codice fiscale, one proven phone, one Telegram user, per municipality.

The rules (docs/identity-and-consent.md) live here and in the unique indexes behind
them: a chat can create a new citizen, or act as the citizen its proven phone or its
Telegram user already belongs to, never take over another one. Every binding, every
refused attempt and every rebinding by the office is written to the append-only
identity log; phones appear there masked.

One module for each thing this package does, what other modules use importable from here:
refusals (the reasons and the exceptions carrying them), log (the identity log),
card_codes (a card's code), phone_checks (a shop's phone, a delegate's number, a number
that receives SMS, money at stake), first_number (a first number for a citizen known
without one), claiming (a codice fiscale claimed), telegram_link (a chat's shared
contact), rebinding (the office's new phone) and lookups (whom a phone or a chat names).
"""

from core.services.identity.card_codes import new_card_code
from core.services.identity.claiming import check_claim, claim_citizen, decide_claim, record_refusal
from core.services.identity.first_number import CHAT_ACTOR, CHAT_UNLINKED
from core.services.identity.lookups import citizen_of, office_citizen, towns_knowing
from core.services.identity.phone_checks import (
    check_new_phone,
    is_shop_phone,
    money_at_stake,
    refuse_shop_phone,
    refuse_unreachable_phone,
)
from core.services.identity.rebinding import Rebinding, approves, check_approval, rebind_phone
from core.services.identity.refusals import (
    LINK_REFUSED,
    NUMBER_ASKED,
    TAKEOVER_REFUSED,
    DelegateNumber,
    FirstNumberNeedsOffice,
    IdentityRefused,
    PhoneChangeWaiting,
)
from core.services.identity.telegram_link import link_telegram

__all__ = [
    "CHAT_ACTOR",
    "CHAT_UNLINKED",
    "LINK_REFUSED",
    "NUMBER_ASKED",
    "TAKEOVER_REFUSED",
    "DelegateNumber",
    "FirstNumberNeedsOffice",
    "IdentityRefused",
    "PhoneChangeWaiting",
    "Rebinding",
    "approves",
    "check_approval",
    "check_claim",
    "check_new_phone",
    "citizen_of",
    "claim_citizen",
    "decide_claim",
    "is_shop_phone",
    "link_telegram",
    "money_at_stake",
    "new_card_code",
    "office_citizen",
    "rebind_phone",
    "record_refusal",
    "refuse_shop_phone",
    "refuse_unreachable_phone",
    "towns_knowing",
]

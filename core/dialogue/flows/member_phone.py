"""A shop's member on Telegram shares their own phone (the contact button): a code for one
of the shop's customers must never reach it, and on Telegram only the contact tells the
phone (core/services/shop_rights.py refuse_code_to_own_staff). Asked when an owner
registers or a cashier joins, and, of a member who joined before, at their next charge
or refund."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.domain.channels import Channel
from core.domain.errors import DomainError, InvalidIdentifier
from core.domain.identity import normalize_phone
from core.domain.messages import Text, t
from core.services import shop_members
from core.storage import models as m

# Joining or registering a shop on Telegram.
SHARE_TO_JOIN = t(
    "To work for a shop, share your phone number with the button: the payment codes of "
    "your customers must never reach it."
)
# A member who joined on Telegram before the phone was asked, at their next PAGA or STORNO.
SHARE_BEFORE_CODES = t(
    "Before charging or refunding, share your phone number with the button: the codes of "
    "your customers must never reach it."
)


def shared_phone(inp: Input) -> str:
    """The phone of the contact shared as the answer, normalised (E.164). Only the
    sender's own contact counts (the adapter compared its user with the sender, as for a
    citizen: flows/identify.link_contact): someone else's would hide the member's own
    phone. Anything else is answered with the button again, and nothing changes."""
    if inp.contact is None:
        raise Reject(
            t("Tap the button to share your phone number, or write MENU."), request="contact"
        )
    if not inp.contact.is_own:
        raise Reject(t("Please share your own contact, with the button."), request="contact")
    try:
        return normalize_phone(inp.contact.phone)
    except InvalidIdentifier as error:
        raise Reject(
            t("This phone number does not exist. Write it again, e.g. 3331234567."),
            request="contact",
        ) from error


def phone_missing(turn: Turn, member: m.ShopMember) -> bool:
    """A member on Telegram who joined before members shared their phone (migration
    0040): the rule that keeps customers' codes from the shop's staff cannot see where
    they read SMS, so they share it before a request that sends a customer a code."""
    return turn.channel == Channel.TELEGRAM and member.phone is None


async def keep_shared_phone(turn: Turn, inp: Input) -> bool:
    """Store the phone shared as the answer on the chat's places in the town's shops
    (shop_members.share_phone): True. A phone that receives a voucher holder's codes is
    refused (the office decides): the request ends with the refusal said, False, and the
    member is asked again next time."""
    phone = shared_phone(inp)
    try:
        await shop_members.share_phone(
            turn.uow, turn.town.id, (turn.channel, turn.address), phone, turn.now
        )
    except DomainError as error:
        turn.finish()
        turn.say(error_text(error))
        return False
    return True


# A contact a shop's Telegram chat shares when nothing asked for it (a cashier sharing a
# customer's, say): no citizen's identity is at stake there, only the member's own phone.
# A member whose phone is missing and who shares their own has given what their next
# request would ask: it is kept (the same rules as when asked). Anything else is stored
# nowhere, and nothing changes.
CONTACT_NOT_NEEDED = t(
    "This chat works for a shop: no contact is needed here, nothing was changed. To charge "
    "a customer, write PAGA and their codice fiscale, phone or card code."
)
CONTACT_ASKED_LATER = t(
    "This chat works for a shop: nothing was changed. Your own phone number is asked for, "
    "with the button, at your next PAGA or STORNO."
)
CONTACT_KEPT = t(
    "Thank you: your phone number is kept for the shop, so that your customers' codes never "
    "reach it. Nothing else was changed."
)


async def shop_contact_unasked(turn: Turn, inp: Input) -> Text | None:
    """What a shop's Telegram chat is told of a contact nobody asked for: that the member's
    own phone, missing (phone_missing), is kept now; that it is asked for at their next
    charge or refund (someone else's contact); that it is not needed. None when the chat
    works for no shop (a citizen's contact links their chat: flows/identify.link_contact)."""
    if turn.channel != Channel.TELEGRAM:
        return None
    members = [member for member, _shop in await turn.memberships()]
    if not members:
        return None
    if not any(phone_missing(turn, member) for member in members):
        return CONTACT_NOT_NEEDED
    if inp.contact is None or not inp.contact.is_own:
        return CONTACT_ASKED_LATER
    try:
        phone = normalize_phone(inp.contact.phone)
        await shop_members.share_phone(
            turn.uow, turn.town.id, (turn.channel, turn.address), phone, turn.now
        )
    except DomainError as error:
        # A phone that receives a voucher holder's codes (the office decides), or no number.
        return error_text(error)
    return CONTACT_KEPT

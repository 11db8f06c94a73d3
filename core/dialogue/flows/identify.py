"""Telegram: a shared contact of one's own proves the phone number, which finds the citizen."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import IDENTITY_REFUSED
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.appeal import AppealFlow
from core.dialogue.flows.base import Flow, Step, Takes, table
from core.dialogue.inbound import SharedContact
from core.dialogue.menus import show_menu
from core.dialogue.state import IdentifyState
from core.domain.channels import Channel
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_phone
from core.domain.messages import t

NEUTRAL_REFUSAL = IDENTITY_REFUSED
SHARE_CONTACT = citizen_requests.SHARE_CONTACT
# One's own contact whose number charges vouchers for a shop of the town.
SHOP_STAFF_PHONE = citizen_requests.SHOP_STAFF_PHONE


async def link_contact(turn: Turn, contact: SharedContact) -> citizen_requests.Linked:
    """Link this chat to the citizen who has the shared phone number (core.services.identity).

    Only the sender's own contact counts (the adapter checked it belongs to the sender):
    someone else's number would let a stranger read their balance. A wrong contact is
    answered with the button again, so that it stays on the screen."""
    if not contact.is_own:
        raise Reject(t("Please share your own contact, with the button."), request="contact")
    try:
        phone = normalize_phone(contact.phone)
    except InvalidIdentifier as error:
        raise Reject(
            t("This phone number does not exist. Write it again, e.g. 3331234567."),
            request="contact",
        ) from error
    if turn.municipality is None or turn.channel != Channel.TELEGRAM:
        turn.memory.phone = phone
        return citizen_requests.Linked(None)
    linked = await citizen_requests.link_phone(turn, phone)
    if not linked.refused or linked.delegate:
        # A delegate's number stays the chat's proven number: it is answered as that
        # number from now on (citizen_requests.represented).
        turn.memory.phone = phone
    return linked


async def continue_with(turn: Turn, then: str, argument: str = "") -> None:
    """Carry on with what the person asked before they were identified."""
    turn.finish()
    if then == "status":
        await citizen_requests.show_status(turn)
    elif then == "card":
        await citizen_requests.show_card(turn)
    elif then == "appeal":
        await AppealFlow().begin(turn, argument)
    elif then.startswith("card:"):
        citizen = await turn.citizen()
        if citizen is not None and citizen.card_code != then.removeprefix("card:"):
            turn.say(t("This card is not in your name. Here is your own balance."))
        await citizen_requests.show_balance(turn)
    else:
        await citizen_requests.show_balance(turn)


class IdentifyFlow(Flow[IdentifyState]):
    name = "identify"
    state_type = IdentifyState

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(SHARE_CONTACT, request="contact")

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        if inp.contact is None:
            # Text, a sticker, a refusal: the button stays until the contact is shared.
            raise Reject(
                t("Tap the button to share your phone number, or write MENU."), request="contact"
            )
        linked = await link_contact(turn, inp.contact)
        then = self.state(turn).then or "balance"
        argument = self.state(turn).argument
        if linked.refused:
            turn.finish()
            turn.say(linked.refusal)
            return
        if linked.shop:
            # Whatever was asked (the balance, the status, an appeal): a shop's number.
            turn.finish()
            turn.say(SHOP_STAFF_PHONE)
            await show_menu(turn)
            return
        if linked.citizen is None and await citizen_requests.represented(turn):
            # A delegate's phone, whatever was asked: answered as every other route answers
            # that number (the balance it acts for; for STATO, CARTA and RICORSO, that they
            # are the citizen's own), never "no vouchers for this number".
            await continue_with(turn, then, argument)
            return
        if linked.citizen is None and then == "appeal":
            # As on SMS: anybody else is told that there is no application of theirs
            # (docs/appeals.md).
            turn.finish()
            await AppealFlow().begin(turn)
            return
        if linked.citizen is None:
            turn.finish()
            turn.say(*await citizen_requests.no_vouchers(turn))
            await show_menu(turn)
            return
        turn.say(t("Thank you: we recognised your number."))
        await continue_with(turn, then, argument)

    # One question: the contact; then what was asked before (IdentifyState.then).
    entry = ("contact",)
    steps = table({"contact": Step(ask_contact, on_contact, takes=Takes.CONTACT)})

"""Telegram: a shared contact of one's own proves the phone number, which finds the citizen."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import Flow
from core.dialogue.inbound import SharedContact
from core.dialogue.menus import show_menu
from core.domain.errors import InvalidIdentifier
from core.domain.identity import normalize_phone
from core.domain.messages import t
from core.storage import models as m


async def link_contact(turn: Turn, contact: SharedContact) -> m.Citizen | None:
    """Remember the proven phone number and link this chat to the citizen who has it.

    Only the sender's own contact counts (the adapter checked it belongs to the sender):
    someone else's number would let a stranger read their balance."""
    if not contact.is_own:
        raise Reject(t("Please share your own contact, with the button."))
    try:
        phone = normalize_phone(contact.phone)
    except InvalidIdentifier as error:
        raise Reject(
            t("This phone number does not exist. Write it again, e.g. 3331234567.")
        ) from error
    turn.data["phone"] = phone
    if turn.municipality is None:
        return None
    citizen = await turn.uow.citizens.by_phone(turn.town.id, phone)
    if citizen is None or citizen.erased_at is not None:
        return None
    if turn.channel == "telegram":
        citizen.telegram_chat_id = turn.address
    turn.forget_citizen()
    return citizen


async def continue_with(turn: Turn, then: str) -> None:
    """Carry on with what the person asked before they were identified."""
    turn.finish()
    if then == "status":
        await citizen_requests.show_status(turn)
    elif then == "card":
        await citizen_requests.show_card(turn)
    elif then.startswith("card:"):
        citizen = await turn.citizen()
        if citizen is not None and citizen.card_code != then.removeprefix("card:"):
            turn.say(t("This card is not in your name. Here is your own balance."))
        await citizen_requests.show_balance(turn)
    else:
        await citizen_requests.show_balance(turn)


class IdentifyFlow(Flow):
    name = "identify"
    first_step = "contact"

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(
            t("To find your vouchers we need your phone number: tap the button to share it."),
            request="contact",
        )

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        if inp.contact is None:
            raise Reject(t("Tap the button to share your phone number, or write MENU."))
        citizen = await link_contact(turn, inp.contact)
        then = str(turn.state.get("then") or "balance")
        if citizen is None and then == "balance" and await citizen_requests.represented(turn):
            await continue_with(turn, then)  # a delegate's phone: the balance it acts for
            return
        if citizen is None:
            turn.finish()
            turn.say(t("We have no vouchers for this number. To apply, write DOMANDA."))
            await show_menu(turn)
            return
        await continue_with(turn, then)

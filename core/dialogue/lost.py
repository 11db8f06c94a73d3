"""A hand to someone who says she is lost, and an answer to "non ho ricevuto niente".

"Non so come fare", "sono anziana, non so usare il telefono", "I don't understand": the
list of every keyword is cold to her. One warm sentence and the numbered menu (MENU's own,
so a number picks an option; on Telegram its buttons), with the office's contact when it
fits the one SMS. "Non ho ricevuto niente" names nothing: a payment waiting for her code
is what she waits for if there is one (where its code went), else her application's state
as STATO says it (to a number the town does not know, that it has no application)."""

from __future__ import annotations

from core.dialogue import stray_codes
from core.dialogue.context import Turn
from core.dialogue.flows.citizen import show_status
from core.dialogue.menus import (
    menu_replies,
    menu_shops,
    office_contact,
    show_menu,
    welcome,
)
from core.domain.messages import Text, t

LOST_HELP = t("I will help you: reply with just the number of what you need.")


async def help_the_lost(turn: Turn) -> None:
    """The warm sentence and the menu (after the welcome in a chat's first message), with
    the office's contact when it fits the same SMS."""
    headings: list[Text] = [welcome(turn)] if turn.new_chat else []
    with_contact = [*headings, LOST_HELP, office_contact(turn)]
    if turn.is_sms and await _menu_messages(turn, with_contact) > await _menu_messages(
        turn, [*headings, LOST_HELP]
    ):
        # A second SMS only for the contact: UFFICIO says it whenever she asks.
        with_contact = [*headings, LOST_HELP]
    await show_menu(turn, *with_contact)


async def _menu_messages(turn: Turn, headings: list[Text]) -> int:
    return len(
        menu_replies(
            headings,
            await menu_shops(turn),
            turn.memory.shop_id,
            community=False,
            language=turn.language,
            sms=True,
        )
    )


async def answer_nothing_came(turn: Turn) -> None:
    """ "Non ho ricevuto niente" from a citizen or a number the town does not know (a
    shop's chat gets its help, as before)."""
    if await stray_codes.awaiting_payments(turn):
        await stray_codes.say_code_late(turn)
        return
    await show_status(turn)
